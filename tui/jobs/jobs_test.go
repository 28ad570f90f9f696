package jobs

import (
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui/view"
)

// The tests' clock is 2026-03-01T12:00:00Z.
const jobsJSON = `[
 {"id":"reports.daily","run":{"cmd":"./report --all","cpus":0.5,"mem":256,"disk":0},
  "schedules":[{"id":"daily","cron":"0 2 * * *","timezone":"Europe/Paris","nextRunAt":"2026-03-02T01:00:00Z"}],
  "historySummary":{"successCount":4,"failureCount":1,"skippedCount":0,"lastSuccessAt":"2026-02-28T01:00:00Z","lastFailureAt":"2026-03-01T01:00:30Z"},
  "activeRuns":[{"id":"manual-01","jobId":"reports.daily","status":"ACTIVE","trigger":"manual","createdAt":"2026-03-01T11:58:00Z",
    "tasks":[{"id":"reports.daily.manual-01.1","status":"TASK_RUNNING","agentId":"A1","startedAt":"2026-03-01T11:58:02Z"}]}]},
 {"id":"backup.nightly","run":{"cmd":"backup /data","cpus":1,"mem":512,"disk":0},
  "schedules":[{"id":"nightly","cron":"30 23 * * *","nextRunAt":"2026-03-01T23:30:00Z"},{"id":"noon","cron":"0 12 * * *","enabled":false}],
  "historySummary":{"successCount":9,"failureCount":0,"skippedCount":1,"lastSuccessAt":"2026-02-28T23:31:00Z"}},
 {"id":"etl.load","run":{"cmd":"load","cpus":1,"mem":128,"disk":0},"parents":["backup.nightly"],
  "historySummary":{"successCount":0,"failureCount":0,"skippedCount":0}}
]`

const reportJSON = `{"id":"reports.daily","description":"The daily reports, mailed at 2 in the morning.","run":{"cmd":"./report --all","cpus":0.5,"mem":256,"disk":0},
  "schedules":[{"id":"daily","cron":"0 2 * * *","timezone":"Europe/Paris","nextRunAt":"2026-03-02T01:00:00Z"}],
  "history":{"successCount":4,"failureCount":1,"skippedCount":0,"lastSuccessAt":"2026-02-28T01:00:00Z","lastFailureAt":"2026-03-01T01:00:30Z",
   "successfulFinishedRuns":[{"id":"daily-20260228","trigger":"schedule:daily","createdAt":"2026-02-28T01:00:00Z","finishedAt":"2026-02-28T01:04:10Z","tasks":["reports.daily.daily-20260228.1"],"exitCode":0}],
   "failedFinishedRuns":[{"id":"daily-20260301","trigger":"schedule:daily","createdAt":"2026-03-01T01:00:00Z","finishedAt":"2026-03-01T01:00:30Z","tasks":["reports.daily.daily-20260301.1"],"exitCode":3}],
   "skippedRuns":[]},
  "activeRuns":[{"id":"manual-01","jobId":"reports.daily","status":"ACTIVE","trigger":"manual","createdAt":"2026-03-01T11:58:00Z",
    "tasks":[{"id":"reports.daily.manual-01.1","status":"TASK_RUNNING","agentId":"A1","startedAt":"2026-03-01T11:58:02Z"}]}]}`

func newCluster(t *testing.T) *fakeMaster {
	m := newFakeMaster(t)
	m.set("GET", "/v1/frameworks", 200, []protocol.Framework{
		{ID: servicesID, Name: "services", Connected: true, WebuiURL: "http://10.0.0.1:8080"},
		{ID: cronID, Name: "cron", Connected: true, WebuiURL: "http://10.0.0.1:8081"},
	})
	m.set("GET", "/service/cron/v1/jobs", 200, jobsJSON)
	m.set("GET", "/service/cron/v1/jobs/reports.daily", 200, reportJSON)
	m.set("POST", "/service/cron/v1/jobs/reports.daily/runs", 201, `{"id":"manual-02","jobId":"reports.daily","status":"INITIAL","trigger":"manual","createdAt":"2026-03-01T12:00:00Z","tasks":[]}`)
	m.set("POST", "/service/cron/v1/jobs/reports.daily/runs/manual-01/actions/stop", 200, `{"id":"manual-01","jobId":"reports.daily","status":"FAILED","trigger":"manual","createdAt":"2026-03-01T11:58:00Z","tasks":[]}`)
	return m
}

func subscribed(fws ...protocol.Framework) view.EventMsg {
	return view.EventMsg{Event: protocol.ClusterEvent{Type: protocol.EvSubscribed, State: &protocol.State{Frameworks: fws}}}
}

var bothFrameworks = []protocol.Framework{{ID: servicesID, Name: "services", Connected: true}, {ID: cronID, Name: "cron", Connected: true}}

// started is a driver whose page has loaded the jobs, the selection on
// reports.daily (the jobs are sorted by id).
func started(t *testing.T, m *fakeMaster) *driver {
	d := newDriver(t, m)
	d.run(d.p.Init())
	d.send(subscribed(bothFrameworks...))
	d.fire()
	if !d.p.loaded || len(d.p.jobs) != 3 {
		t.Fatalf("jobs not loaded: err %v, %d jobs", d.p.err, len(d.p.jobs))
	}
	d.keys("G")
	m.took()
	d.timers = nil
	return d
}

func renderGolden(t *testing.T, d *driver) {
	t.Helper()
	for _, size := range []struct {
		name          string
		width, height int
	}{{"80x24", 80, 24}, {"160x48", 160, 48}} {
		t.Run(size.name, func(t *testing.T) {
			out := d.p.Render(size.width, size.height)
			checkSize(t, out, size.width, size.height)
			golden.RequireEqual(t, out)
		})
	}
}

func TestListGolden(t *testing.T) {
	renderGolden(t, started(t, newCluster(t)))
}

func TestDetailGolden(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.keys("enter")
	if got := m.took(); !slices.Contains(got, "GET /service/cron/v1/jobs/reports.daily?embed=history%2CactiveRuns%2Cschedules") {
		t.Fatalf("enter fetched %q", got)
	}
	d.keys("down")
	renderGolden(t, d)
}

func TestCronNotRunning(t *testing.T) {
	m := newFakeMaster(t)
	m.set("GET", "/v1/frameworks", 200, []protocol.Framework{{ID: servicesID, Name: "services", Connected: true, WebuiURL: "http://x"}})
	d := newDriver(t, m)
	d.run(d.p.Init())
	if out := d.p.Render(80, 24); !strings.Contains(out, "the cron framework is not running: cairn package install cron") {
		t.Errorf("without cron the page shows %q", out)
	}
	renderGolden(t, d)

	// cron connects: the page looks again
	d.send(subscribed(bothFrameworks[0]))
	d.fire()
	m.set("GET", "/service/cron/v1/jobs", 200, jobsJSON)
	d.send(view.EventMsg{Event: protocol.ClusterEvent{Type: protocol.EvFrameworkAdded, Framework: &bothFrameworks[1]}})
	d.fire()
	if len(d.p.jobs) != 3 || d.p.err != nil {
		t.Errorf("after cron connected: %d jobs, err %v", len(d.p.jobs), d.p.err)
	}
}

func TestRunNowPosts(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.keys("r")
	got := m.took()
	if !slices.Contains(got, "POST /service/cron/v1/jobs/reports.daily/runs") {
		t.Fatalf("r sent %q, want POST .../runs", got)
	}
	if len(d.flashes) != 1 || d.flashes[0].Text != "started run manual-02 of job reports.daily" {
		t.Errorf("flashes %+v", d.flashes)
	}
	if !slices.ContainsFunc(got, func(r string) bool { return strings.HasPrefix(r, "GET /service/cron/v1/jobs?") }) {
		t.Errorf("no refetch after the run started: %q", got)
	}
}

func TestStopOnlyAfterConfirm(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.keys("x")
	if n := m.count("POST"); n != 0 {
		t.Fatalf("x stopped before the confirmation (%d POSTs)", n)
	}
	if len(d.confirms) != 1 || !strings.Contains(d.confirms[0].Prompt, "Stop run manual-01 of job reports.daily") {
		t.Fatalf("confirms %+v", d.confirms)
	}
	d.run(d.confirms[0].Yes)
	if got := m.took(); !slices.Contains(got, "POST /service/cron/v1/jobs/reports.daily/runs/manual-01/actions/stop") {
		t.Errorf("yes sent %q", got)
	}
}

func TestStopNeedsAnActiveRun(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.keys("up", "x") // etl.load: idle
	if len(d.confirms) != 0 || len(d.flashes) != 1 || d.flashes[0].Err == nil {
		t.Fatalf("x on an idle job: confirms %+v, flashes %+v", d.confirms, d.flashes)
	}
	d.keys("down", "enter", "down", "x") // a finished run of reports.daily
	if len(d.confirms) != 0 || len(d.flashes) != 2 {
		t.Fatalf("x on a finished run: confirms %+v, flashes %+v", d.confirms, d.flashes)
	}
	if n := m.count("POST"); n != 0 {
		t.Errorf("%d POSTs", n)
	}
}

func TestOpenRunLog(t *testing.T) {
	d := started(t, newCluster(t))
	d.keys("enter", "l")
	if len(d.logs) != 1 {
		t.Fatalf("l opened %d logs (flashes %+v)", len(d.logs), d.flashes)
	}
	task := d.logs[0].Task
	if task.ID != "reports.daily.manual-01.1" || task.AgentID != "A1" || task.FrameworkID != cronID || d.logs[0].Stderr {
		t.Errorf("log of %+v", task)
	}
}

func TestCronEventsRefetch(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.send(view.EventMsg{Event: protocol.ClusterEvent{Type: protocol.EvTaskUpdated, Task: &protocol.Task{ID: "web.1", FrameworkID: servicesID}}})
	if len(d.timers) != 0 {
		t.Fatalf("a services task armed %d timers", len(d.timers))
	}
	for range 3 {
		d.send(view.EventMsg{Event: protocol.ClusterEvent{Type: protocol.EvTaskUpdated, Task: &protocol.Task{ID: "reports.daily.x.1", FrameworkID: cronID}}})
	}
	if len(d.timers) != 1 {
		t.Fatalf("3 cron task events armed %d timers, want 1", len(d.timers))
	}
	d.fire()
	if n := m.count("GET /service/cron/v1/jobs?"); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}
