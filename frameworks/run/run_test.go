package run_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/frameworks/run"
	"github.com/cairn-dc/cairn/frameworks/run/runapi"
	"github.com/cairn-dc/cairn/kernel/bus"
	"github.com/cairn-dc/cairn/kernel/master"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/kernel/scheduler"
	"github.com/cairn-dc/cairn/kernel/simagent"
	"github.com/cairn-dc/cairn/kernel/testcluster"
)

// cluster is an in-process Cairn cluster: embedded NATS, a master with its
// operator API, simulated agents.
type cluster struct {
	t   *testing.T
	bus *bus.Bus
	m   *master.Master
	api *httptest.Server // the master's operator API
	log *slog.Logger
}

// testLogger is silent unless CAIRN_TEST_LOG is set.
func testLogger() *slog.Logger { return testcluster.Logger() }

func newCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{t: t, log: testLogger()}
	b, err := bus.Start(context.Background(), bus.Config{Port: -1, StoreDir: t.TempDir(), Logger: c.log})
	if err != nil {
		t.Fatal(err)
	}
	c.bus = b
	t.Cleanup(b.Shutdown)
	m, err := master.New(master.Config{
		Conn:                       c.conn("master"),
		ID:                         "master-1",
		Logger:                     c.log,
		AllocationInterval:         50 * time.Millisecond,
		OfferTimeout:               2 * time.Second,
		AgentPingInterval:          100 * time.Millisecond,
		FrameworkHeartbeatInterval: 100 * time.Millisecond,
		DefaultFailoverTimeout:     10 * time.Second,
		UpdateRetryInterval:        300 * time.Millisecond,
		LeaseTTL:                   time.Second,
		SnapshotInterval:           10 * time.Millisecond,
		TickInterval:               20 * time.Millisecond,
		Seed:                       1,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("master.Run: %v", err)
		}
	})
	c.m = m
	waitFor(t, 10*time.Second, "master ready", m.Ready)
	c.api = httptest.NewServer(m.Handler(master.HTTPConfig{}))
	t.Cleanup(c.api.Close)
	return c
}

func (c *cluster) conn(name string) *nats.Conn {
	c.t.Helper()
	nc, err := c.bus.Connect(name)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(nc.Close)
	return nc
}

var agentRes = resources.MustParse("cpus:4;mem:8192;disk:10000;ports:[31000-31009]")

func (c *cluster) agent(hostname string) *simagent.Agent {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := simagent.Start(ctx, simagent.Config{Conn: c.conn("agent"), Resources: agentRes, Hostname: hostname, Logger: c.log})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(a.Stop)
	return a
}

func (c *cluster) runFramework(id protocol.FrameworkID) *run.Framework {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := run.Start(ctx, run.Config{Conn: c.conn("run"), FrameworkID: id, Logger: c.log})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(f.Stop)
	// Reachable through the master's /service/run/ proxy once the
	// master's snapshot shows it.
	waitFor(c.t, 5*time.Second, "run framework behind the master's proxy", func() bool {
		code, _ := call(c.t, http.MethodGet, c.api.URL+"/service/run/health", nil, nil)
		return code == http.StatusOK
	})
	return f
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// call sends a JSON request and decodes the JSON answer into out.
func call(t *testing.T, method, url string, body any, out any) (int, runapi.Error) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var apiErr runapi.Error
	if resp.StatusCode >= 300 {
		_ = json.Unmarshal(data, &apiErr)
		return resp.StatusCode, apiErr
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decoding %q: %v", method, url, data, err)
		}
	}
	return resp.StatusCode, apiErr
}

func (c *cluster) submit(req runapi.Request) runapi.Submitted {
	c.t.Helper()
	var s runapi.Submitted
	if code, e := call(c.t, http.MethodPost, c.api.URL+"/service/run/v1/runs", req, &s); code != http.StatusCreated {
		c.t.Fatalf("POST /v1/runs: %d %+v", code, e)
	}
	return s
}

func (c *cluster) get(id protocol.TaskID) runapi.Run {
	c.t.Helper()
	var r runapi.Run
	if code, e := call(c.t, http.MethodGet, c.api.URL+"/service/run/v1/runs/"+string(id), nil, &r); code != http.StatusOK {
		c.t.Fatalf("GET /v1/runs/%s: %d %+v", id, code, e)
	}
	return r
}

func (c *cluster) waitState(id protocol.TaskID, state protocol.TaskState) runapi.Run {
	c.t.Helper()
	var r runapi.Run
	waitFor(c.t, 10*time.Second, string(id)+" "+string(state), func() bool {
		r = c.get(id)
		return r.State == state
	})
	return r
}

// masterTask waits for the master's operator API to list a task.
func (c *cluster) masterTask(fid protocol.FrameworkID, id protocol.TaskID) protocol.Task {
	c.t.Helper()
	var found protocol.Task
	waitFor(c.t, 5*time.Second, "task "+string(id)+" in /v1/tasks", func() bool {
		var tasks []protocol.Task
		call(c.t, http.MethodGet, c.api.URL+"/v1/tasks?framework_id="+string(fid), nil, &tasks)
		for _, tk := range tasks {
			if tk.ID == id {
				found = tk
				return true
			}
		}
		return false
	})
	return found
}

func ptr[T any](v T) *T { return &v }

func TestRunsGoRunningAndFinish(t *testing.T) {
	c := newCluster(t)
	a := c.agent("node-1")
	f := c.runFramework("")

	s := c.submit(runapi.Request{Cmd: "echo hi", Labels: map[string]string{"sim.duration": "100ms"}})
	if !strings.HasPrefix(string(s.ID), "run-") || s.FrameworkID != f.ID() {
		t.Fatalf("submitted %+v, framework %s", s, f.ID())
	}
	r := c.waitState(s.ID, protocol.TaskFinished)
	if r.AgentID != a.ID() || r.Hostname != "node-1" || r.ExitCode == nil || *r.ExitCode != 0 {
		t.Errorf("finished run %+v", r)
	}
	if r.Name != "echo" || r.Cmd != "echo hi" || r.Resources != "cpus:0.1;mem:32" || r.Submitted.IsZero() || r.Updated.Before(r.Submitted) {
		t.Errorf("run fields %+v", r)
	}

	// An argv run with a chosen id, resources and a failing exit.
	s2 := c.submit(runapi.Request{Args: []string{"/bin/false", "x"}, ID: "job.1", Name: "my job", CPUs: ptr(0.5), Mem: ptr(64.0), Disk: ptr(10.0),
		Env: map[string]string{"A": "1"}, Labels: map[string]string{"sim.duration": "1s", "sim.exit": "failed"}})
	if s2.ID != "job.1" {
		t.Fatalf("id %s", s2.ID)
	}
	r = c.waitState("job.1", protocol.TaskRunning)
	if r.Name != "my job" || r.Resources != "cpus:0.5;disk:10;mem:64" {
		t.Errorf("running run %+v", r)
	}
	// The master sees the task as the framework launched it.
	tk := c.masterTask(f.ID(), "job.1")
	if tk.Name != "my job" || !tk.Resources.Equal(resources.MustParse("cpus:0.5;mem:64;disk:10")) {
		t.Errorf("master task %+v", tk)
	}
	r = c.waitState("job.1", protocol.TaskFailed)
	if r.ExitCode == nil || *r.ExitCode != 1 {
		t.Errorf("failed run %+v", r)
	}

	// The same id may be used again once the run ended.
	c.submit(runapi.Request{Cmd: "true", ID: "job.1", Labels: map[string]string{"sim.duration": "0s"}})
	c.waitState("job.1", protocol.TaskFinished)

	var list []runapi.Run
	if code, _ := call(t, http.MethodGet, c.api.URL+"/service/run/v1/runs", nil, &list); code != 200 || len(list) != 2 {
		t.Fatalf("list: %d %+v", code, list)
	}
	if list[0].ID != s.ID || list[1].ID != "job.1" {
		t.Errorf("list order %s, %s", list[0].ID, list[1].ID)
	}
}

func TestPortsAndEnv(t *testing.T) {
	c := newCluster(t)
	c.agent("node-1")
	f := c.runFramework("")
	s := c.submit(runapi.Request{Cmd: "serve", Ports: 3, Env: map[string]string{"B": "2", "A": "1"}})
	r := c.waitState(s.ID, protocol.TaskRunning)
	if len(r.Ports) != 3 || r.Ports[0] != 31000 || r.Ports[2] != 31002 {
		t.Errorf("ports %v", r.Ports)
	}
	if tk := c.masterTask(f.ID(), s.ID); !tk.Resources.Equal(resources.MustParse("cpus:0.1;mem:32;ports:[31000-31002]")) {
		t.Errorf("master task %+v", tk)
	}
	// A second run gets the next free ports.
	s2 := c.submit(runapi.Request{Cmd: "serve", Ports: 2})
	r2 := c.waitState(s2.ID, protocol.TaskRunning)
	if len(r2.Ports) != 2 || r2.Ports[0] != 31003 {
		t.Errorf("second ports %v", r2.Ports)
	}
}

func TestValidation(t *testing.T) {
	c := newCluster(t)
	f := c.runFramework("")
	url := f.URL() + "/v1/runs"
	for _, tc := range []struct {
		body  string
		code  int
		field string
		msg   string
	}{
		{`{}`, 422, "cmd", `"cmd" or "args" is required`},
		{`{"cmd": "echo", "args": ["echo"]}`, 422, "cmd", "not both"},
		{`{"cmd": "   "}`, 422, "cmd", "blank"},
		{`{"args": []}`, 422, "args", "empty"},
		{`{"args": ["", "x"]}`, 422, "args[0]", "program"},
		{`{"cmd": "x", "cpus": 0}`, 422, "cpus", "more than 0"},
		{`{"cmd": "x", "cpus": -1}`, 422, "cpus", "more than 0"},
		{`{"cmd": "x", "mem": 0}`, 422, "mem", "more than 0"},
		{`{"cmd": "x", "disk": -5}`, 422, "disk", "0 or more"},
		{`{"cmd": "x", "cpus": "lots"}`, 422, "cpus", "must be a number"},
		{`{"cmd": "x", "ports": 1000}`, 422, "ports", "between 0 and 100"},
		{`{"cmd": "x", "env": {"A=B": "1"}}`, 422, "env.A=B", "may not contain"},
		{`{"cmd": "x", "id": "bad id"}`, 422, "id", "not a valid task id"},
		{`{"cmd": "x", "cpu": 1}`, 422, "cpu", `unknown field "cpu"`},
		{`{"cmd": "x", "name": "a\u0007b"}`, 422, "name", "control character"},
		{`{"cmd": `, 400, "", "not a valid JSON"},
		{``, 400, "", "empty"},
		{`{"cmd": "x"} {}`, 400, "", "after the JSON object"},
	} {
		code, e := call(t, http.MethodPost, url, tc.body, nil)
		if code != tc.code || e.Field != tc.field || !strings.Contains(e.Message, tc.msg) {
			t.Errorf("%s: %d %+v, want %d field %q message containing %q", tc.body, code, e, tc.code, tc.field, tc.msg)
		}
	}
	// Nothing was queued.
	if st := f.Stats(); st.Runs != 0 || st.Pending != 0 {
		t.Errorf("stats after invalid requests: %+v", st)
	}
	// An id in use by a run that has not ended.
	if code, e := call(t, http.MethodPost, url, `{"cmd": "x", "id": "dup"}`, nil); code != 201 {
		t.Fatalf("first dup: %d %+v", code, e)
	}
	if code, e := call(t, http.MethodPost, url, `{"cmd": "x", "id": "dup"}`, nil); code != 409 || e.Field != "id" {
		t.Errorf("second dup: %d %+v", code, e)
	}
	if code, e := call(t, http.MethodGet, f.URL()+"/v1/runs/nope", nil, nil); code != 404 || !strings.Contains(e.Message, "unknown") {
		t.Errorf("GET unknown: %d %+v", code, e)
	}
	if code, _ := call(t, http.MethodDelete, f.URL()+"/v1/runs/nope", nil, nil); code != 404 {
		t.Errorf("DELETE unknown: %d", code)
	}
}

func TestKill(t *testing.T) {
	c := newCluster(t)
	a := c.agent("node-1")
	c.runFramework("")

	// A running task (simulated tasks without sim.duration run until killed).
	s := c.submit(runapi.Request{Cmd: "sleep 1000"})
	c.waitState(s.ID, protocol.TaskRunning)
	var r runapi.Run
	if code, e := call(t, http.MethodDelete, c.api.URL+"/service/run/v1/runs/"+string(s.ID), nil, &r); code != 202 || r.ID != s.ID {
		t.Fatalf("DELETE: %d %+v", code, e)
	}
	c.waitState(s.ID, protocol.TaskKilled)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.WaitTask(ctx, s.ID, protocol.TaskKilled); err != nil {
		t.Errorf("agent: %v", err)
	}
	if code, e := call(t, http.MethodDelete, c.api.URL+"/service/run/v1/runs/"+string(s.ID), nil, nil); code != 409 || !strings.Contains(e.Message, "already ended") {
		t.Errorf("DELETE again: %d %+v", code, e)
	}

	// A run that can never fit stays queued, saying why; killing it ends it.
	big := c.submit(runapi.Request{Cmd: "big", CPUs: ptr(100.0)})
	r = c.get(big.ID)
	if r.State != runapi.StatePending || r.Message != "waiting for an offer with cpus:100;mem:32" || r.AgentID != "" {
		t.Errorf("pending run %+v", r)
	}
	if code, _ := call(t, http.MethodDelete, c.api.URL+"/service/run/v1/runs/"+string(big.ID), nil, &r); code != 202 || r.State != protocol.TaskKilled {
		t.Errorf("kill pending: %d %+v", code, r)
	}
	if r.Message != "killed before it was launched" {
		t.Errorf("message %q", r.Message)
	}
}

func TestQueueWaitsForResources(t *testing.T) {
	c := newCluster(t)
	c.agent("node-1")
	f := c.runFramework("")
	// Two runs that do not fit together: the second waits for the first.
	first := c.submit(runapi.Request{Cmd: "a", CPUs: ptr(3.0), Labels: map[string]string{"sim.duration": "300ms"}})
	c.waitState(first.ID, protocol.TaskRunning)
	second := c.submit(runapi.Request{Cmd: "b", CPUs: ptr(3.0), Labels: map[string]string{"sim.duration": "0s"}})
	if r := c.get(second.ID); r.State != runapi.StatePending && r.State != protocol.TaskStaging && !r.State.Terminal() {
		t.Errorf("second run %+v", r)
	}
	c.waitState(first.ID, protocol.TaskFinished)
	c.waitState(second.ID, protocol.TaskFinished)
	if st := f.Stats(); st.Launched != 2 || st.Pending != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestSuppressWhileIdle(t *testing.T) {
	c := newCluster(t)
	c.agent("node-1")
	f := c.runFramework("")
	// Subscribed suppressed: no offers while nothing is queued.
	if st := f.Stats(); st.Offers != 0 || st.Revivals != 0 {
		t.Errorf("idle framework stats %+v", st)
	}
	s := c.submit(runapi.Request{Cmd: "x", Labels: map[string]string{"sim.duration": "0s"}})
	c.waitState(s.ID, protocol.TaskFinished)
	waitFor(t, 5*time.Second, "suppressed again", func() bool { return f.Stats().Suppressions >= 1 })
	st := f.Stats()
	if st.Revivals != 1 || st.Offers == 0 {
		t.Errorf("after one run: %+v", st)
	}
	// Another framework now gets the whole agent, and the run framework
	// gets nothing while the master keeps allocating.
	probe, err := scheduler.Subscribe(context.Background(), scheduler.Config{Conn: c.conn("probe"), Framework: protocol.FrameworkInfo{Name: "probe"}, Logger: c.log})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	// Offers sent before the SUPPRESS may still be in flight: count from
	// the probe's first whole-agent offer on, over two more allocations.
	full := 0
	var idle run.Stats
	deadline := time.After(10 * time.Second)
	for full < 3 {
		select {
		case ev := <-probe.Events():
			if ev.Type != protocol.EventOffers {
				continue
			}
			for _, o := range ev.Offers.Offers {
				if o.Resources.Equal(agentRes) {
					if full++; full == 1 {
						idle = f.Stats()
					}
					// Give it back so it is offered again next cycle.
					_ = probe.Decline(context.Background(), []protocol.OfferID{o.ID}, scheduler.Refuse(time.Millisecond))
				}
			}
		case <-deadline:
			t.Fatal("the probe framework got no whole-agent offer")
		}
	}
	if after := f.Stats(); after.Offers != idle.Offers {
		t.Errorf("the idle run framework got %d more offers", after.Offers-idle.Offers)
	}
	// A new run revives offers.
	s = c.submit(runapi.Request{Cmd: "y", Labels: map[string]string{"sim.duration": "0s"}})
	c.waitState(s.ID, protocol.TaskFinished)
	if got := f.Stats().Revivals; got != 2 {
		t.Errorf("revivals %d, want 2", got)
	}
}

func TestFailoverKeepsRunningTask(t *testing.T) {
	c := newCluster(t)
	a := c.agent("node-1")
	f := c.runFramework("")
	id := f.ID()
	s := c.submit(runapi.Request{Cmd: "sleep 1000", ID: "long"})
	c.waitState(s.ID, protocol.TaskRunning)
	f.Stop()
	if !strings.Contains(f.Err().Error(), "closed") {
		t.Errorf("Err after Stop: %v", f.Err())
	}

	f2 := c.runFramework(id)
	if f2.ID() != id {
		t.Fatalf("failover got id %s, want %s", f2.ID(), id)
	}
	// The new instance learns of the task by reconciliation (until then,
	// the run is unknown to it).
	var r runapi.Run
	waitFor(t, 10*time.Second, "the adopted run", func() bool {
		code, _ := call(t, http.MethodGet, f2.URL()+"/v1/runs/long", nil, &r)
		return code == http.StatusOK && r.State == protocol.TaskRunning
	})
	if r.AgentID != a.ID() || r.FrameworkID != id {
		t.Errorf("adopted run %+v", r)
	}
	if tk, ok := a.Task("long"); !ok || tk.State != protocol.TaskRunning {
		t.Errorf("agent task %+v %v", tk, ok)
	}
	var killed runapi.Run
	if code, e := call(t, http.MethodDelete, f2.URL()+"/v1/runs/long", nil, &killed); code != 202 {
		t.Fatalf("kill adopted: %d %+v", code, e)
	}
	c.waitState("long", protocol.TaskKilled)
}

func TestRemovedFrameworkIDGetsANewOne(t *testing.T) {
	c := newCluster(t)
	old, err := scheduler.Subscribe(context.Background(), scheduler.Config{Conn: c.conn("old"), Framework: protocol.FrameworkInfo{Name: "run"}, Logger: c.log})
	if err != nil {
		t.Fatal(err)
	}
	oldID := old.ID()
	if err := old.Teardown(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := c.runFramework(oldID)
	if f.ID() == oldID || f.ID() == "" {
		t.Errorf("id %q after a removed id %q", f.ID(), oldID)
	}
}

func TestStopEndsTheAPI(t *testing.T) {
	c := newCluster(t)
	f := c.runFramework("")
	u := f.URL()
	f.Stop()
	f.Stop() // idempotent
	select {
	case <-f.Done():
	default:
		t.Error("Done not closed after Stop")
	}
	if _, err := http.Get(u + "/health"); err == nil {
		t.Error("the API still answers after Stop")
	}
}

func TestRemovedByTheMaster(t *testing.T) {
	c := newCluster(t)
	f := c.runFramework("")
	// Someone with the framework's ID tears it down.
	other, err := scheduler.Subscribe(context.Background(), scheduler.Config{Conn: c.conn("other"),
		Framework: protocol.FrameworkInfo{ID: f.ID(), Name: "run"}, Logger: c.log})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Teardown(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the removed framework did not stop")
	}
	if !errors.Is(f.Err(), scheduler.ErrRemoved) {
		t.Errorf("Err %v", f.Err())
	}
	code, e := call(t, http.MethodPost, f.URL()+"/v1/runs", `{"cmd": "x"}`, nil)
	if code != http.StatusServiceUnavailable || !strings.Contains(e.Message, "the run framework stopped") {
		t.Errorf("POST after removal: %d %+v", code, e)
	}
	if code, _ := call(t, http.MethodGet, f.URL()+"/health", nil, nil); code != http.StatusServiceUnavailable {
		t.Errorf("health after removal: %d", code)
	}
	f.Stop() // does not hang
}
