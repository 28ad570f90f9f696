package job

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

func TestShow(t *testing.T) {
	m := newFakeCron(t)
	m.put(reportJob(), reportHistory(), activeRun())
	m.put(cronapi.Job{ID: "prod.reports.mail", Run: cronapi.JobRun{Cmd: "mail"}, Parents: []string{"prod.reports.daily"}}, cronapi.History{})
	r := run(t, m.URL, "", false, "show", "prod.reports.daily")
	if r.err != nil || r.errOut != "" {
		t.Fatalf("%v (stderr %q)", r.err, r.errOut)
	}
	want := `ID:             prod.reports.daily
Description:    Daily sales report
Labels:         owner=data, tier=batch
Command:        ./report.sh --day yesterday
Resources:      cpus 0.5 · mem 256 MiB · disk 1 GiB
Environment:    REGION, TOKEN (values with --json)
Artifacts:      https://example.com/report.tgz (cached)
Constraints:    hostname:UNIQUE
Restart:        ON_FAILURE, at most 3 retries, deadline 1h
Runs before:    prod.reports.mail
Runs:           12 succeeded, 1 failed, 1 skipped
Last success:   2026-03-01T02:05:00Z (9h ago)
Last failure:   2026-02-28T02:01:30Z (33h ago)

Schedules:
ID        SCHEDULE                      TIMEZONE       CONCURRENCY   DEADLINE   ENABLED   NEXT RUN
nightly   0 2 * * *                     Europe/Paris   FORBID        15m        yes       2026-03-01T12:01:00Z (in 1m)
paused    R/2026-01-01T00:00:00Z/PT6H   UTC            -             -          no        -

Active runs:
ID         TRIGGER   STATUS   CREATED                         TASK                           MESSAGE
manual-9   manual    ACTIVE   2026-03-01T11:57:00Z (3m ago)   manual-9.task-1 TASK_RUNNING   -

Last runs:
ID                         TRIGGER            STATUS    STARTED                          DURATION   EXIT
20260301T010000Z-nightly   schedule:nightly   SUCCESS   2026-03-01T01:00:00Z (11h ago)   1h5m       0
manual-0                   manual             FAILED    2026-02-28T02:00:00Z (34h ago)   1m30s      2
20260228T010000Z-nightly   schedule:nightly   SUCCESS   2026-02-28T01:00:00Z (35h ago)   1m2s       0
(all of them with cairn job history prod.reports.daily)
`
	if r.out != want {
		t.Errorf("show:\n%s\nwant:\n%s", r.out, want)
	}
	if reqs := m.Requests(); len(reqs) != 2 || reqs[0] != "GET /v1/jobs/prod.reports.daily?embed=activeRuns%2Cschedules%2ChistorySummary%2Chistory" ||
		reqs[1] != "GET /v1/jobs/prod.reports.daily/dependencies" {
		t.Errorf("requests %q", reqs)
	}
}

func TestShowDependentAndIdle(t *testing.T) {
	m := newFakeCron(t)
	m.put(cronapi.Job{ID: "a", Run: cronapi.JobRun{Args: []string{"echo", "hello world"}, CPUs: 1, Mem: 128}}, cronapi.History{})
	m.put(cronapi.Job{ID: "b", Run: cronapi.JobRun{Cmd: "x", CPUs: 1, Mem: 128, Restart: &cronapi.Restart{Policy: "ON_FAILURE", MaxRetries: 1, BackoffSeconds: 2}},
		Parents: []string{"a"}}, cronapi.History{})
	r := run(t, m.URL, "", false, "show", "b")
	want := `ID:             b
Description:    -
Command:        x
Resources:      cpus 1 · mem 128 MiB
Restart:        ON_FAILURE, at most 1 retry, back-off from 2s
Runs after:     a
Runs:           0 succeeded, 0 failed, 0 skipped
Last success:   -
Last failure:   -

No active runs.
`
	if r.err != nil || r.out != want {
		t.Errorf("show b: %v\n%s\nwant:\n%s", r.err, r.out, want)
	}
	r = run(t, m.URL, "", false, "show", "a")
	for _, part := range []string{"Command:        echo \"hello world\"\n", "Restart:        NEVER\n", "Runs before:    b\n",
		"\nNo schedules (add one with cairn job schedule add a --cron '...').\n\nNo active runs.\n"} {
		if !strings.Contains(r.out, part) {
			t.Errorf("show a: %q lacks %q", r.out, part)
		}
	}
}

func TestShowJSONAndErrors(t *testing.T) {
	m := newFakeCron(t)
	m.put(reportJob(), reportHistory(), activeRun())
	r := run(t, m.URL, "", false, "show", "prod.reports.daily", "--json")
	var got cronapi.Job
	if err := json.Unmarshal([]byte(r.out), &got); err != nil || got.History == nil || got.History.SuccessCount != 12 ||
		len(got.ActiveRuns) != 1 || got.Run.Env["TOKEN"] != "s3cret" {
		t.Errorf("--json: %v %q", err, r.out)
	}
	r = run(t, m.URL, "", false, "show", "nope")
	if r.err == nil || r.err.Error() != "job nope does not exist (see cairn job list)" {
		t.Errorf("unknown: %v", r.err)
	}
	for _, args := range [][]string{{"show"}, {"show", "Bad_ID"}, {"show", "a..b"}, {"show", "a", "b"}} {
		if r := run(t, m.URL, "", false, args...); !cmdutil.IsUsageError(r.err) {
			t.Errorf("%q: %v, want a usage error", args, r.err)
		}
	}
	r = run(t, m.URL, "", false, "show", "Prod")
	if r.err == nil || r.err.Error() != `job id "Prod" has 'P' in it: use lower-case letters, digits and dashes between dots, e.g. prod.reports.daily` {
		t.Errorf("bad id: %v", r.err)
	}
}
