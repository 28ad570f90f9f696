package jobs

import (
	"strconv"
	"strings"
	"time"

	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// relative prints t against now: "in 42s", "3m ago", "now".
func relative(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d >= time.Second:
		return "in " + output.Age(d)
	case d <= -time.Second:
		return output.Age(-d) + " ago"
	}
	return "now"
}

// scheduleSpec prints a schedule: "*/5 * * * * UTC", "R/.../PT6H".
func scheduleSpec(s cronapi.Schedule) string {
	zone := s.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	switch {
	case s.Cron != "":
		return s.Cron + " " + zone
	case s.Interval != "" && s.TimeZone != "":
		return s.Interval + " " + s.TimeZone
	}
	return s.Interval
}

// schedules prints a job's schedules for a table: "*/5 * * * * UTC,
// @daily UTC", or "after a.b, c.d" for a dependent job.
func schedules(j cronapi.Job) string {
	if len(j.Parents) > 0 {
		return "after " + strings.Join(j.Parents, ", ")
	}
	parts := make([]string, 0, len(j.Schedules))
	for _, s := range j.Schedules {
		spec := scheduleSpec(s)
		if !s.IsEnabled() {
			spec += " (disabled)"
		}
		parts = append(parts, spec)
	}
	return strings.Join(parts, ", ")
}

// nextRun is the soonest next run of a job's enabled schedules (nil when
// none fires).
func nextRun(ss []cronapi.Schedule) *time.Time {
	var next *time.Time
	for _, s := range ss {
		if s.IsEnabled() && s.NextRunAt != nil && (next == nil || s.NextRunAt.Before(*next)) {
			next = s.NextRunAt
		}
	}
	return next
}

// command is what a job runs: its cmd, or its args.
func command(r cronapi.JobRun) string {
	if r.Cmd != "" {
		return r.Cmd
	}
	parts := make([]string, len(r.Args))
	for i, a := range r.Args {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`") {
			a = strconv.Quote(a)
		}
		parts[i] = a
	}
	return strings.Join(parts, " ")
}

// runResources prints a run's resources: "cpus 0.5 · mem 256 MiB".
func runResources(r cronapi.JobRun) string {
	var parts []string
	if r.CPUs > 0 {
		parts = append(parts, "cpus "+strconv.FormatFloat(r.CPUs, 'f', -1, 64))
	}
	if r.Mem > 0 {
		parts = append(parts, "mem "+output.Mem(resources.FromFloat(r.Mem)))
	}
	if r.Disk > 0 {
		parts = append(parts, "disk "+output.Mem(resources.FromFloat(r.Disk)))
	}
	return strings.Join(parts, " · ")
}
