package schedule

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestCronDST pins the daylight saving time rules with real zones.
func TestCronDST(t *testing.T) {
	for _, tc := range []struct {
		zone, expr string
		from       string // wall time in zone, read with time.Date (not near a transition)
		want       []string
	}{
		// New York, 2026-03-08: 02:00 EST becomes 03:00 EDT.
		// A fixed wall time in the gap fires once, at the end of the gap.
		{"America/New_York", "30 2 * * *", "2026-03-07 12:00", []string{
			"2026-03-08 03:00 -04:00 Sun", "2026-03-09 02:30 -04:00 Mon", "2026-03-10 02:30 -04:00 Tue"}},
		{"America/New_York", "0 2,3 * * *", "2026-03-07 12:00", []string{
			"2026-03-08 03:00 -04:00 Sun", "2026-03-09 02:00 -04:00 Mon", "2026-03-09 03:00 -04:00 Mon"}},
		// Wildcard jobs have no 02:xx that day.
		{"America/New_York", "0 * * * *", "2026-03-08 00:30", []string{
			"2026-03-08 01:00 -05:00 Sun", "2026-03-08 03:00 -04:00 Sun", "2026-03-08 04:00 -04:00 Sun"}},
		{"America/New_York", "*/15 * * * *", "2026-03-08 01:30", []string{
			"2026-03-08 01:45 -05:00 Sun", "2026-03-08 03:00 -04:00 Sun", "2026-03-08 03:15 -04:00 Sun"}},
		{"America/New_York", "*/20 2 * * *", "2026-03-07 12:00", []string{
			"2026-03-09 02:00 -04:00 Mon"}},
		// New York, 2026-11-01: 02:00 EDT becomes 01:00 EST.
		// A fixed wall time shown twice fires once, the first time.
		{"America/New_York", "30 1 * * *", "2026-10-31 12:00", []string{
			"2026-11-01 01:30 -04:00 Sun", "2026-11-02 01:30 -05:00 Mon"}},
		{"America/New_York", "0 2 * * *", "2026-10-31 12:00", []string{
			"2026-11-01 02:00 -05:00 Sun", "2026-11-02 02:00 -05:00 Mon"}},
		{"America/New_York", "15,45 1 * * *", "2026-10-31 12:00", []string{
			"2026-11-01 01:15 -04:00 Sun", "2026-11-01 01:45 -04:00 Sun", "2026-11-02 01:15 -05:00 Mon"}},
		// Wildcard jobs fire in both 01:xx hours.
		{"America/New_York", "0 * * * *", "2026-11-01 00:30", []string{
			"2026-11-01 01:00 -04:00 Sun", "2026-11-01 01:00 -05:00 Sun", "2026-11-01 02:00 -05:00 Sun"}},
		{"America/New_York", "*/30 * * * *", "2026-11-01 00:45", []string{
			"2026-11-01 01:00 -04:00 Sun", "2026-11-01 01:30 -04:00 Sun", "2026-11-01 01:00 -05:00 Sun",
			"2026-11-01 01:30 -05:00 Sun", "2026-11-01 02:00 -05:00 Sun"}},
		{"America/New_York", "*/30 1 * * *", "2026-11-01 00:45", []string{
			"2026-11-01 01:00 -04:00 Sun", "2026-11-01 01:30 -04:00 Sun", "2026-11-01 01:00 -05:00 Sun",
			"2026-11-01 01:30 -05:00 Sun", "2026-11-02 01:00 -05:00 Mon"}},
		// London, 2026-03-29 01:00 GMT becomes 02:00 BST; 2026-10-25
		// 02:00 BST becomes 01:00 GMT.
		{"Europe/London", "30 1 * * *", "2026-03-28 12:00", []string{
			"2026-03-29 02:00 +01:00 Sun", "2026-03-30 01:30 +01:00 Mon"}},
		{"Europe/London", "30 1 * * *", "2026-10-24 12:00", []string{
			"2026-10-25 01:30 +01:00 Sun", "2026-10-26 01:30 +00:00 Mon"}},
		{"Europe/London", "@hourly", "2026-10-25 00:30", []string{
			"2026-10-25 01:00 +01:00 Sun", "2026-10-25 01:00 +00:00 Sun", "2026-10-25 02:00 +00:00 Sun"}},
		// Lord Howe moves its clocks by 30 minutes: 2026-10-04 02:00
		// +10:30 becomes 02:30 +11:00; 2026-04-05 02:00 +11:00 becomes
		// 01:30 +10:30.
		{"Australia/Lord_Howe", "15 2 * * *", "2026-10-03 12:00", []string{
			"2026-10-04 02:30 +11:00 Sun", "2026-10-05 02:15 +11:00 Mon"}},
		{"Australia/Lord_Howe", "*/15 * * * *", "2026-10-04 01:40", []string{
			"2026-10-04 01:45 +10:30 Sun", "2026-10-04 02:30 +11:00 Sun", "2026-10-04 02:45 +11:00 Sun"}},
		{"Australia/Lord_Howe", "0 * * * *", "2026-10-04 01:40", []string{
			"2026-10-04 03:00 +11:00 Sun"}},
		{"Australia/Lord_Howe", "45 1 * * *", "2026-04-04 12:00", []string{
			"2026-04-05 01:45 +11:00 Sun", "2026-04-06 01:45 +10:30 Mon"}},
		{"Australia/Lord_Howe", "*/15 * * * *", "2026-04-05 01:20", []string{
			"2026-04-05 01:30 +11:00 Sun", "2026-04-05 01:45 +11:00 Sun", "2026-04-05 01:30 +10:30 Sun",
			"2026-04-05 01:45 +10:30 Sun", "2026-04-05 02:00 +10:30 Sun"}},
		{"Australia/Lord_Howe", "0 * * * *", "2026-04-05 00:20", []string{
			"2026-04-05 01:00 +11:00 Sun", "2026-04-05 02:00 +10:30 Sun"}},
		// São Paulo, 2018-11-04: midnight -03 becomes 01:00 -02, so there
		// is no midnight; 2019-02-17: midnight -02 becomes 23:00 -03 the
		// day before.
		{"America/Sao_Paulo", "@daily", "2018-11-02 12:00", []string{
			"2018-11-03 00:00 -03:00 Sat", "2018-11-04 01:00 -02:00 Sun", "2018-11-05 00:00 -02:00 Mon"}},
		{"America/Sao_Paulo", "0 0 4 11 *", "2018-01-01 12:00", []string{
			"2018-11-04 01:00 -02:00 Sun", "2019-11-04 00:00 -03:00 Mon"}},
		{"America/Sao_Paulo", "@hourly", "2018-11-03 22:30", []string{
			"2018-11-03 23:00 -03:00 Sat", "2018-11-04 01:00 -02:00 Sun"}},
		{"America/Sao_Paulo", "@daily", "2019-02-15 12:00", []string{
			"2019-02-16 00:00 -02:00 Sat", "2019-02-17 00:00 -03:00 Sun", "2019-02-18 00:00 -03:00 Mon"}},
		{"America/Sao_Paulo", "30 23 * * *", "2019-02-16 12:00", []string{
			"2019-02-16 23:30 -02:00 Sat", "2019-02-17 23:30 -03:00 Sun"}},
		{"America/Sao_Paulo", "30 * * * *", "2019-02-16 22:00", []string{
			"2019-02-16 22:30 -02:00 Sat", "2019-02-16 23:30 -02:00 Sat", "2019-02-16 23:30 -03:00 Sat", "2019-02-17 00:30 -03:00 Sun"}},
		// Havana, 2026-03-08: midnight CST becomes 01:00 CDT; 2026-11-01:
		// 01:00 CDT becomes midnight CST.
		{"America/Havana", "0 0 * * *", "2026-03-07 12:00", []string{
			"2026-03-08 01:00 -04:00 Sun", "2026-03-09 00:00 -04:00 Mon"}},
		{"America/Havana", "0 0 * * *", "2026-10-31 12:00", []string{
			"2026-11-01 00:00 -04:00 Sun", "2026-11-02 00:00 -05:00 Mon"}},
		{"America/Havana", "*/30 0 * * *", "2026-10-31 12:00", []string{
			"2026-11-01 00:00 -04:00 Sun", "2026-11-01 00:30 -04:00 Sun", "2026-11-01 00:00 -05:00 Sun", "2026-11-01 00:30 -05:00 Sun"}},
		// Apia skipped 2011-12-30 entirely (-10 to +14).
		{"Pacific/Apia", "0 12 * * *", "2011-12-29 06:00", []string{
			"2011-12-29 12:00 -10:00 Thu", "2011-12-31 00:00 +14:00 Sat", "2011-12-31 12:00 +14:00 Sat"}},
		{"Pacific/Apia", "0 12 * * *", "2011-12-29 13:00", []string{
			"2011-12-31 00:00 +14:00 Sat", "2011-12-31 12:00 +14:00 Sat"}},
	} {
		loc := mustLoc(t, tc.zone)
		from, err := time.ParseInLocation("2006-01-02 15:04", tc.from, loc)
		if err != nil {
			t.Fatal(err)
		}
		got := runs(t, mustCron(t, tc.expr, loc), from, len(tc.want))
		if strings.Join(got, ", ") != strings.Join(tc.want, ", ") {
			t.Errorf("%s %q from %s:\n got  %q\n want %q", tc.zone, tc.expr, tc.from, got, tc.want)
		}
	}
}

// TestCronDSTBruteForce checks Next from every minute (and half minute)
// around transitions against a direct reading of the rules, minute by
// minute:
//   - a wildcard job fires at every instant whose wall time matches;
//   - a fixed job fires at instant u when a matching wall time lies between
//     the latest wall time shown before u (exclusive) and u's (inclusive):
//     its first occurrence, or the end of the gap that skipped it.
func TestCronDSTBruteForce(t *testing.T) {
	exprs := []string{
		"30 2 * * *", "30 1 * * *", "0 * * * *", "*/15 * * * *", "0 0 * * *", "0 23 * * *", "* * * * *",
		"15,45 1-3 * * *", "0 2,3 * * *", "*/20 1 * * *", "0 1 * * *", "59 23 * * *", "0-59 0-23 * * *",
		"0 0 * * 0", "5 0 1-10 * *", "45 0 * * *",
	}
	transitions := []struct {
		zone string
		at   time.Time
	}{
		{"America/New_York", time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC)},
		{"America/New_York", time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)},
		{"Europe/London", time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)},
		{"Europe/London", time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC)},
		{"Australia/Lord_Howe", time.Date(2026, 4, 4, 15, 0, 0, 0, time.UTC)},
		{"Australia/Lord_Howe", time.Date(2026, 10, 3, 15, 30, 0, 0, time.UTC)},
		{"America/Sao_Paulo", time.Date(2018, 11, 4, 3, 0, 0, 0, time.UTC)},
		{"America/Sao_Paulo", time.Date(2019, 2, 17, 2, 0, 0, 0, time.UTC)},
		{"America/Havana", time.Date(2026, 3, 8, 5, 0, 0, 0, time.UTC)},
		{"America/Havana", time.Date(2026, 11, 1, 5, 0, 0, 0, time.UTC)},
		{"Pacific/Apia", time.Date(2011, 12, 30, 10, 0, 0, 0, time.UTC)},
	}
	window := 30 * time.Hour
	if testing.Short() {
		window = 4 * time.Hour
	}
	for _, tr := range transitions {
		loc := mustLoc(t, tr.zone)
		for _, expr := range exprs {
			c := mustCron(t, expr, loc)
			end := tr.at.Add(window + 48*time.Hour)
			fires := bruteFires(c, tr.at.Add(-window-48*time.Hour), end)
			i := 0
			for at := tr.at.Add(-window); at.Before(tr.at.Add(window)); at = at.Add(30 * time.Second) {
				for i < len(fires) && !fires[i].After(at) {
					i++
				}
				got, ok := c.Next(at)
				if i == len(fires) { // the next run is after the brute-force range
					if !ok || got.Before(end) {
						t.Fatalf("%s %q: Next(%s) = %s %v, want none before %s", tr.zone, expr,
							at.In(loc).Format(time.RFC3339), got.Format(time.RFC3339), ok, end.In(loc).Format(time.RFC3339))
					}
					continue
				}
				if !ok || !got.Equal(fires[i]) || got.Location() != loc {
					t.Fatalf("%s %q: Next(%s) = %s %v, want %s", tr.zone, expr,
						at.In(loc).Format(time.RFC3339), got.Format(time.RFC3339), ok, fires[i].In(loc).Format(time.RFC3339))
				}
			}
		}
	}
}

// bruteFires lists the runs in [from, to) by walking every minute; the
// zones' offsets are whole minutes, so every wall time is met.
func bruteFires(c *cronSchedule, from, to time.Time) []time.Time {
	matches := func(w time.Time) bool {
		return c.minute&(1<<w.Minute()) != 0 && c.hour&(1<<w.Hour()) != 0 && c.month&(1<<int(w.Month())) != 0 &&
			c.dayMatches(w.Year(), w.Month(), w.Day())
	}
	wall := func(u time.Time) time.Time {
		_, off := u.In(c.loc).Zone()
		return wallOf(u, off)
	}
	var out []time.Time
	before := wall(from.Add(-time.Minute)).Add(time.Minute) // latest wall time shown before u, exclusive
	for u := from; u.Before(to); u = u.Add(time.Minute) {
		w := wall(u)
		fire := false
		if c.wildcard {
			fire = matches(w)
		} else {
			for x := before; !x.After(w); x = x.Add(time.Minute) {
				fire = fire || matches(x)
			}
		}
		if fire {
			out = append(out, u)
		}
		if next := w.Add(time.Minute); next.After(before) {
			before = next
		}
	}
	return out
}

// TestCronRandomBruteForce: random valid expressions against the
// minute-by-minute reading of the rules around several transitions.
func TestCronRandomBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	item := func(lo, hi int) string {
		a := lo + rng.IntN(hi-lo+1)
		b := a + rng.IntN(hi-a+1)
		switch rng.IntN(6) {
		case 0:
			return "*"
		case 1:
			return fmt.Sprintf("*/%d", 1+rng.IntN(hi))
		case 2:
			return fmt.Sprintf("%d-%d", a, b)
		case 3:
			return fmt.Sprintf("%d-%d/%d", a, b, 1+rng.IntN(hi))
		}
		return fmt.Sprint(a)
	}
	field := func(lo, hi int) string {
		items := []string{item(lo, hi)}
		for rng.IntN(3) == 0 {
			items = append(items, item(lo, hi))
		}
		return strings.Join(items, ",")
	}
	transitions := []struct {
		zone string
		at   time.Time
	}{
		{"America/New_York", time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC)},
		{"America/New_York", time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)},
		{"Australia/Lord_Howe", time.Date(2026, 4, 4, 15, 0, 0, 0, time.UTC)},
		{"Australia/Lord_Howe", time.Date(2026, 10, 3, 15, 30, 0, 0, time.UTC)},
		{"America/Sao_Paulo", time.Date(2018, 11, 4, 3, 0, 0, 0, time.UTC)},
		{"America/Havana", time.Date(2026, 11, 1, 5, 0, 0, 0, time.UTC)},
	}
	n := 600
	if testing.Short() {
		n = 20
	}
	for range n {
		// Hours and days near the transitions, so that they matter.
		expr := strings.Join([]string{field(0, 59), field(0, 3), field(1, 31), "*", field(0, 7)}, " ")
		if rng.IntN(4) == 0 {
			expr = strings.Join([]string{field(0, 59), field(0, 23), "*", "*", "*"}, " ")
		}
		for _, tr := range transitions {
			c := mustCron(t, expr, mustLoc(t, tr.zone))
			end := tr.at.Add(8 * time.Hour)
			fires := bruteFires(c, tr.at.Add(-8*time.Hour), end)
			i := 0
			for at := tr.at.Add(-4 * time.Hour); at.Before(tr.at.Add(4 * time.Hour)); at = at.Add(7*time.Minute + 30*time.Second) {
				for i < len(fires) && !fires[i].After(at) {
					i++
				}
				got, ok := c.Next(at)
				if i == len(fires) {
					if !ok || got.Before(end) {
						t.Fatalf("%s %q: Next(%v) = %v %v, want none before %v", tr.zone, expr, at, got, ok, end)
					}
					continue
				}
				if !ok || !got.Equal(fires[i]) {
					t.Fatalf("%s %q: Next(%s) = %s %v, want %s", tr.zone, expr, at.In(c.loc).Format(time.RFC3339),
						got.Format(time.RFC3339), ok, fires[i].In(c.loc).Format(time.RFC3339))
				}
			}
		}
	}
}
