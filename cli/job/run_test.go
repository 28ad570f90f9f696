package job

import (
	"errors"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

func TestRunPrintsID(t *testing.T) {
	m := newFakeCron(t)
	m.put(reportJob(), cronapi.History{})
	r := run(t, m.URL, "", false, "run", "prod.reports.daily")
	if r.err != nil || r.out != "manual-1\n" || r.errOut != "" {
		t.Errorf("run: %v %q %q", r.err, r.out, r.errOut)
	}
	if reqs := m.Requests(); len(reqs) != 1 || reqs[0] != "POST /v1/jobs/prod.reports.daily/runs" {
		t.Errorf("requests %q", reqs)
	}
	r = run(t, m.URL, "", false, "run", "nope")
	if r.err == nil || r.err.Error() != "job nope does not exist (see cairn job list)" {
		t.Errorf("unknown: %v", r.err)
	}
	m.override["POST /v1/jobs/prod.reports.daily/runs"] = fakeAnswer{409, cronapi.Error{Message: "the framework is shutting down"}}
	r = run(t, m.URL, "", false, "run", "prod.reports.daily")
	if r.err == nil || r.err.Error() != "job prod.reports.daily cannot run now: the framework is shutting down" {
		t.Errorf("409: %v", r.err)
	}
	if r := run(t, m.URL, "", false, "run"); !cmdutil.IsUsageError(r.err) {
		t.Errorf("no id: %v", r.err)
	}
}

func TestRunWait(t *testing.T) {
	for _, tc := range []struct {
		name     string
		script   []string
		terminal bool
		wantOut  string
		wantErr  string
	}{
		{name: "success", script: []string{cronapi.RunStarting, cronapi.RunActive, cronapi.RunSuccess},
			wantOut: "manual-1\nRun manual-1 of job prod.reports.daily succeeded after 42s\n"},
		{name: "failure", script: []string{cronapi.RunActive, cronapi.RunFailed},
			wantOut: "manual-1\n",
			wantErr: "run manual-1 of job prod.reports.daily failed after 42s: the report had no data; exit code 3 (see cairn job history prod.reports.daily)"},
		{name: "success on a terminal", script: []string{cronapi.RunStarting, cronapi.RunActive, cronapi.RunSuccess}, terminal: true,
			wantOut: "manual-1\nRun manual-1 of job prod.reports.daily succeeded after 42s\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newFakeCron(t)
			m.put(reportJob(), cronapi.History{})
			m.script, m.failMessage = tc.script, "the report had no data"
			r := run(t, m.URL, "", tc.terminal, "run", "prod.reports.daily", "--wait")
			if r.out != tc.wantOut {
				t.Errorf("out %q, want %q", r.out, tc.wantOut)
			}
			if tc.terminal {
				// Progress on the terminal, erased at the end.
				if !strings.Contains(r.errOut, "run manual-1: STARTING, task TASK_RUNNING on agent-1\r") ||
					!strings.Contains(r.errOut, "run manual-1: ACTIVE") || !strings.HasSuffix(r.errOut, "\r\x1b[K") {
					t.Errorf("progress %q", r.errOut)
				}
			} else if r.errOut != "" {
				t.Errorf("stderr %q: no progress off a terminal", r.errOut)
			}
			var ece *cmdutil.ExitCodeError
			if tc.wantErr == "" {
				if r.err != nil {
					t.Fatal(r.err)
				}
				return
			}
			if !errors.As(r.err, &ece) || ece.Code != 1 || r.err.Error() != tc.wantErr {
				t.Errorf("error %#v (%v), want exit code 1 and %q", r.err, r.err, tc.wantErr)
			}
			// The run polled until it ended: 1 GET per step.
			gets := 0
			for _, req := range m.Requests() {
				if req == "GET /v1/jobs/prod.reports.daily/runs/manual-1" {
					gets++
				}
			}
			if gets != len(tc.script) {
				t.Errorf("%d GETs of the run, want %d", gets, len(tc.script))
			}
		})
	}
}

func TestRunWaitFrameworkGone(t *testing.T) {
	m := newFakeCron(t)
	m.put(reportJob(), cronapi.History{})
	m.script = []string{cronapi.RunActive, cronapi.RunActive, cronapi.RunActive}
	m.override["GET /v1/jobs/prod.reports.daily/runs/manual-1"] = fakeAnswer{404, cronapi.Error{Message: "Run 'manual-1' of job 'prod.reports.daily' does not exist"}}
	r := run(t, m.URL, "", false, "run", "prod.reports.daily", "--wait")
	if r.err == nil || !strings.HasPrefix(r.err.Error(), "following run manual-1 of job prod.reports.daily: Run 'manual-1'") {
		t.Errorf("404: %v", r.err)
	}
	var ece *cmdutil.ExitCodeError
	if errors.As(r.err, &ece) {
		t.Error("an error following the run is not the run's failure")
	}
}
