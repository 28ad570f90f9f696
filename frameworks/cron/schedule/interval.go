package schedule

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Interval is a parsed ISO 8601 repeating interval "R[n]/<start>/<period>":
// it fires at Start, Start+1·Period, ..., Repeat times in all.
type Interval struct {
	// Repeat is the number of runs; -1 for unbounded ("R" or "R-1").
	Repeat int
	// Start is the first run, shown in the schedule's location. A start
	// written without an offset is a wall time in that location; one with
	// Z or ±hh:mm is that instant.
	Start time.Time
	// Period is the time between runs; calendar parts (years, months,
	// weeks, days) are counted on the wall clock of Start's location.
	Period Period
}

// lastYear bounds Interval.Next: no run is reported after this year.
const lastYear = 9999

// ParseInterval parses an ISO 8601 repeating interval R[n]/<start>/<period>,
// such as R/2026-12-01T00:00:00Z/PT6H or R5/2026-12-01T08:00:00/P1D. n is the
// number of runs: R or R-1 is unbounded, R0 never runs, R1 runs once. The
// start is a date and time, extended (2026-12-01T08:00:00) or basic
// (20261201T080000) format, with optional fractional seconds and an optional
// offset (Z, ±hh:mm, ±hhmm, ±hh); a date alone is midnight. Without an
// offset it is a wall time in loc (nil is UTC): one that the clock skips is
// the end of the gap, one it shows twice the first. The period is a positive
// ISO 8601 duration (see ParsePeriod). The R/<period>/<end> and
// R/<start>/<end> forms are refused.
func ParseInterval(s string, loc *time.Location) (*Interval, error) {
	loc = locOrUTC(loc)
	const form = "expected R[n]/<start>/<period>, e.g. R/2026-12-01T00:00:00Z/PT6H"
	if s == "" {
		return nil, fmt.Errorf("repeating interval is empty; %s", form)
	}
	if len(s) > 200 {
		return nil, fmt.Errorf("repeating interval is %d bytes long; %s", len(s), form)
	}
	fail := func(format string, a ...any) (*Interval, error) {
		return nil, fmt.Errorf("repeating interval %q: %s", s, fmt.Sprintf(format, a...))
	}
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return fail("has %d part%s, %s", len(parts), plural(len(parts)), form)
	}
	r := parts[0]
	if r == "" || r[0] != 'R' {
		return fail("must start with R and the number of runs (R for unbounded, R5 for 5); %s", form)
	}
	repeat := -1
	switch n := r[1:]; n {
	case "", "-1":
	default:
		v, err := strconv.Atoi(n)
		switch {
		case !allDigits(n):
			return fail("number of runs %q is not a whole number; use R for unbounded or Rn with n >= 0", n)
		case err != nil || v > math.MaxInt32:
			return fail("number of runs %s is too large; use R for unbounded", n)
		}
		repeat = v
	}
	startText, periodText := parts[1], parts[2]
	isPeriod := func(t string) bool { return t != "" && (t[0] == 'P' || t[0] == 'p') }
	switch {
	case isPeriod(startText):
		return fail("the R[n]/<period>/<end> form is not supported; %s", form)
	case !isPeriod(periodText):
		if _, err := parseStart(periodText, loc); err == nil {
			return fail("the R[n]/<start>/<end> form is not supported; %s", form)
		}
	}
	start, err := parseStart(startText, loc)
	if err != nil {
		return fail("%v", err)
	}
	p, err := ParsePeriod(periodText)
	if err != nil {
		return fail("%v", err)
	}
	if p.IsZero() {
		return fail("period %s is zero; use a positive period such as PT6H or P1D", periodText)
	}
	return &Interval{Repeat: repeat, Start: start, Period: p}, nil
}

// String is the canonical form: R[n]/<start>/<period>, the start in RFC
// 3339 with its offset in the location (in UTC if that offset has seconds,
// as local mean times do, which RFC 3339 cannot write).
func (iv *Interval) String() string {
	r := "R"
	if iv.Repeat >= 0 {
		r += strconv.Itoa(iv.Repeat)
	}
	start := iv.Start
	if _, off := start.Zone(); off%60 != 0 {
		start = start.UTC()
	}
	return r + "/" + start.Format(time.RFC3339Nano) + "/" + iv.Period.String()
}

// at is the k-th run.
func (iv *Interval) at(k int64) time.Time {
	return iv.Period.AddTo(iv.Start, int(k))
}

// Next is the first run strictly after t: Start, Start+1·Period, ... (each
// computed from Start, see Period.AddTo), Repeat runs in all. ok is false
// when no run is left, or the next one is after the year 9999. An Interval
// whose Period is not positive (not made by ParseInterval) runs once, at
// Start.
func (iv *Interval) Next(t time.Time) (time.Time, bool) {
	if iv == nil || iv.Repeat == 0 {
		return time.Time{}, false
	}
	if t.Before(iv.Start) {
		return iv.Start, iv.Start.Year() <= lastYear
	}
	if !iv.Period.positive() || t.Year() > lastYear {
		return time.Time{}, false
	}
	var next time.Time
	if iv.Period.calendar() {
		k, ok := iv.firstAfterCalendar(t)
		if !ok || iv.Repeat > 0 && k >= int64(iv.Repeat) || k > math.MaxInt {
			return time.Time{}, false
		}
		next = iv.at(k)
	} else {
		var k uint64
		var kOK bool
		next, k, kOK = nextByDuration(iv.Start, t, iv.Period.Duration)
		if iv.Repeat > 0 && (!kOK || k >= uint64(iv.Repeat)) {
			return time.Time{}, false
		}
	}
	if next.Year() > lastYear || !next.After(t) {
		return time.Time{}, false
	}
	return next, true
}

// nextByDuration is the first start + k·d after t, for start <= t and
// d > 0, computed in 128 bits: t + d - ((t - start) mod d). k is reported
// when it fits in 64 bits (kOK).
func nextByDuration(start, t time.Time, d time.Duration) (next time.Time, k uint64, kOK bool) {
	sec := t.Unix() - start.Unix()
	ns := int64(t.Nanosecond()) - int64(start.Nanosecond())
	if ns < 0 {
		sec--
		ns += 1e9
	}
	hi, lo := bits.Mul64(uint64(sec), 1e9)
	var carry uint64
	lo, carry = bits.Add64(lo, uint64(ns), 0)
	hi += carry
	r := bits.Rem64(hi, lo, uint64(d))
	next = t.Add(d - time.Duration(r)).In(start.Location())
	if hi < uint64(d) {
		q, _ := bits.Div64(hi, lo, uint64(d))
		k, kOK = q+1, q+1 != 0
	}
	return next, k, kOK
}

// firstAfterCalendar is the least k with at(k) > t, for Start <= t: an
// estimate from Period.Approx, then a galloping and binary search (runs are
// increasing in k), so a few dozen AddTo calls at most.
func (iv *Interval) firstAfterCalendar(t time.Time) (int64, bool) {
	approx := float64(iv.Period.Approx())
	est := float64(t.Unix()-iv.Start.Unix()) * 1e9 / approx
	if est < 0 || est > 1e15 {
		return 0, false
	}
	// lo: a k with at(k) <= t.
	lo, step := int64(est), int64(1)
	for lo > 0 && iv.at(lo).After(t) {
		lo = max(0, lo-step)
		step *= 2
	}
	// hi: a k with at(hi) > t.
	hi, step := lo+1, int64(1)
	for !iv.at(hi).After(t) {
		lo, hi = hi, hi+step
		step *= 2
		if hi > 1e15 {
			return 0, false
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if iv.at(mid).After(t) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, true
}

// parseStart reads an ISO 8601 date and time (see ParseInterval).
func parseStart(s string, loc *time.Location) (time.Time, error) {
	bad := func(why string) (time.Time, error) {
		if why != "" {
			why = ": " + why
		}
		return time.Time{}, fmt.Errorf("start %q is not an ISO 8601 date and time such as 2026-12-01T08:00:00Z, or 2026-12-01T08:00:00 in the schedule's time zone%s", s, why)
	}
	if s == "" {
		return time.Time{}, fmt.Errorf("start is empty; expected an ISO 8601 date and time such as 2026-12-01T08:00:00Z")
	}
	rest := s
	num := func(n int) (int, bool) {
		if len(rest) < n || !allDigits(rest[:n]) {
			return 0, false
		}
		v, _ := strconv.Atoi(rest[:n])
		rest = rest[n:]
		return v, true
	}
	sep := func(c byte) bool {
		if rest != "" && rest[0] == c {
			rest = rest[1:]
			return true
		}
		return false
	}
	y, ok := num(4)
	if !ok {
		return bad("the year must have 4 digits")
	}
	ext := sep('-')
	mo, ok := num(2)
	if !ok {
		return bad("expected a 2-digit month after the year")
	}
	if ext && !sep('-') {
		return bad("expected - after the month")
	}
	d, ok := num(2)
	if !ok {
		return bad("expected a 2-digit day after the month")
	}
	var h, mi, sec, ns int
	if sep('T') || sep('t') {
		if h, ok = num(2); !ok {
			return bad("expected a 2-digit hour after T")
		}
		ext := sep(':')
		if mi, ok = num(2); !ok {
			return bad("expected 2-digit minutes after the hour")
		}
		colon := sep(':')
		if colon && !ext {
			return bad("mixed basic and extended time")
		}
		if colon || !ext && len(rest) >= 2 && allDigits(rest[:2]) {
			if sec, ok = num(2); !ok {
				return bad("expected 2-digit seconds after the minutes")
			}
			if sep('.') || sep(',') {
				i := 0
				for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
					i++
				}
				if i == 0 || i > 9 {
					return bad("the fraction of a second must have 1 to 9 digits")
				}
				f := rest[:i] + strings.Repeat("0", 9-i)
				ns, _ = strconv.Atoi(f)
				rest = rest[i:]
			}
		}
	}
	zone := (*time.Location)(nil)
	switch {
	case rest == "":
	case rest == "Z" || rest == "z":
		zone, rest = time.UTC, ""
	case rest[0] == '+' || rest[0] == '-':
		signC := rest[0]
		rest = rest[1:]
		oh, ok := num(2)
		if !ok {
			return bad("expected a 2-digit hour in the offset")
		}
		om := 0
		if rest != "" {
			sep(':')
			if om, ok = num(2); !ok {
				return bad("expected 2-digit minutes in the offset")
			}
		}
		if oh > 23 || om > 59 {
			return bad(fmt.Sprintf("offset %c%02d:%02d is out of range", signC, oh, om))
		}
		off := oh*3600 + om*60
		if signC == '-' {
			off = -off
		}
		zone = time.FixedZone("", off)
	default:
		return bad(fmt.Sprintf("unexpected %q", rest))
	}
	if rest != "" {
		return bad(fmt.Sprintf("unexpected %q", rest))
	}
	switch {
	case mo < 1 || mo > 12:
		return bad(fmt.Sprintf("month %d is out of range (1-12)", mo))
	case d < 1 || d > daysIn(y, time.Month(mo)):
		return bad(fmt.Sprintf("day %d is out of range for %04d-%02d (1-%d)", d, y, mo, daysIn(y, time.Month(mo))))
	case h > 23:
		return bad(fmt.Sprintf("hour %d is out of range (0-23)", h))
	case mi > 59:
		return bad(fmt.Sprintf("minute %d is out of range (0-59)", mi))
	case sec > 59:
		return bad(fmt.Sprintf("second %d is out of range (0-59)", sec))
	}
	var t time.Time
	if zone != nil {
		t = time.Date(y, time.Month(mo), d, h, mi, sec, ns, zone).In(loc)
	} else {
		t = resolve(time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC), loc)
	}
	// Written back in UTC (String), it must still be a 4-digit year.
	if uy := t.UTC().Year(); uy < 0 || uy > 9999 {
		return bad(fmt.Sprintf("it is in the year %d in UTC, outside 0000-9999", uy))
	}
	return t, nil
}
