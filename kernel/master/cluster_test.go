package master_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/bus"
	"github.com/cairn-dc/cairn/kernel/master"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/kernel/scheduler"
	"github.com/cairn-dc/cairn/kernel/simagent"
	"github.com/cairn-dc/cairn/kernel/testcluster"
)

// cluster is an in-process Cairn cluster for tests: embedded NATS with
// JetStream, a master, simulated agents and frameworks from the client library.
type cluster struct {
	t      *testing.T
	dir    string
	bus    *bus.Bus
	cfg    master.Config
	m      *master.Master
	mconn  *nats.Conn
	cancel context.CancelFunc
	done   chan error
	log    *slog.Logger
}

// testLogger is silent unless CAIRN_TEST_LOG is set.
func testLogger() *slog.Logger { return testcluster.Logger() }

// fastConfig has short timeouts so failure paths run in test time.
func fastConfig() master.Config {
	return master.Config{
		AllocationInterval:         50 * time.Millisecond,
		OfferTimeout:               2 * time.Second,
		AgentPingInterval:          100 * time.Millisecond,
		AgentPingTimeouts:          3,
		AgentUnreachableTimeout:    time.Second,
		FrameworkHeartbeatInterval: 100 * time.Millisecond,
		DefaultFailoverTimeout:     10 * time.Second,
		UpdateRetryInterval:        300 * time.Millisecond,
		LeaseTTL:                   time.Second,
		SnapshotInterval:           10 * time.Millisecond,
		TickInterval:               20 * time.Millisecond,
		UpdatesPurgeInterval:       100 * time.Millisecond,
		Seed:                       1,
	}
}

func newCluster(t *testing.T, mutate func(*master.Config)) *cluster {
	t.Helper()
	c := &cluster{t: t, dir: t.TempDir(), log: testLogger()}
	b, err := bus.Start(context.Background(), bus.Config{Port: -1, StoreDir: c.dir, Logger: c.log})
	if err != nil {
		t.Fatal(err)
	}
	c.bus = b
	t.Cleanup(b.Shutdown)
	c.cfg = fastConfig()
	c.cfg.ID = "master-1"
	if mutate != nil {
		mutate(&c.cfg)
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
	cfg := c.cfg
	cfg.Conn = c.conn("master")
	cfg.Logger = c.log
	c.mconn = cfg.Conn
	m, err := master.New(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.m, c.cancel, c.done = m, cancel, make(chan error, 1)
	go func() { c.done <- m.Run(ctx) }()
	waitFor(c.t, 10*time.Second, "master ready", m.Ready)
}

func (c *cluster) stopMaster() {
	if c.cancel == nil {
		return
	}
	c.cancel()
	if err := <-c.done; err != nil {
		c.t.Errorf("master.Run: %v", err)
	}
	c.mconn.Close()
	c.cancel = nil
}

func (c *cluster) restartMaster() {
	c.t.Helper()
	c.stopMaster()
	c.startMaster()
}

var agentRes = resources.MustParse("cpus:4;mem:8192;disk:10000;ports:[31000-32000]")

func (c *cluster) agent(mutate func(*simagent.Config)) *simagent.Agent {
	c.t.Helper()
	cfg := simagent.Config{Conn: c.conn("agent"), Resources: agentRes, Logger: c.log}
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := simagent.Start(ctx, cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(a.Stop)
	return a
}

func (c *cluster) framework(name string, mutate func(*scheduler.Config)) *scheduler.Framework {
	c.t.Helper()
	cfg := scheduler.Config{Conn: c.conn("fw-" + name), Framework: protocol.FrameworkInfo{Name: name}, Logger: c.log}
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := scheduler.Subscribe(ctx, cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = f.Close() })
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

// nextEvent returns the framework's next event matching keep.
func nextEvent(t *testing.T, f *scheduler.Framework, d time.Duration, what string, keep func(protocol.Event) bool) protocol.Event {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-f.Events():
			if !ok {
				t.Fatalf("event stream closed waiting for %s: %v", what, f.Err())
			}
			if keep(ev) {
				return ev
			}
		case <-timer.C:
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
	}
}

func offers(t *testing.T, f *scheduler.Framework) []protocol.Offer {
	t.Helper()
	return nextEvent(t, f, 5*time.Second, "offers", func(e protocol.Event) bool { return e.Type == protocol.EventOffers }).Offers.Offers
}

func isUpdate(id protocol.TaskID, state protocol.TaskState) func(protocol.Event) bool {
	return func(e protocol.Event) bool {
		return e.Type == protocol.EventUpdate && e.Update.Status.TaskID == id && e.Update.Status.State == state
	}
}

func update(t *testing.T, f *scheduler.Framework, id protocol.TaskID, state protocol.TaskState) protocol.TaskStatus {
	t.Helper()
	return nextEvent(t, f, 5*time.Second, string(id)+" "+string(state), isUpdate(id, state)).Update.Status
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func taskOf(t *testing.T, m *master.Master, fid protocol.FrameworkID, id protocol.TaskID) (protocol.Task, bool) {
	t.Helper()
	for _, tk := range m.State().Tasks {
		if tk.FrameworkID == fid && tk.ID == id {
			return tk, true
		}
	}
	return protocol.Task{}, false
}

func frameworkOf(m *master.Master, fid protocol.FrameworkID) (protocol.Framework, bool) {
	for _, f := range m.State().Frameworks {
		if f.ID == fid {
			return f, true
		}
	}
	return protocol.Framework{}, false
}

func agentOf(m *master.Master, aid protocol.AgentID) (protocol.Agent, bool) {
	for _, a := range m.State().Agents {
		if a.ID == aid {
			return a, true
		}
	}
	return protocol.Agent{}, false
}

func sleepTask(id string, res string) protocol.TaskInfo {
	return scheduler.Task(protocol.TaskID(id), id, resources.MustParse(res), "sleep 3600")
}

func asProtocolError(err error, target **protocol.Error) bool { return errors.As(err, target) }

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
