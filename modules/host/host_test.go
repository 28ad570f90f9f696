package host

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/modules/host/moduleapi"
	"github.com/cairn-dc/cairn/modules/sdk"
)

// TestExampleModule loads the example module exactly as an installed one:
// built binary, checksum, go-plugin; it gets the snapshot and the events,
// its logs arrive in slog, it is restarted after a SIGKILL with a fresh
// snapshot, and as a hook it changes a task's environment.
func TestExampleModule(t *testing.T) {
	path, sum := buildExample(t)
	master := newFakeMaster(testState())
	h, logs := runHost(t, Config{Master: master, Sources: []Source{StaticSource(
		moduleapi.Spec{Name: "echo", Kind: moduleapi.KindWatcher, Path: path, SHA256: sum, Config: json.RawMessage(`{"greeting": "hi"}`)},
		moduleapi.Spec{Name: "greeter", Kind: moduleapi.KindHook, Path: path, SHA256: "sha256:" + strings.ToUpper(sum), Config: json.RawMessage(`"{\"greeting\": \"hey\"}"`)},
	)}})

	// The snapshot: one live task (the finished one is not in it).
	eventually(t, "the module to log its snapshot", func() bool {
		return len(logs.lines("INFO echo: snapshot", "module=echo", "tasks=1", "agents=1", "frameworks=1", "leader=http://127.0.0.1:5050")) == 1
	}, logs.all, describe(h))
	st := status(t, h, "echo")
	if st.State != moduleapi.Running || st.PID <= 0 || st.Restarts != 0 || st.StartedAt == nil || st.SDKVersion != sdk.Version ||
		st.Source != SourceConfig || st.SHA256 != sum || st.Kind != "watcher" {
		t.Fatalf("status %+v", st)
	}

	// Events: a new task (whole, with its agent's address and ports), then
	// the first one killed.
	master.send(protocol.ClusterEvent{Type: protocol.EvTaskAdded, Task: &protocol.Task{ID: "api.1", Name: "api", FrameworkID: "F1",
		AgentID: "A1", State: protocol.TaskStaging, Resources: resources.MustParse("ports:[32000-32000]")}}, func(s *protocol.State) {
		s.Tasks = append(s.Tasks, protocol.Task{ID: "api.1", Name: "api", FrameworkID: "F1", AgentID: "A1", State: protocol.TaskStaging})
	})
	master.send(protocol.ClusterEvent{Type: protocol.EvTaskUpdated, Task: &protocol.Task{ID: "web.1", FrameworkID: "F1", AgentID: "A1",
		State: protocol.TaskKilled}}, func(s *protocol.State) { s.Tasks[0].State = protocol.TaskKilled })
	eventually(t, "the module to log the events", func() bool {
		return len(logs.lines("echo: task", "task=api.1", "framework=services", "state=TASK_STAGING", "host=agent-1", "ports=1", "tasks=2")) == 1 &&
			len(logs.lines("echo: task", "task=web.1", "state=TASK_KILLED", "ports=2", "tasks=1")) == 1
	}, logs.all)

	// The HTTP API shows it running.
	var list []moduleapi.Status
	if code := api(t, h, "GET", "/v1/modules", nil, &list); code != 200 || len(list) != 2 || list[0].Name != "echo" ||
		list[0].State != moduleapi.Running || list[0].PID != st.PID || list[1].Name != "greeter" {
		t.Fatalf("GET /v1/modules: %d %+v", code, list)
	}

	// SIGKILL: restarted (restarts=1), and streamed a fresh snapshot, which
	// knows the cluster as it is now (api.1 live, web.1 gone).
	if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the module to be restarted", func() bool {
		s := status(t, h, "echo")
		return s.State == moduleapi.Running && s.Restarts == 1 && s.PID != st.PID
	}, describe(h), logs.all)
	eventually(t, "the restarted module to log a fresh snapshot", func() bool {
		return len(logs.lines("echo: snapshot", "module=echo", "tasks=1")) == 2
	}, logs.all)
	if s := status(t, h, "echo"); !strings.Contains(s.LastError, "signal: killed") {
		t.Errorf("last error %q", s.LastError)
	}
	if l := logs.lines("ERROR module stopped: restarting it", "module=echo", "signal: killed"); len(l) != 1 {
		t.Errorf("restart log: %q\n%s", l, logs.all())
	}

	// The hook: its config was a JSON string, handed over as its bytes.
	eventually(t, "the hook to run", func() bool { return status(t, h, "greeter").State == moduleapi.Running }, describe(h))
	env, labels, err := h.BeforeLaunch(context.Background(), sdk.TaskLaunchInfo{TaskID: "db.1", Name: "db"})
	if err != nil || len(env) != 1 || env["ECHO_GREETING"] != "hey, db" || labels["echo"] != "seen" {
		t.Errorf("BeforeLaunch: %v %v %v", env, labels, err)
	}
}

// TestChecksumMismatch: a binary that is not the configured one is never
// started, and both the status and the API say what was expected.
func TestChecksumMismatch(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	path, sum := writeScript(t, "touch "+marker)
	wrong := strings.Repeat("ab", 32)
	h, logs := runHost(t, Config{Sources: []Source{StaticSource(
		moduleapi.Spec{Name: "tampered", Kind: moduleapi.KindWatcher, Path: path, SHA256: wrong},
		moduleapi.Spec{Name: "missing", Kind: moduleapi.KindHook, Path: path + ".nope", SHA256: sum},
	)}})
	eventually(t, "the module to fail", func() bool { return status(t, h, "tampered").State == moduleapi.Failed }, describe(h))
	st := status(t, h, "tampered")
	want := "refusing to start " + path + ": its sha256 is " + sum + ", expected " + wrong
	if !strings.HasPrefix(st.LastError, want) || st.PID != 0 || st.Restarts != 0 {
		t.Errorf("status %+v\nwant error %q", st, want)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the tampered binary ran")
	}
	if l := logs.lines("ERROR module failed", "module=tampered", "expected "+wrong); len(l) != 1 {
		t.Errorf("log: %s", logs.all())
	}
	eventually(t, "the missing module to fail", func() bool { return status(t, h, "missing").State == moduleapi.Failed }, describe(h))
	if st := status(t, h, "missing"); !strings.Contains(st.LastError, "does not exist: install the module there, or fix its path") {
		t.Errorf("missing: %+v", st)
	}

	// BeforeLaunch names the hook that is not running.
	_, _, err := h.BeforeLaunch(context.Background(), sdk.TaskLaunchInfo{TaskID: "t1"})
	if err == nil || !strings.Contains(err.Error(), "before launching task t1: hook module missing is not running (failed): binary") {
		t.Errorf("BeforeLaunch: %v", err)
	}
}

// TestCrashAtStart: a module that dies before the handshake goes to
// backoff, with its exit status and last output, and is tried again.
func TestCrashAtStart(t *testing.T) {
	path, sum := writeScript(t, `echo "crasher: cannot open /etc/crasher.conf" >&2; exit 3`)
	h, _ := runHost(t, Config{Sources: []Source{StaticSource(moduleapi.Spec{Name: "crasher", Kind: moduleapi.KindWatcher, Path: path, SHA256: sum})}})
	eventually(t, "the module to be in backoff, retried", func() bool {
		st := status(t, h, "crasher")
		return st.State == moduleapi.Backoff && st.Restarts >= 2
	}, describe(h))
	st := status(t, h, "crasher")
	if !strings.HasPrefix(st.LastError, "it did not start: ") || !strings.Contains(st.LastError, "exit status 3") ||
		!strings.Contains(st.LastError, "its last output: crasher: cannot open /etc/crasher.conf") || st.NextStart == nil || st.PID != 0 {
		t.Errorf("status %+v", st)
	}
}

// TestAPI adds, replaces and removes modules through the HTTP API; they
// are kept in the store's file.
func TestAPI(t *testing.T) {
	path, sum := buildExample(t)
	storePath := filepath.Join(t.TempDir(), "state", "modules.json")
	store, err := OpenStore(storePath)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := runHost(t, Config{Store: store, Sources: []Source{StaticSource(
		moduleapi.Spec{Name: "fixed", Kind: moduleapi.KindHook, Path: path, SHA256: sum})}})

	var msg moduleapi.Error
	// Bad specs: nothing added.
	for _, tc := range []struct {
		body any
		want string
	}{
		{map[string]any{"name": "Echo", "kind": "watcher", "path": path, "sha256": sum}, `name: "Echo" is not a module name`},
		{map[string]any{"name": "echo", "kind": "filter", "path": path, "sha256": sum}, `module echo: kind: "filter" is not a module kind`},
		{map[string]any{"name": "echo", "kind": "watcher", "path": "echo", "sha256": sum}, `module echo: path: "echo" is not absolute`},
		{map[string]any{"name": "echo", "kind": "watcher", "path": path, "sha256": "abc"}, `module echo: sha256: "abc" is not a SHA-256`},
		{map[string]any{"name": "echo", "kind": "watcher", "path": path, "sha256": sum, "confg": 1}, `unknown field "confg"`},
		{map[string]any{"name": "echo", "kind": "watcher", "path": path, "sha256": strings.Repeat("0", 64)},
			"module echo: refusing to start " + path + ": its sha256 is " + sum + ", expected " + strings.Repeat("0", 64)},
		{map[string]any{"name": "fixed", "kind": "hook", "path": path, "sha256": sum}, "module fixed comes from the host's config: change it there"},
	} {
		if code := api(t, h, "POST", "/v1/modules", tc.body, &msg); code/100 != 4 || !strings.Contains(msg.Message, tc.want) {
			t.Errorf("POST %v: %d %q, want %q", tc.body, code, msg.Message, tc.want)
		}
	}
	if specs, _ := store.Modules(context.Background()); len(specs) != 0 {
		t.Fatalf("store after bad posts: %+v", specs)
	}

	var st moduleapi.Status
	spec := moduleapi.Spec{Name: "echo", Kind: "watcher", Path: path, SHA256: sum, Config: json.RawMessage(`{"greeting": "one"}`)}
	if code := api(t, h, "POST", "/v1/modules", spec, &st); code != http.StatusCreated || st.Name != "echo" || st.Source != SourceAPI {
		t.Fatalf("POST: %d %+v", code, st)
	}
	eventually(t, "echo to run", func() bool { return status(t, h, "echo").State == moduleapi.Running }, describe(h))
	first := status(t, h, "echo").PID
	spec.Kind = "hook"
	if code := api(t, h, "POST", "/v1/modules", spec, &st); code != http.StatusOK || st.Kind != "hook" {
		t.Fatalf("POST again: %d %+v", code, st)
	}
	eventually(t, "the new echo to run", func() bool {
		s := status(t, h, "echo")
		return s.State == moduleapi.Running && s.PID != first && s.Restarts == 0
	}, describe(h))
	data, err := os.ReadFile(storePath)
	if err != nil || !strings.Contains(string(data), `"kind": "hook"`) || !strings.Contains(string(data), `"greeting": "one"`) {
		t.Errorf("store file: %v\n%s", err, data)
	}
	if fi, err := os.Stat(storePath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("store file mode: %v %v", fi.Mode(), err)
	}
	// A new host reads the store.
	if specs, err := DecodeSpecs(data); err != nil || len(specs) != 1 || specs[0].Kind != "hook" {
		t.Errorf("DecodeSpecs(store): %+v %v", specs, err)
	}

	if code := api(t, h, "GET", "/v1/modules/echo", nil, &st); code != 200 || st.State != moduleapi.Running {
		t.Errorf("GET echo: %d %+v", code, st)
	}
	if code := api(t, h, "DELETE", "/v1/modules/fixed", nil, &msg); code != http.StatusConflict || !strings.Contains(msg.Message, "remove it there") {
		t.Errorf("DELETE fixed: %d %q", code, msg.Message)
	}
	pid := status(t, h, "echo").PID
	if code := api(t, h, "DELETE", "/v1/modules/echo", nil, &st); code != 200 || st.State != moduleapi.Stopped {
		t.Errorf("DELETE echo: %d %+v", code, st)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("the removed module's process %d is still there: %v", pid, err)
	}
	if code := api(t, h, "GET", "/v1/modules/echo", nil, &msg); code != 404 || msg.Message != `there is no module named "echo" (see GET /v1/modules)` {
		t.Errorf("GET removed: %d %q", code, msg.Message)
	}
	if code := api(t, h, "DELETE", "/v1/modules/echo", nil, &msg); code != 404 {
		t.Errorf("DELETE removed: %d %q", code, msg.Message)
	}
	if specs, _ := store.Modules(context.Background()); len(specs) != 0 {
		t.Errorf("store after delete: %+v", specs)
	}
	if code := api(t, h, "GET", "/v1/modules/echo/x", nil, &msg); code != 404 || !strings.Contains(msg.Message, "no such endpoint") {
		t.Errorf("bad path: %d %q", code, msg.Message)
	}
}

func TestAPIWithoutStore(t *testing.T) {
	h, _ := runHost(t, Config{Sources: []Source{StaticSource()}})
	var msg moduleapi.Error
	code := api(t, h, "POST", "/v1/modules", moduleapi.Spec{Name: "x", Kind: "hook", Path: "/x", SHA256: strings.Repeat("0", 64)}, &msg)
	if code != http.StatusNotImplemented || msg.Message != "modules are configured in the host's config on this host; give the host a module store file to add and remove modules at runtime" {
		t.Errorf("POST: %d %q", code, msg.Message)
	}
	var list []moduleapi.Status
	if code := api(t, h, "GET", "/v1/modules", nil, &list); code != 200 || list == nil || len(list) != 0 {
		t.Errorf("GET: %d %v", code, list)
	}
}

func TestRunErrors(t *testing.T) {
	spec := moduleapi.Spec{Name: "a", Kind: "hook", Path: "/bin/a", SHA256: strings.Repeat("0", 64)}
	for _, tc := range []struct {
		sources []Source
		want    string
	}{
		{[]Source{StaticSource(spec), StaticSource(spec)}, "module host: module a is configured twice (config and config): remove one"},
		{[]Source{StaticSource(moduleapi.Spec{Name: "a", Kind: "hook", Path: "/bin/a"})}, "module host: config modules: module a: sha256: missing"},
	} {
		h, err := New(Config{Sources: tc.sources})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Run(context.Background()); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Run: %v, want %q", err, tc.want)
		}
	}
	if _, err := New(Config{HealthInterval: 1, HealthTimeout: 2}); err == nil {
		t.Error("New accepted a health timeout longer than its interval")
	}
}
