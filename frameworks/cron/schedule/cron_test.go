package schedule

import (
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustCron(t testing.TB, expr string, loc *time.Location) *cronSchedule {
	t.Helper()
	s, err := ParseCron(expr, loc)
	if err != nil {
		t.Fatalf("ParseCron(%q): %v", expr, err)
	}
	return s.(*cronSchedule)
}

// runs lists the first n runs after from, formatted in the schedule's zone.
func runs(t testing.TB, s Schedule, from time.Time, n int) []string {
	t.Helper()
	var out []string
	for range n {
		next, ok := s.Next(from)
		if !ok {
			out = append(out, "never")
			break
		}
		if !next.After(from) {
			t.Fatalf("Next(%v) = %v, not after", from, next)
		}
		out = append(out, next.Format("2006-01-02 15:04 -07:00 Mon"))
		from = next
	}
	return out
}

func TestParseCronErrors(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"", "cron expression is empty; expected 5 fields (minute hour day-of-month month day-of-week) or a descriptor"},
		{"   ", "cron expression is empty"},
		{"61 * * * *", `cron expression "61 * * * *": minute 61 is out of range (0-59)`},
		{"* 24 * * *", "hour 24 is out of range (0-23)"},
		{"* * 0 * *", "day-of-month 0 is out of range (1-31)"},
		{"* * 32 * *", "day-of-month 32 is out of range (1-31)"},
		{"* * * 13 *", "month 13 is out of range (1-12)"},
		{"* * * * 8", "day-of-week 8 is out of range (0-7)"},
		{"99999999999999999999 * * * *", "minute 99999999999999999999 is out of range (0-59)"},
		{"0 0 * * * *", `has 6 fields, expected 5 (minute hour day-of-month month day-of-week); a seconds field is not supported`},
		{"0 0 12 ? * MON 2026", "has 7 fields, expected 5"},
		{"* * * *", "has 4 fields, expected 5"},
		{"*", "has 1 field, expected 5"},
		{"@every 1h", "@every is not supported; use a repeating interval such as R/2026-01-01T00:00:00Z/PT1H"},
		{"@reboot", "@reboot is not supported"},
		{"@fortnightly", `unknown descriptor "@fortnightly"; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly`},
		{"@daily 5", "@daily takes nothing after it"},
		{"CRON_TZ=Europe/Paris 0 0 * * *", "time zone prefixes (CRON_TZ=, TZ=) are not supported; remove it and set the schedule's time zone field instead"},
		{"TZ=UTC", "time zone prefixes"}, // robfig/cron panics on this one
		{"tz=UTC 0 0 * * *", "time zone prefixes"},
		{"*/0 * * * *", `minute step in "*/0" must be at least 1`},
		{"*/60 * * * *", `minute step 60 in "*/60" is larger than 59`},
		{"*/x * * * *", `minute step "x" in "*/x" is not a whole number`},
		{"*/ * * * *", `minute step "" in "*/" is not a whole number`},
		{"*/2/3 * * * *", `minute "*/2/3" has more than one "/"`},
		{"/5 * * * *", `minute "/5" has nothing before the "/"; write */5 or a range such as 0-59/5`},
		{"1,,2 * * * *", `minute "1,,2" has an empty list element`},
		{", * * * *", `minute "," has an empty list element`},
		{"1- * * * *", `minute range "1-" has no end`},
		{"-5 * * * *", `minute "-5": negative values are not allowed`},
		{"1-2-3 * * * *", `minute "1-2-3" has more than one "-"`},
		{"30-10 * * * *", `minute range "30-10" runs backwards (30 > 10); ranges do not wrap around, write 30-59,0-10`},
		{"* 22-2 * * *", `write 22-23,0-2`},
		{"* * * * fri-mon", `day-of-week range "fri-mon" runs backwards (5 > 1); ranges do not wrap around, write 5-6,0-1`},
		{"* * * * sat-sun", `write 6-7`},
		{"* * * * 7-1", `write 0-1`},
		{"+5 * * * *", `minute "+5" is not a number (0-59)`},
		{"a * * * *", `minute "a" is not a number (0-59)`},
		{"jan * * * *", `minute "jan" is not a number (0-59)`},
		{"* * * foo *", `month "foo" is not a number or a name (1-12 or jan-dec)`},
		{"* * * * monday", `day-of-week "monday" is not a number or a name (0-7 (0 and 7 are Sunday) or sun-sat)`},
		{"* * L * *", `day-of-month "L" is not a number (1-31); Quartz's L, W and # are not supported`},
		{"* * 15W * *", "Quartz's L, W and # are not supported"},
		{"* * * * 5#3", "Quartz's L, W and # are not supported"},
		{"? * * * *", `minute "?": "?" is only allowed in day-of-month and day-of-week; use "*"`},
		{"* * * ſep *", `month "ſep" is not a number or a name`},
		{strings.Repeat("1,", 600) + "1 * * * *", "cron expression is 1209 bytes long; at most 1024 are allowed"},
	} {
		_, err := ParseCron(tc.expr, time.UTC)
		if err == nil {
			t.Errorf("ParseCron(%q) accepted", tc.expr)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseCron(%q) = %q\n want it to contain %q", tc.expr, err, tc.want)
		}
		if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "please report") {
			t.Errorf("ParseCron(%q) = %q: not one clean line", tc.expr, err)
		}
	}
}

func TestParseCronFields(t *testing.T) {
	bitsOf := func(vs ...int) uint64 {
		var b uint64
		for _, v := range vs {
			b |= 1 << v
		}
		return b
	}
	rng := func(lo, hi, step int) uint64 {
		var b uint64
		for v := lo; v <= hi; v += step {
			b |= 1 << v
		}
		return b
	}
	for _, tc := range []struct {
		expr                          string
		minute, hour, dom, month, dow uint64
		domStar, dowStar, wildcard    bool
	}{
		{"* * * * *", rng(0, 59, 1), rng(0, 23, 1), rng(1, 31, 1), rng(1, 12, 1), rng(0, 6, 1), true, true, true},
		{"0 0 * * 7", bitsOf(0), bitsOf(0), rng(1, 31, 1), rng(1, 12, 1), bitsOf(0), true, false, false},
		{"0 0 * * 5-7", bitsOf(0), bitsOf(0), rng(1, 31, 1), rng(1, 12, 1), bitsOf(5, 6, 0), true, false, false},
		{"0 0 * * 1-7/2", bitsOf(0), bitsOf(0), rng(1, 31, 1), rng(1, 12, 1), bitsOf(1, 3, 5, 0), true, false, false},
		{"0 0 * * 7/3", bitsOf(0), bitsOf(0), rng(1, 31, 1), rng(1, 12, 1), bitsOf(0), true, false, false},
		{"0 0 * * 0,7", bitsOf(0), bitsOf(0), rng(1, 31, 1), rng(1, 12, 1), bitsOf(0), true, false, false},
		{"0 0 * * MON-fri", bitsOf(0), bitsOf(0), rng(1, 31, 1), rng(1, 12, 1), rng(1, 5, 1), true, false, false},
		{"0 0 * * */2", bitsOf(0), bitsOf(0), rng(1, 31, 1), rng(1, 12, 1), bitsOf(0, 2, 4, 6), true, true, false},
		{"0 0 * * 5/1", bitsOf(0), bitsOf(0), rng(1, 31, 1), rng(1, 12, 1), bitsOf(5, 6), true, false, false},
		{"5/20 */6 1-10/3 jan,JUL-sep ?", bitsOf(5, 25, 45), bitsOf(0, 6, 12, 18), bitsOf(1, 4, 7, 10), bitsOf(1, 7, 8, 9), rng(0, 6, 1), false, true, true},
		{"0,30 9-17 1,15 * 1-5", bitsOf(0, 30), rng(9, 17, 1), bitsOf(1, 15), rng(1, 12, 1), rng(1, 5, 1), false, false, false},
		{"  0\t12  *  *  *  ", bitsOf(0), bitsOf(12), rng(1, 31, 1), rng(1, 12, 1), rng(0, 6, 1), true, true, false},
		{"@yearly", bitsOf(0), bitsOf(0), bitsOf(1), bitsOf(1), rng(0, 6, 1), false, true, false},
		{"@annually", bitsOf(0), bitsOf(0), bitsOf(1), bitsOf(1), rng(0, 6, 1), false, true, false},
		{"@monthly", bitsOf(0), bitsOf(0), bitsOf(1), rng(1, 12, 1), rng(0, 6, 1), false, true, false},
		{"@weekly", bitsOf(0), bitsOf(0), rng(1, 31, 1), rng(1, 12, 1), bitsOf(0), true, false, false},
		{"@daily", bitsOf(0), bitsOf(0), rng(1, 31, 1), rng(1, 12, 1), rng(0, 6, 1), true, true, false},
		{"@MIDNIGHT", bitsOf(0), bitsOf(0), rng(1, 31, 1), rng(1, 12, 1), rng(0, 6, 1), true, true, false},
		{" @hourly ", bitsOf(0), rng(0, 23, 1), rng(1, 31, 1), rng(1, 12, 1), rng(0, 6, 1), true, true, true},
	} {
		c := mustCron(t, tc.expr, nil)
		got := [5]uint64{c.minute, c.hour, c.dom, c.month, c.dow}
		want := [5]uint64{tc.minute, tc.hour, tc.dom, tc.month, tc.dow}
		if got != want || c.domStar != tc.domStar || c.dowStar != tc.dowStar || c.wildcard != tc.wildcard {
			t.Errorf("%q: masks %x stars %v %v wildcard %v\n want %x stars %v %v wildcard %v", tc.expr,
				got, c.domStar, c.dowStar, c.wildcard, want, tc.domStar, tc.dowStar, tc.wildcard)
		}
		if c.String() != tc.expr || c.loc != time.UTC {
			t.Errorf("%q: String %q, loc %v", tc.expr, c.String(), c.loc)
		}
	}
}

func TestCronNext(t *testing.T) {
	utc := time.UTC
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, utc) // a Thursday
	for _, tc := range []struct {
		expr string
		from time.Time
		want []string
	}{
		{"*/15 * * * *", from, []string{"2026-01-01 00:15 +00:00 Thu", "2026-01-01 00:30 +00:00 Thu", "2026-01-01 00:45 +00:00 Thu", "2026-01-01 01:00 +00:00 Thu"}},
		{"* * * * *", from.Add(30 * time.Second), []string{"2026-01-01 00:01 +00:00 Thu", "2026-01-01 00:02 +00:00 Thu"}},
		{"0 0 31 * *", from, []string{"2026-01-31 00:00 +00:00 Sat", "2026-03-31 00:00 +00:00 Tue", "2026-05-31 00:00 +00:00 Sun", "2026-07-31 00:00 +00:00 Fri", "2026-08-31 00:00 +00:00 Mon"}},
		{"0 0 29 2 *", from, []string{"2028-02-29 00:00 +00:00 Tue", "2032-02-29 00:00 +00:00 Sun"}},
		{"0 0 29 2 *", time.Date(2096, 3, 1, 0, 0, 0, 0, utc), []string{"2104-02-29 00:00 +00:00 Fri"}}, // 2100 is not a leap year
		{"0 0 30 2 *", from, []string{"never"}},
		{"0 0 31 4,6,9,11 *", from, []string{"never"}},
		// Both day fields restricted: either matches (the 13th, and Fridays).
		{"0 0 13 * 5", from, []string{"2026-01-02 00:00 +00:00 Fri", "2026-01-09 00:00 +00:00 Fri", "2026-01-13 00:00 +00:00 Tue", "2026-01-16 00:00 +00:00 Fri"}},
		// Day-of-month "*": only the weekday restricts.
		{"0 0 * * 5", from, []string{"2026-01-02 00:00 +00:00 Fri", "2026-01-09 00:00 +00:00 Fri"}},
		// A field starting with "*" does not restrict (Vixie cron): odd
		// days that are Mondays, not odd days or Mondays.
		{"0 0 */2 * 1", from, []string{"2026-01-05 00:00 +00:00 Mon", "2026-01-19 00:00 +00:00 Mon", "2026-02-09 00:00 +00:00 Mon"}},
		// Starting with a digit, the same days restrict: odd days or Mondays.
		{"0 0 1-31/2 * 1", from, []string{"2026-01-03 00:00 +00:00 Sat", "2026-01-05 00:00 +00:00 Mon", "2026-01-07 00:00 +00:00 Wed", "2026-01-09 00:00 +00:00 Fri", "2026-01-11 00:00 +00:00 Sun", "2026-01-12 00:00 +00:00 Mon"}},
		{"0 0 ? * 1", from, []string{"2026-01-05 00:00 +00:00 Mon"}},
		{"0 12 * * 7", from, []string{"2026-01-04 12:00 +00:00 Sun", "2026-01-11 12:00 +00:00 Sun"}},
		{"0 12 * * sat-7", from, []string{"2026-01-03 12:00 +00:00 Sat", "2026-01-04 12:00 +00:00 Sun", "2026-01-10 12:00 +00:00 Sat"}},
		{"30 4 1 jan *", from, []string{"2026-01-01 04:30 +00:00 Thu", "2027-01-01 04:30 +00:00 Fri"}},
		{"@yearly", from, []string{"2027-01-01 00:00 +00:00 Fri", "2028-01-01 00:00 +00:00 Sat"}},
		{"@monthly", from, []string{"2026-02-01 00:00 +00:00 Sun", "2026-03-01 00:00 +00:00 Sun"}},
		{"@weekly", from, []string{"2026-01-04 00:00 +00:00 Sun", "2026-01-11 00:00 +00:00 Sun"}},
		{"@daily", from, []string{"2026-01-02 00:00 +00:00 Fri", "2026-01-03 00:00 +00:00 Sat"}},
		{"@hourly", from, []string{"2026-01-01 01:00 +00:00 Thu", "2026-01-01 02:00 +00:00 Thu"}},
		{"59 23 31 12 *", from, []string{"2026-12-31 23:59 +00:00 Thu", "2027-12-31 23:59 +00:00 Fri"}},
	} {
		got := runs(t, mustCron(t, tc.expr, utc), tc.from, len(tc.want))
		if strings.Join(got, ", ") != strings.Join(tc.want, ", ") {
			t.Errorf("%q from %v:\n got  %q\n want %q", tc.expr, tc.from, got, tc.want)
		}
	}
}

// TestCronNextEdges: Next terminates, stays in the schedule's location, and
// accepts any instant.
func TestCronNextEdges(t *testing.T) {
	paris := mustLoc(t, "Europe/Paris")
	c := mustCron(t, "0 9 * * *", paris)
	next, ok := c.Next(time.Date(2026, 6, 1, 5, 0, 0, 0, time.UTC)) // 07:00 in Paris
	if !ok || next.Location() != paris || next.Format(time.RFC3339) != "2026-06-01T09:00:00+02:00" {
		t.Errorf("Next = %v %v", next, ok)
	}
	for _, at := range []time.Time{{}, time.Unix(1<<62, 0), time.Unix(-1<<62, 0), time.Date(9999, 12, 31, 23, 59, 0, 0, time.UTC)} {
		for _, expr := range []string{"* * * * *", "0 0 30 2 *", "0 0 29 2 *"} {
			if next, ok := mustCron(t, expr, paris).Next(at); ok && !next.After(at) {
				t.Errorf("%q.Next(%v) = %v", expr, at, next)
			}
		}
	}
}

// TestCronMatchesRobfig compares Next with robfig/cron's in UTC, where there
// is no daylight saving time, for expressions whose day fields robfig and
// Vixie cron read the same way.
func TestCronMatchesRobfig(t *testing.T) {
	exprs := []string{
		"* * * * *", "*/7 * * * *", "5/20 */5 * * *", "0 0 * * *", "30 4 1,15 * *", "0 0 31 * *",
		"0 0 29 2 *", "0 0 30 2 *", "0 0 13 * 5", "0 0 * * 1-5", "15 10 * jun-aug sun", "0 12 1-7 * 1",
		"0 0 1-31/2 * 1", "59 23 28-31 2 *", "0 */3 * 1/4 *", "1-59/10 2-22/4 3-27/6 2-11/3 1-6/2",
	}
	from := time.Date(2025, 12, 31, 23, 59, 30, 0, time.UTC)
	p := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)
	for _, expr := range exprs {
		ours := mustCron(t, expr, time.UTC)
		theirs, err := p.Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		theirs.(*cron.SpecSchedule).Location = time.UTC
		at := from
		// robfig gives up after 5 years (Feb 29, 2096 has no successor);
		// Next looks 8 years ahead.
		for range 300 {
			if at.Year() > 2090 {
				break
			}
			want := theirs.Next(at)
			got, ok := ours.Next(at)
			if ok != !want.IsZero() || ok && !got.Equal(want) {
				t.Fatalf("%q.Next(%v) = %v %v, robfig %v", expr, at, got, ok, want)
			}
			if !ok {
				break
			}
			at = got.Add(time.Duration(at.Nanosecond()%3) * 17 * time.Second) // also off the minute
		}
	}
}

// BenchmarkNextCron: one Next in a daylight saving time zone.
func BenchmarkNextCron(b *testing.B) {
	ny := mustLoc(b, "America/New_York")
	for _, expr := range []string{"*/15 * * * *", "30 2 * * *", "0 0 13 * 5", "0 0 29 2 *"} {
		c := mustCron(b, expr, ny)
		at := time.Date(2026, 3, 7, 12, 0, 0, 0, ny)
		b.Run(expr, func(b *testing.B) {
			for b.Loop() {
				if _, ok := c.Next(at); !ok {
					b.Fatal("no next")
				}
			}
		})
	}
	c := mustCron(b, "0 0 30 2 *", ny)
	b.Run("never", func(b *testing.B) {
		for b.Loop() {
			c.Next(time.Date(2026, 3, 7, 12, 0, 0, 0, ny))
		}
	})
}
