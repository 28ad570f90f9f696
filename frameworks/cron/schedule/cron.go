package schedule

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule says when something fires.
type Schedule interface {
	// Next is the first instant strictly after t at which it fires (in the
	// schedule's location); ok is false when it never fires again.
	Next(t time.Time) (next time.Time, ok bool)
}

const (
	// horizon bounds every search. The longest gap between two firings of
	// a cron expression that fires at all is 8 years (Feb 29, 2096 to Feb
	// 29, 2104: 2100 is not a leap year).
	horizon = 3000 * 24 * time.Hour

	// maxExprLen bounds an expression (and so the error messages that
	// quote it). A list of every minute is 170 bytes.
	maxExprLen = 1024

	// fieldList names the fields, for errors.
	fieldList = "minute hour day-of-month month day-of-week"
)

// robfigParser parses the five validated fields into bitmasks.
var robfigParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// robfigStar is the bit robfig sets in a field that contains a "*".
const robfigStar = 1 << 63

// fieldSpec describes one of the five fields.
type fieldSpec struct {
	name     string
	min, max int
	names    []string // names[i] is the name of value names0+i
	names0   int
	hint     string // how values are written, for errors
}

var fieldSpecs = [5]fieldSpec{
	{name: "minute", min: 0, max: 59, hint: "0-59"},
	{name: "hour", min: 0, max: 23, hint: "0-23"},
	{name: "day-of-month", min: 1, max: 31, hint: "1-31"},
	{name: "month", min: 1, max: 12, hint: "1-12 or jan-dec",
		names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}, names0: 1},
	{name: "day-of-week", min: 0, max: 7, hint: "0-7 (0 and 7 are Sunday) or sun-sat",
		names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}, names0: 0},
}

const (
	fMinute = iota
	fHour
	fDom
	fMonth
	fDow
)

// descriptors maps the accepted descriptors to their expressions.
var descriptors = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

const descriptorList = "@yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly"

// cronSchedule is a parsed cron expression.
type cronSchedule struct {
	expr string
	loc  *time.Location
	// Bit i is set when value i matches; dow bits 0-6, Sunday = 0.
	minute, hour, dom, month, dow uint64
	// domStar and dowStar: the field starts with "*" or "?", so it does
	// not restrict the day (Vixie cron's DOM_STAR and DOW_STAR).
	domStar, dowStar bool
	// wildcard: the minute or hour field starts with "*" (Vixie cron's
	// MIN_STAR and HR_STAR): the job fires at every real occurrence of its
	// wall times rather than once per wall time.
	wildcard bool
}

// String is the expression as written.
func (c *cronSchedule) String() string { return c.expr }

// ParseCron parses a standard 5-field cron expression (minute hour
// day-of-month month day-of-week) or a descriptor (@yearly, @annually,
// @monthly, @weekly, @daily, @midnight, @hourly), read in loc (nil is UTC).
// See the package documentation for the syntax and semantics.
func ParseCron(expr string, loc *time.Location) (Schedule, error) {
	loc = locOrUTC(loc)
	if len(expr) > maxExprLen {
		return nil, fmt.Errorf("cron expression is %d bytes long; at most %d are allowed", len(expr), maxExprLen)
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("cron expression %q: %s", expr, fmt.Sprintf(format, a...))
	}
	s := strings.TrimSpace(expr)
	if s == "" {
		return nil, fmt.Errorf("cron expression is empty; expected 5 fields (%s) or a descriptor such as @daily", fieldList)
	}
	if u := asciiUpper(s); strings.HasPrefix(u, "CRON_TZ=") || strings.HasPrefix(u, "TZ=") {
		return nil, fail("time zone prefixes (CRON_TZ=, TZ=) are not supported; remove it and set the schedule's time zone field instead")
	}
	if s[0] == '@' {
		words := strings.Fields(s)
		name := asciiLower(words[0])
		switch d, ok := descriptors[name]; {
		case name == "@every":
			return nil, fail("@every is not supported; use a repeating interval such as R/2026-01-01T00:00:00Z/PT1H")
		case name == "@reboot":
			return nil, fail("@reboot is not supported; use 5 fields (%s) or %s", fieldList, descriptorList)
		case !ok:
			return nil, fail("unknown descriptor %q; use %s, or 5 fields (%s)", words[0], descriptorList, fieldList)
		case len(words) > 1:
			return nil, fail("%s takes nothing after it", words[0])
		default:
			s = d
		}
	}
	fields := strings.Fields(s)
	switch n := len(fields); {
	case n == 6:
		return nil, fail("has 6 fields, expected 5 (%s); a seconds field is not supported", fieldList)
	case n == 7:
		return nil, fail("has 7 fields, expected 5 (%s); seconds and year fields are not supported", fieldList)
	case n != 5:
		return nil, fail("has %d field%s, expected 5 (%s)", n, plural(n), fieldList)
	}
	for i, f := range fields {
		norm, err := checkField(fieldSpecs[i], f)
		if err != nil {
			return nil, fail("%s", err)
		}
		fields[i] = norm
	}
	parsed, err := robfigParser.Parse(strings.Join(fields, " "))
	if err != nil {
		// checkField accepts only what robfig accepts: a bug.
		return nil, fail("%v (robfig/cron refused what Cairn accepted: please report)", err)
	}
	spec := parsed.(*cron.SpecSchedule)
	raw := strings.Fields(s)
	return &cronSchedule{
		expr:     expr,
		loc:      loc,
		minute:   spec.Minute &^ robfigStar,
		hour:     spec.Hour &^ robfigStar,
		dom:      spec.Dom &^ robfigStar,
		month:    spec.Month &^ robfigStar,
		dow:      spec.Dow &^ robfigStar,
		domStar:  isStar(raw[fDom]),
		dowStar:  isStar(raw[fDow]),
		wildcard: raw[fMinute][0] == '*' || raw[fHour][0] == '*',
	}, nil
}

func isStar(field string) bool { return field[0] == '*' || field[0] == '?' }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// checkField validates one field with clear errors and returns it in the
// form robfig parses: its day-of-week is 0-6, so items that reach 7 (Sunday)
// are written out as lists.
func checkField(fs fieldSpec, text string) (string, error) {
	items := strings.Split(text, ",")
	for i, item := range items {
		if item == "" {
			return "", fmt.Errorf("%s %q has an empty list element", fs.name, text)
		}
		lo, hi, step, err := checkItem(fs, item)
		if err != nil {
			return "", err
		}
		if hi == 7 && fs.name == "day-of-week" {
			var days []string
			for d := lo; d <= hi; d += step {
				days = append(days, strconv.Itoa(d%7))
			}
			items[i] = strings.Join(days, ",")
		}
	}
	return strings.Join(items, ","), nil
}

// checkItem validates one list element: "*", "?", a value or a range, with
// an optional step, and returns the values it covers: lo-hi every step.
// "N/step" is "N-max/step", as in robfig/cron, where the day-of-week's max
// is 6 (7 only for "7/step").
func checkItem(fs fieldSpec, item string) (lo, hi, step int, err error) {
	base, stepText, hasStep := strings.Cut(item, "/")
	step = 1
	if hasStep {
		if strings.Contains(stepText, "/") {
			return 0, 0, 0, fmt.Errorf("%s %q has more than one \"/\"", fs.name, item)
		}
		if !allDigits(stepText) {
			return 0, 0, 0, fmt.Errorf("%s step %q in %q is not a whole number", fs.name, stepText, item)
		}
		step, _ = strconv.Atoi(stepText)
		if len(stepText) > 4 || step > fs.max {
			return 0, 0, 0, fmt.Errorf("%s step %s in %q is larger than %d", fs.name, stepText, item, fs.max)
		}
		if step == 0 {
			return 0, 0, 0, fmt.Errorf("%s step in %q must be at least 1", fs.name, item)
		}
	}
	top := fs.max // the last value of "*" and "N/step"
	if fs.name == "day-of-week" {
		top = 6
	}
	switch base {
	case "*":
		return fs.min, top, step, nil
	case "?":
		if fs.name != "day-of-month" && fs.name != "day-of-week" {
			return 0, 0, 0, fmt.Errorf("%s %q: \"?\" is only allowed in day-of-month and day-of-week; use \"*\"", fs.name, item)
		}
		return fs.min, top, step, nil
	case "":
		return 0, 0, 0, fmt.Errorf("%s %q has nothing before the \"/\"; write */%s or a range such as %d-%d/%s", fs.name, item, stepText, fs.min, top, stepText)
	}
	loText, hiText, isRange := strings.Cut(base, "-")
	if isRange {
		switch {
		case loText == "":
			return 0, 0, 0, fmt.Errorf("%s %q: negative values are not allowed; a range is written start-end, e.g. 1-5", fs.name, item)
		case hiText == "":
			return 0, 0, 0, fmt.Errorf("%s range %q has no end; a range is written start-end, e.g. 1-5", fs.name, item)
		case strings.Contains(hiText, "-"):
			return 0, 0, 0, fmt.Errorf("%s %q has more than one \"-\"", fs.name, item)
		}
	}
	if lo, err = fieldValue(fs, loText); err != nil {
		return 0, 0, 0, err
	}
	switch {
	case !isRange && !hasStep:
		return lo, lo, step, nil
	case !isRange:
		return lo, max(lo, top), step, nil
	}
	if hi, err = fieldValue(fs, hiText); err != nil {
		return 0, 0, 0, err
	}
	if lo > hi {
		fix := fmt.Sprintf("%d-%d,%d-%d", lo, top, fs.min, hi)
		switch {
		case fs.name == "day-of-week" && lo == 7:
			fix = fmt.Sprintf("0-%d", hi)
		case fs.name == "day-of-week" && hi == 0:
			fix = fmt.Sprintf("%d-7", lo)
		}
		return 0, 0, 0, fmt.Errorf("%s range %q runs backwards (%d > %d); ranges do not wrap around, write %s",
			fs.name, base, lo, hi, fix)
	}
	return lo, hi, step, nil
}

// fieldValue reads a number or a name.
func fieldValue(fs fieldSpec, text string) (int, error) {
	if allDigits(text) {
		v, err := strconv.Atoi(text)
		if err != nil || len(text) > 4 || v < fs.min || v > fs.max {
			return 0, fmt.Errorf("%s %s is out of range (%d-%d)", fs.name, text, fs.min, fs.max)
		}
		return v, nil
	}
	for i, n := range fs.names {
		if asciiLower(text) == n {
			return fs.names0 + i, nil
		}
	}
	why := "a number"
	if fs.names != nil {
		why = "a number or a name"
	}
	extra := ""
	if (fs.name == "day-of-month" || fs.name == "day-of-week") && strings.ContainsAny(asciiUpper(text), "LW#") {
		extra = "; Quartz's L, W and # are not supported"
	}
	return 0, fmt.Errorf("%s %q is not %s (%s)%s", fs.name, text, why, fs.hint, extra)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Next is the first instant strictly after t at which the expression fires,
// in the schedule's location; see the package documentation for daylight
// saving time. ok is false when it does not fire in the next 8 years.
func (c *cronSchedule) Next(t time.Time) (time.Time, bool) {
	loc := c.loc
	t = t.In(loc)
	limit := t.Add(horizon)
	if !limit.After(t) {
		return time.Time{}, false
	}
	_, off := t.Zone()
	segStart, segEnd := t.ZoneBounds()
	// lo: the first whole minute after t's wall time.
	lo := ceilMinute(wallOf(t, off).Add(time.Nanosecond))
	// sup: every wall time before sup has been shown before the current
	// zone period (or before t); a fixed job fires only at wall times
	// >= sup, so once per wall time.
	sup := pastWallSup(t, segStart, loc)
	// Walk the zone periods (constant UTC offset) from t's. In each the
	// wall time increases with the instant.
	for range 1000 {
		endWall, last := wallOf(limit, off), true
		if !segEnd.IsZero() && segEnd.Before(limit) {
			endWall, last = wallOf(segEnd, off), false
		}
		from := lo
		if !c.wildcard && from.Before(sup) {
			from = ceilMinute(sup)
		}
		if w, ok := c.firstMatch(from, endWall); ok {
			return instantOf(w, off, loc), true
		}
		if last {
			return time.Time{}, false
		}
		if endWall.After(sup) {
			sup = endWall
		}
		segStart = segEnd.In(loc)
		_, off = segStart.Zone()
		_, segEnd = segStart.ZoneBounds()
		startWall := wallOf(segStart, off)
		// Clocks set forward over wall times of a fixed job: it fires
		// once, at the end of the gap.
		if !c.wildcard && sup.Before(startWall) {
			if _, ok := c.firstMatch(ceilMinute(sup), startWall); ok {
				return segStart, true
			}
		}
		lo = ceilMinute(startWall)
	}
	return time.Time{}, false
}

// pastWallSup is the latest wall time shown before t: t's own, or the end of
// a recent zone period whose clock was set back.
func pastWallSup(t, segStart time.Time, loc *time.Location) time.Time {
	_, off := t.Zone()
	sup := wallOf(t, off)
	// Offsets differ by less than 32 h, so a zone period that ended more
	// than 48 h before t ended at an earlier wall time than t's.
	stop := t.Add(-48 * time.Hour)
	s := segStart
	for range 16 {
		if s.IsZero() || !s.After(stop) {
			break
		}
		prev := s.Add(-time.Nanosecond).In(loc)
		_, po := prev.Zone()
		if w := wallOf(s, po); w.After(sup) {
			sup = w
		}
		s, _ = prev.ZoneBounds()
	}
	return sup
}

// firstMatch is the first whole-minute wall time w, from <= w < end, that
// the expression matches.
func (c *cronSchedule) firstMatch(from, end time.Time) (time.Time, bool) {
	from = ceilMinute(from)
	if !from.Before(end) {
		return time.Time{}, false
	}
	y, mo, d := from.Date()
	h, mi := from.Hour(), from.Minute()
	for range 5000 { // > days in the horizon
		if !time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Before(end) {
			return time.Time{}, false
		}
		if c.month&(1<<uint(mo)) == 0 {
			y, mo, d, h, mi = nextMonth(y, mo)
			continue
		}
		if c.dayMatches(y, mo, d) {
			if hh, mm, ok := c.timeFrom(h, mi); ok {
				w := time.Date(y, mo, d, hh, mm, 0, 0, time.UTC)
				return w, w.Before(end)
			}
		}
		if d++; d > daysIn(y, mo) {
			y, mo, d, h, mi = nextMonth(y, mo)
		} else {
			h, mi = 0, 0
		}
	}
	return time.Time{}, false
}

func nextMonth(y int, mo time.Month) (int, time.Month, int, int, int) {
	if mo == time.December {
		return y + 1, time.January, 1, 0, 0
	}
	return y, mo + 1, 1, 0, 0
}

// dayMatches applies Vixie cron's rule: when both day fields are
// restricted, a day matches either; otherwise it must match both.
func (c *cronSchedule) dayMatches(y int, mo time.Month, d int) bool {
	domOK := c.dom&(1<<uint(d)) != 0
	dowOK := c.dow&(1<<uint(time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Weekday())) != 0
	if c.domStar || c.dowStar {
		return domOK && dowOK
	}
	return domOK || dowOK
}

// timeFrom is the first hour:minute at or after h:mi that matches.
func (c *cronSchedule) timeFrom(h, mi int) (int, int, bool) {
	for hh := h; hh < 24; hh++ {
		if c.hour&(1<<uint(hh)) == 0 {
			continue
		}
		m0 := 0
		if hh == h {
			m0 = mi
		}
		if rest := c.minute >> uint(m0) << uint(m0); rest != 0 {
			return hh, bits.TrailingZeros64(rest), true
		}
	}
	return 0, 0, false
}
