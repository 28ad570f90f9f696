package master_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/master"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/kernel/scheduler"
	"github.com/cairn-dc/cairn/kernel/simagent"
)

func TestLaunchRunFinishWithAcks(t *testing.T) {
	c := newCluster(t, nil)
	a := c.agent(nil)
	f := c.framework("web", nil)

	of := offers(t, f)
	if len(of) != 1 || of[0].AgentID != a.ID() || !of[0].Resources.Equal(agentRes) {
		t.Fatalf("want one offer of the whole agent %s, got %+v", a.ID(), of)
	}
	rej, err := f.Launch(ctxT(t), of[0], sleepTask("t1", "cpus:1;mem:128"))
	if err != nil || len(rej) != 0 {
		t.Fatalf("launch: %v %v", rej, err)
	}
	update(t, f, "t1", protocol.TaskStarting)
	run := update(t, f, "t1", protocol.TaskRunning)
	if run.UUID == "" || run.AgentID != a.ID() || run.Source != protocol.SourceAgent {
		t.Fatalf("RUNNING update lacks uuid/agent/source: %+v", run)
	}
	waitFor(t, 5*time.Second, "RUNNING in /v1/tasks", func() bool {
		tk, ok := taskOf(t, c.m, f.ID(), "t1")
		return ok && tk.State == protocol.TaskRunning
	})
	ag, _ := agentOf(c.m, a.ID())
	if ag.UsedResources.ScalarTotal("cpus") != resources.FromFloat(1) || ag.ActiveTasks != 1 {
		t.Fatalf("agent accounting: used %s active %d", ag.UsedResources, ag.ActiveTasks)
	}
	if err := a.Finish("t1", protocol.TaskFinished, "done"); err != nil {
		t.Fatal(err)
	}
	update(t, f, "t1", protocol.TaskFinished)
	// The auto-acknowledged terminal update reaches the agent, which forgets the task.
	waitFor(t, 5*time.Second, "agent forgets the acknowledged task", func() bool { _, ok := a.Task("t1"); return !ok })
	waitFor(t, 5*time.Second, "resources back on the agent", func() bool {
		ag, _ := agentOf(c.m, a.ID())
		return ag.UsedResources.IsEmpty() && ag.ActiveTasks == 0
	})
	// The freed resources are offered again.
	of = offers(t, f)
	if !of[0].Resources.Equal(agentRes) {
		t.Fatalf("want the whole agent offered again, got %s", of[0].Resources)
	}
}

func TestAcceptUnusedResourcesAreReoffered(t *testing.T) {
	c := newCluster(t, nil)
	c.agent(nil)
	f := c.framework("web", nil)
	of := offers(t, f)
	if _, err := f.Accept(ctxT(t), []protocol.OfferID{of[0].ID},
		[]protocol.Operation{scheduler.LaunchOp(of[0].AgentID, sleepTask("t1", "cpus:1;mem:1024"))}, scheduler.Refuse(0)); err != nil {
		t.Fatal(err)
	}
	rest := offers(t, f)
	want := agentRes.Minus(resources.MustParse("cpus:1;mem:1024"))
	if !rest[0].Resources.Equal(want) {
		t.Fatalf("re-offer: want %s got %s", want, rest[0].Resources)
	}
}

func TestDeclineFilter(t *testing.T) {
	c := newCluster(t, nil)
	c.agent(nil)
	f1 := c.framework("one", nil)
	of := offers(t, f1)
	declined := time.Now()
	if err := f1.Decline(ctxT(t), []protocol.OfferID{of[0].ID}, scheduler.Refuse(time.Second)); err != nil {
		t.Fatal(err)
	}
	// A second framework gets the agent while the first's filter holds.
	f2 := c.framework("two", nil)
	of2 := offers(t, f2)
	if of2[0].AgentID != of[0].AgentID {
		t.Fatalf("second framework offered %s", of2[0].AgentID)
	}
	if err := f2.Decline(ctxT(t), []protocol.OfferID{of2[0].ID}, scheduler.Refuse(time.Hour)); err != nil {
		t.Fatal(err)
	}
	again := offers(t, f1)
	if waited := time.Since(declined); waited < time.Second {
		t.Fatalf("re-offered after %v despite refuse_seconds=1", waited)
	}
	if again[0].AgentID != of[0].AgentID {
		t.Fatal("wrong agent")
	}
}

func TestOfferRescindedOnTimeout(t *testing.T) {
	c := newCluster(t, func(cfg *master.Config) { cfg.OfferTimeout = 300 * time.Millisecond })
	c.agent(nil)
	f := c.framework("slow", nil)
	of := offers(t, f)
	ev := nextEvent(t, f, 5*time.Second, "rescind", func(e protocol.Event) bool { return e.Type == protocol.EventRescind })
	if ev.Rescind.OfferID != of[0].ID {
		t.Fatalf("rescinded %s, want %s", ev.Rescind.OfferID, of[0].ID)
	}
	// Accepting the rescinded offer is refused clearly, and the task is dropped.
	_, err := f.Launch(ctxT(t), of[0], sleepTask("late", "cpus:1;mem:32"))
	var perr *protocol.Error
	if !asProtocolError(err, &perr) || perr.Code != protocol.ErrNotFound || !strings.Contains(perr.Message, "not outstanding") {
		t.Fatalf("accept of rescinded offer: want NOT_FOUND 'not outstanding', got %v", err)
	}
	st := update(t, f, "late", protocol.TaskDropped)
	if st.Reason != protocol.ReasonInvalidOffers {
		t.Fatalf("reason %s", st.Reason)
	}
	// The resources come back in a new offer.
	if again := offers(t, f); again[0].ID == of[0].ID {
		t.Fatal("same offer id re-used")
	}
}

func TestKill(t *testing.T) {
	c := newCluster(t, nil)
	a := c.agent(nil)
	f := c.framework("web", nil)
	of := offers(t, f)
	if _, err := f.Launch(ctxT(t), of[0], sleepTask("k1", "cpus:1;mem:32")); err != nil {
		t.Fatal(err)
	}
	update(t, f, "k1", protocol.TaskRunning)
	if err := f.Kill(ctxT(t), "k1", a.ID()); err != nil {
		t.Fatal(err)
	}
	update(t, f, "k1", protocol.TaskKilled)
	waitFor(t, 5*time.Second, "KILLED in state", func() bool {
		tk, _ := taskOf(t, c.m, f.ID(), "k1")
		return tk.State == protocol.TaskKilled
	})
	// Killing an unknown task is an error naming it, plus a TASK_UNKNOWN update.
	err := f.Kill(ctxT(t), "nope", a.ID())
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("kill of unknown task: %v", err)
	}
	update(t, f, "nope", protocol.TaskUnknown)
}

func TestReconcile(t *testing.T) {
	c := newCluster(t, nil)
	a := c.agent(nil)
	f := c.framework("web", nil)
	of := offers(t, f)
	if _, err := f.Launch(ctxT(t), of[0], sleepTask("r1", "cpus:1;mem:32"), sleepTask("r2", "cpus:1;mem:32")); err != nil {
		t.Fatal(err)
	}
	update(t, f, "r1", protocol.TaskRunning)
	update(t, f, "r2", protocol.TaskRunning)

	// Implicit: every active task, with the reconciliation reason and no UUID.
	if err := f.Reconcile(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	got := map[protocol.TaskID]protocol.TaskStatus{}
	for len(got) < 2 {
		ev := nextEvent(t, f, 5*time.Second, "reconciliation", func(e protocol.Event) bool {
			return e.Type == protocol.EventUpdate && e.Update.Status.Reason == protocol.ReasonReconciliation
		})
		got[ev.Update.Status.TaskID] = ev.Update.Status
	}
	for id, st := range got {
		if st.State != protocol.TaskRunning || st.UUID != "" {
			t.Fatalf("%s: %+v", id, st)
		}
	}
	// Explicit: a known task, an unknown task on a known agent, an unknown agent.
	if err := f.Reconcile(ctxT(t), protocol.ReconcileTask{TaskID: "r1", AgentID: a.ID()},
		protocol.ReconcileTask{TaskID: "ghost", AgentID: a.ID()},
		protocol.ReconcileTask{TaskID: "ghost2", AgentID: "NOAGENT"}); err != nil {
		t.Fatal(err)
	}
	want := map[protocol.TaskID]protocol.TaskState{"r1": protocol.TaskRunning, "ghost": protocol.TaskGone, "ghost2": protocol.TaskUnknown}
	for len(want) > 0 {
		ev := nextEvent(t, f, 5*time.Second, "explicit reconciliation", func(e protocol.Event) bool {
			return e.Type == protocol.EventUpdate && e.Update.Status.Reason == protocol.ReasonReconciliation
		})
		st := ev.Update.Status
		if w, ok := want[st.TaskID]; ok {
			if st.State != w {
				t.Fatalf("%s reconciled as %s, want %s", st.TaskID, st.State, w)
			}
			delete(want, st.TaskID)
		}
	}
}

func TestAgentLossUnreachableThenGone(t *testing.T) {
	c := newCluster(t, nil)
	a := c.agent(nil)
	f := c.framework("web", nil)
	of := offers(t, f)
	if _, err := f.Launch(ctxT(t), of[0], sleepTask("u1", "cpus:1;mem:32")); err != nil {
		t.Fatal(err)
	}
	update(t, f, "u1", protocol.TaskRunning)
	a.PausePings()
	st := update(t, f, "u1", protocol.TaskUnreachable)
	if st.Reason != protocol.ReasonAgentDisconnected || st.UUID == "" {
		t.Fatalf("unreachable update: %+v", st)
	}
	waitFor(t, 5*time.Second, "agent UNREACHABLE in state", func() bool {
		ag, _ := agentOf(c.m, a.ID())
		return ag.Status == protocol.AgentUnreachable
	})
	gone := update(t, f, "u1", protocol.TaskGone)
	if gone.Reason != protocol.ReasonAgentRemoved {
		t.Fatalf("gone reason %s", gone.Reason)
	}
	nextEvent(t, f, 5*time.Second, "FAILURE", func(e protocol.Event) bool {
		return e.Type == protocol.EventFailure && e.Failure.AgentID == a.ID()
	})
	waitFor(t, 5*time.Second, "agent removed from state", func() bool { _, ok := agentOf(c.m, a.ID()); return !ok })
	// The gone agent may not come back under the same id.
	a.ResumePings()
	waitFor(t, 5*time.Second, "agent refused", func() bool { return a.Err() != nil })
	if !strings.Contains(a.Err().Error(), "fresh id") {
		t.Fatalf("refusal should say to use a fresh id: %v", a.Err())
	}
}

func TestAgentBackFromPartitionReportsRealState(t *testing.T) {
	c := newCluster(t, func(cfg *master.Config) { cfg.AgentUnreachableTimeout = time.Minute })
	a := c.agent(nil)
	f := c.framework("web", nil)
	of := offers(t, f)
	if _, err := f.Launch(ctxT(t), of[0], sleepTask("p1", "cpus:1;mem:32")); err != nil {
		t.Fatal(err)
	}
	update(t, f, "p1", protocol.TaskRunning)
	a.PausePings()
	update(t, f, "p1", protocol.TaskUnreachable)
	a.ResumePings()
	st := update(t, f, "p1", protocol.TaskRunning)
	if st.Reason != protocol.ReasonAgentReregistered {
		t.Fatalf("reason %s", st.Reason)
	}
	waitFor(t, 5*time.Second, "agent active again", func() bool {
		ag, _ := agentOf(c.m, a.ID())
		return ag.Status == protocol.AgentActive
	})
}

func TestFrameworkFailoverWithinTimeoutKeepsTasks(t *testing.T) {
	c := newCluster(t, nil)
	a := c.agent(nil)
	f := c.framework("svc", func(cfg *scheduler.Config) { cfg.Framework.FailoverTimeout = 30 })
	of := offers(t, f)
	if _, err := f.Launch(ctxT(t), of[0], sleepTask("s1", "cpus:1;mem:32")); err != nil {
		t.Fatal(err)
	}
	update(t, f, "s1", protocol.TaskRunning)
	fid := f.ID()
	_ = f.Close()
	waitFor(t, 5*time.Second, "framework disconnected", func() bool {
		fw, ok := frameworkOf(c.m, fid)
		return ok && !fw.Connected
	})
	// A new instance fails over with the same id: the task is still there.
	f2 := c.framework("svc", func(cfg *scheduler.Config) { cfg.Framework.ID = fid; cfg.Framework.FailoverTimeout = 30 })
	nextEvent(t, f2, 5*time.Second, "reconciled s1", isUpdate("s1", protocol.TaskRunning))
	if snap, ok := a.Task("s1"); !ok || snap.State != protocol.TaskRunning {
		t.Fatalf("task on agent: %+v %v", snap, ok)
	}
	waitFor(t, 5*time.Second, "framework connected with its task", func() bool {
		fw, _ := frameworkOf(c.m, fid)
		return fw.Connected && fw.ActiveTasks == 1
	})
}

func TestFrameworkFailoverTimeoutKillsTasks(t *testing.T) {
	c := newCluster(t, nil)
	a := c.agent(nil)
	f := c.framework("batch", func(cfg *scheduler.Config) { cfg.Framework.FailoverTimeout = 0.5 })
	of := offers(t, f)
	if _, err := f.Launch(ctxT(t), of[0], sleepTask("b1", "cpus:1;mem:32")); err != nil {
		t.Fatal(err)
	}
	update(t, f, "b1", protocol.TaskRunning)
	fid := f.ID()
	_ = f.Close()
	// After the failover timeout the task is killed on the agent and the framework removed.
	waitFor(t, 10*time.Second, "task killed on the agent", func() bool {
		s, ok := a.Task("b1")
		return !ok || s.State == protocol.TaskKilled
	})
	waitFor(t, 5*time.Second, "framework removed", func() bool { _, ok := frameworkOf(c.m, fid); return !ok })
	// It cannot come back.
	ctx := ctxT(t)
	_, err := scheduler.Subscribe(ctx, scheduler.Config{Conn: c.conn("late"), Framework: protocol.FrameworkInfo{ID: fid, Name: "batch"}, Logger: c.log})
	if err == nil || !strings.Contains(err.Error(), "removed") {
		t.Fatalf("re-subscribe after removal: %v", err)
	}
}

func TestMasterRestartLosesNothing(t *testing.T) {
	c := newCluster(t, nil)
	a := c.agent(nil)
	f := c.framework("web", func(cfg *scheduler.Config) { cfg.Framework.FailoverTimeout = 60 })
	of := offers(t, f)
	var tasks []protocol.TaskInfo
	for _, id := range []string{"m1", "m2", "m3"} {
		tasks = append(tasks, sleepTask(id, "cpus:0.5;mem:64"))
	}
	if _, err := f.Launch(ctxT(t), of[0], tasks...); err != nil {
		t.Fatal(err)
	}
	for _, ti := range tasks {
		update(t, f, ti.TaskID, protocol.TaskRunning)
	}
	waitFor(t, 5*time.Second, "3 running", func() bool { fw, _ := frameworkOf(c.m, f.ID()); return fw.ActiveTasks == 3 })
	before := c.m.State()

	c.stopMaster()
	// While the master is away an update goes to the stream.
	if err := a.Finish("m3", protocol.TaskFinished, "done while the master was away"); err != nil {
		t.Fatal(err)
	}
	c.startMaster()
	st := c.m.State()
	if len(st.Frameworks) != 1 || st.Frameworks[0].ID != f.ID() || len(st.Agents) != 1 || st.Agents[0].ID != a.ID() {
		t.Fatalf("after restart: frameworks %+v agents %+v", st.Frameworks, st.Agents)
	}
	if len(st.Tasks) != len(before.Tasks) {
		t.Fatalf("tasks before %d after %d", len(before.Tasks), len(st.Tasks))
	}
	// The framework notices the new leader, re-subscribes, and gets the update sent meanwhile.
	update(t, f, "m3", protocol.TaskFinished)
	waitFor(t, 10*time.Second, "framework connected again", func() bool { fw, _ := frameworkOf(c.m, f.ID()); return fw.Connected })
	for _, id := range []protocol.TaskID{"m1", "m2"} {
		tk, ok := taskOf(t, c.m, f.ID(), id)
		if !ok || tk.State != protocol.TaskRunning {
			t.Fatalf("%s after restart: %+v", id, tk)
		}
	}
	// Allocation accounting survived: the agent shows the two running tasks.
	waitFor(t, 5*time.Second, "agent accounting", func() bool {
		ag, _ := agentOf(c.m, a.ID())
		return ag.UsedResources.ScalarTotal("cpus") == resources.FromFloat(1)
	})
	// And the cluster keeps working: kill goes through.
	if err := f.Kill(ctxT(t), "m1", a.ID()); err != nil {
		t.Fatal(err)
	}
	update(t, f, "m1", protocol.TaskKilled)
}

func TestStandbyMasterTakesOver(t *testing.T) {
	c := newCluster(t, nil)
	a := c.agent(nil)
	f := c.framework("web", func(cfg *scheduler.Config) { cfg.Framework.FailoverTimeout = 60 })
	of := offers(t, f)
	if _, err := f.Launch(ctxT(t), of[0], sleepTask("h1", "cpus:1;mem:32")); err != nil {
		t.Fatal(err)
	}
	update(t, f, "h1", protocol.TaskRunning)

	cfg2 := c.cfg
	cfg2.ID = "master-2"
	cfg2.Conn = c.conn("master-2")
	cfg2.Logger = c.log
	m2, err := master.New(cfg2)
	if err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := contextWithCancel()
	done2 := make(chan error, 1)
	go func() { done2 <- m2.Run(ctx2) }()
	t.Cleanup(func() { cancel2(); <-done2 })
	// While the first leads, the second stands by.
	// Observe for a while that it does not (wrongly) lead: there is no event to wait on for an absence.
	time.Sleep(200 * time.Millisecond)
	if m2.Ready() {
		t.Fatal("standby master claims to be ready while the leader runs")
	}
	c.stopMaster()
	waitFor(t, 10*time.Second, "standby takes over", m2.Ready)
	st := m2.State()
	if len(st.Tasks) != 1 || st.Tasks[0].State != protocol.TaskRunning {
		t.Fatalf("standby state: %+v", st.Tasks)
	}
	if err := a.Finish("h1", protocol.TaskFinished, ""); err != nil {
		t.Fatal(err)
	}
	update(t, f, "h1", protocol.TaskFinished)
}

func TestBadInput(t *testing.T) {
	c := newCluster(t, nil)
	c.agent(nil)
	f := c.framework("web", nil)
	of := offers(t, f)
	nc := c.conn("raw")
	call := func(subjectFID protocol.FrameworkID, body string) protocol.Response {
		t.Helper()
		msg, err := nc.Request(protocol.FrameworkCall(subjectFID), []byte(body), 5*time.Second)
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		r, err := protocol.DecodeResponse(msg.Data)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	fid := f.ID()
	for _, tc := range []struct {
		name, body string
		subject    protocol.FrameworkID
		code       protocol.ErrorCode
		mention    string
	}{
		{"not json", `{"type":`, fid, protocol.ErrBadRequest, "invalid JSON"},
		{"unknown type", `{"framework_id":"` + string(fid) + `","type":"FLY"}`, fid, protocol.ErrBadRequest, "FLY"},
		{"missing body", `{"framework_id":"` + string(fid) + `","type":"ACCEPT"}`, fid, protocol.ErrBadRequest, "accept"},
		{"wrong field type", `{"framework_id":"` + string(fid) + `","type":"KILL","kill":{"task_id":5}}`, fid, protocol.ErrBadRequest, "task_id"},
		{"another framework's id", `{"framework_id":"OTHER","type":"REVIVE"}`, fid, protocol.ErrForbidden, "own id"},
		{"unknown framework", `{"framework_id":"GHOST","type":"REVIVE"}`, "GHOST", protocol.ErrNotSubscribed, "SUBSCRIBE"},
		{"unknown offer", `{"framework_id":"` + string(fid) + `","type":"ACCEPT","accept":{"offer_ids":["NOPE"],"operations":[]}}`, fid, protocol.ErrNotFound, "NOPE"},
		{"bad resources", `{"framework_id":"` + string(fid) + `","type":"ACCEPT","accept":{"offer_ids":["` + string(of[0].ID) + `"],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"task_id":"x","name":"x","command":{"value":"true"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}]}]}}]}}`, fid, protocol.ErrBadRequest, "resources"},
		{"bad task id", `{"framework_id":"` + string(fid) + `","type":"KILL","kill":{"task_id":"a b"}}`, fid, protocol.ErrBadRequest, "task_id"},
		{"unsupported op", `{"framework_id":"` + string(fid) + `","type":"ACCEPT","accept":{"offer_ids":["` + string(of[0].ID) + `"],"operations":[{"type":"RESERVE","reserve":{"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}}]}}`, fid, protocol.ErrNotFound, "RESERVE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(tc.subject, tc.body)
			if r.Error == nil || r.Error.Code != tc.code || !strings.Contains(r.Error.Message, tc.mention) {
				t.Fatalf("want %s mentioning %q, got %+v", tc.code, tc.mention, r.Error)
			}
		})
	}
	// The offer survived the refused accepts: a task that does not fit is
	// refused alone with a clear message, the one that fits launches.
	rej, err := f.Launch(ctxT(t), of[0], sleepTask("fits", "cpus:1;mem:32"), sleepTask("huge", "cpus:64;mem:32"), sleepTask("fits", "cpus:1;mem:32"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rej) != 2 || rej[0].TaskID != "huge" || !strings.Contains(rej[0].Message, "offers have only") ||
		rej[1].TaskID != "fits" || !strings.Contains(rej[1].Message, "already in use") {
		t.Fatalf("rejections: %+v", rej)
	}
	update(t, f, "huge", protocol.TaskError)
	update(t, f, "fits", protocol.TaskRunning)

	// Malformed agent traffic and garbage on the update stream do not hurt.
	if _, err := nc.Request(protocol.AgentRegister("X"), []byte("garbage"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish(protocol.Updates(fid, "X"), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	r := call(fid, `{"framework_id":"`+string(fid)+`","type":"HEARTBEAT"}`)
	if r.Error != nil {
		t.Fatalf("master unhealthy after bad input: %+v", r.Error)
	}
}

func TestOperatorSnapshotJSON(t *testing.T) {
	c := newCluster(t, nil)
	c.agent(func(cfg *simagent.Config) {
		cfg.Hostname = "host-a"
		cfg.Attributes = resources.Attributes{{Name: "rack", Type: resources.Text, Text: "r1"}}
	})
	f := c.framework("web", nil)
	of := offers(t, f)
	if _, err := f.Launch(ctxT(t), of[0], sleepTask("j1", "cpus:1;mem:32")); err != nil {
		t.Fatal(err)
	}
	update(t, f, "j1", protocol.TaskRunning)
	waitFor(t, 5*time.Second, "task in state", func() bool { _, ok := taskOf(t, c.m, f.ID(), "j1"); return ok })
	data, err := json.Marshal(c.m.State())
	if err != nil {
		t.Fatal(err)
	}
	var back protocol.State
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Agents[0].Hostname != "host-a" || back.Agents[0].Attributes[0].Text != "r1" || back.Tasks[0].ID != "j1" {
		t.Fatalf("state round trip: %s", data)
	}
}
