package master

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// HTTPConfig configures the operator API.
type HTTPConfig struct {
	// Token, when set, is required as "Authorization: Bearer <token>" on
	// every endpoint but /health.
	Token string
	// Mounts serves more APIs on the same endpoint, behind the same token:
	// path pattern prefix ("/package/") → handler. The composition root
	// mounts the package API this way; the kernel does not know it.
	Mounts map[string]http.Handler
}

// Handler is the operator API: /health, /v1/state, /v1/agents,
// /v1/frameworks, /v1/tasks, /v1/events (server-sent events), operator
// kills, and maintenance (/v1/maintenance, POST /v1/agents/<id>/drain and
// /undrain).
func (m *Master) Handler(cfg HTTPConfig) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", m.serveHealth)
	mux.HandleFunc("GET /v1/state", m.serveState)
	mux.HandleFunc("GET /v1/agents", m.serveAgents)
	mux.HandleFunc("GET /v1/frameworks", m.serveFrameworks)
	mux.HandleFunc("GET /v1/tasks", m.serveTasks)
	mux.HandleFunc("GET /v1/events", m.serveEvents)
	mux.HandleFunc("POST /v1/tasks/{id}/kill", m.serveKill)
	mux.HandleFunc("GET /v1/maintenance", m.serveMaintenance)
	mux.HandleFunc("POST /v1/agents/{id}/drain", m.serveDrain)
	mux.HandleFunc("POST /v1/agents/{id}/undrain", m.serveUndrain)
	mux.HandleFunc("/agent/{aid}/{rest...}", m.serveAgentProxy)
	mux.HandleFunc("/service/{name}/{rest...}", m.serveServiceProxy)
	for prefix, h := range cfg.Mounts {
		mux.Handle(prefix, h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint %s %s: see /v1/state, /v1/agents, /v1/frameworks, /v1/tasks, /v1/events, /v1/maintenance, POST /v1/tasks/<id>/kill, POST /v1/agents/<id>/drain, POST /v1/agents/<id>/undrain, /agent/<id>/..., /health", r.Method, r.URL.Path))
	})
	return withAuth(cfg.Token, mux)
}

func withAuth(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cairn"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong token: pass --token or set CAIRN_TOKEN")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

// ready answers 503 when this master does not serve.
func (m *Master) notReady(w http.ResponseWriter) bool {
	if m.Ready() {
		return false
	}
	writeError(w, http.StatusServiceUnavailable, "this master is not the ready leader (electing or recovering): retry shortly")
	return true
}

func (m *Master) serveHealth(w http.ResponseWriter, _ *http.Request) {
	if m.Ready() {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "leader": true, "master": m.info()})
		return
	}
	writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "leader": m.leading.Load(), "master": m.info()})
}

type stateJSON struct {
	Master     protocol.MasterInfo   `json:"master"`
	Timestamp  float64               `json:"timestamp"`
	Agents     []*protocol.Agent     `json:"agents"`
	Frameworks []*protocol.Framework `json:"frameworks"`
	Tasks      []*protocol.Task      `json:"tasks"`
}

func (m *Master) serveState(w http.ResponseWriter, _ *http.Request) {
	if m.notReady(w) {
		return
	}
	s := m.snap.Load().sorted()
	writeJSON(w, http.StatusOK, stateJSON{Master: s.master, Timestamp: protocol.Timestamp(s.at),
		Agents: s.agents, Frameworks: s.frameworks, Tasks: s.tasks})
}

func (m *Master) serveAgents(w http.ResponseWriter, _ *http.Request) {
	if m.notReady(w) {
		return
	}
	writeJSON(w, http.StatusOK, m.snap.Load().sorted().agents)
}

func (m *Master) serveFrameworks(w http.ResponseWriter, _ *http.Request) {
	if m.notReady(w) {
		return
	}
	writeJSON(w, http.StatusOK, m.snap.Load().sorted().frameworks)
}

func (m *Master) serveTasks(w http.ResponseWriter, r *http.Request) {
	if m.notReady(w) {
		return
	}
	q := r.URL.Query()
	fid, aid, state := q.Get("framework_id"), q.Get("agent_id"), strings.ToUpper(q.Get("state"))
	if state != "" && !strings.HasPrefix(state, "TASK_") {
		state = "TASK_" + state
	}
	if state != "" && !protocol.TaskState(state).Valid() {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("state %q is not a task state (e.g. TASK_RUNNING or running)", q.Get("state")))
		return
	}
	tasks := m.snap.Load().sorted().tasks
	out := make([]*protocol.Task, 0, len(tasks))
	for _, t := range tasks {
		if (fid == "" || string(t.FrameworkID) == fid) && (aid == "" || string(t.AgentID) == aid) && (state == "" || string(t.State) == state) {
			out = append(out, t)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// serveEvents streams cluster events as server-sent events, starting with
// SUBSCRIBED carrying the whole state.
func (m *Master) serveEvents(w http.ResponseWriter, r *http.Request) {
	if m.notReady(w) {
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported by this connection")
		return
	}
	ch := make(chan *nats.Msg, 4096)
	sub, err := m.nc.ChanSubscribe(protocol.ClusterEventsWildcard, ch)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "cannot subscribe to cluster events: "+err.Error())
		return
	}
	defer func() { _ = sub.Unsubscribe() }()
	// No event may fall between the snapshot and the stream: once the
	// server holds the subscription, the state is read fresh from the loop,
	// so every change is in the snapshot or comes as an event after it (a
	// change can be in both: applying an event twice is harmless).
	_ = m.nc.FlushTimeout(5 * time.Second)
	st := m.freshState(r.Context())
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	first, _ := json.Marshal(protocol.ClusterEvent{Type: protocol.EvSubscribed, Timestamp: st.Timestamp, State: &st})
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", protocol.EvSubscribed, first)
	fl.Flush()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keepalive.C:
			fmt.Fprint(w, ": keepalive\n\n")
			fl.Flush()
		case msg := <-ch:
			var head struct {
				Type protocol.ClusterEventType `json:"type"`
			}
			if json.Unmarshal(msg.Data, &head) != nil {
				continue
			}
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", head.Type, msg.Data)
			// Write what is queued before flushing once.
			for more := len(ch); more > 0; more-- {
				msg := <-ch
				if json.Unmarshal(msg.Data, &head) == nil {
					fmt.Fprintf(w, "event: %s\ndata: %s\n\n", head.Type, msg.Data)
				}
			}
			fl.Flush()
		}
	}
}

// serveKill is an operator's kill: POST /v1/tasks/<id>/kill[?framework_id=].
// The framework learns of it through the task's KILLED update.
func (m *Master) serveKill(w http.ResponseWriter, r *http.Request) {
	if m.notReady(w) {
		return
	}
	id := protocol.TaskID(r.PathValue("id"))
	if err := protocol.ValidateTaskID("task id", id); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	fid := protocol.FrameworkID(r.URL.Query().Get("framework_id"))
	res := make(chan killResult, 1)
	select {
	case m.inbox <- func() { res <- m.operatorKill(fid, id) }:
	case <-r.Context().Done():
		return
	}
	select {
	case kr := <-res:
		if kr.status != http.StatusAccepted {
			writeError(w, kr.status, kr.message)
			return
		}
		writeJSON(w, http.StatusAccepted, kr.task)
	case <-r.Context().Done():
	}
}

type killResult struct {
	status  int
	message string
	task    *protocol.Task
}

// operatorKill runs on the loop.
func (m *Master) operatorKill(fid protocol.FrameworkID, id protocol.TaskID) killResult {
	var found []*task
	for _, f := range m.frameworks {
		if f.removed || (fid != "" && f.info.ID != fid) {
			continue
		}
		if t := f.tasks[id]; t != nil {
			found = append(found, t)
		}
	}
	switch {
	case len(found) == 0:
		return killResult{status: http.StatusNotFound, message: fmt.Sprintf("task %s is unknown to the master", id)}
	case len(found) > 1:
		return killResult{status: http.StatusConflict, message: fmt.Sprintf("task id %s is used by %d frameworks: pass framework_id", id, len(found))}
	}
	t := found[0]
	if t.state.Terminal() {
		return killResult{status: http.StatusConflict, message: fmt.Sprintf("task %s already ended (%s)", id, t.state)}
	}
	t.killRequested = true
	m.touchTask(t)
	if a := m.agents[t.aid]; a != nil && a.status == protocol.AgentActive {
		m.sendAgent(t.aid, protocol.AgentCommand{Type: protocol.AgentKill, Kill: &protocol.KillTask{
			FrameworkID: t.fid, TaskID: t.info.TaskID, KillPolicy: t.info.KillPolicy}})
	}
	m.log.Info("operator killed task", "task", id, "framework", t.fid, "agent", t.aid)
	return killResult{status: http.StatusAccepted, task: t.buildView()}
}

// serveServiceProxy forwards /service/<name>/<path> to the HTTP API of the
// connected framework called <name> (its webui_url), as DC/OS does, so
// frameworks' APIs share the master's address and token.
func (m *Master) serveServiceProxy(w http.ResponseWriter, r *http.Request) {
	if m.notReady(w) {
		return
	}
	name := r.PathValue("name")
	find := func(s *snapshot) (target string) {
		for _, f := range s.frameworks {
			if f.Name == name && f.WebuiURL != "" && (target == "" || f.Connected) {
				target = f.WebuiURL
			}
		}
		return target
	}
	target := find(m.snap.Load())
	if target == "" {
		// A framework that subscribed since the last snapshot (it may be
		// up to SnapshotInterval old): ask the loop.
		target = find(m.loopSnapshot(r.Context()))
	}
	if target == "" {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no framework named %q with an HTTP API is subscribed: is it installed and running? (see /v1/frameworks)", name))
		return
	}
	m.proxy(w, r, target, "/"+r.PathValue("rest"), "framework "+name)
}

// loopSnapshot is freshSnapshot, waiting at most 2 s for the loop (a
// leadership lost meanwhile stops it): then the latest snapshot.
func (m *Master) loopSnapshot(ctx context.Context) *snapshot {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return m.freshSnapshot(ctx)
}

// serveAgentProxy forwards /agent/<id>/<path> to that agent's own HTTP API
// (sandbox files, task logs), so tools need only the master's URL and token.
func (m *Master) serveAgentProxy(w http.ResponseWriter, r *http.Request) {
	if m.notReady(w) {
		return
	}
	aid := protocol.AgentID(r.PathValue("aid"))
	find := func(s *snapshot) (target string) {
		for _, a := range s.agents {
			if a.ID == aid {
				target = a.URL
			}
		}
		return target
	}
	target := find(m.snap.Load())
	if target == "" {
		// An agent that registered since the last snapshot (a task may
		// start and end on it meanwhile, and its log be asked for): ask
		// the loop.
		target = find(m.loopSnapshot(r.Context()))
	}
	if target == "" {
		writeError(w, http.StatusNotFound, fmt.Sprintf("agent %s is unknown or serves no HTTP API", aid))
		return
	}
	m.proxy(w, r, target, "/"+r.PathValue("rest"), "agent "+string(aid))
}

// proxy forwards r to target+rest, streaming the answer.
func (m *Master) proxy(w http.ResponseWriter, r *http.Request, target, rest, who string) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		writeError(w, http.StatusBadGateway, fmt.Sprintf("%s has a bad URL %q", who, target))
		return
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.URL.Path = strings.TrimSuffix(u.Path, "/") + rest
			pr.Out.URL.RawPath = ""
			pr.Out.Header.Set("Authorization", r.Header.Get("Authorization"))
		},
		FlushInterval: -1, // stream logs as they come
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			writeError(w, http.StatusBadGateway, fmt.Sprintf("%s at %s does not answer: %v", who, target, err))
		},
	}
	proxy.ServeHTTP(w, r)
}
