package registry

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"slices"

	"github.com/distribution/distribution/v3/registry/api/errcode"
	"github.com/sirupsen/logrus"
)

// routeLogrus sends distribution's logging to log.
//
// distribution logs through logrus' process-wide standard logger (its
// internal dcontext package gives no way to hand it a logger per app), so
// this is the one place where Cairn touches global state: it sets that
// logger's output (discarded), level (warn: request logs are dropped) and
// hooks (one, forwarding to slog). It is idempotent; with several
// registries in one process the last one started receives the messages
// of all (their http.request.host field tells them apart).
func routeLogrus(log *slog.Logger) {
	l := logrus.StandardLogger()
	l.SetOutput(io.Discard)
	l.SetLevel(logrus.WarnLevel)
	hooks := make(logrus.LevelHooks)
	hooks.Add(slogHook{log: log})
	l.ReplaceHooks(hooks)
}

// slogHook forwards logrus entries to slog.
type slogHook struct{ log *slog.Logger }

func (slogHook) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel, logrus.WarnLevel}
}

func (h slogHook) Fire(e *logrus.Entry) error {
	level := slog.LevelWarn
	if e.Level <= logrus.ErrorLevel {
		level = slog.LevelError
	}
	// distribution logs every error it answers at error level, including
	// the 404s and 401s that clients provoke in normal use (existence
	// checks before a push): those are debug information here.
	if code, ok := e.Data["err.code"].(errcode.ErrorCode); ok && code.Descriptor().HTTPStatusCode < 500 {
		level = slog.LevelDebug
	}
	ctx := e.Context
	if ctx == nil {
		ctx = context.Background()
	}
	if !h.log.Enabled(ctx, level) {
		return nil
	}
	attrs := make([]slog.Attr, 0, len(e.Data))
	for _, k := range slices.Sorted(maps.Keys(e.Data)) {
		if k == "go.version" || k == "instance.id" { // of no use in Cairn's logs
			continue
		}
		attrs = append(attrs, slog.Any(k, e.Data[k]))
	}
	h.log.LogAttrs(ctx, level, e.Message, attrs...)
	return nil
}
