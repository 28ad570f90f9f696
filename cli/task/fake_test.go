package task

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/frameworks/run/runapi"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// fakeMaster is an httptest master: the operator API, the agent proxy
// (logs, state, files) and the run framework behind /service/run/.
type fakeMaster struct {
	*httptest.Server
	t *testing.T

	mu         sync.Mutex
	tasks      []protocol.Task
	frameworks []protocol.Framework
	// runs: the answers of GET /service/run/v1/runs/<id>, in turn (the
	// last one repeats).
	runs      map[protocol.TaskID][]runapi.Run
	submitted []runapi.Request
	noRun     bool // no run framework: /service/run/ is the master's 404
	// logs by "<agent>/<framework>/<task>/<stream>"
	logs      map[string]string
	logReqs   []string // raw queries of log requests
	killed    []string // task ids POSTed to /v1/tasks/<id>/kill (with ?framework_id)
	runKilled []protocol.TaskID
	sandboxes map[protocol.TaskID]string
}

func newFakeMaster(t *testing.T) *fakeMaster {
	t.Helper()
	m := &fakeMaster{t: t, runs: map[protocol.TaskID][]runapi.Run{}, logs: map[string]string{}, sandboxes: map[protocol.TaskID]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/tasks", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		var out []protocol.Task
		q := r.URL.Query()
		for _, tk := range m.tasks {
			if (q.Get("framework_id") == "" || string(tk.FrameworkID) == q.Get("framework_id")) &&
				(q.Get("agent_id") == "" || string(tk.AgentID) == q.Get("agent_id")) {
				out = append(out, tk)
			}
		}
		writeJSON(w, 200, out)
	})
	mux.HandleFunc("GET /v1/frameworks", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		writeJSON(w, 200, m.frameworks)
	})
	mux.HandleFunc("POST /v1/tasks/{id}/kill", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		id := protocol.TaskID(r.PathValue("id"))
		fid := protocol.FrameworkID(r.URL.Query().Get("framework_id"))
		m.killed = append(m.killed, string(id)+"?"+string(fid))
		var found []protocol.Task
		for _, tk := range m.tasks {
			if tk.ID == id && (fid == "" || tk.FrameworkID == fid) {
				found = append(found, tk)
			}
		}
		switch {
		case len(found) == 0:
			writeJSON(w, 404, map[string]string{"message": "task " + string(id) + " is unknown to the master"})
		case len(found) > 1:
			writeJSON(w, 409, map[string]string{"message": "task id " + string(id) + " is used by 2 frameworks: pass framework_id"})
		case found[0].State.Terminal():
			writeJSON(w, 409, map[string]string{"message": "task " + string(id) + " already ended (" + string(found[0].State) + ")"})
		default:
			writeJSON(w, 202, found[0])
		}
	})
	mux.HandleFunc("/service/run/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.noRun {
			writeJSON(w, 404, map[string]string{"message": `no framework named "run" with an HTTP API is subscribed`})
			return
		}
		m.serveRun(w, r)
	})
	mux.HandleFunc("GET /agent/{aid}/v1/tasks/{fid}/{tid}/logs/{stream}", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		key := r.PathValue("aid") + "/" + r.PathValue("fid") + "/" + r.PathValue("tid") + "/" + r.PathValue("stream")
		data, ok := m.logs[key]
		m.logReqs = append(m.logReqs, r.URL.RawQuery)
		m.mu.Unlock()
		if !ok {
			writeJSON(w, 404, map[string]string{"message": "no such log"})
			return
		}
		off := int64(0)
		if s := r.URL.Query().Get("offset"); s != "" {
			if err := json.Unmarshal([]byte(s), &off); err != nil {
				t.Errorf("offset %q", s)
			}
		}
		switch {
		case off < 0 && int64(len(data))+off > 0:
			data = data[int64(len(data))+off:]
		case off > int64(len(data)):
			data = ""
		case off > 0:
			data = data[off:]
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(data))
	})
	mux.HandleFunc("GET /agent/{aid}/v1/state", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		st := protocol.AgentState{Agent: protocol.AgentInfo{ID: protocol.AgentID(r.PathValue("aid"))}}
		for id, sb := range m.sandboxes {
			st.Tasks = append(st.Tasks, protocol.AgentTaskView{ID: id, FrameworkID: fwRun, Sandbox: sb})
		}
		writeJSON(w, 200, st)
	})
	mux.HandleFunc("GET /agent/{aid}/v1/files/read", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		p := r.URL.Query().Get("path")
		for id, sb := range m.sandboxes {
			for _, stream := range []string{"stdout", "stderr"} {
				if p == sb+"/"+stream {
					data := m.logs[r.PathValue("aid")+"/"+string(fwRun)+"/"+string(id)+"/"+stream]
					writeJSON(w, 200, map[string]any{"data": "", "offset": len(data)})
					return
				}
			}
		}
		writeJSON(w, 404, map[string]string{"message": "no such file " + p})
	})
	m.Server = httptest.NewServer(mux)
	t.Cleanup(m.Close)
	return m
}

const (
	fwRun   = protocol.FrameworkID("01JB8X5Q2M3N4P5R6S7T8V9W0R")
	fwOther = protocol.FrameworkID("01JB8X5Q2M3N4P5R6S7T8V9W0O")
	agentA  = protocol.AgentID("01JB8X5Q2M3N4P5R6S7T8V9W0A")
)

// serveRun is the run framework's API; m.mu is held.
func (m *fakeMaster) serveRun(w http.ResponseWriter, r *http.Request) {
	rest := "/" + r.PathValue("rest")
	switch {
	case r.Method == http.MethodPost && rest == "/v1/runs":
		var req runapi.Request
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, 400, runapi.Error{Message: err.Error()})
			return
		}
		if req.CPUs != nil && *req.CPUs > 64 {
			writeJSON(w, 422, runapi.Error{Message: "cpus 100 is too large", Field: "cpus"})
			return
		}
		m.submitted = append(m.submitted, req)
		id := protocol.TaskID("run-1")
		if _, ok := m.runs[id]; !ok {
			m.runs[id] = []runapi.Run{{ID: id, FrameworkID: fwRun, State: protocol.TaskFinished}}
		}
		writeJSON(w, 201, runapi.Submitted{ID: id, FrameworkID: fwRun})
	case r.Method == http.MethodGet && len(rest) > len("/v1/runs/"):
		id := protocol.TaskID(rest[len("/v1/runs/"):])
		seq, ok := m.runs[id]
		if !ok {
			writeJSON(w, 404, runapi.Error{Message: "run " + string(id) + " is unknown to the run framework"})
			return
		}
		writeJSON(w, 200, seq[0])
		if len(seq) > 1 {
			m.runs[id] = seq[1:]
		}
	case r.Method == http.MethodDelete && len(rest) > len("/v1/runs/"):
		id := protocol.TaskID(rest[len("/v1/runs/"):])
		seq, ok := m.runs[id]
		if !ok {
			writeJSON(w, 404, runapi.Error{Message: "run " + string(id) + " is unknown to the run framework"})
			return
		}
		m.runKilled = append(m.runKilled, id)
		writeJSON(w, 202, seq[0])
	default:
		writeJSON(w, 404, runapi.Error{Message: "no such endpoint"})
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// execute runs a command built by newCmd against the fake master.
func execute(t *testing.T, m *fakeMaster, newCmd func(*cmdutil.Factory) *cobra.Command, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := cmdutil.NewFactory(cmdutil.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}, func(k string) string {
		if k == cmdutil.EnvURL {
			return m.URL
		}
		return ""
	})
	cmd := newCmd(f)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetFlagErrorFunc(cmdutil.FlagErrorFunc)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}
