package schedule

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Period is an ISO 8601 duration: calendar years, months and days, counted
// on the wall clock, and an exact Duration (hours, minutes, seconds). A week
// is 7 days.
type Period struct {
	Years, Months, Days int
	Duration            time.Duration
}

const (
	approxYear  = 31557600 * time.Second // 365.25 days
	approxMonth = 2630016 * time.Second  // 30.44 days
	day         = 24 * time.Hour
	maxPeriod   = 100 * approxYear
)

// IsZero says whether every part is zero.
func (p Period) IsZero() bool { return p == Period{} }

// positive says whether no part is negative and some part is positive.
func (p Period) positive() bool {
	return p.Years >= 0 && p.Months >= 0 && p.Days >= 0 && p.Duration >= 0 && !p.IsZero()
}

// calendar says whether p has years, months or days.
func (p Period) calendar() bool { return p.Years != 0 || p.Months != 0 || p.Days != 0 }

// Approx is a rough length (a year is 365.25 days, a month 30.44 days, a
// day 24 hours) for bounds and estimates; it saturates instead of
// overflowing.
func (p Period) Approx() time.Duration {
	sum := float64(p.Years)*float64(approxYear) + float64(p.Months)*float64(approxMonth) +
		float64(p.Days)*float64(day) + float64(p.Duration)
	switch {
	case sum >= math.MaxInt64:
		return math.MaxInt64
	case sum <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(sum)
}

// String is the canonical ISO 8601 form: PnYnMnDTnHnMnS without the zero
// parts (P2W is written P14D); the zero period is PT0S.
func (p Period) String() string {
	if p.IsZero() {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteByte('P')
	part := func(n int64, unit byte) {
		if n != 0 {
			b.WriteString(strconv.FormatInt(n, 10))
			b.WriteByte(unit)
		}
	}
	part(int64(p.Years), 'Y')
	part(int64(p.Months), 'M')
	part(int64(p.Days), 'D')
	if d := p.Duration; d != 0 {
		b.WriteByte('T')
		sign := int64(1)
		if d < 0 {
			sign = -1
		}
		h := int64(d / time.Hour)
		d -= time.Duration(h) * time.Hour
		m := int64(d / time.Minute)
		d -= time.Duration(m) * time.Minute
		part(h, 'H')
		part(m, 'M')
		if d != 0 {
			sec := int64(d / time.Second)
			ns := int64(d%time.Second) * sign
			if sign < 0 && sec == 0 {
				b.WriteByte('-')
			}
			b.WriteString(strconv.FormatInt(sec, 10))
			if ns != 0 {
				b.WriteString(strings.TrimRight(fmt.Sprintf(".%09d", ns), "0"))
			}
			b.WriteByte('S')
		}
	}
	return b.String()
}

// ParsePeriod parses an ISO 8601 duration: PnYnMnDTnHnMnS with at least one
// part, or PnW alone. Only the seconds may have a fraction (PT0.5S, at most
// 9 digits, "." or ","). Lower-case letters are accepted. Negative periods
// and periods longer than 100 years are refused, and so is ISO's alternative
// form (P0001-02-03T...). A zero period (P0D) parses; IsZero reports it.
func ParsePeriod(s string) (Period, error) {
	fail := func(format string, a ...any) (Period, error) {
		return Period{}, fmt.Errorf("period %q: %s", s, fmt.Sprintf(format, a...))
	}
	const example = "an ISO 8601 duration such as P1D, PT6H, P1M or P2W"
	if s == "" {
		return Period{}, fmt.Errorf("period is empty; expected %s", example)
	}
	if len(s) > 100 {
		return Period{}, fmt.Errorf("period is %d bytes long; expected %s", len(s), example)
	}
	u := asciiUpper(s)
	switch {
	case u[0] == '-' || strings.Contains(u, "P-") || strings.Contains(u, "T-") || negAfterUnit(u):
		return fail("negative periods are not allowed")
	case strings.ContainsAny(u, "-:"):
		return fail("ISO 8601's alternative form (P0001-02-03T04:05:06) is not supported; expected %s", example)
	case u[0] != 'P':
		return fail("must start with P; expected %s", example)
	case len(u) == 1:
		return fail("has no parts after P; expected %s", example)
	}
	datePart, timePart, hasT := strings.Cut(u[1:], "T")
	if hasT && timePart == "" {
		return fail("has T but no hours, minutes or seconds after it; write e.g. PT6H")
	}
	if hasT && strings.Contains(timePart, "T") {
		return fail("has more than one T")
	}
	var (
		p          Period
		weeks      int64
		hasWeeks   bool
		otherParts bool
		seconds    int64 // of the time part
		nanos      int64
	)
	parse := func(text string, units string, inTime bool) error {
		next := 0 // index in units of the next allowed unit
		for text != "" {
			i := 0
			for i < len(text) && (text[i] >= '0' && text[i] <= '9' || text[i] == '.' || text[i] == ',') {
				i++
			}
			num := text[:i]
			if i == len(text) {
				if num == "" {
					return fmt.Errorf("unexpected end")
				}
				return fmt.Errorf("number %s has no unit (Y, M, W, D before T; H, M, S after it)", num)
			}
			unit := text[i]
			text = text[i+1:]
			k := strings.IndexByte(units, unit)
			switch {
			case k >= 0:
			case !inTime && strings.IndexByte("HS", unit) >= 0:
				return fmt.Errorf("%c must come after T, e.g. PT1%c", unit, unit)
			case inTime && strings.IndexByte("YWD", unit) >= 0:
				return fmt.Errorf("%c must come before T, e.g. P1%c", unit, unit)
			default:
				return fmt.Errorf("unknown unit %q; use Y, M, W, D before T and H, M, S after it", unit)
			}
			if num == "" {
				return fmt.Errorf("unit %c has no number before it", unit)
			}
			if k < next {
				return fmt.Errorf("%c is repeated or out of order; write years, months, weeks or days, then T, hours, minutes, seconds", unit)
			}
			next = k + 1
			whole, frac, hasFrac := strings.Cut(strings.ReplaceAll(num, ",", "."), ".")
			if hasFrac && (!inTime || unit != 'S') {
				return fmt.Errorf("only seconds may have a fraction (e.g. PT0.5S); write %s without it", num+string(unit))
			}
			if whole == "" || strings.ContainsAny(frac, ".") || hasFrac && frac == "" {
				return fmt.Errorf("%q is not a number", num)
			}
			if len(frac) > 9 {
				return fmt.Errorf("seconds have more than 9 decimals")
			}
			var limit int64
			switch {
			case !inTime && unit == 'Y':
				limit = 100
			case !inTime && unit == 'M':
				limit = 1200
			case unit == 'W':
				limit = 5218
			case unit == 'D':
				limit = 36525
			case unit == 'H':
				limit = 876600
			case unit == 'M':
				limit = 52596000
			default:
				limit = int64(maxPeriod / time.Second)
			}
			n, err := strconv.ParseInt(whole, 10, 64)
			if err != nil || n > limit {
				return fmt.Errorf("%s%c is longer than 100 years", whole, unit)
			}
			switch {
			case !inTime && unit == 'Y':
				p.Years = int(n)
			case !inTime && unit == 'M':
				p.Months = int(n)
			case unit == 'W':
				weeks, hasWeeks = n, true
			case unit == 'D':
				p.Days = int(n)
			case unit == 'H':
				seconds += n * 3600
			case unit == 'M':
				seconds += n * 60
			case unit == 'S':
				seconds += n
				if frac != "" {
					f, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
					nanos = f
				}
			}
			if unit != 'W' {
				otherParts = true
			}
		}
		return nil
	}
	if err := parse(datePart, "YMWD", false); err != nil {
		return fail("%v", err)
	}
	if err := parse(timePart, "HMS", true); err != nil {
		return fail("%v", err)
	}
	if seconds > int64(maxPeriod/time.Second) {
		return fail("is longer than 100 years")
	}
	p.Duration = time.Duration(seconds)*time.Second + time.Duration(nanos)
	if hasWeeks {
		p.Days += int(weeks * 7)
		if otherParts {
			return fail("weeks cannot be combined with other units in ISO 8601; write %s", p)
		}
	}
	if p.Approx() > maxPeriod {
		return fail("is longer than 100 years")
	}
	return p, nil
}

// AddTo adds n periods to t. The calendar parts are added to t's wall clock
// in t's location, years and months first with the day clamped to the end of
// the month (Jan 31 + 1 month is Feb 28 or 29), then days; a wall time that
// the clock skips becomes the end of the gap, and one it shows twice the
// first. Then n times the exact Duration is added. Compute the k-th run as
// AddTo(start, k), not by adding one period k times, so that clamping does
// not drift (Jan 31, Feb 28, Mar 31, not Mar 28). AddTo(t, 0) is t. Results
// too large for time.Time saturate.
func (p Period) AddTo(t time.Time, n int) time.Time {
	if n == 0 {
		return t
	}
	if p.calendar() {
		loc := t.Location()
		_, off := t.Zone()
		w := wallOf(t, off)
		months := satMul(int64(n), int64(p.Years)*12+int64(p.Months))
		days := satMul(int64(n), int64(p.Days))
		if abs(months) > 12*saturationYears/2 || abs(days) > 366*saturationYears/2 {
			return saturate(int64(n))
		}
		y, mo, d := w.Date()
		total := int64(y)*12 + int64(mo-1) + months
		ny := floorDiv(total, 12)
		nm := time.Month(total-ny*12) + 1
		nd := min(d, daysIn(int(ny), nm))
		w = time.Date(int(ny), nm, nd+int(days), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC)
		t = resolve(w, loc)
	}
	if p.Duration != 0 {
		t = addTimes(t, p.Duration, int64(n))
	}
	return t
}

// negAfterUnit says whether a unit letter is followed by "-" (P1Y-2M).
func negAfterUnit(u string) bool {
	for i := 0; i+1 < len(u); i++ {
		if strings.IndexByte("YMWDHS", u[i]) >= 0 && u[i+1] == '-' {
			return true
		}
	}
	return false
}

// asciiUpper upper-cases ASCII letters only (strings.ToUpper would turn
// "ſ" into "S").
func asciiUpper(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

// asciiLower lower-cases ASCII letters only.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r - 'A' + 'a'
		}
		return r
	}, s)
}

// addTimes is t + n·d, exactly, saturating.
func addTimes(t time.Time, d time.Duration, n int64) time.Time {
	ds, dn := int64(d/time.Second), int64(d%time.Second)
	sec, ok1 := mulOK(n, ds)
	nsTotal, ok2 := mulOK(n, dn)
	if ok1 && ok2 {
		sec, ok1 = addOK(sec, nsTotal/1e9)
		sec, ok2 = addOK(sec, t.Unix())
	}
	const maxSec = saturationYears / 2 * 366 * 86400
	if !ok1 || !ok2 || abs(sec) > maxSec {
		return saturate(sign(n) * sign(int64(d)))
	}
	return time.Unix(sec, int64(t.Nanosecond())+nsTotal%1e9).In(t.Location())
}

// saturationYears is the year of the instants that stand for results too
// large (or small) to compute; time.Time reaches the year 292277026596.
const saturationYears = 1 << 32

// saturate is a far-future (s > 0) or far-past instant.
func saturate(s int64) time.Time {
	if s > 0 {
		return time.Date(saturationYears, time.January, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(-saturationYears, time.January, 1, 0, 0, 0, 0, time.UTC)
}

func mulOK(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	c := a * b
	if c/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return c, true
}

func addOK(a, b int64) (int64, bool) {
	c := a + b
	if (c > a) != (b > 0) {
		return 0, false
	}
	return c, true
}

func satMul(a, b int64) int64 {
	if c, ok := mulOK(a, b); ok {
		return c
	}
	if sign(a)*sign(b) > 0 {
		return math.MaxInt64
	}
	return math.MinInt64
}

func sign(a int64) int64 {
	switch {
	case a > 0:
		return 1
	case a < 0:
		return -1
	}
	return 0
}

func abs(a int64) int64 {
	if a < 0 {
		if a == math.MinInt64 {
			return math.MaxInt64
		}
		return -a
	}
	return a
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
