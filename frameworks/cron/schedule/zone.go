package schedule

import (
	"fmt"
	"time"

	// The zone database is embedded so that schedules compute the same
	// instants on every host, including minimal containers without
	// /usr/share/zoneinfo (time.LoadLocation falls back to it).
	_ "time/tzdata"
)

// LoadLocation resolves an IANA time zone name such as Europe/Paris; "" and
// "UTC" are UTC. "Local" is refused: it depends on the host that computes the
// schedule.
func LoadLocation(name string) (*time.Location, error) {
	switch name {
	case "", "UTC":
		return time.UTC, nil
	case "Local":
		return nil, fmt.Errorf("time zone %q depends on the host; use an IANA name such as Europe/Paris, or UTC", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q is not known; use an IANA name such as Europe/Paris or America/New_York, or UTC", name)
	}
	return loc, nil
}

// locOrUTC treats a nil location as UTC.
func locOrUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// A wall time is a local date and clock reading, held in a UTC time.Time
// with the same reading (so that its arithmetic has no time zone).

// wallOf is the wall time of u in a zone with offset off seconds east of UTC.
func wallOf(u time.Time, off int) time.Time {
	return u.UTC().Add(time.Duration(off) * time.Second)
}

// instantOf is the instant whose wall time in a zone with offset off is w,
// shown in loc.
func instantOf(w time.Time, off int, loc *time.Location) time.Time {
	return w.Add(-time.Duration(off) * time.Second).In(loc)
}

// ceilMinute rounds a wall time up to a whole minute.
func ceilMinute(w time.Time) time.Time {
	if c := w.Truncate(time.Minute); c.Before(w) {
		return c.Add(time.Minute)
	}
	return w
}

// resolve is the first instant at which loc's clock reads w or later: the
// only occurrence of w, the first of two when the clock is set back (w
// occurs twice), and the end of the gap when the clock is set forward over
// w (w does not occur).
func resolve(w time.Time, loc *time.Location) time.Time {
	// UTC offsets are within ±16 h, so the instant is within w ± 16 h.
	probe := w.Add(-26 * time.Hour).In(loc)
	for range 64 {
		_, off := probe.Zone()
		_, end := probe.ZoneBounds()
		// The zone from probe to end shows the wall times
		// [wallOf(probe), wallOf(end)), increasing.
		if end.IsZero() || wallOf(end, off).After(w) {
			u := instantOf(w, off, loc)
			if u.Before(probe) {
				return probe // w was skipped; probe is the end of the gap
			}
			return u
		}
		probe = end.In(loc)
	}
	_, off := probe.Zone()
	return instantOf(w, off, loc)
}

// daysIn is the number of days in a month.
func daysIn(year int, month time.Month) int {
	switch month {
	case time.April, time.June, time.September, time.November:
		return 30
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 31
}
