package scheduler

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// waitTimeout bounds every wait on a condition in these tests.
const waitTimeout = 20 * time.Second

// notifier lets tests wait for a condition on shared state without
// sleeping: every change closes the current channel.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (n *notifier) changed() {
	n.mu.Lock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
	n.mu.Unlock()
}

// waitFor waits until check (run with the notifier's lock released) holds.
func (n *notifier) waitFor(t *testing.T, what string, check func() bool) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		n.mu.Lock()
		if n.ch == nil {
			n.ch = make(chan struct{})
		}
		ch := n.ch
		n.mu.Unlock()
		if check() {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
	}
}

// startNATS runs an embedded nats-server on a random port.
func startNATS(t testing.TB) *server.Server {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, MaxPayload: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(waitTimeout) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv
}

func connect(t testing.TB, srv *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// fakeMaster answers framework calls and publishes events.
type fakeMaster struct {
	t   *testing.T
	nc  *nats.Conn
	sub *nats.Subscription
	notifier

	mu        sync.Mutex
	calls     []protocol.Call
	counts    map[protocol.CallType]int
	heartbeat float64 // seconds, in SUBSCRIBED replies
	// answer, when set, may answer a call; nil means the default answer.
	answer func(protocol.Call) *protocol.Response
}

func startMaster(t *testing.T, srv *server.Server, heartbeat float64) *fakeMaster {
	t.Helper()
	m := &fakeMaster{t: t, nc: connect(t, srv), heartbeat: heartbeat}
	sub, err := m.nc.Subscribe(protocol.FrameworkCallWildcard, m.handle)
	if err != nil {
		t.Fatal(err)
	}
	_ = sub.SetPendingLimits(-1, -1)
	if err := m.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	m.sub = sub
	return m
}

func (m *fakeMaster) setAnswer(fn func(protocol.Call) *protocol.Response) {
	m.mu.Lock()
	m.answer = fn
	m.mu.Unlock()
}

func (m *fakeMaster) handle(msg *nats.Msg) {
	var c protocol.Call
	if err := json.Unmarshal(msg.Data, &c); err != nil {
		m.t.Errorf("fake master: bad call: %v", err)
		return
	}
	if fid := protocol.TokenOf(msg.Subject, 3); fid != string(c.FrameworkID) {
		m.t.Errorf("fake master: call for %s on subject %s", c.FrameworkID, msg.Subject)
	}
	m.mu.Lock()
	m.calls = append(m.calls, c)
	if m.counts == nil {
		m.counts = map[protocol.CallType]int{}
	}
	m.counts[c.Type]++
	answer := m.answer
	hb := m.heartbeat
	m.mu.Unlock()
	var resp *protocol.Response
	if answer != nil {
		resp = answer(c)
	}
	if resp == nil {
		resp = &protocol.Response{}
		if c.Type == protocol.CallSubscribe {
			resp.Subscribed = &protocol.Subscribed{FrameworkID: c.FrameworkID, HeartbeatIntervalSeconds: hb, MasterInfo: protocol.MasterInfo{ID: "fake"}}
		}
	}
	data, _ := json.Marshal(resp)
	if msg.Reply != "" {
		_ = msg.Respond(data)
	}
	m.changed()
}

// callsOf returns the recorded calls of the given type (all when "").
func (m *fakeMaster) callsOf(typ protocol.CallType) []protocol.Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []protocol.Call
	for _, c := range m.calls {
		if typ == "" || c.Type == typ {
			out = append(out, c)
		}
	}
	return out
}

// waitCalls waits for at least n calls of type typ and returns them all.
func (m *fakeMaster) waitCalls(typ protocol.CallType, n int) []protocol.Call {
	m.t.Helper()
	m.waitFor(m.t, string(typ)+" calls", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.counts[typ] >= n
	})
	return m.callsOf(typ)
}

// acks flattens the ACKNOWLEDGE and ACKNOWLEDGE_MANY calls so far, in
// the order they came.
func (m *fakeMaster) acks() []protocol.Acknowledge {
	var out []protocol.Acknowledge
	for _, c := range m.callsOf("") {
		switch c.Type {
		case protocol.CallAcknowledge:
			out = append(out, *c.Acknowledge)
		case protocol.CallAcknowledgeMany:
			out = append(out, c.Acknowledgements...)
		}
	}
	return out
}

// waitAcks waits for at least n acknowledgements, alone or in
// ACKNOWLEDGE_MANY calls, and returns them all.
func (m *fakeMaster) waitAcks(n int) []protocol.Acknowledge {
	m.t.Helper()
	m.waitFor(m.t, "acknowledgements", func() bool { return len(m.acks()) >= n })
	return m.acks()
}

func (m *fakeMaster) publish(fid protocol.FrameworkID, ev protocol.Event) {
	m.t.Helper()
	data, err := json.Marshal(ev)
	if err != nil {
		m.t.Fatal(err)
	}
	if err := m.nc.Publish(protocol.FrameworkEvents(fid), data); err != nil {
		m.t.Fatal(err)
	}
}

// sendHeartbeats publishes HEARTBEAT events to fid until the test ends.
func (m *fakeMaster) sendHeartbeats(fid protocol.FrameworkID, every time.Duration) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	m.t.Cleanup(func() { close(done); wg.Wait() })
	data, _ := json.Marshal(protocol.Event{Type: protocol.EventHeartbeat})
	wg.Go(func() {
		tk := time.NewTicker(every)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				_ = m.nc.Publish(protocol.FrameworkEvents(fid), data)
			}
		}
	})
}

// logRecorder is a slog handler that keeps messages, for tests to wait on.
type logRecorder struct {
	notifier
	mu   *sync.Mutex
	msgs *[]string
}

func newLogRecorder() *logRecorder {
	return &logRecorder{mu: &sync.Mutex{}, msgs: new([]string)}
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	l.mu.Lock()
	*l.msgs = append(*l.msgs, b.String())
	l.mu.Unlock()
	l.changed()
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) has(substr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range *l.msgs {
		if strings.Contains(m, substr) {
			return true
		}
	}
	return false
}

func (l *logRecorder) waitLog(t *testing.T, substr string) {
	t.Helper()
	l.waitFor(t, "log "+substr, func() bool { return l.has(substr) })
}

// eventually polls an internal condition that has nothing to wait on,
// until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tk := time.NewTicker(time.Millisecond)
	defer tk.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
		<-tk.C
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	return mustJSON(t, a) == mustJSON(t, b)
}
