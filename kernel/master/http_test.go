package master_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/master"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/scheduler"
	"github.com/cairn-dc/cairn/kernel/simagent"
)

func getJSON(t *testing.T, url, token string, into any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if into != nil {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return resp.StatusCode
}

func TestOperatorAPI(t *testing.T) {
	c := newCluster(t, nil)
	a := c.agent(nil)
	f := c.framework("web", nil)
	srv := httptest.NewServer(c.m.Handler(master.HTTPConfig{}))
	defer srv.Close()

	var health map[string]any
	if code := getJSON(t, srv.URL+"/health", "", &health); code != 200 || health["status"] != "ok" {
		t.Fatalf("health %d %v", code, health)
	}
	waitFor(t, 5*time.Second, "agent in the snapshot", func() bool { _, ok := agentOf(c.m, a.ID()); return ok })
	// Events: SUBSCRIBED with the state first, then live events.
	resp := openEvents(t, srv.URL)
	defer resp.Body.Close() // before srv.Close, which waits for open streams
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := make(chan protocol.ClusterEvent, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ev protocol.ClusterEvent
				if json.Unmarshal([]byte(data), &ev) == nil {
					events <- ev
				}
			}
		}
		close(events)
	}()
	first := <-events
	if first.Type != protocol.EvSubscribed || first.State == nil || len(first.State.Agents) != 1 {
		t.Fatalf("first event: %+v", first)
	}

	of := offers(t, f)
	if _, err := f.Launch(ctxT(t), of[0], sleepTask("api1", "cpus:1;mem:32")); err != nil {
		t.Fatal(err)
	}
	update(t, f, "api1", protocol.TaskRunning)
	sawAdded, sawRunning := false, false
	timeout := time.After(5 * time.Second)
	for !(sawAdded && sawRunning) {
		select {
		case ev := <-events:
			if ev.Type == protocol.EvTaskAdded && ev.Task.ID == "api1" {
				sawAdded = true
			}
			if ev.Type == protocol.EvTaskUpdated && ev.Task.ID == "api1" && ev.Task.State == protocol.TaskRunning {
				sawRunning = true
			}
		case <-timeout:
			t.Fatalf("events: added %v running %v", sawAdded, sawRunning)
		}
	}

	waitFor(t, 5*time.Second, "task listed", func() bool {
		var tasks []protocol.Task
		getJSON(t, srv.URL+"/v1/tasks?state=running", "", &tasks)
		return len(tasks) == 1 && tasks[0].ID == "api1"
	})
	var tasks []protocol.Task
	getJSON(t, srv.URL+"/v1/tasks?framework_id=OTHER", "", &tasks)
	if len(tasks) != 0 {
		t.Fatalf("framework filter: %v", tasks)
	}
	var agents []protocol.Agent
	getJSON(t, srv.URL+"/v1/agents", "", &agents)
	if len(agents) != 1 || agents[0].ID != a.ID() {
		t.Fatalf("agents %v", agents)
	}
	var fws []protocol.Framework
	getJSON(t, srv.URL+"/v1/frameworks", "", &fws)
	if len(fws) != 1 || fws[0].ID != f.ID() || fws[0].Name != "web" {
		t.Fatalf("frameworks %v", fws)
	}
	var st protocol.State
	getJSON(t, srv.URL+"/v1/state", "", &st)
	if st.Master.ID != c.m.ID() || len(st.Tasks) != 1 {
		t.Fatalf("state %+v", st)
	}
	var e map[string]string
	if code := getJSON(t, srv.URL+"/v1/tasks?state=napping", "", &e); code != 400 || !strings.Contains(e["message"], "napping") {
		t.Fatalf("bad state filter: %d %v", code, e)
	}
	if code := getJSON(t, srv.URL+"/v2/nothing", "", &e); code != 404 || e["message"] == "" {
		t.Fatalf("unknown path: %d %v", code, e)
	}
}

func TestOperatorAPIToken(t *testing.T) {
	c := newCluster(t, nil)
	srv := httptest.NewServer(c.m.Handler(master.HTTPConfig{Token: "s3cret"}))
	defer srv.Close()
	var e map[string]string
	if code := getJSON(t, srv.URL+"/v1/state", "", &e); code != 401 || !strings.Contains(e["message"], "--token") {
		t.Fatalf("no token: %d %v", code, e)
	}
	if code := getJSON(t, srv.URL+"/v1/state", "wrong", nil); code != 401 {
		t.Fatalf("wrong token: %d", code)
	}
	if code := getJSON(t, srv.URL+"/v1/state", "s3cret", nil); code != 200 {
		t.Fatalf("right token: %d", code)
	}
	if code := getJSON(t, srv.URL+"/health", "", nil); code != 200 {
		t.Fatalf("health needs no token: %d", code)
	}
}

func TestOperatorAPIMountsBehindToken(t *testing.T) {
	c := newCluster(t, nil)
	mounted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"message": %q}`, r.URL.Path)
	})
	srv := httptest.NewServer(c.m.Handler(master.HTTPConfig{Token: "s3cret",
		Mounts: map[string]http.Handler{"/package/": mounted}}))
	defer srv.Close()
	if code := getJSON(t, srv.URL+"/package/search", "", nil); code != 401 {
		t.Fatalf("mounted API without token: %d", code)
	}
	var e map[string]string
	if code := getJSON(t, srv.URL+"/package/search", "s3cret", &e); code != 200 || e["message"] != "/package/search" {
		t.Fatalf("mounted API: %d %v", code, e)
	}
	if code := getJSON(t, srv.URL+"/v1/state", "s3cret", nil); code != 200 {
		t.Fatalf("operator API next to a mount: %d", code)
	}
}

func TestHealthNotReadyWhileStandby(t *testing.T) {
	c := newCluster(t, nil)
	cfg := c.cfg
	cfg.ID, cfg.Conn, cfg.Logger = "standby", c.conn("standby"), c.log
	m2, err := master.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m2.Handler(master.HTTPConfig{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("standby health: %d %s", resp.StatusCode, body)
	}
	var e map[string]string
	if code := getJSON(t, srv.URL+"/v1/state", "", &e); code != 503 || !strings.Contains(e["message"], "not the ready leader") {
		t.Fatalf("standby state: %d %v", code, e)
	}
}

// TestEventsStartFromTheLoopsState: the SUBSCRIBED state of /v1/events is
// read from the loop when the stream starts, not from the periodic
// snapshot: with snapshots an hour apart, a task launched just before is
// in it (else its events, sent before the stream began, would be lost).
func TestEventsStartFromTheLoopsState(t *testing.T) {
	c := newCluster(t, func(cfg *master.Config) { cfg.SnapshotInterval = time.Hour })
	c.agent(nil)
	f := c.framework("web", nil)
	srv := httptest.NewServer(c.m.Handler(master.HTTPConfig{}))
	defer srv.Close()
	of := offers(t, f)
	if _, err := f.Launch(ctxT(t), of[0], sleepTask("gap1", "cpus:1;mem:32")); err != nil {
		t.Fatal(err)
	}
	update(t, f, "gap1", protocol.TaskRunning)
	if _, ok := taskOf(t, c.m, f.ID(), "gap1"); ok {
		t.Log("the periodic snapshot already has the task: this run does not exercise the gap")
	}

	resp := openEvents(t, srv.URL)
	defer resp.Body.Close() // before srv.Close, which waits for open streams
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev protocol.ClusterEvent
		if err := json.Unmarshal([]byte(data), &ev); err != nil || ev.Type != protocol.EvSubscribed || ev.State == nil {
			t.Fatalf("first event: %v %s", err, data)
		}
		for _, tk := range ev.State.Tasks {
			if tk.ID == "gap1" && tk.State == protocol.TaskRunning {
				return
			}
		}
		t.Fatalf("SUBSCRIBED state has no RUNNING gap1: %+v", ev.State.Tasks)
	}
	t.Fatalf("no SUBSCRIBED event: %v", sc.Err())
}

// TestProxiesAskTheLoop: an agent that registered, or a framework that
// subscribed, since the last snapshot is reached through /agent/<id>/ and
// /service/<name>/ at once (a task may start and end on a new agent before
// the next snapshot, and its log be asked for: "cairn task run --wait"
// printed nothing).
func TestProxiesAskTheLoop(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "reached "+r.URL.Path)
	}))
	defer backend.Close()
	c := newCluster(t, func(cfg *master.Config) { cfg.SnapshotInterval = time.Hour })
	a := c.agent(func(cfg *simagent.Config) { cfg.URL = backend.URL })
	c.framework("webby", func(cfg *scheduler.Config) { cfg.Framework.WebuiURL = backend.URL })
	srv := httptest.NewServer(c.m.Handler(master.HTTPConfig{}))
	defer srv.Close()
	for path, want := range map[string]string{
		"/agent/" + string(a.ID()) + "/v1/x": "reached /v1/x",
		"/service/webby/v2/apps":             "reached /v2/apps",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != want {
			t.Errorf("GET %s: %d %q, want 200 %q", path, resp.StatusCode, body, want)
		}
	}
}

// openEvents opens the /v1/events stream of the API at base. The caller
// closes its body (before closing the server, which waits for it).
func openEvents(t *testing.T, base string) *http.Response {
	t.Helper()
	resp, err := http.Get(base + "/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
