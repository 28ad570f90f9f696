package host

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// slogLevel maps hclog's levels to slog's (Trace is below Debug; NoLevel
// is Info).
func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// slogHCLogger is an hclog.Logger writing to a *slog.Logger: go-plugin logs
// through it, and so do the lines modules write to their stderr (go-plugin
// parses hclog's JSON lines and logs the rest at debug level).
type slogHCLogger struct {
	log     *slog.Logger
	name    string
	implied []any
}

func newHCLogger(l *slog.Logger) hclog.Logger { return &slogHCLogger{log: l} }

var _ hclog.Logger = (*slogHCLogger)(nil)

func (l *slogHCLogger) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off {
		return
	}
	sl := slogLevel(level)
	if !l.log.Enabled(context.Background(), sl) {
		return
	}
	attrs := make([]any, 0, len(l.implied)+len(args)+2)
	if l.name != "" {
		attrs = append(attrs, "logger", l.name)
	}
	attrs = append(attrs, l.implied...)
	attrs = append(attrs, args...)
	// hclog allows an odd trailing value; slog would call it !BADKEY.
	if len(args)%2 == 1 {
		attrs = append(attrs[:len(attrs)-1], "extra", args[len(args)-1])
	}
	l.log.Log(context.Background(), sl, msg, attrs...)
}

func (l *slogHCLogger) Trace(msg string, args ...any) { l.Log(hclog.Trace, msg, args...) }
func (l *slogHCLogger) Debug(msg string, args ...any) { l.Log(hclog.Debug, msg, args...) }
func (l *slogHCLogger) Info(msg string, args ...any)  { l.Log(hclog.Info, msg, args...) }
func (l *slogHCLogger) Warn(msg string, args ...any)  { l.Log(hclog.Warn, msg, args...) }
func (l *slogHCLogger) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }

func (l *slogHCLogger) enabled(level hclog.Level) bool {
	return l.log.Enabled(context.Background(), slogLevel(level))
}

func (l *slogHCLogger) IsTrace() bool { return l.enabled(hclog.Trace) }
func (l *slogHCLogger) IsDebug() bool { return l.enabled(hclog.Debug) }
func (l *slogHCLogger) IsInfo() bool  { return l.enabled(hclog.Info) }
func (l *slogHCLogger) IsWarn() bool  { return l.enabled(hclog.Warn) }
func (l *slogHCLogger) IsError() bool { return l.enabled(hclog.Error) }

func (l *slogHCLogger) ImpliedArgs() []any { return append([]any(nil), l.implied...) }

func (l *slogHCLogger) With(args ...any) hclog.Logger {
	return &slogHCLogger{log: l.log, name: l.name, implied: append(append([]any(nil), l.implied...), args...)}
}

func (l *slogHCLogger) Name() string { return l.name }

func (l *slogHCLogger) Named(name string) hclog.Logger {
	if l.name != "" {
		name = l.name + "." + name
	}
	return &slogHCLogger{log: l.log, name: name, implied: l.implied}
}

func (l *slogHCLogger) ResetNamed(name string) hclog.Logger {
	return &slogHCLogger{log: l.log, name: name, implied: l.implied}
}

// SetLevel does nothing: the slog handler decides what is logged.
func (l *slogHCLogger) SetLevel(hclog.Level) {}

// GetLevel is the lowest level the slog handler logs.
func (l *slogHCLogger) GetLevel() hclog.Level {
	for _, lv := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if l.enabled(lv) {
			return lv
		}
	}
	return hclog.Off
}

func (l *slogHCLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(l.StandardWriter(opts), "", 0)
}

func (l *slogHCLogger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	infer := opts != nil && opts.InferLevels
	return writerFunc(func(p []byte) (int, error) {
		msg := string(bytes.TrimRight(p, "\r\n"))
		level := hclog.Info
		if infer {
			for _, pre := range []struct {
				tag   string
				level hclog.Level
			}{{"[TRACE]", hclog.Trace}, {"[DEBUG]", hclog.Debug}, {"[INFO]", hclog.Info}, {"[WARN]", hclog.Warn}, {"[ERROR]", hclog.Error}, {"[ERR]", hclog.Error}} {
				if rest, ok := strings.CutPrefix(msg, pre.tag); ok {
					msg, level = strings.TrimSpace(rest), pre.level
					break
				}
			}
		}
		l.Log(level, msg)
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
