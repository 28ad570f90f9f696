package simagent

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

func TestRegistrationRetriesUntilAMasterAnswers(t *testing.T) {
	e := newEnv(t)
	// A subscriber that never answers: the agent's requests time out.
	var mu sync.Mutex
	seen := 0
	two := make(chan struct{})
	mute, err := e.mnc.Subscribe(protocol.AgentRegisterWildcard, func(*nats.Msg) {
		mu.Lock()
		defer mu.Unlock()
		if seen++; seen == 2 {
			close(two)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = e.mnc.Flush()
	id := protocol.AgentID(protocol.NewID())
	type result struct {
		a   *Agent
		err error
	}
	res := make(chan result, 1)
	go func() {
		a, err := Start(ctxT(t), Config{Conn: e.nc, ID: id, Hostname: "h1", Logger: quiet,
			Resources: resources.MustParse("cpus:2;mem:1024"), RequestTimeout: 20 * time.Millisecond,
			RetryMin: time.Millisecond, RetryMax: 10 * time.Millisecond})
		res <- result{a, err}
	}()
	select {
	case <-two:
	case <-time.After(10 * time.Second):
		t.Fatal("agent did not retry its registration")
	}
	_ = mute.Unsubscribe()
	// The master says it is not ready once, then accepts.
	m := startMaster(t, e.mnc, "m1")
	m.mu.Lock()
	m.script = []*protocol.Error{{Code: protocol.ErrUnavailable, Message: "not leading yet"}}
	m.mu.Unlock()
	r := <-res
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.a.Stop()
	if r.a.ID() != id || r.a.MasterID() != "m1" || !r.a.Registered() {
		t.Fatalf("agent %s registered with %q (registered=%v)", r.a.ID(), r.a.MasterID(), r.a.Registered())
	}
	if s := r.a.Stats(); s.RegisterAttempts < 4 || s.Registrations != 1 {
		t.Fatalf("stats %+v: want >= 4 attempts (2 unanswered, 1 unavailable, 1 accepted) and 1 registration", s)
	}
	regs := m.registrations(id)
	if len(regs) != 1 {
		t.Fatalf("%d registrations", len(regs))
	}
	info := regs[0].Agent
	if info.Hostname != "h1" || info.Version != Version || !info.Resources.Equal(resources.MustParse("cpus:2;mem:1024")) || len(regs[0].Tasks) != 0 {
		t.Fatalf("registration %+v", regs[0])
	}
}

func TestRegistrationRefusedAndCancelled(t *testing.T) {
	e := newEnv(t)
	m := startMaster(t, e.mnc, "m1")
	m.script = []*protocol.Error{{Code: protocol.ErrForbidden, Message: "agent is gone"}}
	_, err := Start(ctxT(t), Config{Conn: e.nc, Resources: resources.MustParse("cpus:1"), Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), "agent is gone") {
		t.Fatalf("got %v, want the master's refusal", err)
	}
	// No master at all: Start gives up when its context ends.
	m.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = Start(ctx, Config{Conn: e.nc, Resources: resources.MustParse("cpus:1"), Logger: quiet,
		RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	if _, err := Start(ctxT(t), Config{Conn: e.nc, Logger: quiet}); err == nil {
		t.Fatal("agent without resources started")
	}
}

func TestPingsAndReregistrationWithTasks(t *testing.T) {
	e := newEnv(t)
	e.createStream()
	m := startMaster(t, e.mnc, "m1")
	a := e.startAgent(Config{SkipStarting: true})
	m.wait("3 pings", func() bool { return m.pings[a.ID()] >= 3 })

	m.send(a.ID(), launch("fw1", taskInfo("t1", "cpus:1;mem:128", nil)))
	ctx := ctxT(t)
	if err := a.WaitTask(ctx, "t1", protocol.TaskRunning); err != nil {
		t.Fatal(err)
	}
	m.forget(a.ID())
	m.wait("re-registration", func() bool { return len(m.regs[a.ID()]) == 2 })
	re := m.registrations(a.ID())[1]
	if len(re.Tasks) != 1 {
		t.Fatalf("re-registration tasks %+v", re.Tasks)
	}
	got := re.Tasks[0]
	if got.FrameworkID != "fw1" || got.TaskID != "t1" || got.State != protocol.TaskRunning || got.Role != "*" ||
		!got.Resources.Equal(resources.MustParse("cpus:1;mem:128")) {
		t.Fatalf("re-registered task %+v", got)
	}
	if err := a.Wait(ctx, func() bool { return a.Registered() && a.Stats().Registrations == 2 }); err != nil {
		t.Fatal(err)
	}
	// Pings keep going after re-registration.
	n := m.pingCount(a.ID())
	m.wait("more pings", func() bool { return m.pings[a.ID()] >= n+2 })
}

func TestPingsSurviveAMasterOutage(t *testing.T) {
	e := newEnv(t)
	m := startMaster(t, e.mnc, "m1")
	a := e.startAgent(Config{RequestTimeout: 20 * time.Millisecond})
	m.stop() // master down: pings find no responders
	ctx := ctxT(t)
	if err := a.Wait(ctx, func() bool { return a.Stats().PingFailures >= 3 }); err != nil {
		t.Fatal(err)
	}
	// A new master without the agent: it re-registers.
	m2 := startMaster(t, e.mnc, "m2")
	m2.mu.Lock()
	m2.pingInterval = 0.02
	m2.mu.Unlock()
	m2.wait("re-registration with the new master", func() bool { return len(m2.regs[a.ID()]) == 1 })
	if err := a.Wait(ctx, func() bool { return a.MasterID() == "m2" && a.Registered() }); err != nil {
		t.Fatal(err)
	}
}

func TestLaunchPublishesStartingAndRunning(t *testing.T) {
	e := newEnv(t)
	ups := e.createStream()
	m := startMaster(t, e.mnc, "m1")
	a := e.startAgent(Config{})
	before := time.Now()
	m.send(a.ID(), launch("fw1",
		taskInfo("web.1", "cpus:1;mem:256", map[string]string{LabelHealthy: "true"}),
		taskInfo("web.2", "cpus:1;mem:256;ports:[31000-31000]", nil)))
	seen := map[string]bool{}
	last := map[protocol.TaskID]protocol.TaskState{}
	for range 4 {
		g := ups.next()
		if g.Subject != protocol.Updates("fw1", a.ID()) {
			t.Fatalf("subject %s", g.Subject)
		}
		st := g.Status
		if g.FrameworkID != "fw1" || g.AgentID != a.ID() || st.AgentID != a.ID() || st.Source != protocol.SourceAgent {
			t.Fatalf("update %+v", g.StatusUpdate)
		}
		if st.UUID == "" || g.MsgID != st.UUID || seen[st.UUID] {
			t.Fatalf("uuid %q, Nats-Msg-Id %q (seen before: %v)", st.UUID, g.MsgID, seen[st.UUID])
		}
		seen[st.UUID] = true
		if ts := st.Time(); ts.Before(before.Add(-time.Millisecond)) || ts.After(time.Now().Add(time.Millisecond)) {
			t.Fatalf("timestamp %v not in [%v, now]", ts, before)
		}
		want := protocol.TaskStarting
		if last[st.TaskID] == protocol.TaskStarting {
			want = protocol.TaskRunning
		}
		if st.State != want {
			t.Fatalf("task %s: got %s after %q, want %s", st.TaskID, st.State, last[st.TaskID], want)
		}
		last[st.TaskID] = st.State
		if st.State == protocol.TaskRunning && st.TaskID == "web.1" && (st.Healthy == nil || !*st.Healthy) {
			t.Fatalf("web.1 RUNNING healthy = %v, want true", st.Healthy)
		}
		if st.TaskID == "web.2" && st.Healthy != nil {
			t.Fatalf("web.2 healthy = %v, want unset", *st.Healthy)
		}
	}
	if err := a.WaitIdle(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	tasks := a.Tasks()
	if len(tasks) != 2 || tasks[0].TaskID != "web.1" || tasks[0].State != protocol.TaskRunning || tasks[0].Pending != 0 ||
		tasks[0].Updates != 2 || tasks[0].Acknowledged {
		t.Fatalf("tasks %+v", tasks)
	}
	if !a.Used().Equal(resources.MustParse("cpus:2;mem:512;ports:[31000-31000]")) {
		t.Fatalf("used %s", a.Used())
	}
	if s := a.Stats(); s.Launches != 2 || s.Updates != 4 || s.UpdatesStored != 4 || s.Commands != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestKillAndUnknownKill(t *testing.T) {
	e := newEnv(t)
	ups := e.createStream()
	m := startMaster(t, e.mnc, "m1")
	a := e.startAgent(Config{SkipStarting: true, SendKilling: true})
	m.send(a.ID(), launch("fw1", taskInfo("t1", "cpus:1;mem:128", nil)))
	ups.expect("t1", protocol.TaskRunning)
	m.send(a.ID(), protocol.AgentCommand{Type: protocol.AgentKill,
		Kill: &protocol.KillTask{FrameworkID: "fw1", TaskID: "t1", Reason: protocol.ReasonAgentDraining}})
	ups.expect("t1", protocol.TaskKilling)
	g := ups.expect("t1", protocol.TaskKilled)
	if g.Status.Reason != protocol.ReasonAgentDraining {
		t.Fatalf("kill reason %q", g.Status.Reason)
	}
	if !a.Used().IsEmpty() {
		t.Fatalf("used after kill: %s", a.Used())
	}
	// Killing it again changes nothing: it is terminal.
	m.send(a.ID(), kill("fw1", "t1"))
	m.send(a.ID(), kill("fw1", "nope"))
	g = ups.expect("nope", protocol.TaskDropped)
	if g.Status.Reason != protocol.ReasonTaskUnknown || g.Status.Message != MessageUnknownTask || g.FrameworkID != "fw1" {
		t.Fatalf("unknown kill answered %+v", g.StatusUpdate)
	}
	ctx := ctxT(t)
	if err := a.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if tasks := a.Tasks(); len(tasks) != 1 || tasks[0].TaskID != "t1" || tasks[0].State != protocol.TaskKilled {
		t.Fatalf("tasks %+v (the unknown task must not be held)", tasks)
	}
	if s := a.Stats(); s.Kills != 3 || s.Updates != 4 {
		t.Fatalf("stats %+v", s)
	}
}

func TestKillDelayAndKillDuringLaunch(t *testing.T) {
	e := newEnv(t)
	ups := e.createStream()
	m := startMaster(t, e.mnc, "m1")
	a := e.startAgent(Config{KillDelay: 10 * time.Millisecond})
	m.send(a.ID(), launch("fw1", taskInfo("slow", "cpus:1", map[string]string{LabelStartDelay: "1h"})))
	ups.expect("slow", protocol.TaskStarting)
	m.send(a.ID(), kill("fw1", "slow"))
	g := ups.expect("slow", protocol.TaskKilled)
	if g.Status.Reason != protocol.ReasonTaskKilledDuringLaunch {
		t.Fatalf("reason %q", g.Status.Reason)
	}
}

func TestAcknowledgeForgetsTerminalTasks(t *testing.T) {
	e := newEnv(t)
	ups := e.createStream()
	m := startMaster(t, e.mnc, "m1")
	a := e.startAgent(Config{SkipStarting: true})
	m.send(a.ID(), launch("fw1", taskInfo("t1", "cpus:1", nil)))
	run := ups.expect("t1", protocol.TaskRunning)
	ctx := ctxT(t)
	m.send(a.ID(), ack("fw1", "t1", run.Status.UUID))
	if err := a.Wait(ctx, func() bool { s, _ := a.Task("t1"); return s.Acknowledged }); err != nil {
		t.Fatal(err)
	}
	if err := a.Finish("t1", protocol.TaskFinished, "done"); err != nil {
		t.Fatal(err)
	}
	if err := a.Finish("t1", protocol.TaskFailed, ""); err == nil {
		t.Fatal("finished a terminal task twice")
	}
	fin := ups.expect("t1", protocol.TaskFinished)
	if fin.Status.Message != "done" || fin.Status.ExitCode == nil || *fin.Status.ExitCode != 0 {
		t.Fatalf("finish update %+v", fin.Status)
	}
	if s, ok := a.Task("t1"); !ok || s.Acknowledged {
		t.Fatalf("terminal task before ack: %+v %v", s, ok)
	}
	// A stale ack (of RUNNING) does not forget it; the terminal one does.
	m.send(a.ID(), ack("fw1", "t1", run.Status.UUID))
	m.send(a.ID(), ack("fw1", "t1", fin.Status.UUID))
	if err := a.Wait(ctx, func() bool { _, ok := a.Task("t1"); return !ok }); err != nil {
		t.Fatal(err)
	}
	if err := a.WaitTask(ctx, "t1", protocol.TaskFinished); err != nil {
		t.Fatalf("forgotten task: %v", err)
	}
	if s := a.Stats(); s.Acks != 3 {
		t.Fatalf("stats %+v", s)
	}
	// The same task ID may be launched again.
	m.send(a.ID(), launch("fw1", taskInfo("t1", "cpus:1", nil)))
	ups.expect("t1", protocol.TaskRunning)
}

func TestShutdownFramework(t *testing.T) {
	e := newEnv(t)
	ups := e.createStream()
	m := startMaster(t, e.mnc, "m1")
	a := e.startAgent(Config{SkipStarting: true})
	m.send(a.ID(), launch("fwA", taskInfo("a1", "cpus:1", nil), taskInfo("a2", "cpus:1", nil)))
	m.send(a.ID(), launch("fwB", taskInfo("b1", "cpus:1", nil)))
	for range 3 {
		ups.next()
	}
	m.send(a.ID(), protocol.AgentCommand{Type: protocol.AgentShutdownFramework,
		ShutdownFramework: &protocol.ShutdownFramework{FrameworkID: "fwA"}})
	ups.expect("a1", protocol.TaskKilled)
	g := ups.expect("a2", protocol.TaskKilled)
	if g.FrameworkID != "fwA" {
		t.Fatalf("%+v", g)
	}
	if err := a.WaitIdle(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	for _, s := range a.Tasks() {
		want := protocol.TaskKilled
		if s.FrameworkID == "fwB" {
			want = protocol.TaskRunning
		}
		if s.State != want {
			t.Fatalf("task %s of %s is %s, want %s", s.TaskID, s.FrameworkID, s.State, want)
		}
	}
	if !a.Used().Equal(resources.MustParse("cpus:1")) {
		t.Fatalf("used %s", a.Used())
	}
}

func TestTasksEndByThemselves(t *testing.T) {
	e := newEnv(t)
	ups := e.createStream()
	m := startMaster(t, e.mnc, "m1")
	a := e.startAgent(Config{SkipStarting: true})
	m.send(a.ID(), launch("fw1",
		taskInfo("fin", "cpus:0.1", map[string]string{LabelDuration: "20ms"}),
		taskInfo("fail", "cpus:0.1", map[string]string{LabelDuration: "10ms", LabelExit: "failed"}),
		taskInfo("crash", "cpus:0.1", map[string]string{LabelExit: "failed"}),
		taskInfo("bad", "cpus:0.1", map[string]string{LabelDuration: "soon"}),
		taskInfo("sick", "cpus:0.1", map[string]string{LabelHealthy: "false", LabelStartDelay: "5ms"}),
	))
	got := map[protocol.TaskID][]protocol.TaskStatus{}
	for range 9 {
		g := ups.next()
		got[g.Status.TaskID] = append(got[g.Status.TaskID], g.Status)
	}
	states := func(id protocol.TaskID) string {
		var s []string
		for _, st := range got[id] {
			s = append(s, string(st.State))
		}
		return strings.Join(s, ",")
	}
	for id, want := range map[protocol.TaskID]string{
		"fin":   "TASK_RUNNING,TASK_FINISHED",
		"fail":  "TASK_RUNNING,TASK_FAILED",
		"crash": "TASK_RUNNING,TASK_FAILED",
		"bad":   "TASK_ERROR",
		"sick":  "TASK_STARTING,TASK_RUNNING",
	} {
		if states(id) != want {
			t.Errorf("task %s: %s, want %s", id, states(id), want)
		}
	}
	if c := got["fail"][1].ExitCode; c == nil || *c != 1 {
		t.Errorf("failed task exit code %v", c)
	}
	if r := got["bad"][0]; r.Reason != protocol.ReasonTaskInvalid || !strings.Contains(r.Message, LabelDuration) {
		t.Errorf("bad task: %+v", r)
	}
	if h := got["sick"][1].Healthy; h == nil || *h {
		t.Errorf("sick task healthy %v", h)
	}
	if !a.Used().Equal(resources.MustParse("cpus:0.1")) {
		t.Errorf("used %s, want the sick task's", a.Used())
	}
	if err := a.SetHealthy("sick", true); err != nil {
		t.Fatal(err)
	}
	g := ups.expect("sick", protocol.TaskRunning)
	if g.Status.Healthy == nil || !*g.Status.Healthy || g.Status.Reason != protocol.ReasonHealthCheckUpdated {
		t.Fatalf("health update %+v", g.Status)
	}
}

func TestDefaultTaskDuration(t *testing.T) {
	e := newEnv(t)
	ups := e.createStream()
	m := startMaster(t, e.mnc, "m1")
	a := e.startAgent(Config{SkipStarting: true, TaskDuration: 5 * time.Millisecond})
	m.send(a.ID(), launch("fw1", taskInfo("a", "cpus:1", nil), taskInfo("forever", "cpus:1", map[string]string{LabelDuration: "1h"})))
	ups.expect("a", protocol.TaskRunning)
	ups.expect("forever", protocol.TaskRunning)
	ups.expect("a", protocol.TaskFinished)
}

func TestOvercommitIsDropped(t *testing.T) {
	e := newEnv(t)
	ups := e.createStream()
	m := startMaster(t, e.mnc, "m1")
	a := e.startAgent(Config{SkipStarting: true, Resources: resources.MustParse("cpus:1;mem:128;ports:[31000-31001]")})
	m.send(a.ID(), launch("fw1", taskInfo("t1", "cpus:1;ports:[31000-31000]", nil)))
	ups.expect("t1", protocol.TaskRunning)
	m.send(a.ID(), launch("fw1", taskInfo("t2", "cpus:0.5", nil)))
	g := ups.expect("t2", protocol.TaskDropped)
	if !strings.HasPrefix(g.Status.Message, MessageOvercommitPrefix) || g.Status.Reason != protocol.ReasonInvalidOffers {
		t.Fatalf("overcommit update %+v", g.Status)
	}
	m.send(a.ID(), launch("fw2", taskInfo("p", "mem:1;ports:[31000-31000]", nil)))
	ups.expect("p", protocol.TaskDropped)
	m.send(a.ID(), launch("fw2", taskInfo("gpu", "gpus:1", nil)))
	ups.expect("gpu", protocol.TaskDropped)
	// Dynamically reserved resources and volumes count as what they were made from.
	dyn := resources.Resources{{Name: "mem", Type: resources.Scalar, Scalar: resources.FromFloat(64),
		Reservations: []resources.Reservation{{Type: resources.Dynamic, Role: "db"}}}}
	m.send(a.ID(), launch("fw2", protocol.TaskInfo{Name: "db", TaskID: "db", Resources: dyn,
		Command: &protocol.CommandInfo{Value: "db"}}))
	ups.expect("db", protocol.TaskRunning)
	m.send(a.ID(), launch("fw2", protocol.TaskInfo{Name: "db2", TaskID: "db2", Resources: dyn.Plus(dyn),
		Command: &protocol.CommandInfo{Value: "db"}}))
	ups.expect("db2", protocol.TaskDropped)
	// A launch for another agent is dropped too.
	other := taskInfo("lost", "cpus:0.1", nil)
	other.AgentID = "another-agent"
	m.send(a.ID(), launch("fw1", other))
	ups.expect("lost", protocol.TaskDropped)
	// Freed resources can be used again.
	m.send(a.ID(), kill("fw1", "t1"))
	ups.expect("t1", protocol.TaskKilled)
	m.send(a.ID(), launch("fw1", taskInfo("t3", "cpus:1;ports:[31000-31001]", nil)))
	ups.expect("t3", protocol.TaskRunning)
	if s := a.Stats(); s.Overcommits != 4 {
		t.Fatalf("overcommits %d, want 4", s.Overcommits)
	}
	// A second launch of an active task is ignored.
	m.send(a.ID(), launch("fw1", taskInfo("t3", "cpus:1", nil)))
	if err := a.Wait(ctxT(t), func() bool { return a.Stats().DuplicateLaunches == 1 }); err != nil {
		t.Fatal(err)
	}
}

func TestBadCommandsAreDropped(t *testing.T) {
	e := newEnv(t)
	ups := e.createStream()
	m := startMaster(t, e.mnc, "m1")
	a := e.startAgent(Config{SkipStarting: true})
	for _, bad := range []string{"", "not json", "{}", `{"type":"REBOOT"}`, `{"type":"LAUNCH"}`,
		`{"type":"LAUNCH","launch":{"framework":{"id":"a.b"},"tasks":[{"task_id":"x"}]}}`,
		`{"type":"KILL","kill":{"task_id":"has space"}}`, `{"type":"ACKNOWLEDGE","acknowledge":{}}`, `[1,2]`} {
		m.sendRaw(a.ID(), []byte(bad))
	}
	m.send(a.ID(), launch("fw1", taskInfo("ok", "cpus:1", nil)))
	ups.expect("ok", protocol.TaskRunning)
	if s := a.Stats(); s.BadCommands != 9 || s.Commands != 10 {
		t.Fatalf("stats %+v", s)
	}
}

func TestFrameworkMessagesAreRecordedAndEchoed(t *testing.T) {
	e := newEnv(t)
	m := startMaster(t, e.mnc, "m1")
	a := e.startAgent(Config{EchoMessages: true})
	echoes, err := e.mnc.SubscribeSync(protocol.AgentMessage(a.ID()))
	if err != nil {
		t.Fatal(err)
	}
	_ = e.mnc.Flush()
	msg := protocol.FrameworkMessage{FrameworkID: "fw1", TaskID: "t1", Data: []byte("hello")}
	m.send(a.ID(), protocol.AgentCommand{Type: protocol.AgentFrameworkMessage, Message: &msg})
	got, err := echoes.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var echo protocol.FrameworkMessage
	if err := json.Unmarshal(got.Data, &echo); err != nil || echo.FrameworkID != "fw1" || string(echo.Data) != "hello" || echo.TaskID != "t1" {
		t.Fatalf("echo %s (%v)", got.Data, err)
	}
	if ms := a.Messages(); len(ms) != 1 || string(ms[0].Data) != "hello" || a.Stats().Messages != 1 {
		t.Fatalf("messages %+v", ms)
	}
}

func TestPartitionHoldsUpdatesAndDropsCommands(t *testing.T) {
	e := newEnv(t)
	ups := e.createStream()
	m := startMaster(t, e.mnc, "m1")
	a := e.startAgent(Config{SkipStarting: true})
	m.send(a.ID(), launch("fw1", taskInfo("t1", "cpus:1", nil)))
	ups.expect("t1", protocol.TaskRunning)
	ctx := ctxT(t)
	if err := a.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	a.Partition()
	if err := a.Finish("t1", protocol.TaskFailed, "oom"); err != nil {
		t.Fatal(err)
	}
	if s, _ := a.Task("t1"); s.Pending != 1 || s.State != protocol.TaskFailed {
		t.Fatalf("partitioned task %+v: its update must be held", s)
	}
	m.send(a.ID(), launch("fw1", taskInfo("t2", "cpus:1", nil)))
	if err := a.Wait(ctx, func() bool { return a.Stats().DroppedCommands == 1 }); err != nil {
		t.Fatal(err)
	}
	pings := m.pingCount(a.ID())
	a.Heal()
	g := ups.expect("t1", protocol.TaskFailed)
	if g.Status.Message != "oom" {
		t.Fatalf("%+v", g.Status)
	}
	m.wait("a ping after heal", func() bool { return m.pings[a.ID()] > pings })
	if _, ok := a.Task("t2"); ok {
		t.Fatal("a command sent during the partition was run")
	}
}

func TestPausePings(t *testing.T) {
	e := newEnv(t)
	m := startMaster(t, e.mnc, "m1")
	a := e.startAgent(Config{})
	m.wait("pings", func() bool { return m.pings[a.ID()] >= 1 })
	a.PausePings()
	// Re-registration waits for the pause too.
	m.forget(a.ID())
	a.ResumePings()
	m.wait("re-registration after resume", func() bool { return len(m.regs[a.ID()]) == 2 })
}

func TestUpdatesAreRetriedUntilTheStreamExists(t *testing.T) {
	e := newEnv(t)
	m := startMaster(t, e.mnc, "m1")
	pub, err := NewPublisher(e.nc, PublisherConfig{Logger: quiet, RetryMin: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	a := e.startAgent(Config{Publisher: pub})
	m.send(a.ID(), launch("fw1", taskInfo("t1", "cpus:1", nil)))
	ctx := ctxT(t)
	if err := a.Wait(ctx, func() bool { return a.Stats().PublishRetries >= 1 }); err != nil {
		t.Fatal(err)
	}
	if s, _ := a.Task("t1"); s.State != protocol.TaskRunning || s.Pending != 2 {
		t.Fatalf("task %+v: STARTING and RUNNING must wait for the stream", s)
	}
	ups := e.createStream()
	ups.expect("t1", protocol.TaskStarting)
	ups.expect("t1", protocol.TaskRunning)
	if err := a.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if pub.Pending() != 0 {
		t.Fatalf("publisher pending %d", pub.Pending())
	}
}

func TestCrashAndRecover(t *testing.T) {
	e := newEnv(t)
	ups := e.createStream()
	m := startMaster(t, e.mnc, "m1")
	a, err := Start(ctxT(t), Config{Conn: e.nc, Resources: resources.MustParse("cpus:4;mem:1024"), SkipStarting: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	m.send(a.ID(), launch("fw1",
		taskInfo("run", "cpus:1", nil),
		taskInfo("done", "cpus:1", map[string]string{LabelDuration: "0s"}),
		taskInfo("later", "cpus:1", map[string]string{LabelDuration: "30ms"})))
	for range 4 {
		ups.next()
	}
	ctx := ctxT(t)
	if err := a.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	a.Partition() // the next update stays pending: the restarted agent must send it
	if err := a.Finish("run", protocol.TaskFailed, "before crash"); err != nil {
		t.Fatal(err)
	}
	cp := a.Crash()
	if err := a.Finish("later", protocol.TaskKilled, ""); err != nil {
		t.Logf("finish after crash: %v", err) // allowed, but nothing may be published
	}
	if cp.AgentID != a.ID() || len(cp.Tasks) != 3 {
		t.Fatalf("checkpoint %+v", cp)
	}
	b, err := Start(ctx, Config{Conn: e.nc, Resources: resources.MustParse("cpus:4;mem:1024"), Recover: cp, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	if b.ID() != a.ID() {
		t.Fatalf("recovered agent has id %s, want %s", b.ID(), a.ID())
	}
	regs := m.registrations(a.ID())
	if len(regs) != 2 {
		t.Fatalf("%d registrations", len(regs))
	}
	var states []string
	for _, tk := range regs[1].Tasks {
		states = append(states, string(tk.TaskID)+"="+string(tk.State))
	}
	if got := strings.Join(states, " "); got != "done=TASK_FINISHED later=TASK_RUNNING run=TASK_FAILED" {
		t.Fatalf("re-registered with %s", got)
	}
	// The pending update is sent again; "later"'s timer survived the restart.
	got := map[protocol.TaskID]gotUpdate{}
	for range 2 {
		g := ups.next()
		got[g.Status.TaskID] = g
	}
	if g := got["run"]; g.Status.State != protocol.TaskFailed || g.Status.Message != "before crash" || g.AgentID != a.ID() {
		t.Fatalf("%+v", g)
	}
	if g := got["later"]; g.Status.State != protocol.TaskFinished {
		t.Fatalf("%+v", g)
	}
	if !b.Used().IsEmpty() {
		t.Fatalf("used %s", b.Used())
	}
}

func TestStopIsQuiet(t *testing.T) {
	e := newEnv(t)
	e.createStream()
	m := startMaster(t, e.mnc, "m1")
	a := e.startAgent(Config{})
	a.Stop()
	a.Stop()
	select {
	case <-a.Done():
	default:
		t.Fatal("Done not closed")
	}
	if err := a.WaitTask(ctxT(t), "x", protocol.TaskRunning); !errors.Is(err, ErrStopped) {
		t.Fatalf("wait on a stopped agent: %v", err)
	}
	m.send(a.ID(), launch("fw1", taskInfo("t1", "cpus:1", nil)))
	if a.Registered() || a.Err() != nil {
		t.Fatalf("stopped agent registered=%v err=%v", a.Registered(), a.Err())
	}
}

func TestMasterRefusesReregistration(t *testing.T) {
	e := newEnv(t)
	m := startMaster(t, e.mnc, "m1")
	a := e.startAgent(Config{})
	m.mu.Lock()
	m.script = []*protocol.Error{{Code: protocol.ErrForbidden, Message: "agent was removed"}}
	m.known[a.ID()] = false
	m.mu.Unlock()
	select {
	case <-a.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("refused agent did not stop")
	}
	if err := a.Err(); err == nil || !strings.Contains(err.Error(), "agent was removed") {
		t.Fatalf("Err() = %v", err)
	}
}
