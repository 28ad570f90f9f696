package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestLoadLocation(t *testing.T) {
	for _, name := range []string{"", "UTC"} {
		if loc, err := LoadLocation(name); err != nil || loc != time.UTC {
			t.Errorf("LoadLocation(%q) = %v, %v", name, loc, err)
		}
	}
	for _, name := range []string{"Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Etc/GMT+5"} {
		if loc, err := LoadLocation(name); err != nil || loc.String() != name {
			t.Errorf("LoadLocation(%q) = %v, %v", name, loc, err)
		}
	}
	for _, tc := range []struct{ name, want string }{
		{"Local", `time zone "Local" depends on the host; use an IANA name such as Europe/Paris, or UTC`},
		{"Mars/Olympus", `time zone "Mars/Olympus" is not known; use an IANA name such as Europe/Paris or America/New_York, or UTC`},
		{"europe/paris", `time zone "europe/paris" is not known`},
		{"../etc/passwd", "is not known"},
		{"/etc/localtime", "is not known"},
		{" UTC", `time zone " UTC" is not known`},
	} {
		_, err := LoadLocation(tc.name)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadLocation(%q) = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestResolve(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	for _, tc := range []struct {
		wall time.Time
		want string
	}{
		{time.Date(2026, 3, 8, 1, 59, 0, 0, time.UTC), "2026-03-08T01:59:00-05:00"},
		{time.Date(2026, 3, 8, 2, 0, 0, 0, time.UTC), "2026-03-08T03:00:00-04:00"},
		{time.Date(2026, 3, 8, 2, 59, 59, 0, time.UTC), "2026-03-08T03:00:00-04:00"},
		{time.Date(2026, 3, 8, 3, 0, 0, 0, time.UTC), "2026-03-08T03:00:00-04:00"},
		{time.Date(2026, 11, 1, 0, 59, 0, 0, time.UTC), "2026-11-01T00:59:00-04:00"},
		{time.Date(2026, 11, 1, 1, 0, 0, 0, time.UTC), "2026-11-01T01:00:00-04:00"},
		{time.Date(2026, 11, 1, 1, 59, 0, 0, time.UTC), "2026-11-01T01:59:00-04:00"},
		{time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC), "2026-11-01T02:00:00-05:00"},
	} {
		if got := resolve(tc.wall, ny).Format(time.RFC3339); got != tc.want {
			t.Errorf("resolve(%v) = %s, want %s", tc.wall, got, tc.want)
		}
	}
	// Go's time.Date is not consistent here (before the gap in New
	// York, after it in Paris; the first 01:30 in New York, the second
	// 02:30 in Paris); resolve is.
	paris := mustLoc(t, "Europe/Paris")
	if got := resolve(time.Date(2026, 3, 29, 2, 30, 0, 0, time.UTC), paris).Format(time.RFC3339); got != "2026-03-29T03:00:00+02:00" {
		t.Errorf("Paris gap: %s", got)
	}
	if got := resolve(time.Date(2026, 10, 25, 2, 30, 0, 0, time.UTC), paris).Format(time.RFC3339); got != "2026-10-25T02:30:00+02:00" {
		t.Errorf("Paris overlap: %s", got)
	}
}
