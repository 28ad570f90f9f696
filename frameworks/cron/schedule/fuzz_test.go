package schedule

import (
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

// checkError: errors are one line, say what they are about, and never
// blame robfig/cron.
func checkError(t *testing.T, err error, prefix string) {
	t.Helper()
	msg := err.Error()
	if strings.ContainsAny(msg, "\n\r") || !strings.Contains(msg, prefix) || strings.Contains(msg, "please report") {
		t.Fatalf("bad error %q", msg)
	}
}

// fuzzInstants are the instants Next is tried from.
var fuzzInstants = []time.Time{
	time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(2026, 3, 8, 6, 59, 30, 0, time.UTC),  // New York, before the gap
	time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC),  // New York, first 01:30
	time.Date(2026, 11, 1, 6, 30, 0, 1, time.UTC),  // New York, second 01:30
	time.Date(2026, 4, 4, 14, 45, 0, 0, time.UTC),  // Lord Howe, before the overlap
	time.Date(2026, 10, 3, 15, 15, 0, 0, time.UTC), // Lord Howe, before the gap
	time.Date(2096, 2, 29, 0, 0, 0, 0, time.UTC),
	{},
	time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
}

// FuzzParseCron parses any string. An accepted expression must give
// strictly increasing runs from several instants in UTC, New York and Lord
// Howe, agree with robfig/cron's Next in UTC (fed the same bitmasks), and
// agree with a minute-by-minute reading of the rules around a DST
// transition. Seeds: testdata/fuzz/FuzzParseCron.
func FuzzParseCron(f *testing.F) {
	f.Add("*/15 * * * *")
	f.Add("30 2 * * 1-5")
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := ParseCron(expr, time.UTC)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "cron expression") {
				t.Fatalf("error %q does not start with \"cron expression\"", err)
			}
			checkError(t, err, "cron expression")
			return
		}
		c := s.(*cronSchedule)
		// robfig/cron with the same masks and day rule, in UTC.
		star := func(b bool) uint64 {
			if b {
				return 1 << 63
			}
			return 0
		}
		ref := &cron.SpecSchedule{Second: 1, Minute: c.minute, Hour: c.hour, Dom: c.dom | star(c.domStar),
			Month: c.month, Dow: c.dow | star(c.dowStar), Location: time.UTC}
		at := fuzzInstants[0]
		for range 5 {
			want := ref.Next(at)
			got, ok := c.Next(at)
			if want.IsZero() && ok && got.Year() > at.Year()+5 {
				break // robfig/cron gives up after 5 years; we look further
			}
			if ok != !want.IsZero() || ok && !got.Equal(want) {
				t.Fatalf("%q.Next(%v) = %v %v; robfig/cron says %v", expr, at, got, ok, want)
			}
			if !ok {
				break
			}
			at = got
		}
		for _, zone := range []string{"UTC", "America/New_York", "Australia/Lord_Howe"} {
			z := mustCron(t, expr, mustLoc(t, zone))
			for _, from := range fuzzInstants {
				at := from
				for range 4 {
					next, ok := z.Next(at)
					if !ok {
						break
					}
					if !next.After(at) {
						t.Fatalf("%q in %s: Next(%v) = %v", expr, zone, at, next)
					}
					at = next
				}
			}
		}
		// The rules, minute by minute, around New York's fall back.
		ny := mustCron(t, expr, mustLoc(t, "America/New_York"))
		tr := time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
		fires := bruteFires(ny, tr.Add(-3*time.Hour), tr.Add(3*time.Hour))
		for _, at := range []time.Time{tr.Add(-2 * time.Hour), tr.Add(-time.Hour), tr.Add(-30 * time.Second), tr.Add(time.Hour)} {
			i := 0
			for i < len(fires) && !fires[i].After(at) {
				i++
			}
			if i == len(fires) {
				continue
			}
			if got, ok := ny.Next(at); !ok || !got.Equal(fires[i]) {
				t.Fatalf("%q in New York: Next(%v) = %v %v, want %v", expr, at, got, ok, fires[i])
			}
		}
	})
}

// FuzzParseInterval parses any string in New York. An accepted interval
// round-trips through String and gives strictly increasing runs, at most
// Repeat of them. Seeds: testdata/fuzz/FuzzParseInterval.
func FuzzParseInterval(f *testing.F) {
	f.Add("R/2026-12-01T00:00:00Z/PT6H")
	f.Add("R5/2026-12-01T08:00:00/P1D")
	ny, err := LoadLocation("America/New_York")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		iv, err := ParseInterval(s, ny)
		if err != nil {
			checkError(t, err, "repeating interval")
			return
		}
		back, err := ParseInterval(iv.String(), ny)
		if err != nil || back.Repeat != iv.Repeat || !back.Start.Equal(iv.Start) || back.Period != iv.Period {
			t.Fatalf("%q: String %q parses as %+v, %v", s, iv.String(), back, err)
		}
		for _, from := range append(fuzzInstants, iv.Start.Add(-1), iv.Start, iv.Start.Add(1)) {
			at, n := from, 0
			for range 4 {
				next, ok := iv.Next(at)
				if !ok {
					break
				}
				n++
				if !next.After(at) || next.Location() != ny {
					t.Fatalf("%q: Next(%v) = %v", s, at, next)
				}
				at = next
			}
			if iv.Repeat >= 0 && n > iv.Repeat {
				t.Fatalf("%q: %d runs from %v", s, n, from)
			}
		}
	})
}

// FuzzParsePeriod parses any string. An accepted period is non-negative, at
// most 100 years, round-trips through String, and moves time forward.
// Seeds: testdata/fuzz/FuzzParsePeriod.
func FuzzParsePeriod(f *testing.F) {
	f.Add("P1Y2M3DT4H5M6.5S")
	f.Add("P2W")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeriod(s)
		if err != nil {
			checkError(t, err, "period")
			return
		}
		if p.Years < 0 || p.Months < 0 || p.Days < 0 || p.Duration < 0 || p.Approx() > maxPeriod {
			t.Fatalf("%q = %+v", s, p)
		}
		if back, err := ParsePeriod(p.String()); err != nil || back != p {
			t.Fatalf("%q: String %q parses as %+v, %v", s, p.String(), back, err)
		}
		if p.IsZero() {
			return
		}
		for _, at := range fuzzInstants[:6] {
			at = at.In(time.UTC)
			prev := at
			for k := 1; k <= 3; k++ {
				next := p.AddTo(at, k)
				if !next.After(prev) {
					t.Fatalf("%q: AddTo(%v, %d) = %v, not after %v", s, at, k, next, prev)
				}
				prev = next
			}
		}
	})
}
