package simagent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairn-dc/cairn/kernel/bus"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// env is an embedded NATS (in-process only, no port), a connection for the
// agents and one for the fake master.
type env struct {
	t   testing.TB
	bus *bus.Bus
	nc  *nats.Conn // agents
	mnc *nats.Conn // fake master
	js  jetstream.JetStream
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := bus.Start(ctx, bus.Config{DontListen: true, StoreDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Shutdown)
	e := &env{t: t, bus: b}
	if e.nc, err = b.Connect("agents"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.nc.Close)
	if e.mnc, err = b.Connect("master"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.mnc.Close)
	if e.js, err = jetstream.New(e.mnc); err != nil {
		t.Fatal(err)
	}
	return e
}

// createStream makes the updates stream as the master does, and the
// master's consumer on it.
func (e *env) createStream() *updates {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := e.js.CreateStream(ctx, jetstream.StreamConfig{
		Name:      protocol.UpdatesStream,
		Subjects:  []string{protocol.UpdatesWildcard},
		Storage:   jetstream.FileStorage,
		Retention: jetstream.LimitsPolicy,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:   protocol.UpdatesConsumer,
		AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return &updates{t: e.t, c: c}
}

// updates reads the stream as the master would.
type updates struct {
	t testing.TB
	c jetstream.Consumer
}

type gotUpdate struct {
	protocol.StatusUpdate
	Subject string
	MsgID   string
}

// next returns the next update on the stream, failing the test after 10s.
func (u *updates) next() gotUpdate {
	u.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		batch, err := u.c.Fetch(1, jetstream.FetchMaxWait(time.Until(deadline)))
		if err != nil {
			u.t.Fatalf("fetch update: %v", err)
		}
		for m := range batch.Messages() {
			_ = m.Ack()
			su, err := protocol.DecodeStatusUpdate(m.Data())
			if err != nil {
				u.t.Fatalf("bad update on the stream: %v", err)
			}
			return gotUpdate{StatusUpdate: su, Subject: m.Subject(), MsgID: m.Headers().Get(jetstream.MsgIDHeader)}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			u.t.Fatalf("fetch update: %v", err)
		}
	}
	u.t.Fatal("no status update on the stream within 10s")
	return gotUpdate{}
}

// nextFor returns the next update, checking it is of task id in state.
func (u *updates) expect(id protocol.TaskID, state protocol.TaskState) gotUpdate {
	u.t.Helper()
	g := u.next()
	if g.Status.TaskID != id || g.Status.State != state {
		u.t.Fatalf("update: got task %s %s (%q), want %s %s", g.Status.TaskID, g.Status.State, g.Status.Message, id, state)
	}
	return g
}

// fakeMaster answers agent registrations and pings.
type fakeMaster struct {
	t    testing.TB
	nc   *nats.Conn
	id   string
	subs []*nats.Subscription

	mu           sync.Mutex
	pingInterval float64
	known        map[protocol.AgentID]bool
	regs         map[protocol.AgentID][]protocol.RegisterAgent
	pings        map[protocol.AgentID]int
	// answers queued for the next registrations (nil entry: accept).
	script []*protocol.Error
	ch     chan struct{}
}

func startMaster(t testing.TB, nc *nats.Conn, id string) *fakeMaster {
	t.Helper()
	m := &fakeMaster{t: t, nc: nc, id: id, pingInterval: 0.02,
		known: map[protocol.AgentID]bool{}, regs: map[protocol.AgentID][]protocol.RegisterAgent{},
		pings: map[protocol.AgentID]int{}}
	rs, err := nc.Subscribe(protocol.AgentRegisterWildcard, m.onRegister)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := nc.Subscribe(protocol.AgentPingWildcard, m.onPing)
	if err != nil {
		t.Fatal(err)
	}
	m.subs = []*nats.Subscription{rs, ps}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.stop)
	return m
}

func (m *fakeMaster) stop() {
	for _, s := range m.subs {
		_ = s.Unsubscribe()
	}
	_ = m.nc.Flush()
}

func (m *fakeMaster) changed() {
	if m.ch != nil {
		close(m.ch)
		m.ch = nil
	}
}

func (m *fakeMaster) onRegister(msg *nats.Msg) {
	aid := protocol.AgentID(protocol.TokenOf(msg.Subject, 3))
	reg, err := protocol.DecodeRegisterAgent(msg.Data)
	m.mu.Lock()
	defer m.mu.Unlock()
	var rep protocol.AgentRegistered
	switch {
	case err != nil:
		rep.Error = &protocol.Error{Code: protocol.ErrBadRequest, Message: err.Error()}
		m.t.Errorf("fake master: bad registration: %v", err)
	case reg.Agent.ID != aid:
		rep.Error = &protocol.Error{Code: protocol.ErrBadRequest, Message: "agent id differs from subject"}
		m.t.Errorf("fake master: registration of %s on %s", reg.Agent.ID, msg.Subject)
	case len(m.script) > 0:
		rep.Error = m.script[0]
		m.script = m.script[1:]
	}
	if rep.Error == nil {
		rep = protocol.AgentRegistered{AgentID: aid, MasterID: m.id, PingIntervalSeconds: m.pingInterval}
		m.known[aid] = true
		m.regs[aid] = append(m.regs[aid], reg)
	}
	data, _ := json.Marshal(rep)
	_ = msg.Respond(data)
	m.changed()
}

func (m *fakeMaster) onPing(msg *nats.Msg) {
	aid := protocol.AgentID(protocol.TokenOf(msg.Subject, 3))
	var p protocol.Ping
	if err := json.Unmarshal(msg.Data, &p); err != nil || p.AgentID != aid {
		m.t.Errorf("fake master: bad ping %q on %s", msg.Data, msg.Subject)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pings[aid]++
	data, _ := json.Marshal(protocol.Pong{Known: m.known[aid], MasterID: m.id})
	_ = msg.Respond(data)
	m.changed()
}

// forget makes the master answer the agent's pings with known=false.
func (m *fakeMaster) forget(aid protocol.AgentID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.known[aid] = false
}

func (m *fakeMaster) registrations(aid protocol.AgentID) []protocol.RegisterAgent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]protocol.RegisterAgent(nil), m.regs[aid]...)
}

func (m *fakeMaster) pingCount(aid protocol.AgentID) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pings[aid]
}

// wait waits until cond (called with m.mu held) holds.
func (m *fakeMaster) wait(what string, cond func() bool) {
	m.t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		m.mu.Lock()
		if cond() {
			m.mu.Unlock()
			return
		}
		if m.ch == nil {
			m.ch = make(chan struct{})
		}
		ch := m.ch
		m.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			m.t.Fatalf("fake master: timed out waiting for %s", what)
		}
	}
}

// send publishes a command to an agent.
func (m *fakeMaster) send(aid protocol.AgentID, cmd protocol.AgentCommand) {
	m.t.Helper()
	data, err := json.Marshal(cmd)
	if err != nil {
		m.t.Fatal(err)
	}
	m.sendRaw(aid, data)
}

func (m *fakeMaster) sendRaw(aid protocol.AgentID, data []byte) {
	m.t.Helper()
	if err := m.nc.Publish(protocol.AgentCommands(aid), data); err != nil {
		m.t.Fatal(err)
	}
}

func launch(fid protocol.FrameworkID, tasks ...protocol.TaskInfo) protocol.AgentCommand {
	return protocol.AgentCommand{Type: protocol.AgentLaunch, Launch: &protocol.LaunchTasks{
		Framework: protocol.FrameworkInfo{ID: fid, Name: "fw-" + string(fid)}, Role: "*", Tasks: tasks}}
}

func kill(fid protocol.FrameworkID, id protocol.TaskID) protocol.AgentCommand {
	return protocol.AgentCommand{Type: protocol.AgentKill, Kill: &protocol.KillTask{FrameworkID: fid, TaskID: id}}
}

func ack(fid protocol.FrameworkID, id protocol.TaskID, uuid string) protocol.AgentCommand {
	return protocol.AgentCommand{Type: protocol.AgentAcknowledge, Acknowledge: []protocol.AckUpdate{{FrameworkID: fid, TaskID: id, UUID: uuid}}}
}

func taskInfo(id, res string, labels map[string]string) protocol.TaskInfo {
	return protocol.TaskInfo{Name: id, TaskID: protocol.TaskID(id), Resources: resources.MustParse(res),
		Command: &protocol.CommandInfo{Value: "sleep 3600"}, Labels: labels}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startAgent starts an agent on e.nc with test defaults, stopped at cleanup.
func (e *env) startAgent(cfg Config) *Agent {
	e.t.Helper()
	if cfg.Conn == nil {
		cfg.Conn = e.nc
	}
	if cfg.Resources == nil {
		cfg.Resources = resources.MustParse("cpus:4;mem:4096;ports:[31000-31009]")
	}
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = time.Second
	}
	a, err := Start(ctxT(e.t), cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(a.Stop)
	return a
}
