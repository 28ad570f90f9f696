package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

const (
	agentA = protocol.AgentID("01JB8X5Q2M3N4P5R6S7T8V9W0A")
	agentB = protocol.AgentID("01JB8X5Q2M3N4P5R6S7T8V9W0B")
	agentC = protocol.AgentID("01JC000000000000000000000C")
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func secs(f float64) *float64 { return &f }

// fakeMaster serves the operator API's agents and maintenance endpoints
// as the master does: a drained agent loses one task per look at
// /v1/agents until it is DRAINED (unless stuck).
type fakeMaster struct {
	*httptest.Server
	mu     sync.Mutex
	agents []protocol.Agent
	bodies []string // bodies of drain requests
	posts  []string // "drain <id>" / "undrain <id>"
	stuck  bool     // drains never end
	gone   bool     // every drain/undrain answers 409
}

func newFakeMaster(t *testing.T) *fakeMaster {
	t.Helper()
	m := &fakeMaster{agents: []protocol.Agent{
		{ID: agentA, Hostname: "node-a", Status: protocol.AgentActive, ActiveTasks: 2},
		{ID: agentB, Hostname: "node-b", Status: protocol.AgentDrained,
			Drain: &protocol.DrainInfo{State: protocol.DrainDrained, Since: protocol.Timestamp(t0), DrainedTime: protocol.Timestamp(t0.Add(time.Minute)),
				Reason: "disk swap", GracePeriodSeconds: secs(30)}},
		{ID: agentC, Hostname: "node-c", Status: protocol.AgentUnreachable, ActiveTasks: 1,
			Drain: &protocol.DrainInfo{State: protocol.DrainDraining, Since: protocol.Timestamp(t0.Add(time.Hour))}},
	}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/agents", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		out := append([]protocol.Agent(nil), m.agents...)
		for i := range m.agents {
			a := &m.agents[i]
			if a.Drain != nil && a.Drain.State == protocol.DrainDraining && a.Status == protocol.AgentDraining && !m.stuck {
				if a.ActiveTasks--; a.ActiveTasks <= 0 {
					a.ActiveTasks, a.Status = 0, protocol.AgentDrained
					d := *a.Drain
					d.State, d.DrainedTime = protocol.DrainDrained, d.Since+1
					a.Drain = &d
				}
			}
		}
		writeJSON(w, 200, out)
	})
	mux.HandleFunc("GET /v1/maintenance", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		out := protocol.Maintenance{Agents: []protocol.Agent{}}
		for _, a := range m.agents {
			if a.Drain != nil {
				out.Agents = append(out.Agents, a)
			}
		}
		writeJSON(w, 200, out)
	})
	op := func(verb string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			m.mu.Lock()
			defer m.mu.Unlock()
			id := protocol.AgentID(r.PathValue("id"))
			m.posts = append(m.posts, verb+" "+string(id))
			body, _ := io.ReadAll(r.Body)
			if verb == "drain" {
				m.bodies = append(m.bodies, string(body))
			}
			if m.gone {
				writeJSON(w, 409, map[string]string{"message": "agent " + string(id) + " is gone: there is nothing to " + verb})
				return
			}
			for i := range m.agents {
				a := &m.agents[i]
				if a.ID != id {
					continue
				}
				if verb == "undrain" {
					a.Drain, a.Status = nil, protocol.AgentActive
					writeJSON(w, 200, a)
					return
				}
				req, err := protocol.DecodeDrainAgent(body)
				if err != nil {
					writeJSON(w, 400, map[string]string{"message": err.Error()})
					return
				}
				a.Drain = &protocol.DrainInfo{State: protocol.DrainDraining, Since: protocol.Timestamp(t0), Reason: req.Reason, GracePeriodSeconds: req.GracePeriodSeconds}
				a.Status = protocol.AgentDraining
				if a.ActiveTasks == 0 {
					a.Drain.State, a.Status = protocol.DrainDrained, protocol.AgentDrained
				}
				writeJSON(w, 200, a)
				return
			}
			writeJSON(w, 404, map[string]string{"message": "agent " + string(id) + " is unknown to the master"})
		}
	}
	mux.HandleFunc("POST /v1/agents/{id}/drain", op("drain"))
	mux.HandleFunc("POST /v1/agents/{id}/undrain", op("undrain"))
	m.Server = httptest.NewServer(mux)
	t.Cleanup(m.Close)
	return m
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// run executes "cairn node <args>" against url; stdout and stderr apart.
func run(t *testing.T, url string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := cmdutil.NewFactory(cmdutil.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, func(k string) string {
		if k == cmdutil.EnvURL {
			return url
		}
		return ""
	})
	now := func() time.Time { return t0.Add(2 * time.Hour) }
	cmd := cmdutil.NewNounCmd("node", "", "")
	cmd.AddCommand(
		NewCmdList(f, func(ctx context.Context, o *ListOptions) error { o.Now = now; return listRun(ctx, o) }),
		NewCmdDescribe(f, func(ctx context.Context, o *DescribeOptions) error { o.Now = now; return describeRun(ctx, o) }),
		NewCmdDrain(f, func(ctx context.Context, o *DrainOptions) error {
			o.PollInterval = 5 * time.Millisecond
			return drainRun(ctx, o)
		}),
		NewCmdUndrain(f, nil),
	)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetFlagErrorFunc(cmdutil.FlagErrorFunc)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestList(t *testing.T) {
	m := newFakeMaster(t)
	out, _, err := run(t, m.URL, "list")
	if err != nil {
		t.Fatal(err)
	}
	want := "" +
		"ID                           HOSTNAME   STATUS        TASKS   MAINTENANCE   REASON\n" +
		"01JB8X5Q2M3N4P5R6S7T8V9W0A   node-a     ACTIVE        2       -             -\n" +
		"01JB8X5Q2M3N4P5R6S7T8V9W0B   node-b     DRAINED       0       DRAINED 2h    disk swap\n" +
		"01JC000000000000000000000C   node-c     UNREACHABLE   1       DRAINING 1h   -\n"
	if out != want {
		t.Fatalf("table:\n%s\nwant:\n%s", out, want)
	}
	out, _, err = run(t, m.URL, "list", "--maintenance")
	if err != nil || strings.Contains(out, "node-a") || !strings.Contains(out, "node-b") || !strings.Contains(out, "node-c") {
		t.Fatalf("--maintenance: %v\n%s", err, out)
	}
}

func TestListJSONShape(t *testing.T) {
	m := newFakeMaster(t)
	out, _, err := run(t, m.URL, "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 3 {
		t.Fatalf("not a JSON array of 3: %v\n%s", err, out)
	}
	for _, r := range rows {
		if len(r) != 5 || r["id"] == nil || r["hostname"] == nil || r["status"] == nil || r["active_tasks"] == nil || r["drain"] == nil {
			t.Fatalf("row keys: want id, hostname, status, active_tasks, drain; got %s", out)
		}
	}
	if string(rows[0]["drain"]) != "null" {
		t.Fatalf("an agent out of maintenance has drain null: %s", rows[0]["drain"])
	}
	var nodes []Node
	_ = json.Unmarshal([]byte(out), &nodes)
	if d := nodes[1].Drain; d == nil || d.State != protocol.DrainDrained || d.Reason != "disk swap" || *d.GracePeriodSeconds != 30 {
		t.Fatalf("drain of node-b: %+v", d)
	}
	// Nothing under maintenance: an empty array, not null.
	m.mu.Lock()
	m.agents = m.agents[:1]
	m.mu.Unlock()
	if out, _, err := run(t, m.URL, "list", "--maintenance", "--json"); err != nil || strings.TrimSpace(out) != "[]" {
		t.Fatalf("empty: %v %q", err, out)
	}
}

func TestDescribe(t *testing.T) {
	m := newFakeMaster(t)
	out, _, err := run(t, m.URL, "describe", "node-b")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		lines[strings.Join(strings.Fields(l), " ")] = true
	}
	for _, w := range []string{"ID: 01JB8X5Q2M3N4P5R6S7T8V9W0B", "Hostname: node-b", "Status: DRAINED", "Active tasks: 0", "Maintenance: DRAINED",
		"Draining since: " + "2025-03-01T12:00:00Z" + " (2h ago)",
		"Drained since: " + "2025-03-01T12:01:00Z" + " (1h ago)",
		"Reason: disk swap", "Grace period: 30s"} {
		if !lines[w] {
			t.Fatalf("describe lacks %q:\n%s", w, out)
		}
	}
	out, _, err = run(t, m.URL, "describe", "01JB8X5Q2M3N4P5R6S7T8V9W0A", "--json")
	var n map[string]any
	if err != nil || json.Unmarshal([]byte(out), &n) != nil || n["hostname"] != "node-a" || n["drain"] != nil {
		t.Fatalf("describe --json: %v %s", err, out)
	}
	if out, _, _ := run(t, m.URL, "describe", "node-a"); !strings.Contains(out, "cairn node drain node-a") {
		t.Fatalf("an active agent's describe says how to drain it:\n%s", out)
	}
}

func TestDrainWaitShowsProgress(t *testing.T) {
	m := newFakeMaster(t)
	out, errOut, err := run(t, m.URL, "drain", "node-a", "--reason", "kernel upgrade", "--grace-period", "30s", "--wait")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.bodies) != 1 {
		t.Fatalf("drain requests: %v", m.bodies)
	}
	var body map[string]any
	if json.Unmarshal([]byte(m.bodies[0]), &body) != nil || body["reason"] != "kernel upgrade" || body["grace_period_seconds"] != 30.0 {
		t.Fatalf("drain body: %s", m.bodies[0])
	}
	wantOut := "draining agent node-a (01JB8X5Q2M3N4P5R6S7T8V9W0A): no new offers; killing its 2 tasks\n" +
		"agent node-a (01JB8X5Q2M3N4P5R6S7T8V9W0A) is drained: no task left on it\n"
	if out != wantOut {
		t.Fatalf("stdout:\n%s\nwant:\n%s", out, wantOut)
	}
	// Progress on stderr (not a terminal: a line per change).
	wantErr := "waiting for node-a (01JB8X5Q2M3N4P5R6S7T8V9W0A) to drain: 2 tasks left\n" +
		"waiting for node-a (01JB8X5Q2M3N4P5R6S7T8V9W0A) to drain: 1 task left\n"
	if errOut != wantErr {
		t.Fatalf("stderr:\n%s\nwant:\n%s", errOut, wantErr)
	}
}

func TestDrainBodyAndJSON(t *testing.T) {
	m := newFakeMaster(t)
	// No --grace-period: the field is absent (the tasks' own policies).
	if _, _, err := run(t, m.URL, "drain", "01jb8x5q2m3n4p5r6s7t8v9w0a"); err != nil {
		t.Fatal(err)
	}
	// --grace-period 0s is sent: kill at once.
	out, _, err := run(t, m.URL, "drain", "node-a", "--grace-period", "0s", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if m.bodies[0] != "{}\n" && m.bodies[0] != "{}" {
		t.Fatalf("body without flags: %q", m.bodies[0])
	}
	if !strings.Contains(m.bodies[1], `"grace_period_seconds":0`) {
		t.Fatalf("body with --grace-period 0s: %q", m.bodies[1])
	}
	var a protocol.Agent
	if err := json.Unmarshal([]byte(out), &a); err != nil || a.ID != agentA || a.Drain == nil || a.Drain.State != protocol.DrainDraining {
		t.Fatalf("--json: %v %s", err, out)
	}
	// An idle agent is drained at once; --wait has nothing to wait for.
	m.mu.Lock()
	m.agents[0].ActiveTasks, m.agents[0].Drain, m.agents[0].Status = 0, nil, protocol.AgentActive
	m.mu.Unlock()
	out, errOut, err := run(t, m.URL, "drain", "node-a", "--wait")
	if err != nil || out != "agent node-a (01JB8X5Q2M3N4P5R6S7T8V9W0A) is drained: no task left on it, no new offers\n" || errOut != "" {
		t.Fatalf("idle agent: %v %q %q", err, out, errOut)
	}
}

func TestDrainErrors(t *testing.T) {
	m := newFakeMaster(t)
	for _, tc := range []struct {
		args  []string
		usage bool
		want  string
	}{
		{[]string{"drain", "nope"}, false, `no agent has the ID or hostname "nope"`},
		{[]string{"drain", "01JB8X"}, false, `"01JB8X" matches 2 agents`},
		{[]string{"drain", "01JZZZZZ"}, false, "see cairn node list"},
		{[]string{"drain", "node-a", "--grace-period", "-1s"}, true, "--grace-period -1s is negative"},
		{[]string{"drain", "node-a", "--grace-period", "soon"}, true, "grace-period"},
		{[]string{"drain", "node-a", "--timeout", "1m"}, true, "add --wait"},
		{[]string{"drain", "node-a", "--reason", "a\nb"}, true, "--reason: control characters"},
		{[]string{"drain"}, true, "accepts 1 arg"},
		{[]string{"undrain", "nope"}, false, "no agent has the ID"},
	} {
		_, _, err := run(t, m.URL, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || cmdutil.IsUsageError(err) != tc.usage {
			t.Errorf("%v: error %v (usage %v), want %q (usage %v)", tc.args, err, cmdutil.IsUsageError(err), tc.want, tc.usage)
		}
	}
	if len(m.posts) != 0 {
		t.Fatalf("bad invocations reached the master: %v", m.posts)
	}
	// The master's 409 is shown as it is.
	m.gone = true
	for _, verb := range []string{"drain", "undrain"} {
		if _, _, err := run(t, m.URL, verb, "node-a"); err == nil || err.Error() != "agent "+string(agentA)+" is gone: there is nothing to "+verb {
			t.Errorf("%s of a gone agent: %v", verb, err)
		}
	}
}

func TestDrainWaitTimeout(t *testing.T) {
	m := newFakeMaster(t)
	m.stuck = true
	_, _, err := run(t, m.URL, "drain", "node-a", "--wait", "--timeout", "30ms")
	if err == nil || !strings.Contains(err.Error(), "still draining after 30ms with 2 tasks left; the drain goes on") {
		t.Fatalf("timeout: %v", err)
	}
}

func TestDrainWaitUndrainedMeanwhile(t *testing.T) {
	m := newFakeMaster(t)
	m.stuck = true
	errc := make(chan error, 1)
	go func() { _, _, err := run(t, m.URL, "drain", "node-a", "--wait"); errc <- err }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m.mu.Lock()
		n := len(m.posts)
		m.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("drain never posted")
		}
		time.Sleep(time.Millisecond)
	}
	if _, _, err := run(t, m.URL, "undrain", "node-a"); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "was undrained while waiting") {
		t.Fatalf("wait: %v", err)
	}
}

func TestUndrain(t *testing.T) {
	m := newFakeMaster(t)
	out, _, err := run(t, m.URL, "undrain", "node-b")
	if err != nil || out != "agent node-b (01JB8X5Q2M3N4P5R6S7T8V9W0B) is active again: frameworks get its offers\n" {
		t.Fatalf("undrain: %v %q", err, out)
	}
	out, _, err = run(t, m.URL, "undrain", "node-a")
	if err != nil || out != "agent node-a (01JB8X5Q2M3N4P5R6S7T8V9W0A) was not drained: nothing to do\n" {
		t.Fatalf("undrain of an active agent: %v %q", err, out)
	}
	out, _, err = run(t, m.URL, "reactivate", "node-c", "--json")
	var a protocol.Agent
	if err != nil || json.Unmarshal([]byte(out), &a) != nil || a.ID != agentC || a.Drain != nil {
		t.Fatalf("reactivate --json: %v %s", err, out)
	}
}

func TestUnreachableMaster(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	for _, args := range [][]string{{"list"}, {"drain", "node-a"}, {"undrain", "node-a"}, {"describe", "node-a"}} {
		_, _, err := run(t, url, args...)
		var ue *apiclient.UnreachableError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "cannot reach the Cairn master") {
			t.Errorf("%v: %v", args, err)
		}
	}
}

func TestNodeNoun(t *testing.T) {
	f := cmdutil.NewFactory(cmdutil.IOStreams{Out: io.Discard, ErrOut: io.Discard}, nil)
	cmd := NewCmdNode(f)
	var verbs []string
	for _, c := range cmd.Commands() {
		verbs = append(verbs, c.Name())
		if c.Name() != "list" && c.ValidArgsFunction == nil {
			t.Errorf("%s has no agent completion", c.Name())
		}
	}
	if strings.Join(verbs, " ") != "describe drain list undrain" {
		t.Fatalf("verbs: %v", verbs)
	}
}
