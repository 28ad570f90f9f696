package agent

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// The agent API (default 127.0.0.1:5051; the master proxies it at
// /agent/<id>/...):
//
//	GET /health
//	GET /v1/state                                       protocol.AgentState
//	GET /v1/tasks/{framework}/{task}/logs/{stdout|stderr}?offset=N&follow=true
//	GET /v1/files/read?path=P&offset=N&length=L         {"data": "...", "offset": N} (Mesos /files/read)
//	GET /v1/files/browse?path=P                         [{"path","size","mode","mtime"}]
//	GET /v1/files/download?path=P
//
// File paths are absolute paths inside the agent's sandboxes.
func (a *Agent) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "agent_id": a.id, "registered": a.Ready()})
	})
	mux.HandleFunc("GET /v1/state", a.serveState)
	mux.HandleFunc("GET /v1/tasks/{fid}/{tid}/logs/{stream}", a.serveLog)
	mux.HandleFunc("GET /v1/files/read", a.serveRead)
	mux.HandleFunc("GET /v1/files/browse", a.serveBrowse)
	mux.HandleFunc("GET /v1/files/download", a.serveDownload)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint %s %s: see /v1/state, /v1/tasks/<framework>/<task>/logs/stdout, /v1/files/read", r.Method, r.URL.Path))
	})
	if a.cfg.Token == "" {
		return mux
	}
	want := []byte("Bearer " + a.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			writeError(w, http.StatusUnauthorized, "missing or wrong token: pass --token or set CAIRN_TOKEN")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

// query runs fn on the loop and returns its result.
func query[T any](ctx context.Context, a *Agent, fn func() T) (T, error) {
	res := make(chan T, 1)
	select {
	case a.inbox <- func() { res <- fn() }:
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
	select {
	case v := <-res:
		return v, nil
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

func (a *Agent) view(t *task) protocol.AgentTaskView {
	v := protocol.AgentTaskView{ID: t.info.TaskID, Name: t.info.Name, FrameworkID: t.fid, State: t.state, Healthy: t.healthy,
		Resources: t.info.Resources, Sandbox: t.sandbox, PID: t.pid, Unacknowledged: len(t.updates)}
	if !t.startedAt.IsZero() {
		v.StartedAt = protocol.Timestamp(t.startedAt)
	}
	return v
}

func (a *Agent) serveState(w http.ResponseWriter, r *http.Request) {
	type probe struct {
		cgroup string
		pid    int
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	type snap struct {
		st     protocol.AgentState
		probes []probe
	}
	s, err := query(ctx, a, func() snap {
		st := protocol.AgentState{Agent: a.info, MasterID: a.masterID, Registered: a.registered, Isolation: a.cg.Version(),
			Tasks: []protocol.AgentTaskView{}}
		var probes []probe
		for _, t := range a.tasks {
			st.Tasks = append(st.Tasks, a.view(t))
			probes = append(probes, probe{t.cgroup, t.pid})
		}
		for _, c := range a.completed {
			st.Completed = append(st.Completed, c.view)
		}
		return snap{st, probes}
	})
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "the agent is busy: retry")
		return
	}
	for i := range s.st.Tasks {
		t := &s.st.Tasks[i]
		if t.State == protocol.TaskRunning || t.State == protocol.TaskKilling {
			if u, ok := a.usage(s.probes[i].cgroup, s.probes[i].pid); ok {
				t.Statistics = &u
			}
		}
	}
	writeJSON(w, http.StatusOK, s.st)
}

// sandboxPath checks that p is inside the sandboxes and returns it cleaned.
func (a *Agent) sandboxPath(p string) (string, error) {
	root := filepath.Join(a.cfg.WorkDir, "sandboxes")
	if p == "" {
		return "", errors.New("path is required: an absolute path inside a task's sandbox")
	}
	clean := filepath.Clean(p)
	real, err := filepath.EvalSymlinks(clean)
	if err != nil {
		return "", fmt.Errorf("no such file %s", p)
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
		return "", fmt.Errorf("%s is outside the agent's sandboxes (%s)", p, root)
	}
	return real, nil
}

func (a *Agent) serveLog(w http.ResponseWriter, r *http.Request) {
	stream := r.PathValue("stream")
	if stream != "stdout" && stream != "stderr" {
		writeError(w, http.StatusBadRequest, "stream must be stdout or stderr")
		return
	}
	fid, tid := protocol.FrameworkID(r.PathValue("fid")), protocol.TaskID(r.PathValue("tid"))
	type found struct {
		sandbox string
		live    bool
	}
	f, err := query(r.Context(), a, func() found {
		if t := a.byID[taskID{fid, tid}]; t != nil {
			return found{t.sandbox, !t.state.Terminal()}
		}
		for i := len(a.completed) - 1; i >= 0; i-- {
			if v := a.completed[i].view; v.FrameworkID == fid && v.ID == tid {
				return found{v.Sandbox, false}
			}
		}
		return found{}
	})
	if err != nil {
		return
	}
	if f.sandbox == "" {
		// The newest sandbox of that task, if it is still on disk.
		runs, _ := filepath.Glob(filepath.Join(a.cfg.WorkDir, "sandboxes", string(fid), string(tid)+"@*"))
		if len(runs) == 0 {
			writeError(w, http.StatusNotFound, fmt.Sprintf("task %s of framework %s has no sandbox on this agent", tid, fid))
			return
		}
		f.sandbox = runs[len(runs)-1]
	}
	path := filepath.Join(f.sandbox, stream)
	offset, _ := strconv.ParseInt(r.URL.Query().Get("offset"), 10, 64)
	follow := r.URL.Query().Get("follow") == "true" || r.URL.Query().Get("follow") == "1"
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	fl, _ := w.(http.Flusher)
	// The supervisor creates the file as it starts the task: until then
	// there is nothing to open (following, it is opened when it appears).
	var file *os.File
	open := func() {
		if file != nil {
			return
		}
		fh, err := os.Open(path)
		if err != nil {
			return
		}
		file = fh
		if offset < 0 {
			if st, err := file.Stat(); err == nil && st.Size()+offset > 0 {
				_, _ = file.Seek(st.Size()+offset, io.SeekStart)
			}
		} else if offset > 0 {
			_, _ = file.Seek(offset, io.SeekStart)
		}
	}
	defer func() {
		if file != nil {
			file.Close()
		}
	}()
	open()
	if file == nil && !follow {
		if _, err := os.Stat(f.sandbox); err != nil {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no %s yet for task %s", stream, tid))
			return
		}
		// A sandbox whose task has not started: nothing written yet.
	}
	w.WriteHeader(http.StatusOK)
	buf := make([]byte, 32<<10)
	copyOut := func() {
		for file != nil {
			n, err := file.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				break
			}
		}
		if fl != nil {
			fl.Flush()
		}
	}
	copyOut()
	if !follow {
		return
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
		open()
		copyOut()
		live, err := query(r.Context(), a, func() bool {
			t := a.byID[taskID{fid, tid}]
			return t != nil && !t.state.Terminal()
		})
		if err != nil || !live {
			open()    // it may have started and ended since
			copyOut() // what it wrote last
			return
		}
	}
}

func (a *Agent) serveRead(w http.ResponseWriter, r *http.Request) {
	path, err := a.sandboxPath(r.URL.Query().Get("path"))
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	f, err := os.Open(path)
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	defer f.Close()
	st, _ := f.Stat()
	offset, _ := strconv.ParseInt(r.URL.Query().Get("offset"), 10, 64)
	length, err := strconv.ParseInt(r.URL.Query().Get("length"), 10, 64)
	if err != nil || length <= 0 || length > 1<<20 {
		length = 1 << 20
	}
	if offset < 0 || offset > st.Size() {
		offset = st.Size()
	}
	buf := make([]byte, length)
	n, _ := f.ReadAt(buf, offset)
	writeJSON(w, http.StatusOK, map[string]any{"data": string(buf[:n]), "offset": offset})
}

func (a *Agent) serveBrowse(w http.ResponseWriter, r *http.Request) {
	path, err := a.sandboxPath(r.URL.Query().Get("path"))
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	type entry struct {
		Path  string  `json:"path"`
		Size  int64   `json:"size"`
		Mode  string  `json:"mode"`
		MTime float64 `json:"mtime"`
		Dir   bool    `json:"dir,omitempty"`
	}
	out := []entry{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, entry{Path: filepath.Join(path, e.Name()), Size: info.Size(), Mode: info.Mode().String(),
			MTime: protocol.Timestamp(info.ModTime()), Dir: e.IsDir()})
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *Agent) serveDownload(w http.ResponseWriter, r *http.Request) {
	path, err := a.sandboxPath(r.URL.Query().Get("path"))
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", filepath.Base(path)))
	http.ServeFile(w, r, path)
}
