package sdk

import (
	"context"
	"log/slog"
	"time"
)

// Logger returns a *slog.Logger that writes through host.Log, so the lines
// land in the host's log attributed to this module. Its level is the
// host's to filter: every record is sent.
func Logger(host Host) *slog.Logger {
	return slog.New(&hostHandler{host: host})
}

// logTimeout bounds one Log call, so a stuck host does not stall a module.
const logTimeout = 5 * time.Second

// hostHandler is a slog.Handler sending records to Host.Log.
type hostHandler struct {
	host   Host
	attrs  []slog.Attr // from WithAttrs, already prefixed with their groups
	groups []string
}

func (h *hostHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *hostHandler) Handle(ctx context.Context, r slog.Record) error {
	attrs := make([]slog.Attr, 0, len(h.attrs)+r.NumAttrs())
	attrs = append(attrs, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, h.grouped(a))
		return true
	})
	if ctx == nil {
		ctx = context.Background()
	}
	// Log even when the caller's context has ended (a line about why).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logTimeout)
	defer cancel()
	return h.host.Log(ctx, r.Level, r.Message, attrs...)
}

// grouped nests a in the handler's open groups.
func (h *hostHandler) grouped(a slog.Attr) slog.Attr {
	for i := len(h.groups) - 1; i >= 0; i-- {
		a = slog.Attr{Key: h.groups[i], Value: slog.GroupValue(a)}
	}
	return a
}

func (h *hostHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := &hostHandler{host: h.host, groups: h.groups, attrs: append([]slog.Attr(nil), h.attrs...)}
	for _, a := range attrs {
		out.attrs = append(out.attrs, h.grouped(a))
	}
	return out
}

func (h *hostHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &hostHandler{host: h.host, attrs: h.attrs, groups: append(append([]string(nil), h.groups...), name)}
}
