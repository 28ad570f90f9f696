package output

import "time"

// Times are printed one way across the CLI: tables say how long ago (or
// how soon) with Age or Relative; describe views give the instant in RFC
// 3339, in UTC, with Relative after it (Time).

// Relative prints t against now: "in 42s", "3m ago", "now".
func Relative(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d >= time.Second:
		return "in " + Age(d)
	case d <= -time.Second:
		return Age(-d) + " ago"
	}
	return "now"
}

// Time prints t for a describe view: RFC 3339 in UTC, then Relative:
// "2026-03-01T02:00:00Z (5h ago)". The zero time prints "".
func Time(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339) + " (" + Relative(t, now) + ")"
}

// WireTime is the time of a wire timestamp (float seconds since the
// epoch, as Mesos has them); 0 and below are the zero time.
func WireTime(ts float64) time.Time {
	if ts <= 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(ts*1e9))
}
