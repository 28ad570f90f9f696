package host

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

func TestBackoff(t *testing.T) {
	b := &backoff{cfg: Backoff{Initial: time.Second, Max: 30 * time.Second, ResetAfter: time.Minute}}
	var got []time.Duration
	for range 7 {
		got = append(got, b.next(time.Second))
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("delays %v, want %v seconds", got, want)
		}
	}
	if d := b.next(time.Minute); d != time.Second {
		t.Errorf("after a stable minute: %v", d)
	}
	if d := b.next(0); d != 2*time.Second {
		t.Errorf("then a crash at start: %v", d)
	}
}

func TestHCLogAdapter(t *testing.T) {
	rec := newLogRecorder()
	l := newHCLogger(slog.New(rec).With("module", "m"))
	l.Named("stdio").With("a", 1).Warn("hello", "b", "two", "odd")
	l.Trace("trace line")
	l.Log(hclog.NoLevel, "no level")
	l.Log(hclog.Off, "never")
	l.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}).Print("[ERROR] broken")
	want := []string{
		"WARN hello module=m logger=stdio a=1 b=two extra=odd",
		"DEBUG-4 trace line module=m",
		"INFO no level module=m",
		"ERROR broken module=m",
	}
	if got := rec.lines(""); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("logged:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if l.GetLevel() != hclog.Trace || !l.IsDebug() || l.Named("x").Name() != "x" || l.Named("x").Named("y").Name() != "x.y" {
		t.Errorf("level %v, names", l.GetLevel())
	}
	info := newHCLogger(slog.New(slog.NewTextHandler(nil, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if info.GetLevel() != hclog.Info || info.IsDebug() {
		t.Errorf("info logger level %v", info.GetLevel())
	}
}
