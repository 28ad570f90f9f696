package job

import (
	"errors"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

func TestRemove(t *testing.T) {
	m := newFakeCron(t)
	m.put(reportJob(), reportHistory())
	r := run(t, m.URL, "", false, "remove", "prod.reports.daily", "--yes")
	if r.err != nil || r.out != "Removed job prod.reports.daily\n" || r.errOut != "" {
		t.Errorf("remove: %v %q %q", r.err, r.out, r.errOut)
	}
	if _, ok := m.job("prod.reports.daily"); ok {
		t.Error("still there")
	}
	r = run(t, m.URL, "", false, "remove", "prod.reports.daily", "--yes")
	if r.err == nil || r.err.Error() != "job prod.reports.daily does not exist (see cairn job list)" {
		t.Errorf("again: %v", r.err)
	}
}

func TestRemoveConfirm(t *testing.T) {
	m := newFakeCron(t)
	m.put(reportJob(), reportHistory())
	// Not a terminal, no --yes: a usage error before any request.
	r := run(t, m.URL, "y\n", false, "remove", "prod.reports.daily")
	if !cmdutil.IsUsageError(r.err) || !strings.Contains(r.err.Error(), "pass --yes") {
		t.Errorf("no terminal: %v", r.err)
	}
	if reqs := m.Requests(); len(reqs) != 0 {
		t.Errorf("requests %q", reqs)
	}
	r = run(t, m.URL, "n\n", true, "remove", "prod.reports.daily")
	if r.err == nil || r.err.Error() != "cancelled: job prod.reports.daily not removed" {
		t.Errorf("no: %v", r.err)
	}
	if r.errOut != "Job prod.reports.daily (2 schedules) will be removed, with its history.\nRemove job prod.reports.daily? [y/N] " {
		t.Errorf("question %q", r.errOut)
	}
	if _, ok := m.job("prod.reports.daily"); !ok {
		t.Error("removed after a no")
	}
	r = run(t, m.URL, "yes\n", true, "remove", "prod.reports.daily")
	if r.err != nil || r.out != "Removed job prod.reports.daily\n" {
		t.Errorf("yes: %v %q", r.err, r.out)
	}
}

func TestRemoveActiveRuns(t *testing.T) {
	m := newFakeCron(t)
	m.put(reportJob(), reportHistory(), activeRun())
	r := run(t, m.URL, "", false, "remove", "prod.reports.daily", "--yes")
	if r.err == nil || r.err.Error() != "job prod.reports.daily has 1 active run (manual-9): pass --stop-runs to stop them and remove the job, or wait for them to end" {
		t.Errorf("active: %v", r.err)
	}
	// A run started between the look and the removal: the framework's 409.
	m.override["GET /v1/jobs/prod.reports.daily"] = fakeAnswer{200, reportJob()}
	r = run(t, m.URL, "", false, "remove", "prod.reports.daily", "--yes")
	if r.err == nil || r.err.Error() != "job prod.reports.daily has 1 active run (manual-9): pass --stop-runs to stop them and remove the job, or wait for them to end" ||
		apiclient.JobErrorStatus(r.err) != 409 {
		t.Errorf("409: %v", r.err)
	}
	delete(m.override, "GET /v1/jobs/prod.reports.daily")
	r = run(t, m.URL, "y\n", true, "remove", "prod.reports.daily", "--stop-runs")
	if r.err != nil || r.out != "Removed job prod.reports.daily (its active runs are stopped)\n" ||
		!strings.HasPrefix(r.errOut, "Job prod.reports.daily (2 schedules, 1 active run to stop) will be removed") {
		t.Errorf("--stop-runs: %v %q %q", r.err, r.out, r.errOut)
	}
	if reqs := m.Requests(); reqs[len(reqs)-1] != "DELETE /v1/jobs/prod.reports.daily?stopCurrentJobRuns=true" {
		t.Errorf("requests %q", reqs)
	}
}

func TestRemoveParent(t *testing.T) {
	m := newFakeCron(t)
	m.put(cronapi.Job{ID: "a", Run: cronapi.JobRun{Cmd: "x"}}, cronapi.History{})
	m.put(cronapi.Job{ID: "b", Run: cronapi.JobRun{Cmd: "x"}, Parents: []string{"a"}}, cronapi.History{})
	r := run(t, m.URL, "", false, "remove", "a", "--yes")
	var je *apiclient.JobError
	if r.err == nil || r.err.Error() != "job a cannot be removed: jobs b depend on a: remove them, or their dependency on it, first" || !errors.As(r.err, &je) {
		t.Errorf("parent: %v", r.err)
	}
	for _, args := range [][]string{{"remove"}, {"remove", "A"}, {"remove", "a", "b"}} {
		if r := run(t, m.URL, "", false, args...); !cmdutil.IsUsageError(r.err) {
			t.Errorf("%q: %v, want a usage error", args, r.err)
		}
	}
}
