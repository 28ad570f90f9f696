package job

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

func TestList(t *testing.T) {
	m := newFakeCron(t)
	r := run(t, m.URL, "", false, "list")
	if r.err != nil || r.out != "No jobs (add one with cairn job add FILE).\n" {
		t.Errorf("empty: %v %q", r.err, r.out)
	}
	m.put(reportJob(), reportHistory(), activeRun())
	m.put(cronapi.Job{ID: "prod.reports.mail", Run: cronapi.JobRun{Cmd: "mail"}, Parents: []string{"prod.reports.daily", "prod.sales"}},
		cronapi.History{HistorySummary: cronapi.HistorySummary{FailureCount: 1, LastFailureAt: at(-90 * time.Second)}})
	m.put(cronapi.Job{ID: "ops.every-minute", Run: cronapi.JobRun{Cmd: "date"},
		Schedules: []cronapi.Schedule{{ID: "every-minute", Cron: "* * * * *"}}}, cronapi.History{})
	m.put(cronapi.Job{ID: "adhoc", Run: cronapi.JobRun{Cmd: "true"}}, cronapi.History{})
	r = run(t, m.URL, "", false, "list")
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := "" +
		"ID                   SCHEDULES                                                      STATUS     LAST RUN         NEXT RUN\n" +
		"adhoc                -                                                              idle       -                -\n" +
		"ops.every-minute     every-minute: * * * * * UTC                                    idle       -                in 1m\n" +
		"prod.reports.daily   nightly: 0 2 * * * Europe/Paris, paused: R/2026-01-01T00:00…   1 active   SUCCESS 9h ago   in 1m\n" +
		"prod.reports.mail    after prod.reports.daily, prod.sales                           idle       FAILED 1m ago    -\n"
	if r.out != want {
		t.Errorf("table:\n%s\nwant:\n%s", r.out, want)
	}
	if reqs := m.Requests(); reqs[len(reqs)-1] != "GET /v1/jobs?embed=activeRuns%2Cschedules%2ChistorySummary" {
		t.Errorf("one call with the embeds: %q", reqs)
	}

	r = run(t, m.URL, "", false, "list", "--json")
	var got []cronapi.Job
	if err := json.Unmarshal([]byte(r.out), &got); err != nil || len(got) != 4 || got[0].ID != "adhoc" || got[2].HistorySummary.SuccessCount != 12 ||
		len(got[2].ActiveRuns) != 1 || got[2].Schedules[0].NextRunAt == nil {
		t.Errorf("--json: %v %q", err, r.out)
	}
	if r := run(t, m.URL, "", false, "list", "x"); !cmdutil.IsUsageError(r.err) {
		t.Errorf("argument: %v", r.err)
	}
}

func TestLastRunAndRelative(t *testing.T) {
	if got := lastRun(&cronapi.HistorySummary{LastSuccessAt: at(-time.Hour), LastFailureAt: at(-time.Minute)}, testNow); got != "FAILED 1m ago" {
		t.Errorf("failure last: %q", got)
	}
	if got := lastRun(&cronapi.HistorySummary{}, testNow); got != "" {
		t.Errorf("never: %q", got)
	}
	for d, want := range map[time.Duration]string{42 * time.Second: "in 42s", -3 * time.Minute: "3m ago", 0: "now", 500 * time.Millisecond: "now", 50 * time.Hour: "in 2d"} {
		if got := relative(testNow.Add(d), testNow); got != want {
			t.Errorf("relative(%v) = %q, want %q", d, got, want)
		}
	}
	for d, want := range map[time.Duration]string{0: "0s", 42 * time.Second: "42s", 90 * time.Second: "1m30s", 2 * time.Hour: "2h", 3*time.Hour + 5*time.Minute: "3h5m", 76 * time.Hour: "3d4h", -time.Second: "0s"} {
		if got := duration(d); got != want {
			t.Errorf("duration(%v) = %q, want %q", d, got, want)
		}
	}
}
