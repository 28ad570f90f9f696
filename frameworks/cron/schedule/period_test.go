package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestParsePeriod(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Period
		str  string
	}{
		{"P1Y2M3DT4H5M6.5S", Period{1, 2, 3, 4*time.Hour + 5*time.Minute + 6500*time.Millisecond}, "P1Y2M3DT4H5M6.5S"},
		{"PT0.5S", Period{Duration: 500 * time.Millisecond}, "PT0.5S"},
		{"PT0,25S", Period{Duration: 250 * time.Millisecond}, "PT0.25S"},
		{"PT1.000000001S", Period{Duration: time.Second + 1}, "PT1.000000001S"},
		{"P2W", Period{Days: 14}, "P14D"},
		{"P1D", Period{Days: 1}, "P1D"},
		{"PT24H", Period{Duration: 24 * time.Hour}, "PT24H"},
		{"PT36H", Period{Duration: 36 * time.Hour}, "PT36H"},
		{"PT90M", Period{Duration: 90 * time.Minute}, "PT1H30M"},
		{"P1M", Period{Months: 1}, "P1M"},
		{"PT1M", Period{Duration: time.Minute}, "PT1M"},
		{"P1MT1M", Period{Months: 1, Duration: time.Minute}, "P1MT1M"},
		{"p1dt6h", Period{Days: 1, Duration: 6 * time.Hour}, "P1DT6H"},
		{"P0D", Period{}, "PT0S"},
		{"PT0S", Period{}, "PT0S"},
		{"P100Y", Period{Years: 100}, "P100Y"},
		{"P0010Y", Period{Years: 10}, "P10Y"},
		{"P5217W", Period{Days: 36519}, "P36519D"},
		{"P3W", Period{Days: 21}, "P21D"},
	} {
		got, err := ParsePeriod(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParsePeriod(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if s := got.String(); s != tc.str {
			t.Errorf("%q.String() = %q, want %q", tc.in, s, tc.str)
		}
		if back, err := ParsePeriod(got.String()); err != nil || back != got {
			t.Errorf("round trip of %q: %+v %v", tc.in, back, err)
		}
	}
}

func TestParsePeriodErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "period is empty; expected an ISO 8601 duration such as P1D, PT6H, P1M or P2W"},
		{"P", `period "P": has no parts after P`},
		{"PT", `period "PT": has T but no hours, minutes or seconds after it; write e.g. PT6H`},
		{"P1DT", "has T but no hours, minutes or seconds"},
		{"1D", `period "1D": must start with P`},
		{"-P1D", "negative periods are not allowed"},
		{"P-1D", "negative periods are not allowed"},
		{"PT-5M", "negative periods are not allowed"},
		{"P1Y-2M", "negative periods are not allowed"},
		{"P0001-02-03T04:05:06", "ISO 8601's alternative form (P0001-02-03T04:05:06) is not supported"},
		{"P1W2D", "weeks cannot be combined with other units in ISO 8601; write P9D"},
		{"P1WT1H", "weeks cannot be combined with other units in ISO 8601; write P7DT1H"},
		{"P1D1Y", "Y is repeated or out of order"},
		{"P1D1D", "D is repeated or out of order"},
		{"PT1S1M", "M is repeated or out of order"},
		{"P1H", "H must come after T, e.g. PT1H"},
		{"PT1D", "D must come before T, e.g. P1D"},
		{"PT1W", "W must come before T"},
		{"P1X", `unknown unit 'X'`},
		{"P1", "number 1 has no unit"},
		{"PD", "unit D has no number before it"},
		{"P1.5D", "only seconds may have a fraction (e.g. PT0.5S); write 1.5D without it"},
		{"PT1.5H", "only seconds may have a fraction"},
		{"PT.5S", `".5" is not a number`},
		{"PT1.S", `"1." is not a number`},
		{"PT1.2.3S", `"1.2.3" is not a number`},
		{"PT0.0000000001S", "seconds have more than 9 decimals"},
		{"P101Y", "101Y is longer than 100 years"},
		{"P99Y12M1D", "is longer than 100 years"},
		{"P5218W", "is longer than 100 years"},
		{"P99999999999999999999D", "is longer than 100 years"},
		{"PT876601H", "876601H is longer than 100 years"},
		{"P50YT500000H", "is longer than 100 years"},
		{"P1DT1H1T", "more than one T"},
		{"PT1ſ", "unknown unit"},
		{"P1D ", "unknown unit ' '"},
		{"P1D1", "number 1 has no unit"},
		{strings.Repeat("P", 101), "period is 101 bytes long"},
	} {
		_, err := ParsePeriod(tc.in)
		if err == nil {
			t.Errorf("ParsePeriod(%q) accepted", tc.in)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParsePeriod(%q) = %q\n want it to contain %q", tc.in, err, tc.want)
		}
	}
}

func TestPeriodApprox(t *testing.T) {
	for _, tc := range []struct {
		p    Period
		want time.Duration
	}{
		{Period{Years: 1}, 8766 * time.Hour},
		{Period{Months: 1}, 2630016 * time.Second},
		{Period{Days: 1, Duration: time.Hour}, 25 * time.Hour},
		{Period{Years: 1 << 60}, 1<<63 - 1},
		{Period{Years: -1 << 60}, -1 << 63},
	} {
		if got := tc.p.Approx(); got != tc.want {
			t.Errorf("%+v.Approx() = %v, want %v", tc.p, got, tc.want)
		}
	}
	if !(Period{}).IsZero() || (Period{Duration: 1}).IsZero() {
		t.Error("IsZero")
	}
}

func TestPeriodAddTo(t *testing.T) {
	utc := time.UTC
	ny := mustLoc(t, "America/New_York")
	lh := mustLoc(t, "Australia/Lord_Howe")
	p := func(s string) Period {
		v, err := ParsePeriod(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		period string
		start  time.Time
		n      int
		want   string
	}{
		// Month-end clamping, counted from the start: no drift.
		{"P1M", time.Date(2026, 1, 31, 10, 0, 0, 0, utc), 1, "2026-02-28T10:00:00Z"},
		{"P1M", time.Date(2026, 1, 31, 10, 0, 0, 0, utc), 2, "2026-03-31T10:00:00Z"},
		{"P1M", time.Date(2026, 1, 31, 10, 0, 0, 0, utc), 3, "2026-04-30T10:00:00Z"},
		{"P1M", time.Date(2028, 1, 31, 10, 0, 0, 0, utc), 1, "2028-02-29T10:00:00Z"},
		{"P1M", time.Date(2026, 3, 31, 10, 0, 0, 0, utc), -1, "2026-02-28T10:00:00Z"},
		{"P1M", time.Date(2026, 1, 31, 10, 0, 0, 0, utc), 12, "2027-01-31T10:00:00Z"},
		{"P1Y", time.Date(2024, 2, 29, 0, 0, 0, 0, utc), 1, "2025-02-28T00:00:00Z"},
		{"P1Y", time.Date(2024, 2, 29, 0, 0, 0, 0, utc), 4, "2028-02-29T00:00:00Z"},
		// Years and months, then days: Jan 31 + 1 month = Feb 28, + 1 day.
		{"P1M1D", time.Date(2026, 1, 31, 0, 0, 0, 0, utc), 1, "2026-03-01T00:00:00Z"},
		{"P1DT12H", time.Date(2026, 1, 1, 0, 0, 0, 0, utc), 3, "2026-01-05T12:00:00Z"},
		{"PT1H", time.Date(2026, 1, 1, 0, 0, 0, 0, utc), 1000000, "2140-01-30T16:00:00Z"},
		{"P1D", time.Date(2026, 1, 1, 0, 0, 0, 0, utc), 0, "2026-01-01T00:00:00Z"},
		// P1D keeps the wall clock across DST; PT24H is 24 hours.
		{"P1D", time.Date(2026, 3, 7, 9, 0, 0, 0, ny), 1, "2026-03-08T09:00:00-04:00"},
		{"PT24H", time.Date(2026, 3, 7, 9, 0, 0, 0, ny), 1, "2026-03-08T10:00:00-04:00"},
		{"P1D", time.Date(2026, 10, 31, 9, 0, 0, 0, ny), 1, "2026-11-01T09:00:00-05:00"},
		{"PT24H", time.Date(2026, 10, 31, 9, 0, 0, 0, ny), 1, "2026-11-01T08:00:00-05:00"},
		// Into the gap: its end; into the overlap: the first.
		{"P1D", time.Date(2026, 3, 7, 2, 30, 0, 0, ny), 1, "2026-03-08T03:00:00-04:00"},
		{"P1D", time.Date(2026, 3, 7, 2, 30, 0, 0, ny), 2, "2026-03-09T02:30:00-04:00"},
		{"P1D", time.Date(2026, 10, 31, 1, 30, 0, 0, ny), 1, "2026-11-01T01:30:00-04:00"},
		{"P1D", time.Date(2026, 10, 3, 2, 10, 0, 0, lh), 1, "2026-10-04T02:30:00+11:00"},
		{"P1DT1H", time.Date(2026, 10, 3, 2, 10, 0, 0, lh), 1, "2026-10-04T03:30:00+11:00"},
		// A start in the second 01:30 keeps its instant at n = 0.
		{"P1D", time.Date(2026, 11, 1, 6, 30, 0, 0, utc).In(ny), 0, "2026-11-01T01:30:00-05:00"},
		// Saturation instead of overflow.
		{"PT1S", time.Date(2026, 1, 1, 0, 0, 0, 0, utc), 1 << 30, "2060-01-10T13:37:04Z"},
		{"PT1S", time.Date(2026, 1, 1, 0, 0, 0, 0, utc), 1 << 62, "4294967296-01-01T00:00:00Z"},
		{"PT1S", time.Date(2026, 1, 1, 0, 0, 0, 0, utc), -1 << 62, "-4294967296-01-01T00:00:00Z"},
		{"P100Y", time.Date(2026, 1, 1, 0, 0, 0, 0, utc), 1 << 62, "4294967296-01-01T00:00:00Z"},
		{"P1D", time.Date(2026, 1, 1, 0, 0, 0, 0, utc), -1 << 62, "-4294967296-01-01T00:00:00Z"},
	} {
		got := p(tc.period).AddTo(tc.start, tc.n)
		if s := got.Format(time.RFC3339); s != tc.want {
			t.Errorf("%s.AddTo(%v, %d) = %s, want %s", tc.period, tc.start, tc.n, s, tc.want)
		}
		if got.Location() != tc.start.Location() && tc.n < 1<<40 && tc.n > -1<<40 {
			t.Errorf("%s.AddTo(%v, %d) is in %v", tc.period, tc.start, tc.n, got.Location())
		}
	}
}
