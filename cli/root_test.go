package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-dc/cairn/cli"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

const (
	agent1 = protocol.AgentID("01JB8X5Q2M3N4P5R6S7T8V9W0A")
	agent2 = protocol.AgentID("01JB8X5Q2M3N4P5R6S7T8V9W0B")
	fwWeb  = protocol.FrameworkID("01JB8X5Q2M3N4P5R6S7T8V9W0F")
	fwCron = protocol.FrameworkID("01JB8X5Q2M3N4P5R6S7T8V9W0G")
)

func yes() *bool { b := true; return &b }

func testAgents() []protocol.Agent {
	return []protocol.Agent{
		{
			ID: agent2, Hostname: "node-b", Status: protocol.AgentUnreachable,
			Resources:     resources.MustParse("cpus:2;mem:512;ports:[31000-32000]"),
			UsedResources: nil,
		},
		{
			ID: agent1, Hostname: "node-a", Status: protocol.AgentActive,
			Resources:     resources.MustParse("cpus:4;mem:8192;disk:10000"),
			UsedResources: resources.MustParse("cpus:1.5;mem:2048"),
			Attributes:    resources.MustParseAttributes("rack:r1;zone:a"),
			ActiveTasks:   3,
		},
	}
}

func testFrameworks() []protocol.Framework {
	return []protocol.Framework{
		{ID: fwWeb, Name: "services", Roles: []string{"*", "web"}, Connected: true,
			UsedResources: resources.MustParse("cpus:1.5;mem:2048"), ActiveTasks: 3},
		{ID: fwCron, Name: "cron", Roles: []string{"batch"}, Connected: false},
	}
}

func testTasks() []protocol.Task {
	return []protocol.Task{
		{ID: "web.2", Name: "web", FrameworkID: fwWeb, AgentID: agent1, State: protocol.TaskRunning,
			Resources: resources.MustParse("cpus:0.5;mem:512")},
		{ID: "web.1", Name: "web", FrameworkID: fwWeb, AgentID: agent1, State: protocol.TaskRunning, Healthy: yes(),
			Resources: resources.MustParse("cpus:0.5;mem:512")},
		{ID: "backup.1", Name: "backup", FrameworkID: fwCron, AgentID: agent2, State: protocol.TaskFailed,
			Resources: resources.MustParse("cpus:1;mem:1024")},
	}
}

// fakeMaster serves the operator API from canned data.
type fakeMaster struct {
	*httptest.Server
	token string // required bearer token, if any

	mu      sync.Mutex
	queries []url.Values // of /v1/tasks
}

func newFakeMaster(t *testing.T, token string) *fakeMaster {
	t.Helper()
	m := &fakeMaster{token: token}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/agents", func(w http.ResponseWriter, r *http.Request) { m.reply(w, r, testAgents()) })
	mux.HandleFunc("GET /v1/frameworks", func(w http.ResponseWriter, r *http.Request) { m.reply(w, r, testFrameworks()) })
	mux.HandleFunc("GET /v1/tasks", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.queries = append(m.queries, r.URL.Query())
		m.mu.Unlock()
		q := r.URL.Query()
		var out []protocol.Task
		for _, tk := range testTasks() {
			if (q.Get("framework_id") == "" || string(tk.FrameworkID) == q.Get("framework_id")) &&
				(q.Get("agent_id") == "" || string(tk.AgentID) == q.Get("agent_id")) &&
				(q.Get("state") == "" || string(tk.State) == q.Get("state")) {
				out = append(out, tk)
			}
		}
		m.reply(w, r, out) // nil when nothing matches: the CLI must cope with null
	})
	m.Server = httptest.NewServer(mux)
	t.Cleanup(m.Close)
	return m
}

func (m *fakeMaster) reply(w http.ResponseWriter, r *http.Request, v any) {
	if m.token != "" && r.Header.Get("Authorization") != "Bearer "+m.token {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message":"missing or invalid bearer token"}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (m *fakeMaster) lastQuery(t *testing.T) url.Values {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.queries) == 0 {
		t.Fatal("the master got no /v1/tasks request")
	}
	return m.queries[len(m.queries)-1]
}

type result struct {
	code           int
	stdout, stderr string
}

// runCLI executes the root command with args and env as its environment.
func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	f := cli.NewFactory(cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		func(k string) string { return env[k] })
	code := cli.Execute(context.Background(), cli.NewRootCmd(f), args)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

func (r result) wantCode(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// closedURL returns the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

func TestAgentListTable(t *testing.T) {
	m := newFakeMaster(t, "")
	r := runCLI(t, nil, "agent", "list", "--url", m.URL)
	r.wantCode(t, 0)
	want := "" +
		"ID                           HOSTNAME   STATUS        CPUS    MEM             TASKS   ATTRIBUTES\n" +
		"01JB8X5Q2M3N4P5R6S7T8V9W0A   node-a     ACTIVE        1.5/4   2 GiB/8 GiB     3       rack:r1;zone:a\n" +
		"01JB8X5Q2M3N4P5R6S7T8V9W0B   node-b     UNREACHABLE   0/2     0 MiB/512 MiB   0       -\n"
	if r.stdout != want {
		t.Errorf("table:\n%s\nwant:\n%s", r.stdout, want)
	}
	if r.stderr != "" {
		t.Errorf("stderr: %q", r.stderr)
	}
}

func TestFrameworkListTable(t *testing.T) {
	m := newFakeMaster(t, "")
	r := runCLI(t, nil, "framework", "list", "--url", m.URL)
	r.wantCode(t, 0)
	want := "" +
		"ID                           NAME       ROLES   CONNECTED   TASKS   CPUS   MEM\n" +
		"01JB8X5Q2M3N4P5R6S7T8V9W0G   cron       batch   no          0       0      0 MiB\n" +
		"01JB8X5Q2M3N4P5R6S7T8V9W0F   services   *,web   yes         3       1.5    2 GiB\n"
	if r.stdout != want {
		t.Errorf("table:\n%s\nwant:\n%s", r.stdout, want)
	}
}

func TestTaskListTable(t *testing.T) {
	m := newFakeMaster(t, "")
	r := runCLI(t, nil, "task", "ls", "--url", m.URL)
	r.wantCode(t, 0)
	want := "" +
		"ID         NAME     FRAMEWORK                    AGENT                        STATE          HEALTHY\n" +
		"backup.1   backup   01JB8X5Q2M3N4P5R6S7T8V9W0G   01JB8X5Q2M3N4P5R6S7T8V9W0B   TASK_FAILED    -\n" +
		"web.1      web      01JB8X5Q2M3N4P5R6S7T8V9W0F   01JB8X5Q2M3N4P5R6S7T8V9W0A   TASK_RUNNING   yes\n" +
		"web.2      web      01JB8X5Q2M3N4P5R6S7T8V9W0F   01JB8X5Q2M3N4P5R6S7T8V9W0A   TASK_RUNNING   -\n"
	if r.stdout != want {
		t.Errorf("table:\n%s\nwant:\n%s", r.stdout, want)
	}
	if q := m.lastQuery(t); len(q) != 0 {
		t.Errorf("unfiltered list sent query %v", q)
	}
}

func TestTaskListFilters(t *testing.T) {
	m := newFakeMaster(t, "")
	r := runCLI(t, nil, "task", "list", "--url", m.URL, "--framework", string(fwWeb), "--agent", string(agent1), "--state", "running", "--json")
	r.wantCode(t, 0)
	q := m.lastQuery(t)
	if q.Get("framework_id") != string(fwWeb) || q.Get("agent_id") != string(agent1) || q.Get("state") != "TASK_RUNNING" {
		t.Errorf("query %v", q)
	}
	var got []protocol.Task
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("decoding %q: %v", r.stdout, err)
	}
	if len(got) != 2 {
		t.Errorf("got %d tasks, want 2: %s", len(got), r.stdout)
	}

	r = runCLI(t, nil, "task", "list", "--url", m.URL, "--state", "TASK_KILLED")
	r.wantCode(t, 0)
	if r.stdout != "No tasks match.\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	r = runCLI(t, nil, "task", "list", "--url", m.URL, "--state", "Task_Killed", "--json")
	r.wantCode(t, 0)
	if r.stdout != "[]\n" {
		t.Errorf("--json of nothing: %q, want []", r.stdout)
	}
}

// TestListJSON checks every list's --json: an array of objects, each with
// an "id", that decodes back into the protocol type.
func TestListJSON(t *testing.T) {
	m := newFakeMaster(t, "")
	for _, tc := range []struct {
		noun string
		want int
	}{{"agent", 2}, {"framework", 2}, {"task", 3}} {
		t.Run(tc.noun, func(t *testing.T) {
			r := runCLI(t, nil, tc.noun, "list", "--json", "--url", m.URL)
			r.wantCode(t, 0)
			var items []map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &items); err != nil {
				t.Fatalf("not a JSON array of objects: %v\n%s", err, r.stdout)
			}
			if len(items) != tc.want {
				t.Errorf("%d items, want %d", len(items), tc.want)
			}
			for i, it := range items {
				if id, _ := it["id"].(string); id == "" {
					t.Errorf("item %d has no id: %v", i, it)
				}
			}
			if !strings.HasPrefix(r.stdout, "[\n  {\n    \"id\": ") {
				t.Errorf("not indented by two spaces:\n%s", r.stdout)
			}
		})
	}

	r := runCLI(t, nil, "agent", "list", "--json", "--url", m.URL)
	var agents []protocol.Agent
	if err := json.Unmarshal([]byte(r.stdout), &agents); err != nil {
		t.Fatal(err)
	}
	if len(agents) != 2 || agents[1].ID != agent1 || agents[1].Resources.ScalarTotal("mem") != resources.MustParseValue("8192") ||
		agents[1].Attributes.String() != "rack:r1;zone:a" {
		t.Errorf("agents did not round-trip: %+v", agents)
	}
}

func TestEmptyLists(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("null"))
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct{ noun, want string }{
		{"agent", "No agents are registered with the master.\n"},
		{"framework", "No frameworks are known to the master.\n"},
		{"task", "No tasks.\n"},
	} {
		r := runCLI(t, nil, tc.noun, "list", "--url", srv.URL)
		r.wantCode(t, 0)
		if r.stdout != tc.want {
			t.Errorf("%s list: %q, want %q", tc.noun, r.stdout, tc.want)
		}
		r = runCLI(t, nil, tc.noun, "list", "--url", srv.URL, "--json")
		r.wantCode(t, 0)
		if r.stdout != "[]\n" {
			t.Errorf("%s list --json: %q, want []", tc.noun, r.stdout)
		}
	}
}

func TestURLFromEnvironment(t *testing.T) {
	m := newFakeMaster(t, "")
	r := runCLI(t, map[string]string{"CAIRN_URL": m.URL}, "agent", "list")
	r.wantCode(t, 0)
	if !strings.Contains(r.stdout, "node-a") {
		t.Errorf("stdout %q", r.stdout)
	}
	// A bare host:port means http; the flag beats the environment.
	hostPort := strings.TrimPrefix(m.URL, "http://")
	r = runCLI(t, map[string]string{"CAIRN_URL": closedURL(t)}, "agent", "list", "--url", hostPort)
	r.wantCode(t, 0)
}

func TestUnreachableMaster(t *testing.T) {
	u := closedURL(t)
	for _, args := range [][]string{
		{"agent", "list", "--url", u},
		{"framework", "list", "--json", "--url", u},
		{"task", "list", "--url", u},
	} {
		r := runCLI(t, nil, args...)
		r.wantCode(t, 1)
		if r.stdout != "" {
			t.Errorf("%v: stdout %q", args, r.stdout)
		}
		for _, want := range []string{"cannot reach the Cairn master at " + u, "connection refused", "cairn up", "--url", "CAIRN_URL"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%v: stderr %q lacks %q", args, r.stderr, want)
			}
		}
		if n := strings.Count(r.stderr, "\n"); n != 1 {
			t.Errorf("%v: stderr has %d lines, want 1 (no usage dump): %q", args, n, r.stderr)
		}
	}
	// The default URL is used when neither --url nor CAIRN_URL is given.
	r := runCLI(t, map[string]string{"CAIRN_URL": ""}, "agent", "list", "--url", "")
	if r.code == 1 && !strings.Contains(r.stderr, "http://127.0.0.1:5050") {
		t.Errorf("stderr %q does not name the default URL", r.stderr)
	}
}

func TestUnauthorized(t *testing.T) {
	m := newFakeMaster(t, "s3cret")

	r := runCLI(t, nil, "agent", "list", "--url", m.URL)
	r.wantCode(t, 1)
	for _, want := range []string{"401", "missing or invalid bearer token", "pass --token or set CAIRN_TOKEN"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q lacks %q", r.stderr, want)
		}
	}
	if strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr is not one line: %q", r.stderr)
	}

	r = runCLI(t, nil, "agent", "list", "--url", m.URL, "--token", "wrong")
	r.wantCode(t, 1)
	if !strings.Contains(r.stderr, "rejected the token") || strings.Contains(r.stderr, "wrong") {
		t.Errorf("stderr %q: want a rejected-token hint without the token", r.stderr)
	}

	r = runCLI(t, nil, "agent", "list", "--url", m.URL, "--token", "s3cret")
	r.wantCode(t, 0)
	r = runCLI(t, map[string]string{"CAIRN_TOKEN": "s3cret", "CAIRN_URL": m.URL}, "task", "list")
	r.wantCode(t, 0)
}

func TestServerError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"message":"not the leading master; the leader is at http://10.0.0.2:5050"}`))
	}))
	t.Cleanup(srv.Close)
	r := runCLI(t, nil, "framework", "list", "--url", srv.URL)
	r.wantCode(t, 1)
	for _, want := range []string{"503 Service Unavailable", "not the leading master", "/v1/frameworks"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q lacks %q", r.stderr, want)
		}
	}
}

func TestBadURL(t *testing.T) {
	r := runCLI(t, nil, "agent", "list", "--url", "ftp://example.com")
	r.wantCode(t, 1)
	if !strings.Contains(r.stderr, "use http:// or https://") {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"agnet", "list"},
		{"agent", "lsit"},
		{"agent", "list", "extra"},
		{"agent", "list", "--bogus"},
		{"--bogus"},
		{"task", "list", "--json=maybe"},
		{"task", "list", "--state", "sleeping"},
		{"task", "list", "--framework", "not.a.token"},
		{"task", "list", "--state"},
		{"version", "extra"},
	} {
		r := runCLI(t, map[string]string{"CAIRN_URL": closedURL(t)}, args...)
		r.wantCode(t, 2)
		if !strings.HasPrefix(r.stderr, "Error: ") || !strings.Contains(r.stderr, "--help' for usage.") {
			t.Errorf("%v: stderr %q", args, r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("%v: stdout %q", args, r.stdout)
		}
	}
	r := runCLI(t, nil, "agnet")
	if !strings.Contains(r.stderr, `did you mean "agent"?`) {
		t.Errorf("no suggestion: %q", r.stderr)
	}
	r = runCLI(t, nil, "task", "list", "--state", "sleeping")
	if !strings.Contains(r.stderr, "running") || !strings.Contains(r.stderr, "task list --help") {
		t.Errorf("--state error should list the states and name the command: %q", r.stderr)
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{}, {"--help"}, {"agent"}, {"task", "list", "--help"}, {"help", "framework"}} {
		r := runCLI(t, nil, args...)
		r.wantCode(t, 0)
		if !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("%v: no help on stdout: %q", args, r.stdout)
		}
	}
	r := runCLI(t, nil, "version", "--client")
	r.wantCode(t, 0)
	if !strings.HasPrefix(r.stdout, "cairn ") || !strings.Contains(r.stdout, "go1.") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("version: %q", r.stdout)
	}
	r = runCLI(t, nil, "version", "--json", "--client")
	r.wantCode(t, 0)
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v["version"] == "" || v["go_version"] == nil || v["master"] != nil {
		t.Errorf("version --json: %q (%v)", r.stdout, err)
	}
	r = runCLI(t, nil, "--version")
	r.wantCode(t, 0)
	if !strings.HasPrefix(r.stdout, "cairn ") {
		t.Errorf("--version: %q", r.stdout)
	}
}

func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	go func() {
		<-started
		cancel()
	}()
	var out, errOut bytes.Buffer
	f := cli.NewFactory(cli.IOStreams{Out: &out, ErrOut: &errOut}, nil)
	code := cli.Execute(ctx, cli.NewRootCmd(f), []string{"agent", "list", "--url", srv.URL})
	if code != 1 || errOut.String() != "Error: interrupted\n" {
		t.Errorf("code %d, stderr %q", code, errOut.String())
	}
}
