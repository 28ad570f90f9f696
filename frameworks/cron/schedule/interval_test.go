package schedule

import (
	"strings"
	"testing"
	"time"
)

func mustInterval(t testing.TB, s string, loc *time.Location) *Interval {
	t.Helper()
	iv, err := ParseInterval(s, loc)
	if err != nil {
		t.Fatalf("ParseInterval(%q): %v", s, err)
	}
	return iv
}

func TestParseInterval(t *testing.T) {
	paris := mustLoc(t, "Europe/Paris")
	ny := mustLoc(t, "America/New_York")
	for _, tc := range []struct {
		in     string
		loc    *time.Location
		repeat int
		start  string // RFC 3339 in loc
		period Period
		str    string
	}{
		{"R/2026-12-01T00:00:00Z/PT6H", paris, -1, "2026-12-01T01:00:00+01:00", Period{Duration: 6 * time.Hour}, "R/2026-12-01T01:00:00+01:00/PT6H"},
		{"R-1/2026-12-01T00:00:00Z/PT6H", nil, -1, "2026-12-01T00:00:00Z", Period{Duration: 6 * time.Hour}, "R/2026-12-01T00:00:00Z/PT6H"},
		{"R5/2026-12-01T08:00:00/P1D", paris, 5, "2026-12-01T08:00:00+01:00", Period{Days: 1}, "R5/2026-12-01T08:00:00+01:00/P1D"},
		{"R0/2026-12-01T08:00:00/P1D", paris, 0, "2026-12-01T08:00:00+01:00", Period{Days: 1}, "R0/2026-12-01T08:00:00+01:00/P1D"},
		{"R1/2026-12-01T08:00:00+05:30/P1W", paris, 1, "2026-12-01T03:30:00+01:00", Period{Days: 7}, "R1/2026-12-01T03:30:00+01:00/P7D"},
		{"R/2026-12-01T08:00:00-0700/PT1M", nil, -1, "2026-12-01T15:00:00Z", Period{Duration: time.Minute}, ""},
		{"R/2026-12-01T08:00:00+02/PT1M", nil, -1, "2026-12-01T06:00:00Z", Period{Duration: time.Minute}, ""},
		{"R/20261201T080000Z/P1D", nil, -1, "2026-12-01T08:00:00Z", Period{Days: 1}, ""},
		{"R/20261201T0800/P1D", nil, -1, "2026-12-01T08:00:00Z", Period{Days: 1}, ""},
		{"R/2026-12-01T08:00/P1D", nil, -1, "2026-12-01T08:00:00Z", Period{Days: 1}, ""},
		{"R/2026-12-01/P1D", paris, -1, "2026-12-01T00:00:00+01:00", Period{Days: 1}, ""},
		{"R/2026-12-01t08:00:00.25z/PT0.5S", nil, -1, "2026-12-01T08:00:00.25Z", Period{Duration: 500 * time.Millisecond}, "R/2026-12-01T08:00:00.25Z/PT0.5S"},
		{"R3/2026-12-01T08:00:00,5/p1m", nil, 3, "2026-12-01T08:00:00.5Z", Period{Months: 1}, ""},
		{"R/2024-02-29T00:00:00Z/P1Y", nil, -1, "2024-02-29T00:00:00Z", Period{Years: 1}, ""},
		// A start the clock skips is the end of the gap; one it shows
		// twice is the first.
		{"R/2026-03-08T02:30:00/P1D", ny, -1, "2026-03-08T03:00:00-04:00", Period{Days: 1}, ""},
		{"R/2026-11-01T01:30:00/P1D", ny, -1, "2026-11-01T01:30:00-04:00", Period{Days: 1}, ""},
		{"R/2026-11-01T01:30:00-05:00/P1D", ny, -1, "2026-11-01T01:30:00-05:00", Period{Days: 1}, ""},
		{"R/2026-10-25T02:30:00/P1D", paris, -1, "2026-10-25T02:30:00+02:00", Period{Days: 1}, ""},
		{"R/2026-03-29T02:30:00/P1D", paris, -1, "2026-03-29T03:00:00+02:00", Period{Days: 1}, ""},
	} {
		iv := mustInterval(t, tc.in, tc.loc)
		loc := locOrUTC(tc.loc)
		if iv.Repeat != tc.repeat || iv.Start.Format(time.RFC3339Nano) != tc.start || iv.Period != tc.period || iv.Start.Location() != loc {
			t.Errorf("ParseInterval(%q) = %d %s %+v (%v)\n want %d %s %+v", tc.in, iv.Repeat, iv.Start.Format(time.RFC3339Nano), iv.Period,
				iv.Start.Location(), tc.repeat, tc.start, tc.period)
		}
		if tc.str != "" && iv.String() != tc.str {
			t.Errorf("%q.String() = %q, want %q", tc.in, iv.String(), tc.str)
		}
		if back, err := ParseInterval(iv.String(), loc); err != nil || *back != *iv {
			t.Errorf("round trip of %q: %+v %v", tc.in, back, err)
		}
	}
}

func TestParseIntervalErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "repeating interval is empty; expected R[n]/<start>/<period>, e.g. R/2026-12-01T00:00:00Z/PT6H"},
		{"R/2026-12-01T00:00:00Z", `repeating interval "R/2026-12-01T00:00:00Z": has 2 parts, expected R[n]/<start>/<period>`},
		{"R/a/b/c", "has 4 parts"},
		{"2026-12-01T00:00:00Z/PT6H/R", "must start with R and the number of runs"},
		{"/2026-12-01T00:00:00Z/PT6H", "must start with R"},
		{"Rx/2026-12-01T00:00:00Z/PT6H", `number of runs "x" is not a whole number; use R for unbounded or Rn with n >= 0`},
		{"R-2/2026-12-01T00:00:00Z/PT6H", `number of runs "-2" is not a whole number`},
		{"R99999999999/2026-12-01T00:00:00Z/PT6H", "number of runs 99999999999 is too large"},
		{"R/PT6H/2026-12-01T00:00:00Z", "the R[n]/<period>/<end> form is not supported; expected R[n]/<start>/<period>"},
		{"R/2026-12-01T00:00:00Z/2026-12-02T00:00:00Z", "the R[n]/<start>/<end> form is not supported"},
		{"R/2026-12-01T00:00:00Z/PT0S", "period PT0S is zero; use a positive period such as PT6H or P1D"},
		{"R/2026-12-01T00:00:00Z/P0D", "is zero"},
		{"R/2026-12-01T00:00:00Z/PT", `period "PT": has T but no hours`},
		{"R/2026-12-01T00:00:00Z/6H", `period "6H": must start with P`},
		{"R/2026-12-01T00:00:00Z/P1W1D", "weeks cannot be combined"},
		{"R//PT6H", "start is empty"},
		{"R/26-12-01T00:00:00Z/PT6H", `start "26-12-01T00:00:00Z" is not an ISO 8601 date and time such as 2026-12-01T08:00:00Z, or 2026-12-01T08:00:00 in the schedule's time zone: the year must have 4 digits`},
		{"R/2026-13-01T00:00:00Z/PT6H", "month 13 is out of range (1-12)"},
		{"R/0000-01-01T00:00:00+01:00/P1Y", "it is in the year -1 in UTC, outside 0000-9999"},
		{"R/9999-12-31T23:30:00-01:00/P1Y", "it is in the year 10000 in UTC, outside 0000-9999"},
		{"R/2026-02-29T00:00:00Z/PT6H", "day 29 is out of range for 2026-02 (1-28)"},
		{"R/2026-04-31T00:00:00Z/PT6H", "day 31 is out of range for 2026-04 (1-30)"},
		{"R/2026-12-01T24:00:00Z/PT6H", "hour 24 is out of range (0-23)"},
		{"R/2026-12-01T00:60:00Z/PT6H", "minute 60 is out of range (0-59)"},
		{"R/2026-12-01T00:00:60Z/PT6H", "second 60 is out of range (0-59)"},
		{"R/2026-12-01T00:00:00+24:00/PT6H", "offset +24:00 is out of range"},
		{"R/2026-12-01T00:00:00 UTC/PT6H", `unexpected " UTC"`},
		{"R/2026-12-01T00:00:00ZZ/PT6H", `unexpected "ZZ"`},
		{"R/2026-12-01 00:00:00Z/PT6H", `unexpected " 00:00:00Z"`},
		{"R/2026-1201/PT6H", "expected - after the month"},
		{"R/2026-12-01T0000:00/PT6H", "mixed basic and extended time"},
		{"R/2026-12-01T00:00:00./PT6H", "the fraction of a second must have 1 to 9 digits"},
		{"R/2026-12-01T8:00:00/PT6H", "expected a 2-digit hour after T"},
		{"R/2026-12-01T00:00:00+1/PT6H", "expected a 2-digit hour in the offset"},
		{"R/2026-12-01T00:00:00+01:0/PT6H", "expected 2-digit minutes in the offset"},
		{"R/" + strings.Repeat("1", 200) + "/PT6H", "repeating interval is 207 bytes long"},
	} {
		_, err := ParseInterval(tc.in, nil)
		if err == nil {
			t.Errorf("ParseInterval(%q) accepted", tc.in)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseInterval(%q) = %q\n want it to contain %q", tc.in, err, tc.want)
		}
	}
}

func TestIntervalNext(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	lh := mustLoc(t, "Australia/Lord_Howe")
	utc := time.UTC
	for _, tc := range []struct {
		in   string
		loc  *time.Location
		from time.Time
		want []string
	}{
		{"R/2026-12-01T00:00:00Z/PT6H", utc, time.Date(2026, 1, 1, 0, 0, 0, 0, utc), []string{
			"2026-12-01 00:00 +00:00 Tue", "2026-12-01 06:00 +00:00 Tue", "2026-12-01 12:00 +00:00 Tue"}},
		{"R/2026-12-01T00:00:00Z/PT6H", utc, time.Date(2026, 12, 1, 0, 0, 0, 0, utc), []string{
			"2026-12-01 06:00 +00:00 Tue"}},
		{"R/2026-12-01T00:00:00Z/PT6H", utc, time.Date(2026, 12, 1, 5, 59, 59, 999999999, utc), []string{
			"2026-12-01 06:00 +00:00 Tue"}},
		{"R3/2026-12-01T00:00:00Z/PT6H", utc, time.Date(2026, 1, 1, 0, 0, 0, 0, utc), []string{
			"2026-12-01 00:00 +00:00 Tue", "2026-12-01 06:00 +00:00 Tue", "2026-12-01 12:00 +00:00 Tue", "never"}},
		{"R0/2026-12-01T00:00:00Z/PT6H", utc, time.Date(2026, 1, 1, 0, 0, 0, 0, utc), []string{"never"}},
		{"R1/2026-12-01T00:00:00Z/PT6H", utc, time.Date(2026, 1, 1, 0, 0, 0, 0, utc), []string{"2026-12-01 00:00 +00:00 Tue", "never"}},
		{"R1/2026-12-01T00:00:00Z/PT6H", utc, time.Date(2026, 12, 1, 0, 0, 0, 0, utc), []string{"never"}},
		// P1D keeps 02:30 across DST (03:00, the end of the gap, on
		// the day without 02:30); PT24H drifts by the shift.
		{"R/2026-03-06T02:30:00/P1D", ny, time.Date(2026, 3, 6, 12, 0, 0, 0, ny), []string{
			"2026-03-07 02:30 -05:00 Sat", "2026-03-08 03:00 -04:00 Sun", "2026-03-09 02:30 -04:00 Mon"}},
		{"R/2026-03-06T02:30:00/PT24H", ny, time.Date(2026, 3, 6, 12, 0, 0, 0, ny), []string{
			"2026-03-07 02:30 -05:00 Sat", "2026-03-08 03:30 -04:00 Sun", "2026-03-09 03:30 -04:00 Mon"}},
		{"R/2026-10-30T01:30:00/P1D", ny, time.Date(2026, 10, 30, 12, 0, 0, 0, ny), []string{
			"2026-10-31 01:30 -04:00 Sat", "2026-11-01 01:30 -04:00 Sun", "2026-11-02 01:30 -05:00 Mon"}},
		{"R/2026-10-30T01:30:00/PT24H", ny, time.Date(2026, 10, 30, 12, 0, 0, 0, ny), []string{
			"2026-10-31 01:30 -04:00 Sat", "2026-11-01 01:30 -04:00 Sun", "2026-11-02 00:30 -05:00 Mon"}},
		{"R/2026-10-02T02:15:00/P1D", lh, time.Date(2026, 10, 2, 12, 0, 0, 0, lh), []string{
			"2026-10-03 02:15 +10:30 Sat", "2026-10-04 02:30 +11:00 Sun", "2026-10-05 02:15 +11:00 Mon"}},
		{"R/2026-10-02T02:15:00/PT24H", lh, time.Date(2026, 10, 2, 12, 0, 0, 0, lh), []string{
			"2026-10-03 02:15 +10:30 Sat", "2026-10-04 02:45 +11:00 Sun", "2026-10-05 02:45 +11:00 Mon"}},
		{"R/2026-04-04T01:45:00/P1D", lh, time.Date(2026, 4, 4, 0, 0, 0, 0, lh), []string{
			"2026-04-04 01:45 +11:00 Sat", "2026-04-05 01:45 +11:00 Sun", "2026-04-06 01:45 +10:30 Mon"}},
		// Month ends are clamped, counted from the start.
		{"R/2026-01-31T09:00:00Z/P1M", utc, time.Date(2026, 1, 1, 0, 0, 0, 0, utc), []string{
			"2026-01-31 09:00 +00:00 Sat", "2026-02-28 09:00 +00:00 Sat", "2026-03-31 09:00 +00:00 Tue", "2026-04-30 09:00 +00:00 Thu", "2026-05-31 09:00 +00:00 Sun"}},
		{"R/2026-01-31T09:00:00Z/P1M", utc, time.Date(2028, 1, 31, 9, 0, 0, 0, utc), []string{
			"2028-02-29 09:00 +00:00 Tue", "2028-03-31 09:00 +00:00 Fri"}},
		{"R/2024-02-29T12:00:00Z/P1Y", utc, time.Date(2024, 3, 1, 0, 0, 0, 0, utc), []string{
			"2025-02-28 12:00 +00:00 Fri", "2026-02-28 12:00 +00:00 Sat", "2027-02-28 12:00 +00:00 Sun", "2028-02-29 12:00 +00:00 Tue"}},
		{"R/2026-01-01T00:00:00Z/P2W", utc, time.Date(2026, 1, 1, 0, 0, 0, 0, utc), []string{
			"2026-01-15 00:00 +00:00 Thu", "2026-01-29 00:00 +00:00 Thu"}},
		// Starts long ago: found by division (durations) or estimate and
		// search (calendar periods).
		{"R/1970-01-01T00:00:00Z/PT1M", utc, time.Date(2026, 5, 17, 13, 14, 15, 0, utc), []string{
			"2026-05-17 13:15 +00:00 Sun", "2026-05-17 13:16 +00:00 Sun"}},
		{"R/0001-01-01T00:00:00Z/PT0.000000001S", utc, time.Date(2026, 5, 17, 13, 14, 15, 0, utc), []string{
			"2026-05-17 13:14 +00:00 Sun"}},
		{"R/1900-01-31T00:00:00/P1M", ny, time.Date(2026, 5, 17, 13, 14, 15, 0, utc), []string{
			"2026-05-31 00:00 -04:00 Sun", "2026-06-30 00:00 -04:00 Tue"}},
		{"R/1900-01-01T06:00:00/P1DT1S", ny, time.Date(2026, 5, 17, 13, 14, 15, 0, utc), []string{
			"2026-05-17 18:49 -04:00 Sun"}}, // 46,158 days and as many seconds
		{"R5/0001-01-01T00:00:00Z/PT0.000000001S", utc, time.Date(2026, 5, 17, 13, 14, 15, 0, utc), []string{"never"}},
		{"R5000/1990-01-01T00:00:00Z/P1D", utc, time.Date(2026, 1, 1, 0, 0, 0, 0, utc), []string{"never"}},
		{"R/9999-12-31T00:00:00Z/PT6H", utc, time.Date(9999, 12, 31, 12, 0, 0, 0, utc), []string{
			"9999-12-31 18:00 +00:00 Fri", "never"}},
		{"R/2026-12-01T00:00:00Z/P1D", utc, time.Date(20000, 1, 1, 0, 0, 0, 0, utc), []string{"never"}},
	} {
		got := runs(t, mustInterval(t, tc.in, tc.loc), tc.from, len(tc.want))
		if strings.Join(got, ", ") != strings.Join(tc.want, ", ") {
			t.Errorf("%q from %v:\n got  %q\n want %q", tc.in, tc.from, got, tc.want)
		}
	}
}

// TestIntervalNextSearch: Next from many instants equals a step-by-step
// walk over the runs, for calendar periods with clamping and DST.
func TestIntervalNextSearch(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	for _, s := range []string{
		"R/2019-01-31T02:30:00/P1M", "R/2019-03-10T02:30:00/P1D", "R/2019-01-01T01:30:00/P1Y2M3DT4H",
		"R/2019-02-28T23:59:59/P1MT1S", "R/2019-01-05T00:00:00/P1W", "R40/2019-01-31T02:30:00/P1M",
	} {
		iv := mustInterval(t, s, ny)
		var all []time.Time
		for k := 0; k < 400; k++ {
			all = append(all, iv.Period.AddTo(iv.Start, k))
		}
		if iv.Repeat >= 0 {
			all = all[:iv.Repeat]
		}
		for at := iv.Start.Add(-time.Hour); at.Before(all[len(all)-1]); at = at.Add(61*time.Hour + 7*time.Minute) {
			i := 0
			for i < len(all) && !all[i].After(at) {
				i++
			}
			got, ok := iv.Next(at)
			if i == len(all) {
				if iv.Repeat >= 0 && ok {
					t.Fatalf("%s: Next(%v) = %v, want none", s, at, got)
				}
				continue
			}
			if !ok || !got.Equal(all[i]) {
				t.Fatalf("%s: Next(%v) = %v %v, want %v", s, at, got, ok, all[i])
			}
		}
	}
}

func TestIntervalNextOddValues(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, iv := range []*Interval{
		nil,
		{Repeat: -1, Start: start},
		{Repeat: -1, Start: start, Period: Period{Days: -1}},
		{Repeat: -1, Start: start, Period: Period{Days: 1, Duration: -time.Hour}},
	} {
		next, ok := iv.Next(start.Add(-time.Hour))
		if iv == nil {
			if ok {
				t.Errorf("nil.Next = %v", next)
			}
			continue
		}
		if !ok || !next.Equal(start) {
			t.Errorf("%+v.Next before start = %v %v", iv, next, ok)
		}
		if next, ok := iv.Next(start); ok {
			t.Errorf("%+v.Next(start) = %v", iv, next)
		}
	}
}

// BenchmarkNextInterval: one Next for a start decades ago.
func BenchmarkNextInterval(b *testing.B) {
	ny := mustLoc(b, "America/New_York")
	at := time.Date(2026, 5, 17, 13, 14, 15, 0, time.UTC)
	for _, s := range []string{"R/1970-01-01T00:00:00Z/PT1M", "R/1970-01-31T02:30:00/P1M", "R/1970-01-01T02:30:00/P1D", "R/1970-01-01T02:30:00/P1DT1S"} {
		iv := mustInterval(b, s, ny)
		b.Run(s, func(b *testing.B) {
			for b.Loop() {
				if _, ok := iv.Next(at); !ok {
					b.Fatal("no next")
				}
			}
		})
	}
}
