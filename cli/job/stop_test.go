package job

import (
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

func TestStopOne(t *testing.T) {
	m := newFakeCron(t)
	m.put(reportJob(), reportHistory(), activeRun())
	r := run(t, m.URL, "", false, "stop", "prod.reports.daily", "manual-9")
	if r.err != nil || r.out != "Stopped run manual-9 of job prod.reports.daily (FAILED: stopped by request)\n" {
		t.Errorf("stop: %v %q", r.err, r.out)
	}
	r = run(t, m.URL, "", false, "stop", "prod.reports.daily", "manual-9")
	if r.err == nil || r.err.Error() != "run manual-9 of job prod.reports.daily cannot be stopped: run manual-9 of job prod.reports.daily has already ended (FAILED) (see cairn job history prod.reports.daily)" {
		t.Errorf("ended: %v", r.err)
	}
	r = run(t, m.URL, "", false, "stop", "prod.reports.daily", "nope")
	if r.err == nil || r.err.Error() != "job prod.reports.daily has no run nope (see its active runs with cairn job show prod.reports.daily)" {
		t.Errorf("unknown run: %v", r.err)
	}
	r = run(t, m.URL, "", false, "stop", "nope", "r1")
	if r.err == nil || r.err.Error() != "job nope does not exist (see cairn job list)" {
		t.Errorf("unknown job: %v", r.err)
	}
	for _, args := range [][]string{{"stop"}, {"stop", "a", "b", "c"}, {"stop", "a", "x/y"}, {"stop", "A", "r"}} {
		if r := run(t, m.URL, "", false, args...); !cmdutil.IsUsageError(r.err) {
			t.Errorf("%q: %v, want a usage error", args, r.err)
		}
	}
}

func TestStopAll(t *testing.T) {
	m := newFakeCron(t)
	second := activeRun()
	second.ID, second.Trigger, second.Status = "20260301T115900Z-nightly", "schedule:nightly", cronapi.RunStarting
	m.put(reportJob(), reportHistory(), activeRun(), second)
	r := run(t, m.URL, "", false, "stop", "prod.reports.daily")
	if !cmdutil.IsUsageError(r.err) || !strings.Contains(r.err.Error(), "pass --yes") || len(m.Requests()) != 0 {
		t.Errorf("no terminal: %v %q", r.err, m.Requests())
	}
	r = run(t, m.URL, "n\n", true, "stop", "prod.reports.daily")
	want := "Run manual-9 (manual, ACTIVE) will be stopped.\nRun 20260301T115900Z-nightly (schedule:nightly, STARTING) will be stopped.\n" +
		"Stop 2 runs of job prod.reports.daily? [y/N] "
	if r.err == nil || r.err.Error() != "cancelled: no run of job prod.reports.daily stopped" || r.errOut != want {
		t.Errorf("no: %v %q", r.err, r.errOut)
	}
	r = run(t, m.URL, "", false, "stop", "prod.reports.daily", "--yes")
	if r.err != nil || r.out != "Stopped run manual-9 of job prod.reports.daily (FAILED: stopped by request)\n"+
		"Stopped run 20260301T115900Z-nightly of job prod.reports.daily (FAILED: stopped by request)\n" {
		t.Errorf("--yes: %v %q", r.err, r.out)
	}
	r = run(t, m.URL, "", false, "stop", "prod.reports.daily", "--yes")
	if r.err != nil || r.out != "Job prod.reports.daily has no active runs.\n" {
		t.Errorf("none: %v %q", r.err, r.out)
	}
}

func TestStopAllPartialFailure(t *testing.T) {
	m := newFakeCron(t)
	m.put(reportJob(), reportHistory(), activeRun())
	m.override["POST /v1/jobs/prod.reports.daily/runs/manual-9/actions/stop"] = fakeAnswer{409, cronapi.Error{Message: "run manual-9 has already ended (SUCCESS)"}}
	r := run(t, m.URL, "", false, "stop", "prod.reports.daily", "--yes")
	if r.err == nil || r.err.Error() != "1 of the 1 run of job prod.reports.daily could not be stopped (see above)" ||
		!strings.HasPrefix(r.errOut, "Warning: run manual-9 of job prod.reports.daily cannot be stopped: run manual-9 has already ended (SUCCESS)") {
		t.Errorf("partial: %v %q", r.err, r.errOut)
	}
}
