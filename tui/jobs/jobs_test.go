package jobs

import (
	"slices"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui/internal/pagetest"
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

func newCluster(t *testing.T) *pagetest.Master {
	m := pagetest.NewMaster(t)
	m.SetFrameworks()
	m.Set("GET", "/service/cron/v1/jobs", 200, jobsJSON)
	m.Set("GET", "/service/cron/v1/jobs/reports.daily", 200, reportJSON)
	m.Set("POST", "/service/cron/v1/jobs/reports.daily/runs", 201, `{"id":"manual-02","jobId":"reports.daily","status":"INITIAL","trigger":"manual","createdAt":"2026-03-01T12:00:00Z","tasks":[]}`)
	m.Set("POST", "/service/cron/v1/jobs/reports.daily/runs/manual-01/actions/stop", 200, `{"id":"manual-01","jobId":"reports.daily","status":"FAILED","trigger":"manual","createdAt":"2026-03-01T11:58:00Z","tasks":[]}`)
	return m
}

// started is a driver whose page has loaded the jobs, the selection on
// reports.daily (the jobs are sorted by id).
func started(t *testing.T, m *pagetest.Master) *pagetest.Driver[*page] {
	d := newDriver(t, m)
	d.Run(d.P.Init())
	d.Send(pagetest.Subscribed(pagetest.Frameworks()...))
	d.Fire()
	if !d.P.loaded || len(d.P.jobs) != 3 {
		t.Fatalf("jobs not loaded: err %v, %d jobs", d.P.err, len(d.P.jobs))
	}
	d.Keys("G")
	m.Took()
	d.Timers = nil
	return d
}

func TestListGolden(t *testing.T) {
	pagetest.RenderGolden(t, started(t, newCluster(t)).P)
}

func TestDetailGolden(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.Keys("enter")
	if got := m.Took(); !slices.Contains(got, "GET /service/cron/v1/jobs/reports.daily?embed=history%2CactiveRuns%2Cschedules") {
		t.Fatalf("enter fetched %q", got)
	}
	d.Keys("down")
	pagetest.RenderGolden(t, d.P)
}

func TestCronNotRunning(t *testing.T) {
	m := pagetest.NewMaster(t)
	m.Set("GET", "/v1/frameworks", 200, []protocol.Framework{{ID: pagetest.ServicesID, Name: "services", Connected: true, WebuiURL: "http://x"}})
	d := newDriver(t, m)
	d.Run(d.P.Init())
	if out := d.P.Render(80, 24); !strings.Contains(out, "the cron framework is not running: cairn package install cron") {
		t.Errorf("without cron the page shows %q", out)
	}
	pagetest.RenderGolden(t, d.P)

	// cron connects: the page looks again
	d.Send(pagetest.Subscribed(pagetest.Frameworks()[0]))
	d.Fire()
	m.Set("GET", "/service/cron/v1/jobs", 200, jobsJSON)
	d.Send(view.EventMsg{Event: protocol.ClusterEvent{Type: protocol.EvFrameworkAdded, Framework: &pagetest.Frameworks()[1]}})
	d.Fire()
	if len(d.P.jobs) != 3 || d.P.err != nil {
		t.Errorf("after cron connected: %d jobs, err %v", len(d.P.jobs), d.P.err)
	}
}

func TestRunNowPosts(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.Keys("r")
	got := m.Took()
	if !slices.Contains(got, "POST /service/cron/v1/jobs/reports.daily/runs") {
		t.Fatalf("r sent %q, want POST .../runs", got)
	}
	if len(d.Flashes) != 1 || d.Flashes[0].Text != "started run manual-02 of job reports.daily" {
		t.Errorf("flashes %+v", d.Flashes)
	}
	if !slices.ContainsFunc(got, func(r string) bool { return strings.HasPrefix(r, "GET /service/cron/v1/jobs?") }) {
		t.Errorf("no refetch after the run started: %q", got)
	}
}

func TestStopOnlyAfterConfirm(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.Keys("x")
	if n := m.Count("POST"); n != 0 {
		t.Fatalf("x stopped before the confirmation (%d POSTs)", n)
	}
	if len(d.Confirms) != 1 || !strings.Contains(d.Confirms[0].Prompt, "Stop run manual-01 of job reports.daily") {
		t.Fatalf("confirms %+v", d.Confirms)
	}
	d.Run(d.Confirms[0].Yes)
	if got := m.Took(); !slices.Contains(got, "POST /service/cron/v1/jobs/reports.daily/runs/manual-01/actions/stop") {
		t.Errorf("yes sent %q", got)
	}
}

func TestStopNeedsAnActiveRun(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.Keys("up", "x") // etl.load: idle
	if len(d.Confirms) != 0 || len(d.Flashes) != 1 || d.Flashes[0].Err == nil {
		t.Fatalf("x on an idle job: confirms %+v, flashes %+v", d.Confirms, d.Flashes)
	}
	d.Keys("down", "enter", "down", "x") // a finished run of reports.daily
	if len(d.Confirms) != 0 || len(d.Flashes) != 2 {
		t.Fatalf("x on a finished run: confirms %+v, flashes %+v", d.Confirms, d.Flashes)
	}
	if n := m.Count("POST"); n != 0 {
		t.Errorf("%d POSTs", n)
	}
}

func TestOpenRunLog(t *testing.T) {
	d := started(t, newCluster(t))
	d.Keys("enter", "l")
	if len(d.Logs) != 1 {
		t.Fatalf("l opened %d logs (flashes %+v)", len(d.Logs), d.Flashes)
	}
	task := d.Logs[0].Task
	if task.ID != "reports.daily.manual-01.1" || task.AgentID != "A1" || task.FrameworkID != pagetest.CronID || d.Logs[0].Stderr {
		t.Errorf("log of %+v", task)
	}
}

// TestOpenEndedRunLog: a finished run names its task only; the master
// tells where it ran.
func TestOpenEndedRunLog(t *testing.T) {
	m := newCluster(t)
	m.Set("GET", "/v1/tasks", 200, []protocol.Task{
		{ID: "reports.daily.manual-01.1", FrameworkID: pagetest.CronID, AgentID: "A1", State: protocol.TaskRunning},
		{ID: "reports.daily.daily-20260301.1", FrameworkID: pagetest.CronID, AgentID: "A2", State: protocol.TaskFailed},
	})
	d := started(t, m)
	d.Keys("enter", "down", "L")
	if len(d.Logs) != 1 {
		t.Fatalf("L opened %d logs (flashes %+v)", len(d.Logs), d.Flashes)
	}
	if task := d.Logs[0].Task; task.ID != "reports.daily.daily-20260301.1" || task.AgentID != "A2" || !d.Logs[0].Stderr {
		t.Errorf("log of %+v (stderr %v)", task, d.Logs[0].Stderr)
	}
	if got := m.Took(); !slices.Contains(got, "GET /v1/tasks?framework_id="+string(pagetest.CronID)) {
		t.Errorf("requests %q", got)
	}
	// The master has forgotten the older run's task.
	d.Keys("down", "l")
	if len(d.Logs) != 1 || len(d.Flashes) == 0 || !strings.Contains(d.Flashes[len(d.Flashes)-1].Err.Error(), "no longer knows its task reports.daily.daily-20260228.1") {
		t.Errorf("logs %d, flashes %+v", len(d.Logs), d.Flashes)
	}
}

func TestCronEventsRefetch(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.Send(view.EventMsg{Event: protocol.ClusterEvent{Type: protocol.EvTaskUpdated, Task: &protocol.Task{ID: "web.1", FrameworkID: pagetest.ServicesID}}})
	if len(d.Timers) != 0 {
		t.Fatalf("a services task armed %d timers", len(d.Timers))
	}
	for range 3 {
		d.Send(view.EventMsg{Event: protocol.ClusterEvent{Type: protocol.EvTaskUpdated, Task: &protocol.Task{ID: "reports.daily.x.1", FrameworkID: pagetest.CronID}}})
	}
	if len(d.Timers) != 1 {
		t.Fatalf("3 cron task events armed %d timers, want 1", len(d.Timers))
	}
	d.Fire()
	if n := m.Count("GET /service/cron/v1/jobs?"); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}

// newDriver drives the page against m, its timers kept for the test to
// fire.
func newDriver(t *testing.T, m *pagetest.Master) *pagetest.Driver[*page] {
	p := New(pagetest.Env(t, m)).(*page)
	p.after = pagetest.After
	return pagetest.NewDriver(t, p)
}
