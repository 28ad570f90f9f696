package apps

import (
	"slices"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui/internal/pagetest"
	"github.com/cairn-dc/cairn/tui/internal/ui"
)

const appsJSON = `{"apps":[
 {"id":"/web","cmd":"./server --port $PORT0 --static /srv/www --workers 4","instances":3,"cpus":0.5,"mem":128,
  "healthChecks":[{"protocol":"HTTP","path":"/health"}],"labels":{},"portDefinitions":[{"port":0}],
  "tasksStaged":1,"tasksRunning":2,"tasksHealthy":2,"tasksUnhealthy":0,"deployments":[{"id":"d-5f2a"}],"version":"2026-03-01T11:55:00.000Z"},
 {"id":"/db","cmd":"postgres -D /data","instances":1,"cpus":1,"mem":1024,"labels":{},"portDefinitions":[],
  "tasksStaged":0,"tasksRunning":1,"tasksHealthy":0,"tasksUnhealthy":0,"deployments":[],"version":"2026-02-28T12:00:00.000Z"}
]}`

const deploymentsJSON = `[{"id":"d-5f2a","version":"2026-03-01T11:55:00.000Z","affectedApps":["/web"],"steps":[],
 "currentActions":[{"action":"ScaleApplication","app":"/web"}],"currentStep":1,"totalSteps":1}]`

const webJSON = `{"app":{"id":"/web","cmd":"./server --port $PORT0 --static /srv/www --workers 4","instances":3,"cpus":0.5,"mem":128,
  "healthChecks":[{"protocol":"HTTP","path":"/health"}],"labels":{},"portDefinitions":[{"port":0}],
  "tasksStaged":1,"tasksRunning":2,"tasksHealthy":2,"tasksUnhealthy":0,"deployments":[{"id":"d-5f2a"}],"version":"2026-03-01T11:55:00.000Z",
  "lastTaskFailure":{"appId":"/web","host":"node-2","message":"exited with status 137","state":"TASK_FAILED","taskId":"web.0a1","timestamp":"2026-03-01T11:50:00.000Z","version":"x","slaveId":"A2"},
  "tasks":[
   {"id":"web.3f9c1e","appId":"/web","host":"node-1","ipAddresses":[],"ports":[31002],"servicePorts":[],"slaveId":"A1","startedAt":"2026-03-01T11:56:00.000Z","version":"v","state":"TASK_RUNNING","healthCheckResults":[{"alive":true,"consecutiveFailures":0,"taskId":"web.3f9c1e"}]},
   {"id":"web.77b2d0","appId":"/web","host":"node-2","ipAddresses":[],"ports":[31007],"servicePorts":[],"slaveId":"A2","startedAt":"2026-03-01T10:00:00.000Z","version":"v","state":"TASK_RUNNING","healthCheckResults":[{"alive":true,"consecutiveFailures":0,"taskId":"web.77b2d0"}]},
   {"id":"web.9e0c44","appId":"/web","host":"node-3","ipAddresses":[],"ports":[],"servicePorts":[],"slaveId":"A3","version":"v","state":"TASK_STAGING"}
  ]}}`

// newCluster is a master whose services framework has two apps.
func newCluster(t *testing.T) *pagetest.Master {
	m := pagetest.NewMaster(t)
	m.SetFrameworks()
	m.Set("GET", "/service/services/v2/apps", 200, appsJSON)
	m.Set("GET", "/service/services/v2/deployments", 200, deploymentsJSON)
	m.Set("GET", "/service/services/v2/apps/web", 200, webJSON)
	m.Set("PUT", "/service/services/v2/apps/web", 200, `{"deploymentId":"d-77","version":"v2"}`)
	m.Set("POST", "/service/services/v2/apps/web/restart", 200, `{"deploymentId":"d-78","version":"v3"}`)
	return m
}

// started is a driver whose page has loaded the apps.
func started(t *testing.T, m *pagetest.Master) *pagetest.Driver[*page] {
	d := newDriver(t, m)
	d.Run(d.P.Init())
	d.Send(pagetest.Subscribed(pagetest.Frameworks()...))
	d.Fire()
	if !d.P.loaded || len(d.P.apps) != 2 {
		t.Fatalf("apps not loaded: err %v, %d apps", d.P.err, len(d.P.apps))
	}
	m.Took()
	return d
}

func TestListGolden(t *testing.T) {
	d := started(t, newCluster(t))
	d.Keys("down") // the selection moves to /web (apps are sorted by id)
	pagetest.RenderGolden(t, d.P)
}

func TestDetailGolden(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.Keys("down", "enter")
	if got := m.Took(); !slices.Contains(got, "GET /service/services/v2/apps/web") {
		t.Fatalf("enter did not fetch the app: %q", got)
	}
	d.Keys("down")
	pagetest.RenderGolden(t, d.P)
}

func TestLoadingAndErrors(t *testing.T) {
	m := pagetest.NewMaster(t)
	m.Set("GET", "/v1/frameworks", 200, []protocol.Framework{})
	d := newDriver(t, m)
	if out := d.P.Render(80, 24); !strings.Contains(out, "Loading") {
		t.Errorf("before the first answer the page shows %q, want Loading", out)
	}
	d.Run(d.P.Init())
	out := d.P.Render(80, 24)
	if !strings.Contains(out, "the services framework is not running: it starts with cairn up") {
		t.Errorf("without a services framework the page shows %q", out)
	}
	pagetest.RenderGolden(t, d.P)
}

func TestScaleSendsInstances(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.Keys("down", "s")
	if !d.P.Capturing() {
		t.Fatal("the scale input does not capture keys")
	}
	d.Keys("backspace")
	d.TypeText("x")
	d.Keys("enter")
	if d.P.inputErr == "" || !d.P.Capturing() {
		t.Fatalf("scale accepted %q", d.P.scale.input.Value())
	}
	if n := m.Count("PUT"); n != 0 {
		t.Fatalf("an invalid count sent %d requests", n)
	}
	out := d.P.Render(80, 24)
	if !strings.Contains(out, `"x" is not a number of instances`) {
		t.Errorf("the input's error is not shown: %q", out)
	}
	d.Keys("backspace", "5", "enter")
	if d.P.Capturing() {
		t.Fatal("the input still captures after enter")
	}
	got := m.Took()
	if !slices.Contains(got, `PUT /service/services/v2/apps/web {"instances":5}`) {
		t.Fatalf("requests %q, want PUT /v2/apps/web with instances 5", got)
	}
	if len(d.Flashes) != 1 || d.Flashes[0].Err != nil || !strings.Contains(d.Flashes[0].Text, "scaling app /web to 5 instances (deployment d-77)") {
		t.Errorf("flashes %+v", d.Flashes)
	}
}

func TestScaleEscCancels(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.Keys("s", "esc")
	if d.P.Capturing() {
		t.Fatal("esc did not end the input")
	}
	if n := m.Count("PUT"); n != 0 {
		t.Errorf("esc sent %d requests", n)
	}
}

func TestScaleLockedAsksToForce(t *testing.T) {
	m := newCluster(t)
	m.Set("PUT", "/service/services/v2/apps/web", 409, `{"message":"App is locked by one or more deployments.","deployments":[{"id":"d-5f2a"}]}`)
	d := started(t, m)
	d.Keys("down", "s", "backspace", "2", "enter")
	if len(d.Confirms) != 1 || !strings.Contains(d.Confirms[0].Prompt, "d-5f2a") {
		t.Fatalf("confirms %+v, want one naming deployment d-5f2a", d.Confirms)
	}
	m.Took()
	m.Set("PUT", "/service/services/v2/apps/web", 200, `{"deploymentId":"d-79","version":"v4"}`)
	d.Run(d.Confirms[0].Yes)
	if got := m.Took(); !slices.Contains(got, `PUT /service/services/v2/apps/web?force=true {"instances":2}`) {
		t.Errorf("yes sent %q, want a forced scale to 2", got)
	}
}

func TestRestartOnlyAfterConfirm(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.Keys("down", "r")
	if n := m.Count("POST"); n != 0 {
		t.Fatalf("r restarted before the confirmation (%d POSTs)", n)
	}
	if len(d.Confirms) != 1 || !strings.Contains(d.Confirms[0].Prompt, "Restart app /web") {
		t.Fatalf("confirms %+v", d.Confirms)
	}
	d.Run(d.Confirms[0].Yes)
	if got := m.Took(); !slices.Contains(got, "POST /service/services/v2/apps/web/restart") {
		t.Errorf("yes sent %q, want POST .../restart", got)
	}
	if len(d.Flashes) != 1 || !strings.Contains(d.Flashes[0].Text, "restarting app /web (deployment d-78)") {
		t.Errorf("flashes %+v", d.Flashes)
	}
}

func TestOpenLog(t *testing.T) {
	d := started(t, newCluster(t))
	d.Keys("down", "enter", "down", "L")
	if len(d.Logs) != 1 {
		t.Fatalf("L opened %d logs", len(d.Logs))
	}
	got := d.Logs[0]
	if got.Task.ID != "web.77b2d0" || got.Task.AgentID != "A2" || got.Task.FrameworkID != pagetest.ServicesID || !got.Stderr {
		t.Errorf("log of %+v (stderr %v)", got.Task, got.Stderr)
	}
}

func TestEventsRefetchDebounced(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.Timers = nil // the deployment poll

	d.Send(pagetest.TaskEvent(pagetest.CronID, "job.1"))
	if len(d.Timers) != 0 {
		t.Fatalf("a cron task's event armed %d timers", len(d.Timers))
	}
	for i := range 5 {
		d.Send(pagetest.TaskEvent(pagetest.ServicesID, "web."+string(rune('a'+i))))
	}
	if len(d.Timers) != 1 || d.Timers[0].D != debounceDelay {
		t.Fatalf("5 events armed timers %+v, want one of %v", d.Timers, debounceDelay)
	}
	if n := m.Count("GET /service/services/v2/apps"); n != 0 {
		t.Fatalf("events fetched %d times before the quiet time", n)
	}
	d.Fire()
	if n := m.Count("GET /service/services/v2/apps"); n != 1 {
		t.Errorf("the debounce fetched the apps %d times, want 1", n)
	}
}

func TestOneFetchInFlight(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	_, first := d.P.Update(debounceMsg{})
	if first == nil {
		t.Fatal("no fetch after the quiet time")
	}
	if _, second := d.P.Update(debounceMsg{}); second != nil {
		t.Fatal("a second fetch started while one is in flight")
	}
	if _, third := d.P.Update(ui.KeyPress("ctrl+r")); third != nil {
		t.Fatal("ctrl+r started a fetch while one is in flight")
	}
	d.Run(first) // its answer starts the one asked for meanwhile, once
	if n := m.Count("GET /service/services/v2/apps"); n != 2 {
		t.Errorf("%d fetches, want 2 (the first, then one for the asks meanwhile)", n)
	}
}

func TestDeploymentPollIsSlow(t *testing.T) {
	d := started(t, newCluster(t))
	if len(d.Timers) != 1 || d.Timers[0].D < 10e9 {
		t.Fatalf("timers %+v, want one poll of >= 10s while a deployment is in progress", d.Timers)
	}
}

// newDriver drives the page against m, its timers kept for the test to
// fire.
func newDriver(t *testing.T, m *pagetest.Master) *pagetest.Driver[*page] {
	p := New(pagetest.Env(t, m)).(*page)
	p.after = pagetest.After
	return pagetest.NewDriver(t, p)
}
