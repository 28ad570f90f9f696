package run

import (
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/cairn-dc/cairn/frameworks/run/runapi"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// maxBodyBytes bounds a POST /v1/runs body.
const maxBodyBytes = 1 << 20

// maxPorts bounds Request.Ports.
const maxPorts = 100

// Handler is the framework's HTTP API (see package runapi):
//
//	GET    /health
//	POST   /v1/runs
//	GET    /v1/runs
//	GET    /v1/runs/{id}
//	DELETE /v1/runs/{id}
func (f *Framework) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", f.serveHealth)
	mux.HandleFunc("POST /v1/runs", f.serveSubmit)
	mux.HandleFunc("GET /v1/runs", f.serveList)
	mux.HandleFunc("GET /v1/runs/{id}", f.serveGet)
	mux.HandleFunc("DELETE /v1/runs/{id}", f.serveKill)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "", fmt.Sprintf("no such endpoint %s %s: see POST /v1/runs, GET /v1/runs, GET|DELETE /v1/runs/<id>, GET /health", r.Method, r.URL.Path))
	})
	if f.cfg.Token == "" {
		return mux
	}
	want := []byte("Bearer " + f.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cairn"`)
			writeError(w, http.StatusUnauthorized, "", "missing or wrong token: pass --token or set CAIRN_TOKEN")
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

func writeError(w http.ResponseWriter, status int, field, msg string) {
	writeJSON(w, status, runapi.Error{Message: msg, Field: field})
}

func (f *Framework) serveHealth(w http.ResponseWriter, _ *http.Request) {
	if err := f.Err(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "stopped", "framework_id": f.ID(), "message": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "framework_id": f.ID()})
}

// stopped answers 503 once the framework no longer schedules.
func (f *Framework) stopped(w http.ResponseWriter) bool {
	err := f.Err()
	if err == nil {
		return false
	}
	writeError(w, http.StatusServiceUnavailable, "", fmt.Sprintf("the run framework stopped (%v): restart it (cairn up does)", err))
	return true
}

// fieldError is a validation error naming a request field.
type fieldError struct {
	field, msg string
}

func (e *fieldError) Error() string { return e.msg }

func invalid(field, format string, args ...any) *fieldError {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

// decodeRequest reads a POST /v1/runs body. Errors are *fieldError (422)
// or plain errors (400).
func decodeRequest(body io.Reader) (runapi.Request, error) {
	var req runapi.Request
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return req, invalid(te.Field, "%s must be %s, not a JSON %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return req, invalid(name, "unknown field %q: use cmd or args, cpus, mem, disk, ports, env, labels, name, id", name)
		case errors.Is(err, io.EOF):
			return req, errors.New(`the body is empty: send a JSON object such as {"cmd": "echo hi"}`)
		}
		return req, fmt.Errorf("the body is not a valid JSON object: %v", err)
	}
	if dec.More() {
		return req, errors.New("the body has data after the JSON object: send one object")
	}
	return req, nil
}

func jsonKind(k string) string {
	switch k {
	case "float64", "int", "int64":
		return "a number"
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "map":
		return "an object"
	}
	return "a " + k
}

// validate checks a request and builds the run (without its ID when none
// was asked for).
func validate(req runapi.Request) (*run, error) {
	switch {
	case req.Cmd != "" && len(req.Args) > 0:
		return nil, invalid("cmd", `give either "cmd" (a shell command) or "args" (a program and its arguments), not both`)
	case req.Cmd == "" && req.Args == nil:
		return nil, invalid("cmd", `"cmd" or "args" is required: the command to run, e.g. {"cmd": "echo hi"} or {"args": ["echo", "hi"]}`)
	case req.Args != nil && len(req.Args) == 0:
		return nil, invalid("args", `"args" is empty: give the program and its arguments, e.g. ["echo", "hi"]`)
	case req.Args == nil && strings.TrimSpace(req.Cmd) == "":
		return nil, invalid("cmd", `"cmd" is blank: give a shell command, e.g. "echo hi"`)
	case strings.ContainsRune(req.Cmd, 0):
		return nil, invalid("cmd", `"cmd" contains a NUL character`)
	}
	for i, a := range req.Args {
		if strings.ContainsRune(a, 0) {
			return nil, invalid(fmt.Sprintf("args[%d]", i), "args[%d] contains a NUL character", i)
		}
	}
	if len(req.Args) > 0 && req.Args[0] == "" {
		return nil, invalid("args[0]", "args[0] is empty: it is the program to run")
	}
	scalar := func(field string, v *float64, def float64, allowZero bool) (resources.Value, error) {
		if v == nil {
			return resources.FromFloat(def), nil
		}
		x := resources.FromFloat(*v)
		if *v < 0 || (!allowZero && x <= 0) {
			more := "more than 0"
			if allowZero {
				more = "0 or more"
			}
			return 0, invalid(field, "%s must be %s (at most 3 decimals), got %v", field, more, *v)
		}
		if *v > 1e12 {
			return 0, invalid(field, "%s %v is too large", field, *v)
		}
		return x, nil
	}
	cpus, err := scalar("cpus", req.CPUs, runapi.DefaultCPUs, false)
	if err != nil {
		return nil, err
	}
	mem, err := scalar("mem", req.Mem, runapi.DefaultMem, false)
	if err != nil {
		return nil, err
	}
	disk, err := scalar("disk", req.Disk, 0, true)
	if err != nil {
		return nil, err
	}
	if req.Ports < 0 || req.Ports > maxPorts {
		return nil, invalid("ports", "ports must be between 0 and %d, got %d", maxPorts, req.Ports)
	}
	for _, k := range sortedKeys(req.Env) {
		field := "env." + k
		switch {
		case k == "":
			return nil, invalid("env", "env has an empty variable name")
		case strings.ContainsAny(k, "=\x00"):
			return nil, invalid(field, "env variable name %q may not contain '=' or NUL", k)
		case strings.ContainsRune(req.Env[k], 0):
			return nil, invalid(field, "env variable %s contains a NUL character", k)
		}
	}
	for k := range req.Labels {
		if k == "" {
			return nil, invalid("labels", "labels has an empty key")
		}
	}
	if len(req.Name) > 200 {
		return nil, invalid("name", "name is longer than 200 characters")
	}
	for _, c := range req.Name {
		if unicode.IsControl(c) {
			return nil, invalid("name", "name contains the control character %q", c)
		}
	}
	if req.ID != "" {
		if err := protocol.ValidateTaskID("id", req.ID); err != nil {
			return nil, invalid("id", "%v", err)
		}
	}
	text := "cpus:" + cpus.String() + ";mem:" + mem.String()
	if disk > 0 {
		text += ";disk:" + disk.String()
	}
	res, err := resources.Parse(text)
	if err != nil {
		return nil, invalid("cpus", "%v", err)
	}
	name := req.Name
	if name == "" {
		name = programName(req)
	}
	r := &run{res: res, req: req}
	r.view = runapi.Run{ID: req.ID, Name: name, Cmd: req.Cmd, Args: req.Args, Resources: res.String()}
	return r, nil
}

// programName is a run's default name: its program's base name.
func programName(req runapi.Request) string {
	prog := ""
	if len(req.Args) > 0 {
		prog = req.Args[0]
	} else if fs := strings.Fields(req.Cmd); len(fs) > 0 {
		prog = fs[0]
	}
	prog = path.Base(prog)
	var b strings.Builder
	for _, c := range prog {
		if c < 128 && (unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_' || c == '-' || c == '.') {
			b.WriteRune(c)
		}
		if b.Len() >= 64 {
			break
		}
	}
	if s := strings.Trim(b.String(), "."); s != "" {
		return s
	}
	return DefaultName
}

func (f *Framework) serveSubmit(w http.ResponseWriter, r *http.Request) {
	if f.stopped(w) {
		return
	}
	req, err := decodeRequest(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeError(w, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("the body is larger than %d bytes", maxBodyBytes))
		return
	}
	var fe *fieldError
	if errors.As(err, &fe) {
		writeError(w, http.StatusUnprocessableEntity, fe.field, fe.msg)
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "", err.Error())
		return
	}
	rn, err := validate(req)
	if errors.As(err, &fe) {
		writeError(w, http.StatusUnprocessableEntity, fe.field, fe.msg)
		return
	}
	if rn.view.ID == "" {
		rn.view.ID = protocol.TaskID("run-" + protocol.NewID())
	}
	now := time.Now()
	rn.view.FrameworkID = f.ID()
	rn.view.Submitted, rn.view.Updated = now, now
	rn.view.State = runapi.StatePending
	rn.view.Message = pendingMessage(rn.res, req.Ports)

	f.mu.Lock()
	if old := f.runs[rn.view.ID]; old != nil && !old.ended {
		f.mu.Unlock()
		writeError(w, http.StatusConflict, "id", fmt.Sprintf("id %s is in use by a run that has not ended (%s): choose another id, or leave it out", rn.view.ID, old.view.State))
		return
	}
	if len(f.pending) >= MaxPending {
		f.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "", fmt.Sprintf("%d runs are already waiting for resources: wait, or kill some (DELETE /v1/runs/<id>)", MaxPending))
		return
	}
	if old := f.runs[rn.view.ID]; old != nil {
		// An ended run of the same id: forget it.
		f.finished = slices.DeleteFunc(f.finished, func(x *run) bool { return x == old })
	}
	f.runs[rn.view.ID] = rn
	f.pending = append(f.pending, rn)
	f.mu.Unlock()
	f.newRuns.Store(true)
	f.wake()
	f.log.Info("run queued", "task", rn.view.ID, "name", rn.view.Name, "resources", rn.view.Resources)

	w.Header().Set("Location", "/v1/runs/"+string(rn.view.ID))
	writeJSON(w, http.StatusCreated, runapi.Submitted{ID: rn.view.ID, FrameworkID: rn.view.FrameworkID})
}

// snapshot copies a run's view (safe to encode without the lock).
func snapshot(r *run) runapi.Run {
	v := r.view
	v.Args = slices.Clone(v.Args)
	v.Ports = slices.Clone(v.Ports)
	if v.ExitCode != nil {
		c := *v.ExitCode
		v.ExitCode = &c
	}
	return v
}

func (f *Framework) serveList(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	out := make([]runapi.Run, 0, len(f.runs))
	for _, r := range f.runs {
		out = append(out, snapshot(r))
	}
	f.mu.Unlock()
	slices.SortFunc(out, func(a, b runapi.Run) int {
		ta, tb := cmp.Or(a.Submitted, a.Updated), cmp.Or(b.Submitted, b.Updated)
		return cmp.Or(ta.Compare(tb), cmp.Compare(a.ID, b.ID))
	})
	writeJSON(w, http.StatusOK, out)
}

func notFound(w http.ResponseWriter, id string) {
	writeError(w, http.StatusNotFound, "", fmt.Sprintf("run %s is unknown to the run framework (it remembers the last %d ended runs; see GET /v1/runs)", id, MaxFinished))
}

func (f *Framework) serveGet(w http.ResponseWriter, r *http.Request) {
	id := protocol.TaskID(r.PathValue("id"))
	f.mu.Lock()
	rn := f.runs[id]
	var v runapi.Run
	if rn != nil {
		v = snapshot(rn)
	}
	f.mu.Unlock()
	if rn == nil {
		notFound(w, string(id))
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// serveKill is DELETE /v1/runs/{id}: a queued run ends at once; a launched
// one is killed through the master (its state follows from the updates).
func (f *Framework) serveKill(w http.ResponseWriter, r *http.Request) {
	if f.stopped(w) {
		return
	}
	id := protocol.TaskID(r.PathValue("id"))
	now := time.Now()
	f.mu.Lock()
	rn := f.runs[id]
	switch {
	case rn == nil:
		f.mu.Unlock()
		notFound(w, string(id))
		return
	case rn.ended:
		st := rn.view.State
		f.mu.Unlock()
		writeError(w, http.StatusConflict, "", fmt.Sprintf("run %s already ended (%s)", id, st))
		return
	case rn.view.State == runapi.StatePending && !rn.launching:
		f.pending = slices.DeleteFunc(f.pending, func(x *run) bool { return x == rn })
		f.endLocked(rn, protocol.TaskKilled, "killed before it was launched", nil, now)
		v := snapshot(rn)
		f.mu.Unlock()
		f.wake()
		f.log.Info("queued run killed", "task", id)
		writeJSON(w, http.StatusAccepted, v)
		return
	case rn.launching:
		// The loop kills it once the launch is confirmed.
		rn.killAsked = true
		v := snapshot(rn)
		f.mu.Unlock()
		writeJSON(w, http.StatusAccepted, v)
		return
	}
	rn.killAsked = true
	unconfirmed := rn.unconfirmed
	f.mu.Unlock()
	if err := f.killTask(r.Context(), rn); err != nil {
		var perr *protocol.Error
		notFound := errors.As(err, &perr) && perr.Code == protocol.ErrNotFound
		switch {
		case notFound && unconfirmed:
			// Its launch never happened: the master's TASK_UNKNOWN ends it.
		case notFound:
			writeError(w, http.StatusNotFound, "", perr.Message)
			return
		default:
			writeError(w, http.StatusBadGateway, "", "the master did not take the kill: "+err.Error())
			return
		}
	}
	f.log.Info("run killed", "task", id)
	f.mu.Lock()
	v := snapshot(rn)
	f.mu.Unlock()
	writeJSON(w, http.StatusAccepted, v)
}

// Stats counts what the framework did (for tests and debugging).
type Stats struct {
	Offers, Declined, Launched int64
	Suppressions, Revivals     int64
	Pending, Runs              int
}

// Stats returns the framework's counters.
func (f *Framework) Stats() Stats {
	f.mu.Lock()
	pending, runs := len(f.pending), len(f.runs)
	f.mu.Unlock()
	return Stats{
		Offers: f.stats.offers.Load(), Declined: f.stats.declined.Load(), Launched: f.stats.launched.Load(),
		Suppressions: f.stats.suppress.Load(), Revivals: f.stats.revive.Load(),
		Pending: pending, Runs: runs,
	}
}
