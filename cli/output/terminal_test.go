package output

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 5, "hello"},
		{"hello world", 6, "hello…"},
		{"héllo wörld", 4, "hél…"},
		{"x", 0, ""},
	} {
		if got := Truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:           "0s",
		500 * time.Millisecond: "0s",
		42 * time.Second:       "42s",
		5 * time.Minute:        "5m",
		3 * time.Hour:          "3h",
		47 * time.Hour:         "47h",
		72 * time.Hour:         "3d",
	} {
		if got := Age(d); got != want {
			t.Errorf("Age(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestIsTerminal(t *testing.T) {
	if IsTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a file is a terminal")
	}
	if w := TerminalWidth(f); w != 80 {
		t.Errorf("width of a file: %d", w)
	}
}

func TestStatus(t *testing.T) {
	var b bytes.Buffer
	s := NewStatus(&b, 20)
	s.Clear() // nothing shown: nothing written
	if b.Len() != 0 {
		t.Errorf("Clear before Set wrote %q", b.String())
	}
	s.Set("step 1/2\tscaling /web to 3 instances")
	if got := b.String(); got != "\r\x1b[K⠋ step 1/2 scaling…" {
		t.Errorf("Set wrote %q", got)
	}
	b.Reset()
	s.Tick()
	if got := b.String(); !strings.HasPrefix(got, "\r\x1b[K⠙ step") {
		t.Errorf("Tick wrote %q", got)
	}
	b.Reset()
	s.Clear()
	s.Clear()
	if got := b.String(); got != "\r\x1b[K" {
		t.Errorf("Clear wrote %q", got)
	}
	b.Reset()
	s.Tick() // not shown: no redraw
	if b.Len() != 0 {
		t.Errorf("Tick after Clear wrote %q", b.String())
	}
}

func TestTime(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.FixedZone("X", 3600))
	if got, want := Time(at, now), "2026-03-01T08:00:00Z (4h ago)"; got != want {
		t.Errorf("Time = %q, want %q", got, want)
	}
	if got := Time(time.Time{}, now); got != "" {
		t.Errorf("Time(zero) = %q", got)
	}
	for d, want := range map[time.Duration]string{42 * time.Second: "in 42s", -5 * time.Minute: "5m ago", 100 * time.Millisecond: "now"} {
		if got := Relative(now.Add(d), now); got != want {
			t.Errorf("Relative(%v) = %q, want %q", d, got, want)
		}
	}
	if !WireTime(0).IsZero() || !WireTime(1.5e9).Equal(time.Unix(1.5e9, 0)) {
		t.Error("WireTime")
	}
}
