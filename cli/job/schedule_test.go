package job

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

func TestScheduleAddFlags(t *testing.T) {
	m := newFakeCron(t)
	m.put(cronapi.Job{ID: "a", Run: cronapi.JobRun{Cmd: "x"}}, cronapi.History{})
	r := run(t, m.URL, "", false, "schedule", "add", "a", "--cron", "*/5 * * * *")
	if r.err != nil || r.out != "Added schedule default (*/5 * * * * UTC) to job a: next run 2026-03-01T12:01:00Z (in 1m)\n" {
		t.Errorf("add: %v %q", r.err, r.out)
	}
	r = run(t, m.URL, "", false, "schedule", "add", "a", "--id", "nightly", "--cron", "0 2 * * *", "--timezone", "Europe/Paris",
		"--concurrency", "forbid", "--starting-deadline", "1m")
	if r.err != nil || r.out != "Added schedule nightly (0 2 * * * Europe/Paris) to job a: next run 2026-03-01T12:02:00Z (in 2m)\n" {
		t.Errorf("add with flags: %v %q", r.err, r.out)
	}
	r = run(t, m.URL, "", false, "schedule", "add", "a", "--id", "six-hourly", "--interval", "R/2026-12-01T00:00:00Z/PT6H", "--json")
	var s cronapi.Schedule
	if err := json.Unmarshal([]byte(r.out), &s); err != nil || s.ID != "six-hourly" || s.NextRunAt == nil {
		t.Errorf("--json: %v %q", err, r.out)
	}
	j, _ := m.job("a")
	if len(j.Schedules) != 3 || j.Schedules[1].ConcurrencyPolicy != "FORBID" || j.Schedules[1].StartingDeadlineSeconds != 60 ||
		j.Schedules[1].TimeZone != "Europe/Paris" || j.Schedules[2].Interval != "R/2026-12-01T00:00:00Z/PT6H" {
		t.Errorf("stored %+v", j.Schedules)
	}
	r = run(t, m.URL, "", false, "schedule", "add", "a", "--cron", "@daily")
	if r.err == nil || r.err.Error() != `schedule default cannot be added to job a: job a already has a schedule "default" (see cairn job schedule list a)` {
		t.Errorf("taken: %v", r.err)
	}
	r = run(t, m.URL, "", false, "schedule", "add", "nope", "--cron", "@daily")
	if r.err == nil || r.err.Error() != "job nope does not exist (see cairn job list)" {
		t.Errorf("unknown job: %v", r.err)
	}
}

func TestScheduleAddFile(t *testing.T) {
	m := newFakeCron(t)
	m.put(cronapi.Job{ID: "a", Run: cronapi.JobRun{Cmd: "x"}}, cronapi.History{})
	r := run(t, m.URL, `{"id": "nightly", "cron": "0 2 * * *", "enabled": false}`, false, "schedule", "add", "a", "-")
	if r.err != nil || r.out != "Added schedule nightly (0 2 * * * UTC) to job a: disabled\n" {
		t.Errorf("stdin: %v %q", r.err, r.out)
	}
	file := writeFile(t, "bad.json", `{"id": "s", "cron": "* *", "concurrencyPolicy": "NEVER"}`)
	r = run(t, m.URL, "", false, "schedule", "add", "a", file)
	if r.err == nil || r.err.Error() != "invalid schedule s of job a (2 problems above): correct the schedule in "+file+" and add it again" ||
		r.errOut != "The schedule in "+file+" is not valid:\n  /cron: \"* *\" is not a 5-field cron expression\n  /concurrencyPolicy: use ALLOW, FORBID or REPLACE\n" {
		t.Errorf("422: %v %q", r.err, r.errOut)
	}
	n := len(m.Requests())
	for in, want := range map[string]string{
		`{"cron": "* * * * *"}`:                    `the schedule in the standard input has no id: give one such as "id": "nightly"`,
		`{"id": "s", "cron": "* * * * *", "x": 1}`: `the schedule in the standard input has an unknown field "x" at line 1, column 34: the cron framework would not use it (see cairn job schedule add --help for the fields)`,
		"{\"id\": \"s\",\n \"enabled\": \"yes\"}":  "the schedule in the standard input is not valid: line 2, column 17: enabled must be true or false, not a string",
	} {
		if r := run(t, m.URL, in, false, "schedule", "add", "a", "-"); r.err == nil || r.err.Error() != want {
			t.Errorf("%q:\n got %v\nwant %s", in, r.err, want)
		}
	}
	if len(m.Requests()) != n {
		t.Errorf("requests for bad input: %q", m.Requests()[n:])
	}
}

func TestScheduleAddInvalidFlags(t *testing.T) {
	m := newFakeCron(t)
	m.put(cronapi.Job{ID: "a", Run: cronapi.JobRun{Cmd: "x"}}, cronapi.History{})
	m.put(cronapi.Job{ID: "b", Run: cronapi.JobRun{Cmd: "x"}, Parents: []string{"a"}}, cronapi.History{})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"a"}, "say when the job runs: --cron"},
		{[]string{"a", "--cron", "* * * * *", "--interval", "R/2026-01-01T00:00:00Z/PT1H"}, "give only one of them"},
		{[]string{"a", "f.json", "--cron", "* * * * *", "--id", "x"}, "the schedule is in f.json: give it there, without --cron, --id"},
		{[]string{"a", "--cron", "* * * * *", "--concurrency", "sometimes"}, `--concurrency "sometimes": use ALLOW, FORBID or REPLACE`},
		{[]string{"a", "--cron", "* * * * *", "--starting-deadline", "1.5s"}, "--starting-deadline 1.5s: give whole seconds"},
		{[]string{"a", "--cron", "* * * * *", "--starting-deadline", "0s"}, "--starting-deadline 0s: give whole seconds"},
		{[]string{"a", "--cron", "* * * * *", "--id", "x/y"}, `--id "x/y" is not valid`},
		{[]string{"A", "--cron", "* * * * *"}, `job id "A"`},
		{[]string{}, "give the job's id"},
		{[]string{"a", "b", "c"}, "give the job's id"},
	} {
		r := run(t, m.URL, "", false, append([]string{"schedule", "add"}, tc.args...)...)
		if !cmdutil.IsUsageError(r.err) || !strings.Contains(r.err.Error(), tc.want) {
			t.Errorf("%q: %v, want a usage error with %q", tc.args, r.err, tc.want)
		}
	}
	// The framework's own checks: a dependent job takes no schedule, a
	// cron expression must have 5 fields.
	r := run(t, m.URL, "", false, "schedule", "add", "b", "--cron", "* * *")
	if r.err == nil || r.err.Error() != "invalid schedule default of job b (2 problems above): correct it and add it again" ||
		r.errOut != "The schedule is not valid:\n  /cron: \"* * *\" is not a 5-field cron expression\n  /: job b runs after its parents: it cannot also have schedules\n" {
		t.Errorf("422: %v %q", r.err, r.errOut)
	}
}

func TestScheduleListAndRemove(t *testing.T) {
	m := newFakeCron(t)
	m.put(reportJob(), cronapi.History{})
	m.put(cronapi.Job{ID: "adhoc", Run: cronapi.JobRun{Cmd: "x"}}, cronapi.History{})
	r := run(t, m.URL, "", false, "schedule", "list", "prod.reports.daily")
	want := "" +
		"ID        SCHEDULE                      TIMEZONE       CONCURRENCY   DEADLINE   ENABLED   NEXT RUN\n" +
		"nightly   0 2 * * *                     Europe/Paris   FORBID        15m        yes       in 1m\n" +
		"paused    R/2026-01-01T00:00:00Z/PT6H   UTC            -             -          no        -\n"
	if r.err != nil || r.out != want {
		t.Errorf("list: %v\n%s\nwant:\n%s", r.err, r.out, want)
	}
	r = run(t, m.URL, "", false, "schedule", "list", "prod.reports.daily", "--json")
	var ss []cronapi.Schedule
	if err := json.Unmarshal([]byte(r.out), &ss); err != nil || len(ss) != 2 || ss[0].NextRunAt == nil {
		t.Errorf("--json: %v %q", err, r.out)
	}
	r = run(t, m.URL, "", false, "schedule", "list", "adhoc")
	if r.err != nil || r.out != "Job adhoc has no schedules (add one with cairn job schedule add adhoc --cron '...').\n" {
		t.Errorf("none: %v %q", r.err, r.out)
	}

	r = run(t, m.URL, "", false, "schedule", "remove", "prod.reports.daily", "paused")
	if r.err != nil || r.out != "Removed schedule paused from job prod.reports.daily\n" {
		t.Errorf("remove: %v %q", r.err, r.out)
	}
	if j, _ := m.job("prod.reports.daily"); len(j.Schedules) != 1 {
		t.Errorf("schedules %+v", j.Schedules)
	}
	r = run(t, m.URL, "", false, "schedule", "remove", "prod.reports.daily", "paused")
	if r.err == nil || r.err.Error() != "job prod.reports.daily has no schedule paused (see its schedules with cairn job schedule list prod.reports.daily)" {
		t.Errorf("again: %v", r.err)
	}
	r = run(t, m.URL, "", false, "schedule", "remove", "nope", "paused")
	if r.err == nil || r.err.Error() != "job nope does not exist (see cairn job list)" {
		t.Errorf("unknown job: %v", r.err)
	}
	r = run(t, m.URL, "", false, "schedule", "list", "nope")
	if r.err == nil || r.err.Error() != "job nope does not exist (see cairn job list)" {
		t.Errorf("list unknown job: %v", r.err)
	}
	for _, args := range [][]string{{"schedule", "remove", "a"}, {"schedule", "list"}, {"schedule", "bogus"}} {
		if r := run(t, m.URL, "", false, args...); !cmdutil.IsUsageError(r.err) {
			t.Errorf("%q: %v, want a usage error", args, r.err)
		}
	}
}

func TestScheduleEnableDisable(t *testing.T) {
	m := newFakeCron(t)
	m.put(cronapi.Job{ID: "a", Run: cronapi.JobRun{Cmd: "x"}, Schedules: []cronapi.Schedule{{ID: "nightly", Cron: "0 2 * * *"}}}, cronapi.History{})
	r := run(t, m.URL, "", false, "schedule", "disable", "a", "nightly")
	if r.err != nil || r.out != "Disabled schedule nightly of job a\n" {
		t.Fatalf("disable: %v %q", r.err, r.out)
	}
	if j, _ := m.job("a"); j.Schedules[0].IsEnabled() || j.Schedules[0].Cron != "0 2 * * *" {
		t.Errorf("stored after disable: %+v", j.Schedules)
	}
	r = run(t, m.URL, "", false, "schedule", "enable", "a", "nightly")
	if r.err != nil || !strings.HasPrefix(r.out, "Enabled schedule nightly of job a: next run ") {
		t.Fatalf("enable: %v %q", r.err, r.out)
	}
	if j, _ := m.job("a"); !j.Schedules[0].IsEnabled() {
		t.Errorf("stored after enable: %+v", j.Schedules)
	}
	if r := run(t, m.URL, "", false, "schedule", "disable", "a", "nope"); r.err == nil || !strings.Contains(r.err.Error(), "nope") {
		t.Errorf("unknown schedule: %v", r.err)
	}
}
