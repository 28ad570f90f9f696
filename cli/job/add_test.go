package job

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

const dailyJSON = `{"id": "prod.reports.daily", "run": {"cmd": "./report.sh", "cpus": 0.5, "mem": 256},
 "schedules": [{"id": "nightly", "cron": "0 2 * * *", "timezone": "Europe/Paris"}, {"id": "hourly", "cron": "@hourly"}]}`

func TestAdd(t *testing.T) {
	m := newFakeCron(t)
	r := run(t, m.URL, "", false, "add", writeFile(t, "daily.json", dailyJSON))
	if r.err != nil || r.errOut != "" {
		t.Fatalf("%v (stderr %q)", r.err, r.errOut)
	}
	want := "Added job prod.reports.daily\n" +
		"  schedule nightly (0 2 * * * Europe/Paris): next run 2026-03-01T12:01:00Z (in 1m)\n" +
		"  schedule hourly (@hourly UTC): next run 2026-03-01T12:02:00Z (in 2m)\n"
	if r.out != want {
		t.Errorf("out:\n%s\nwant:\n%s", r.out, want)
	}
	j, ok := m.job("prod.reports.daily")
	if !ok || j.Run.Cmd != "./report.sh" || j.Run.CPUs != 0.5 || len(j.Schedules) != 2 || j.Schedules[0].TimeZone != "Europe/Paris" {
		t.Errorf("stored %+v", j)
	}
	if reqs := m.Requests(); len(reqs) != 1 || reqs[0] != "POST /v1/jobs" {
		t.Errorf("requests %q", reqs)
	}
}

func TestAddStdinJSONAndDependent(t *testing.T) {
	m := newFakeCron(t)
	r := run(t, m.URL, dailyJSON, false, "add", "-", "--json")
	if r.err != nil {
		t.Fatal(r.err)
	}
	var got cronapi.Job
	if err := json.Unmarshal([]byte(r.out), &got); err != nil || got.ID != "prod.reports.daily" || len(got.Schedules) != 2 || got.Schedules[0].NextRunAt == nil {
		t.Errorf("--json: %v %q", err, r.out)
	}
	r = run(t, m.URL, `{"id": "prod.reports.mail", "run": {"args": ["mail", "-s", "daily report"]}, "parents": ["prod.reports.daily"]}`, false, "add", "-")
	if r.err != nil || r.out != "Added job prod.reports.mail\n  runs after prod.reports.daily succeeded\n" {
		t.Errorf("dependent: %v %q", r.err, r.out)
	}
	r = run(t, m.URL, `{"id": "adhoc", "run": {"cmd": "true"}}`, false, "add", "-")
	if r.err != nil || r.out != "Added job adhoc\n  no schedule: run it with cairn job run adhoc, or add one with cairn job schedule add adhoc --cron '...'\n" {
		t.Errorf("no schedule: %v %q", r.err, r.out)
	}
}

func TestAddReadOnlyFieldsDropped(t *testing.T) {
	// What show --json prints can be added (elsewhere) as it is.
	m := newFakeCron(t)
	in := `{"id": "a", "run": {"cmd": "true", "cpus": 1, "mem": 128, "disk": 0},
		"schedules": [{"id": "s", "cron": "* * * * *", "nextRunAt": "2026-03-01T12:01:00Z"}],
		"historySummary": {"successCount": 1, "failureCount": 0, "skippedCount": 0}, "activeRuns": [{"id": "r", "jobId": "a", "status": "ACTIVE", "trigger": "manual", "createdAt": "2026-03-01T12:00:00Z", "tasks": []}]}`
	if r := run(t, m.URL, in, false, "add", "-"); r.err != nil {
		t.Fatal(r.err)
	}
	if j, _ := m.job("a"); j.Schedules[0].NextRunAt != nil || j.ActiveRuns != nil || j.HistorySummary != nil {
		t.Errorf("read-only fields sent: %+v", j)
	}
}

func TestAddBadInput(t *testing.T) {
	m := newFakeCron(t)
	for _, tc := range []struct {
		in, want string
	}{
		{"{\"id\": \"a\",\n \"run\": {\"cmd\": \"x\"},\n}", "the job in the standard input is not valid JSON: line 3, column 1: invalid character '}' looking for beginning of object key string"},
		{"{\"id\": \"a\",\n \"run\": {\"cmd\": \"x\", \"docker\": {\"image\": \"alpine\"}}}", `the job in the standard input has an unknown field "docker" at line 2, column 22: the cron framework would not use it (see cairn job add --help for the fields)`},
		{"{\"id\": \"a\",\n  \"run\": {\"cpus\": \"1\"}}", "the job in the standard input is not valid: line 2, column 21: run.cpus must be a number, not a string"},
		{`{"id": "a", "schedules": {"id": "s"}}`, "the job in the standard input is not valid: line 1, column 26: schedules must be an array, not an object"},
		{"", "the job in the standard input is empty: give one such as {"},
		{"[1]", "the job in the standard input is not a JSON object: give one such as {"},
		{"null", "the job in the standard input is not a JSON object"},
		{`{"id": "a", "run": {"cmd": "x"}} {}`, "the job in the standard input holds more than one JSON value: give one job"},
		{`{"id": "a", "run": {"cmd": "x"}`, "the job in the standard input is not valid JSON: it ends before the object does"},
		{`{"run": {"cmd": "x"}}`, `the job in the standard input has no id: give one such as "id": "prod.reports.daily"`},
		{`{"id": "Prod.Reports", "run": {"cmd": "x"}}`, `the job in the standard input: job id "Prod.Reports" has 'P' in it: use lower-case letters, digits and dashes between dots, e.g. prod.reports.daily`},
	} {
		r := run(t, m.URL, tc.in, false, "add", "-")
		if r.err == nil || !strings.HasPrefix(r.err.Error(), tc.want) || cmdutil.IsUsageError(r.err) {
			t.Errorf("%q:\n got %v\nwant %s", tc.in, r.err, tc.want)
		}
	}
	r := run(t, m.URL, "", false, "add", "/no/such/job.json")
	if r.err == nil || r.err.Error() != "reading the job: open /no/such/job.json: no such file or directory" {
		t.Errorf("missing file: %v", r.err)
	}
	r = run(t, m.URL, "{\n", false, "add", writeFile(t, "broken.json", "{\"id\": \"a\"\n\"run\": {}}"))
	if r.err == nil || !strings.Contains(r.err.Error(), "broken.json is not valid JSON: line 2, column 1: invalid character '\"' after object key:value pair") {
		t.Errorf("file: %v", r.err)
	}
	if reqs := m.Requests(); len(reqs) != 0 {
		t.Errorf("requests for bad input: %q", reqs)
	}
	for _, args := range [][]string{{"add"}, {"add", "a", "b"}, {"add", "x", "--bogus"}} {
		if r := run(t, m.URL, "", false, args...); !cmdutil.IsUsageError(r.err) {
			t.Errorf("%q: %v, want a usage error", args, r.err)
		}
	}
}

func TestAddInvalid(t *testing.T) {
	m := newFakeCron(t)
	file := writeFile(t, "bad.json", `{"id": "a", "run": {"cpus": -1, "mem": 4},
		"schedules": [{"id": "s", "cron": "* *"}, {"id": "t", "interval": "PT1H", "concurrencyPolicy": "SKIP"}]}`)
	r := run(t, m.URL, "", false, "add", file)
	if r.err == nil || cmdutil.IsUsageError(r.err) {
		t.Fatalf("error %v", r.err)
	}
	want := "The job in " + file + " is not valid:\n" +
		"  /run: give cmd or args\n" +
		"  /run/cpus: must be more than 0\n" +
		"  /run/mem: must be at least 8 (MiB)\n" +
		"  /schedules/0/cron: \"* *\" is not a 5-field cron expression\n" +
		"  /schedules/1/interval: \"PT1H\" is not an ISO 8601 repeating interval (R[n]/start/period)\n" +
		"  /schedules/1/concurrencyPolicy: use ALLOW, FORBID or REPLACE\n"
	if r.errOut != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.errOut, want)
	}
	if wantErr := "invalid job a (6 problems above): correct the job in " + file + " and add it again"; r.err.Error() != wantErr {
		t.Errorf("error %q\nwant  %q", r.err, wantErr)
	}
	var je *apiclient.JobError
	if !errors.As(r.err, &je) || je.StatusCode() != 422 || len(je.Details) != 6 {
		t.Errorf("the API's error is not in the chain: %#v", r.err)
	}
	// A parent that does not exist.
	r = run(t, m.URL, `{"id": "b", "run": {"cmd": "x"}, "parents": ["nope"]}`, false, "add", "-")
	if r.errOut != "The job in the standard input is not valid:\n  /parents/0: job nope does not exist\n" ||
		r.err == nil || r.err.Error() != "invalid job b (1 problem above): correct the job in the standard input and add it again" {
		t.Errorf("parents: %v %q", r.err, r.errOut)
	}
}

func TestAddExists(t *testing.T) {
	m := newFakeCron(t)
	m.put(reportJob(), cronapi.History{})
	file := writeFile(t, "daily.json", dailyJSON)
	r := run(t, m.URL, "", false, "add", file)
	if r.err == nil || r.err.Error() != "job prod.reports.daily already exists: change it with cairn job update "+file+" (or remove it first with cairn job remove prod.reports.daily)" {
		t.Errorf("exists: %v", r.err)
	}
	// Another conflict is told as the framework tells it.
	m.override["POST /v1/jobs"] = fakeAnswer{409, cronapi.Error{Message: "adding b would make a cycle: b → a → b"}}
	r = run(t, m.URL, `{"id": "b", "run": {"cmd": "x"}}`, false, "add", "-")
	if r.err == nil || r.err.Error() != "job b cannot be added: adding b would make a cycle: b → a → b" {
		t.Errorf("cycle: %v", r.err)
	}
}

func TestNoCron(t *testing.T) {
	m := newFakeCron(t)
	m.noCron = true
	file := writeFile(t, "daily.json", dailyJSON)
	for _, args := range [][]string{
		{"list"}, {"show", "a"}, {"add", file}, {"update", file}, {"remove", "a", "--yes"}, {"run", "a"}, {"stop", "a", "r"},
		{"stop", "a", "--yes"}, {"history", "a"}, {"schedule", "list", "a"}, {"schedule", "add", "a", "--cron", "* * * * *"},
		{"schedule", "remove", "a", "s"}, {"graph"},
	} {
		r := run(t, m.URL, "", false, args...)
		var nse *apiclient.NoServiceError
		if r.err == nil || r.err.Error() != noCron || !errors.As(r.err, &nse) {
			t.Errorf("%q: %v", args, r.err)
		}
	}
	if noCron != "the cron framework is not running: install it with cairn package install cron (see cairn framework list)" {
		t.Errorf("message %q", noCron)
	}
}
