package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	plugin "github.com/hashicorp/go-plugin"
)

// fakeModule is a watcher and a hook: it logs what it sees through the
// host and answers hooks with the task's name.
type fakeModule struct {
	mu         sync.Mutex
	config     string
	configErr  error
	failWatch  error // Watch returns this after the first event
	endWatch   bool  // Watch returns nil after the first event
	watchCalls int
}

func (m *fakeModule) Configure(_ context.Context, config []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.config = string(config)
	return m.configErr
}

func (m *fakeModule) Watch(ctx context.Context, host Host, snap Snapshot, events <-chan Event) error {
	m.mu.Lock()
	m.watchCalls++
	failWatch, endWatch := m.failWatch, m.endWatch
	m.mu.Unlock()
	log := Logger(host).With("module", "fake").WithGroup("watch")
	log.Info("snapshot", "tasks", len(snap.Tasks), "leader", snap.Leader)
	for ev := range events {
		switch {
		case failWatch != nil:
			return failWatch
		case endWatch:
			return nil
		}
		if ev.Task != nil {
			log.Warn("event", "type", string(ev.Type), "task", ev.Task.ID, "health", ev.Task.Health.String(), slog.Group("port", "number", ev.Task.Ports[0].Number))
		} else {
			log.Info("event", "type", string(ev.Type), "leader", ev.Leader)
		}
		now, err := host.Snapshot(ctx)
		if err != nil {
			return fmt.Errorf("re-reading the snapshot: %w", err)
		}
		log.Debug("re-read", "tasks", len(now.Tasks))
	}
	log.Info("events closed")
	return nil
}

func (m *fakeModule) BeforeLaunch(ctx context.Context, host Host, task TaskLaunchInfo) (LaunchChanges, error) {
	if task.Name == "bad" {
		return LaunchChanges{}, errors.New("task bad is not allowed: rename it")
	}
	if task.Name == "slow" {
		<-ctx.Done()
		return LaunchChanges{}, ctx.Err()
	}
	_ = host.Log(ctx, slog.LevelInfo, "hooked", slog.String("task", task.TaskID))
	return LaunchChanges{Env: map[string]string{"GREETING": "hello " + task.Name, "SEEN": task.Env["PATH"]},
		Labels: map[string]string{"hooked": "yes"}}, nil
}

// fakeHost records log lines and serves a fixed snapshot.
type fakeHost struct {
	mu    sync.Mutex
	lines []string
	snap  Snapshot
	added chan struct{}
}

func (h *fakeHost) Log(_ context.Context, level slog.Level, msg string, attrs ...slog.Attr) error {
	var b strings.Builder
	b.WriteString(level.String() + " " + msg)
	for _, a := range attrs {
		b.WriteString(" " + a.String())
	}
	h.mu.Lock()
	h.lines = append(h.lines, b.String())
	h.mu.Unlock()
	select {
	case h.added <- struct{}{}:
	default:
	}
	return nil
}

func (h *fakeHost) Snapshot(context.Context) (Snapshot, error) { return h.snap, nil }

func (h *fakeHost) logged() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.lines)
}

// waitLogged waits until a line containing want was logged.
func (h *fakeHost) waitLogged(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		for _, l := range h.logged() {
			if strings.Contains(l, want) {
				return
			}
		}
		select {
		case <-h.added:
		case <-deadline:
			t.Fatalf("no log line contains %q; got:\n%s", want, strings.Join(h.logged(), "\n"))
		}
	}
}

// connect serves m in-process and returns the host's Client of it.
func connect(t *testing.T, m Module) *Client {
	t.Helper()
	client, server := plugin.TestPluginGRPCConn(t, false, PluginSet(m))
	t.Cleanup(func() {
		// Stop first: Close asks the server to stop too, and go-plugin's
		// GRPCServer.Stop is not safe to call twice at once.
		server.Stop()
		_ = client.Close()
	})
	raw, err := client.Dispense(PluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(*Client)
}

func testSnapshot() Snapshot {
	healthy := HealthHealthy
	return Snapshot{Leader: "http://10.0.0.1:5050",
		Agents:     []Agent{{ID: "A1", Hostname: "agent-1", Address: "10.0.0.2", Attributes: map[string]string{"rack": "r1"}, Active: true}},
		Frameworks: []Framework{{ID: "F1", Name: "services", Active: true, WebuiURL: "http://10.0.0.1:8080"}},
		Tasks: []Task{{ID: "web.1", Name: "web", FrameworkID: "F1", FrameworkName: "services", AgentID: "A1", Hostname: "agent-1",
			Address: "10.0.0.2", IPs: []string{"10.0.0.2"}, Ports: []Port{{Number: 31000, Name: "http", Protocol: "tcp"}},
			State: "TASK_RUNNING", Health: healthy, Labels: map[string]string{"tier": "front"}}},
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	m := &fakeModule{}
	c := connect(t, m)
	host := &fakeHost{snap: testSnapshot(), added: make(chan struct{}, 1)}

	info, err := c.Info(ctx)
	if err != nil || !info.Serves(KindWatcher) || !info.Serves(KindHook) || info.SDKVersion != Version {
		t.Fatalf("Info: %+v %v", info, err)
	}
	if err := c.Configure(ctx, "fake", host, []byte(`{"zone":"cairn."}`)); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	if m.config != `{"zone":"cairn."}` {
		t.Errorf("config %q", m.config)
	}
	m.mu.Unlock()

	// host → module: Watch, snapshot then events; module → host: Log and
	// Snapshot through the broker.
	events := make(chan Event)
	done := make(chan error, 1)
	go func() { done <- c.Watch(ctx, testSnapshot(), events) }()
	task := testSnapshot().Tasks[0]
	task.State = "TASK_KILLED"
	task.Health = HealthUnhealthy
	events <- Event{Type: TaskUpdated, Task: &task}
	events <- Event{Type: LeaderChanged, Leader: "http://10.0.0.9:5050"}
	close(events)
	if err := <-done; err != nil {
		t.Fatalf("Watch: %v", err)
	}
	host.waitLogged(t, "events closed")
	want := []string{
		"INFO snapshot module=fake watch.tasks=1 watch.leader=http://10.0.0.1:5050",
		"WARN event module=fake watch.type=TASK_UPDATED watch.task=web.1 watch.health=unhealthy watch.port.number=31000",
		"DEBUG re-read module=fake watch.tasks=1",
		"INFO event module=fake watch.type=LEADER_CHANGED watch.leader=http://10.0.0.9:5050",
		"DEBUG re-read module=fake watch.tasks=1",
		"INFO events closed module=fake",
	}
	if got := host.logged(); !slices.Equal(got, want) {
		t.Errorf("logged:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Hooks.
	ch, err := c.BeforeLaunch(ctx, TaskLaunchInfo{TaskID: "web.2", Name: "web", Env: map[string]string{"PATH": "/bin"}})
	if err != nil || ch.Env["GREETING"] != "hello web" || ch.Env["SEEN"] != "/bin" || ch.Labels["hooked"] != "yes" {
		t.Errorf("BeforeLaunch: %+v %v", ch, err)
	}
	host.waitLogged(t, "INFO hooked task=web.2")
	_, err = c.BeforeLaunch(ctx, TaskLaunchInfo{Name: "bad"})
	var re *RemoteError
	if !errors.As(err, &re) || err.Error() != "BeforeLaunch: task bad is not allowed: rename it" {
		t.Errorf("BeforeLaunch bad: %v", err)
	}
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := c.BeforeLaunch(tctx, TaskLaunchInfo{Name: "slow"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("BeforeLaunch slow: %v", err)
	}

	if err := c.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestWatchEndedByModule(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		m    *fakeModule
		want string
		is   error
	}{
		{"error", &fakeModule{failWatch: errors.New("the zone file is unwritable: check /var/lib/dns")}, "the module's Watch failed: the zone file is unwritable: check /var/lib/dns", nil},
		{"nil", &fakeModule{endWatch: true}, "", ErrWatchEnded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := connect(t, tc.m)
			host := &fakeHost{added: make(chan struct{}, 1)}
			if err := c.Configure(ctx, "fake", host, nil); err != nil {
				t.Fatal(err)
			}
			events := make(chan Event, 1)
			events <- Event{Type: LeaderChanged, Leader: "x"}
			err := c.Watch(ctx, Snapshot{}, events) // events stays open
			if tc.is != nil && !errors.Is(err, tc.is) || tc.want != "" && (err == nil || err.Error() != tc.want) {
				t.Errorf("Watch: %v", err)
			}
		})
	}
}

func TestConfigureError(t *testing.T) {
	ctx := context.Background()
	c := connect(t, &fakeModule{configErr: errors.New(`config: "zone" must end with a dot`)})
	err := c.Configure(ctx, "fake", &fakeHost{}, []byte(`{"zone":"cairn"}`))
	if err == nil || err.Error() != `configuring the module: config: "zone" must end with a dot` {
		t.Errorf("Configure: %v", err)
	}
}

func TestNotConfigured(t *testing.T) {
	c := connect(t, &fakeModule{})
	_, err := c.BeforeLaunch(context.Background(), TaskLaunchInfo{Name: "web"})
	if err == nil || !strings.Contains(err.Error(), "must call Configure first") {
		t.Errorf("BeforeLaunch before Configure: %v", err)
	}
}

// hookOnly serves only hooks: Watch on it fails clearly.
type hookOnly struct{}

func (hookOnly) Configure(context.Context, []byte) error { return nil }
func (hookOnly) BeforeLaunch(context.Context, Host, TaskLaunchInfo) (LaunchChanges, error) {
	return LaunchChanges{}, nil
}

func TestKinds(t *testing.T) {
	ctx := context.Background()
	c := connect(t, hookOnly{})
	info, err := c.Info(ctx)
	if err != nil || !slices.Equal(info.Kinds, []Kind{KindHook}) || info.Serves(KindWatcher) {
		t.Fatalf("Info: %+v %v", info, err)
	}
	if err := c.Configure(ctx, "h", &fakeHost{}, nil); err != nil {
		t.Fatal(err)
	}
	err = c.Watch(ctx, Snapshot{}, make(chan Event))
	if err == nil || !strings.Contains(err.Error(), "Unimplemented") {
		t.Errorf("Watch on a hook: %v", err)
	}
}

func TestConvertRoundTrip(t *testing.T) {
	s := testSnapshot()
	got := SnapshotFromPB(SnapshotToPB(s))
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", s) {
		t.Errorf("snapshot:\n%+v\nwant\n%+v", got, s)
	}
	for _, typ := range []EventType{AgentAdded, AgentUpdated, AgentRemoved, FrameworkAdded, FrameworkUpdated, FrameworkRemoved, TaskUpdated, LeaderChanged} {
		ev := Event{Type: typ, Agent: &s.Agents[0], Framework: &s.Frameworks[0], Task: &s.Tasks[0], Leader: "l"}
		if got := EventFromPB(EventToPB(ev)); fmt.Sprintf("%v %+v %+v %+v %s", got.Type, *got.Agent, *got.Framework, *got.Task, got.Leader) !=
			fmt.Sprintf("%v %+v %+v %+v %s", ev.Type, *ev.Agent, *ev.Framework, *ev.Task, ev.Leader) {
			t.Errorf("event %s: %+v", typ, got)
		}
	}
	if got := EventFromPB(EventToPB(Event{Type: "NEW_THING"})); got.Type != "UNKNOWN(EVENT_TYPE_UNSPECIFIED)" {
		t.Errorf("unknown type: %v", got.Type)
	}
	info := TaskLaunchInfo{TaskID: "t", Name: "n", FrameworkID: "f", FrameworkName: "fn", AgentID: "a", Hostname: "h", Address: "1.2.3.4",
		Ports: []Port{{Number: 1}}, Env: map[string]string{"A": "1"}, Labels: map[string]string{"l": "v"}, Command: "./x", Image: "busybox"}
	if got := launchInfoFromPB(launchInfoToPB(info)); fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", info) {
		t.Errorf("launch info %+v", got)
	}
	if !TerminalState("TASK_GONE") || TerminalState("TASK_UNREACHABLE") || (Task{State: "TASK_RUNNING"}).Terminal() {
		t.Error("TerminalState")
	}
}
