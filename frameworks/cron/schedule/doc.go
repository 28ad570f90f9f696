// Package schedule computes when the cron framework's job schedules fire:
// cron expressions (Metronome) and ISO 8601 repeating intervals (Chronos).
// Pure computation: no goroutines, no mutable package state, and no I/O but
// LoadLocation's reading of the time zone database, which is embedded
// (time/tzdata) so that every host computes the same instants.
//
// # Cron expressions
//
// [ParseCron] reads five fields, minute (0-59), hour (0-23), day-of-month
// (1-31), month (1-12 or jan-dec) and day-of-week (0-7 or sun-sat; 0 and 7
// are Sunday), separated by spaces. A field is a comma-separated list of
// "*", a value, or a range "a-b", each optionally with a step "/n"; "N/n"
// means "N-max/n" (max is 6, Saturday, for the day-of-week). Names are
// case-insensitive. "?" is "*" in the two day fields. The descriptors
// @yearly and @annually (0 0 1 1 *), @monthly (0 0 1 * *), @weekly
// (0 0 * * 0), @daily and @midnight (0 0 * * *) and @hourly (0 * * * *) are
// accepted in any case. Refused, with an error saying so: a seconds or year
// field (6 or 7 fields), @every and @reboot, CRON_TZ= and TZ= prefixes (the
// time zone is a separate field), Quartz's L, W and #, empty list elements,
// ranges that run backwards (22-2), and steps larger than the field's
// maximum. Parsing is done by github.com/robfig/cron/v3 after Cairn's own
// validation (for clear errors, and for 7 = Sunday, which robfig refuses).
//
// Days follow Vixie cron (crontab(5)): when both day fields are restricted,
// a day matches if either does ("0 0 13 * 5" is every 13th and every
// Friday); when either field starts with "*" (or "?"), the day must match
// both. A field is restricted when it does not start with "*", so "*/2"
// is unrestricted, as in Vixie cron and cronie: "0 0 */2 * 1" is odd days
// that are Mondays. (robfig/cron treats "*/2" as restricted.)
//
// # Daylight saving time
//
// A cron expression is read on the wall clock of its location, and what
// happens when that clock jumps is Vixie cron's rule (ISC cron 4.1,
// cronie):
//
//   - A fixed-time job, one whose minute and hour fields do not start with
//     "*" ("30 2 * * *", @daily), fires once per matching wall time: when
//     the clock is set back and the wall time happens twice, at the first
//     occurrence ("30 1 * * *" on 2026-11-01 in New York: 01:30 EDT only);
//     when the clock is set forward over it, at the end of the gap
//     ("30 2 * * *" on 2026-03-08 in New York: 03:00 EDT). Several wall
//     times in one gap give one run.
//   - A wildcard job, one whose minute or hour field starts with "*"
//     ("*/15 * * * *", "0 * * * *", @hourly), fires at every real instant
//     whose wall time matches: in both repeated hours when the clock is set
//     back, and not at all for wall times that are skipped.
//
// This holds for any shift (30 minutes on Lord Howe Island, transitions at
// midnight in Havana and São Paulo, a whole day skipped in Apia in 2011).
// A fixed-time job is fired at the first instant at which the clock reads
// its wall time or later.
//
// Next looks 3,000 days ahead: the longest gap between two runs of an
// expression that fires at all is 8 years (Feb 29, 2096 to Feb 29, 2104),
// and an expression that matches no date ("0 0 30 2 *") reports ok=false.
//
// # Repeating intervals
//
// [ParseInterval] reads R[n]/<start>/<period>: n runs (R or R-1 unbounded,
// R0 none, R1 one) at start, start+period, start+2·period... The start is
// an ISO 8601 date and time (extended or basic format); with Z or an offset
// it is that instant, without one a wall time in the schedule's location
// (skipped: the end of the gap; repeated: the first). The R/<period>/<end>
// and R/<start>/<end> forms are refused.
//
// A [Period] is an ISO 8601 duration PnYnMnDTnHnMnS or PnW. Years, months,
// weeks and days are calendar units counted on the location's wall clock,
// so P1D fires at the same wall time every day across DST while PT24H is
// exactly 24 hours (and shifts the wall time by the DST change). Months are
// clamped to the end of the month and counted from the start, never from
// the previous run: R/2026-01-31T09:00:00Z/P1M fires on Jan 31, Feb 28, Mar
// 31, Apr 30. See [Period.AddTo].
//
// [Interval.Next] is computed directly, by division for exact periods and
// by an estimate refined with a binary search for calendar ones, so a start
// decades in the past costs no more than a recent one. It reports no run
// after the year 9999.
//
// # Errors
//
// Errors are one line, name what they are about and say what is expected,
// for example
//
//	cron expression "61 * * * *": minute 61 is out of range (0-59)
//	period "P1W2D": weeks cannot be combined with other units in ISO 8601; write P9D
//	time zone "Paris" is not known; use an IANA name such as Europe/Paris or America/New_York, or UTC
//
// The caller adds the field's path.
package schedule
