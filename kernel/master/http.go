package master

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
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
}

// Handler is the operator API: /health, /v1/state, /v1/agents,
// /v1/frameworks, /v1/tasks and /v1/events (server-sent events).
func (m *Master) Handler(cfg HTTPConfig) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", m.serveHealth)
	mux.HandleFunc("GET /v1/state", m.serveState)
	mux.HandleFunc("GET /v1/agents", m.serveAgents)
	mux.HandleFunc("GET /v1/frameworks", m.serveFrameworks)
	mux.HandleFunc("GET /v1/tasks", m.serveTasks)
	mux.HandleFunc("GET /v1/events", m.serveEvents)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint %s %s: see /v1/state, /v1/agents, /v1/frameworks, /v1/tasks, /v1/events, /health", r.Method, r.URL.Path))
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
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	st := m.State()
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
