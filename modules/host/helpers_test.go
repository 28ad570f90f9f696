package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/modules/host/moduleapi"
)

// buildExample builds modules/examples/echo into a temporary directory, as
// `make build` would, and returns its path and SHA-256.
func buildExample(t *testing.T) (path, sum string) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, serr := os.Stat(goTool); serr != nil {
			t.Skipf("skipping: the go tool is not on PATH (%v) nor in GOROOT, so the example module cannot be built", err)
		}
	}
	path = filepath.Join(t.TempDir(), "echo")
	cmd := exec.Command(goTool, "build", "-o", path, "github.com/cairn-dc/cairn/modules/examples/echo")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build the example module: %v\n%s", err, out)
	}
	return path, fileSHA256(t, path)
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// writeScript writes an executable shell script and returns its path and
// SHA-256.
func writeScript(t *testing.T, body string) (path, sum string) {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("skipping: no /bin/sh to run a script module")
	}
	path = filepath.Join(t.TempDir(), "module.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, fileSHA256(t, path)
}

// logRecorder is a slog.Handler keeping every record, for assertions.
type logRecorder struct {
	mu      sync.Mutex
	records []string
	attrs   []slog.Attr
	shared  *logRecorder
}

func newLogRecorder() *logRecorder {
	r := &logRecorder{}
	r.shared = r
	return r
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Level.String() + " " + rec.Message)
	for _, a := range r.attrs {
		b.WriteString(" " + a.String())
	}
	rec.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	r.shared.mu.Lock()
	r.shared.records = append(r.shared.records, b.String())
	r.shared.mu.Unlock()
	return nil
}

func (r *logRecorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logRecorder{shared: r.shared, attrs: append(append([]slog.Attr(nil), r.attrs...), attrs...)}
}

func (r *logRecorder) WithGroup(string) slog.Handler { return r }

// lines are the records logged so far that contain every one of parts.
func (r *logRecorder) lines(parts ...string) []string {
	r.shared.mu.Lock()
	defer r.shared.mu.Unlock()
	var out []string
	for _, l := range r.shared.records {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

func (r *logRecorder) all() string {
	r.shared.mu.Lock()
	defer r.shared.mu.Unlock()
	return strings.Join(r.shared.records, "\n")
}

// eventually waits until cond holds, checking every few milliseconds, or
// fails after a generous deadline.
func eventually(t *testing.T, what string, cond func() bool, debug ...func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			msg := "timed out waiting for " + what
			for _, d := range debug {
				msg += "\n" + d()
			}
			t.Fatal(msg)
		}
		<-tick.C
	}
}

// fakeMaster is a MasterReader: each Events call sends SUBSCRIBED with the
// current state, then the events pushed with send, until its context ends
// or disconnect is called.
type fakeMaster struct {
	mu       sync.Mutex
	state    protocol.State
	subs     int
	streams  map[int]chan protocol.ClusterEvent
	omitFull bool // SUBSCRIBED without its state (the host then calls State)
}

func newFakeMaster(st protocol.State) *fakeMaster {
	return &fakeMaster{state: st, streams: map[int]chan protocol.ClusterEvent{}}
}

func (m *fakeMaster) State(context.Context) (protocol.State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state, nil
}

func (m *fakeMaster) Events(ctx context.Context, handle func(protocol.ClusterEvent) error) error {
	m.mu.Lock()
	m.subs++
	id := m.subs
	ch := make(chan protocol.ClusterEvent, 100)
	m.streams[id] = ch
	st := m.state
	omit := m.omitFull
	m.mu.Unlock()
	first := protocol.ClusterEvent{Type: protocol.EvSubscribed, State: &st}
	if omit {
		first.State = nil
	}
	if err := handle(first); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-ch:
			if !ok {
				return errors.New("disconnected by the test")
			}
			if err := handle(ev); err != nil {
				return err
			}
		}
	}
}

// send changes the state with change and pushes ev to every open stream.
func (m *fakeMaster) send(ev protocol.ClusterEvent, change func(*protocol.State)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if change != nil {
		change(&m.state)
	}
	for _, ch := range m.streams {
		ch <- ev
	}
}

// disconnect ends every open stream (the host reconnects).
func (m *fakeMaster) disconnect() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, ch := range m.streams {
		close(ch)
		delete(m.streams, id)
	}
}

func (m *fakeMaster) subscriptions() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.subs
}

// testState is a small cluster: one agent, one framework, one running
// task with two ports and a finished one.
func testState() protocol.State {
	yes := true
	return protocol.State{
		Master: protocol.MasterInfo{ID: "M1", URL: "http://127.0.0.1:5050"},
		Agents: []protocol.Agent{{ID: "A1", Hostname: "agent-1", Address: "10.0.0.2", Status: protocol.AgentActive,
			Attributes: resources.MustParseAttributes("rack:r1")}},
		Frameworks: []protocol.Framework{{ID: "F1", Name: "services", Connected: true}},
		Tasks: []protocol.Task{
			{ID: "web.1", Name: "web", FrameworkID: "F1", AgentID: "A1", State: protocol.TaskRunning, Healthy: &yes,
				Resources: resources.MustParse("cpus:0.1;ports:[31000-31001]"), Labels: map[string]string{"tier": "front"}},
			{ID: "old.1", Name: "old", FrameworkID: "F1", AgentID: "A1", State: protocol.TaskFinished},
		},
	}
}

// runHost starts a host with cfg (fast backoff and health checks unless
// set) and stops it at the end of the test.
func runHost(t *testing.T, cfg Config) (*Host, *logRecorder) {
	t.Helper()
	rec := newLogRecorder()
	cfg.Logger = slog.New(rec)
	if cfg.Backoff.Initial == 0 {
		cfg.Backoff = Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond, ResetAfter: time.Minute}
	}
	if cfg.HealthInterval == 0 {
		cfg.HealthInterval, cfg.HealthTimeout = 100*time.Millisecond, 100*time.Millisecond
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return h, rec
}

// api calls the host's handler and decodes the JSON answer into out.
func api(t *testing.T, h *Host, method, path string, body any, out any) int {
	t.Helper()
	var r *http.Request
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = httptest.NewRequest(method, path, strings.NewReader(string(data)))
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	w := httptest.NewRecorder()
	h.Handler().ServeHTTP(w, r)
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, w.Body.String())
		}
	}
	return w.Code
}

// status is a module's status (zero before Run has registered it).
func status(t *testing.T, h *Host, name string) moduleapi.Status {
	t.Helper()
	st, _ := h.Get(name)
	return st
}

func describe(h *Host) func() string {
	return func() string {
		data, _ := json.MarshalIndent(h.List(), "", "  ")
		return fmt.Sprintf("status: %s", data)
	}
}

func watcherSpec(name, path, sum string) moduleapi.Spec {
	return moduleapi.Spec{Name: name, Kind: moduleapi.KindWatcher, Path: path, SHA256: sum}
}
