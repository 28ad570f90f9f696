package agent_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/agent"
	"github.com/cairn-dc/cairn/kernel/bus"
	"github.com/cairn-dc/cairn/kernel/containerizer/supervisor"
	"github.com/cairn-dc/cairn/kernel/master"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/kernel/scheduler"
	"github.com/cairn-dc/cairn/kernel/testcluster"
)

// cluster: embedded NATS, a master, real agents, frameworks from the client library.
type cluster struct {
	t       testing.TB
	bus     *bus.Bus
	log     *slog.Logger
	mcancel context.CancelFunc
	mdone   chan error
	m       *master.Master
	mcfg    master.Config
}

// testLogger is silent unless CAIRN_TEST_LOG is set.
func testLogger() *slog.Logger { return testcluster.Logger() }

// newCluster starts NATS and a master with short intervals (test time);
// mutate may change the master's config before it starts.
func newCluster(t testing.TB, mutate ...func(*master.Config)) *cluster {
	t.Helper()
	c := &cluster{t: t, log: testLogger()}
	b, err := bus.Start(context.Background(), bus.Config{Port: -1, StoreDir: t.TempDir(), Logger: c.log})
	if err != nil {
		t.Fatal(err)
	}
	c.bus = b
	t.Cleanup(b.Shutdown)
	c.mcfg = master.Config{ID: "m1", Logger: c.log, AllocationInterval: 50 * time.Millisecond, AgentPingInterval: 200 * time.Millisecond,
		FrameworkHeartbeatInterval: 200 * time.Millisecond, UpdateRetryInterval: 500 * time.Millisecond, LeaseTTL: time.Second,
		SnapshotInterval: 10 * time.Millisecond, TickInterval: 20 * time.Millisecond, Seed: 1}
	for _, m := range mutate {
		m(&c.mcfg)
	}
	c.startMaster()
	t.Cleanup(c.stopMaster)
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

func (c *cluster) startMaster() {
	c.t.Helper()
	cfg := c.mcfg
	cfg.Conn = c.conn("master")
	m, err := master.New(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.m, c.mcancel, c.mdone = m, cancel, make(chan error, 1)
	go func() { c.mdone <- m.Run(ctx) }()
	waitFor(c.t, 10*time.Second, "master ready", m.Ready)
}

func (c *cluster) stopMaster() {
	if c.mcancel != nil {
		c.mcancel()
		<-c.mdone
		c.mcancel = nil
	}
}

// runningAgent is an agent under test; stop() ends its Run (tasks keep
// running under the supervisor), kill() kills everything.
type runningAgent struct {
	*agent.Agent
	cancel context.CancelFunc
	done   chan error
	dir    string
}

func (c *cluster) agent(dir string, mutate func(*agent.Config)) *runningAgent {
	c.t.Helper()
	if dir == "" {
		dir = c.t.TempDir()
	}
	cfg := agent.Config{Conn: c.conn("agent"), WorkDir: dir, Hostname: "agent-t", Address: "127.0.0.1",
		Resources: resources.MustParse("cpus:4;mem:4096;disk:10000;ports:[41000-41100]"), HTTPAddr: "127.0.0.1:0",
		SupervisorCommand: supervisorCommand, DefaultKillGrace: 2 * time.Second, Logger: c.log}
	if mutate != nil {
		mutate(&cfg)
	}
	a, err := agent.New(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ra := &runningAgent{Agent: a, cancel: cancel, done: make(chan error, 1), dir: dir}
	go func() { ra.done <- a.Run(ctx) }()
	waitFor(c.t, 20*time.Second, "agent registered", func() bool {
		select {
		case err := <-ra.done:
			c.t.Fatalf("agent stopped: %v", err)
		default:
		}
		return a.Ready()
	})
	c.t.Cleanup(ra.kill)
	return ra
}

func (ra *runningAgent) stop() {
	if ra.cancel != nil {
		ra.cancel()
		<-ra.done
		ra.cancel = nil
	}
}

// kill kills the agent's tasks and its supervisor, whether the agent runs or not.
func (ra *runningAgent) kill() {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if ra.cancel != nil {
		_ = ra.Shutdown(ctx, 0)
	} else if sup, err := supervisor.Dial(ctx, filepath.Join(ra.dir, "meta", "supervisor")); err == nil {
		_ = sup.Shutdown(ctx, 0)
		_ = sup.Close()
	}
	ra.stop()
}

// fw is a framework whose events are all recorded, so tests can wait for
// any of them in any order.
type fw struct {
	*scheduler.Framework
	mu     sync.Mutex
	events []protocol.Event
	offers chan protocol.Offer
	closed bool
}

func (c *cluster) framework(name string) *fw {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := scheduler.Subscribe(ctx, scheduler.Config{Conn: c.conn("fw"), Framework: protocol.FrameworkInfo{Name: name, FailoverTimeout: 600}, Logger: c.log})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = f.Close() })
	w := &fw{Framework: f, offers: make(chan protocol.Offer, 1024)}
	go func() {
		for ev := range f.Events() {
			w.mu.Lock()
			w.events = append(w.events, ev)
			w.mu.Unlock()
			if ev.Type == protocol.EventOffers {
				for _, o := range ev.Offers.Offers {
					select {
					case w.offers <- o:
					default:
					}
				}
			}
		}
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
	}()
	return w
}

// find returns the first recorded event matching keep.
func (w *fw) find(keep func(protocol.Event) bool) (protocol.Event, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ev := range w.events {
		if keep(ev) {
			return ev, true
		}
	}
	return protocol.Event{}, false
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// event waits until an event matching keep has been recorded.
func event(t testing.TB, f *fw, d time.Duration, what string, keep func(protocol.Event) bool) protocol.Event {
	t.Helper()
	var ev protocol.Event
	waitFor(t, d, what, func() bool {
		var ok bool
		ev, ok = f.find(keep)
		return ok
	})
	return ev
}

// offer takes the next offer.
func offer(t testing.TB, f *fw) protocol.Offer {
	t.Helper()
	select {
	case o := <-f.offers:
		return o
	case <-time.After(10 * time.Second):
		t.Fatal("no offer within 10s")
	}
	return protocol.Offer{}
}

// waitState waits for an update of task id in one of states; it fails at
// once if the task ends in another state.
func waitState(t testing.TB, f *fw, id protocol.TaskID, states ...protocol.TaskState) protocol.TaskStatus {
	t.Helper()
	return event(t, f, 20*time.Second, string(id)+" in "+joinStates(states), func(e protocol.Event) bool {
		if e.Type != protocol.EventUpdate || e.Update.Status.TaskID != id {
			return false
		}
		for _, s := range states {
			if e.Update.Status.State == s {
				return true
			}
		}
		if e.Update.Status.State.Terminal() {
			t.Fatalf("%s ended %s (%s: %s) while waiting for %s", id, e.Update.Status.State, e.Update.Status.Reason, e.Update.Status.Message, joinStates(states))
		}
		return false
	}).Update.Status
}

func joinStates(s []protocol.TaskState) string {
	var out []string
	for _, x := range s {
		out = append(out, string(x))
	}
	return strings.Join(out, "|")
}

func shellTask(id, res, cmd string) protocol.TaskInfo {
	return scheduler.Task(protocol.TaskID(id), id, resources.MustParse(res), cmd)
}

func launch(t testing.TB, f *fw, o protocol.Offer, tasks ...protocol.TaskInfo) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rej, err := f.Launch(ctx, o, tasks...)
	if err != nil || len(rej) > 0 {
		t.Fatalf("launch: %v %v", rej, err)
	}
}

// sandboxFile reads a file of the task's (only) sandbox on the agent.
func sandboxFile(t testing.TB, ra *runningAgent, f *fw, id protocol.TaskID, name string) string {
	t.Helper()
	runs, _ := filepath.Glob(filepath.Join(ra.dir, "sandboxes", string(f.ID()), string(id)+"@*", name))
	if len(runs) == 0 {
		t.Fatalf("no %s in a sandbox of %s", name, id)
	}
	b, err := os.ReadFile(runs[len(runs)-1])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func isRoot() bool { return os.Geteuid() == 0 }
