package job

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

func TestUpdate(t *testing.T) {
	m := newFakeCron(t)
	m.put(reportJob(), cronapi.History{})
	// Without schedules: the job's stay.
	r := run(t, m.URL, `{"id": "prod.reports.daily", "description": "v2", "run": {"cmd": "./report2.sh", "mem": 512}}`, false, "update", "-")
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := "Updated job prod.reports.daily\n" +
		"  schedule nightly (0 2 * * * Europe/Paris): next run 2026-03-01T12:01:00Z (in 1m)\n" +
		"  schedule paused (R/2026-01-01T00:00:00Z/PT6H): disabled\n"
	if r.out != want {
		t.Errorf("out:\n%s\nwant:\n%s", r.out, want)
	}
	j, _ := m.job("prod.reports.daily")
	if j.Description != "v2" || j.Run.Cmd != "./report2.sh" || j.Run.Mem != 512 || len(j.Schedules) != 2 {
		t.Errorf("stored %+v", j)
	}
	if reqs := m.Requests(); len(reqs) != 1 || reqs[0] != "PUT /v1/jobs/prod.reports.daily" {
		t.Errorf("requests %q", reqs)
	}

	// show --json | update -: what show prints goes back as it is.
	r = run(t, m.URL, "", false, "show", "prod.reports.daily", "--json")
	if r.err != nil {
		t.Fatal(r.err)
	}
	shown := strings.Replace(r.out, `"v2"`, `"v3"`, 1)
	r = run(t, m.URL, shown, false, "update", "-", "--json")
	var got cronapi.Job
	if r.err != nil || json.Unmarshal([]byte(r.out), &got) != nil || got.Description != "v3" || len(got.Schedules) != 2 {
		t.Errorf("round trip: %v %q", r.err, r.out)
	}
}

func TestUpdateErrors(t *testing.T) {
	m := newFakeCron(t)
	file := writeFile(t, "nope.json", `{"id": "nope", "run": {"cmd": "x"}}`)
	r := run(t, m.URL, "", false, "update", file)
	if r.err == nil || r.err.Error() != "job nope does not exist: add it with cairn job add "+file {
		t.Errorf("unknown job: %v", r.err)
	}
	m.put(reportJob(), cronapi.History{})
	r = run(t, m.URL, `{"id": "prod.reports.daily", "run": {"cmd": "x", "cpus": -2}}`, false, "update", "-")
	if r.err == nil || r.err.Error() != "invalid job prod.reports.daily (1 problem above): correct the job in the standard input and update it again" ||
		r.errOut != "The job in the standard input is not valid:\n  /run/cpus: must be more than 0\n" {
		t.Errorf("422: %v %q", r.err, r.errOut)
	}
	r = run(t, m.URL, `{"id": "prod.reports.daily", "run": {"cmd": "x"}, "bogus": 1}`, false, "update", "-")
	if r.err == nil || !strings.Contains(r.err.Error(), `has an unknown field "bogus" at line 1, column 51`) {
		t.Errorf("unknown field: %v", r.err)
	}
	if r := run(t, m.URL, "", false, "update"); !cmdutil.IsUsageError(r.err) {
		t.Errorf("no file: %v", r.err)
	}
}
