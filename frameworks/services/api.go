package services

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-dc/cairn/frameworks/services/marathon"
)

// The Marathon v2 REST API.
func (f *Framework) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "pong\n") })
	mux.HandleFunc("GET /v2/info", f.serveInfo)
	mux.HandleFunc("GET /v2/leader", f.serveLeader)
	mux.HandleFunc("GET /v2/apps", f.serveApps)
	mux.HandleFunc("POST /v2/apps", f.serveCreate)
	mux.HandleFunc("GET /v2/apps/{id...}", f.serveAppGet)
	mux.HandleFunc("PUT /v2/apps/{id...}", f.serveAppPut)
	mux.HandleFunc("PATCH /v2/apps/{id...}", f.serveAppPut)
	mux.HandleFunc("DELETE /v2/apps/{id...}", f.serveAppDelete)
	mux.HandleFunc("POST /v2/apps/{id...}", f.serveAppPost) // .../restart
	mux.HandleFunc("GET /v2/tasks", f.serveTasks)
	mux.HandleFunc("POST /v2/tasks/delete", f.serveTasksDelete)
	mux.HandleFunc("GET /v2/deployments", f.serveDeployments)
	mux.HandleFunc("DELETE /v2/deployments/{id}", f.serveDeploymentDelete)
	mux.HandleFunc("GET /v2/groups", f.serveGroups)
	mux.HandleFunc("GET /v2/groups/{id...}", f.serveGroups)
	mux.HandleFunc("DELETE /v2/groups/{id...}", f.serveGroupDelete)
	mux.HandleFunc("GET /v2/queue", f.serveQueue)
	mux.HandleFunc("GET /v2/events", f.serveEvents)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeMessage(w, http.StatusNotFound, fmt.Sprintf("no such endpoint %s %s (Cairn's services framework speaks Marathon's /v2 API)", r.Method, r.URL.Path))
	})
	if f.cfg.Token == "" {
		return mux
	}
	want := []byte("Bearer " + f.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ping" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			writeMessage(w, http.StatusUnauthorized, "missing or wrong token: pass --token or set CAIRN_TOKEN")
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

func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

// query runs fn on the loop and returns its result at once.
func query[T any](ctx context.Context, f *Framework, fn func() T) (T, error) {
	res := make(chan T, 1)
	var zero T
	if !f.push(ctx, func() { res <- fn() }) {
		return zero, errors.New("the services framework is stopping")
	}
	select {
	case v := <-res:
		return v, nil
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// change runs op on the loop and answers once its effects are stored.
func change[T any](ctx context.Context, f *Framework, op func(now time.Time) (T, error)) (T, error) {
	type out struct {
		v   T
		err error
	}
	res := make(chan out, 1)
	var zero T
	if !f.push(ctx, func() {
		v, err := op(time.Now())
		f.later(func() { res <- out{v, err} })
	}) {
		return zero, errors.New("the services framework is stopping")
	}
	select {
	case o := <-res:
		return o.v, o.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// fail answers an operation's error as Marathon does.
func fail(w http.ResponseWriter, err error) {
	var le *LockedError
	var ve *marathon.ValidationError
	switch {
	case errors.As(err, &le):
		deps := []map[string]string{}
		for _, d := range le.Deployments {
			deps = append(deps, map[string]string{"id": d})
		}
		writeJSON(w, http.StatusConflict, map[string]any{"message": le.Error(), "deployments": deps})
	case errors.As(err, &ve):
		writeJSON(w, http.StatusUnprocessableEntity, ve)
	case errors.Is(err, ErrNotFound):
		writeMessage(w, http.StatusNotFound, strings.TrimSuffix(err.Error(), ": "+ErrNotFound.Error()))
	case errors.Is(err, ErrExists):
		writeMessage(w, http.StatusConflict, strings.TrimSuffix(err.Error(), ": "+ErrExists.Error()))
	default:
		writeMessage(w, http.StatusServiceUnavailable, err.Error())
	}
}

func boolParam(r *http.Request, name string, def bool) bool {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	return err == nil && b || err != nil && def
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "cannot read the request body: "+err.Error())
		return nil, false
	}
	return body, true
}

// parseSpec decodes, normalises and validates an app definition.
func parseSpec(body []byte, id string) (marathon.App, []string, error) {
	spec, warnings, err := marathon.ParseApp(body)
	if err != nil {
		return spec, warnings, err
	}
	if id != "" {
		if spec.ID != "" {
			cid, err := marathon.CanonicalID(spec.ID)
			if err == nil && cid != id {
				return spec, warnings, &marathon.ValidationError{Message: "Object is not valid",
					Details: []marathon.Detail{{Path: "/id", Errors: []string{fmt.Sprintf("the id %s in the body differs from the id %s in the path", cid, id)}}}}
			}
		}
		spec.ID = id
	}
	spec.Normalize()
	if verr := spec.Validate(); verr != nil {
		return spec, warnings, verr
	}
	return spec, warnings, nil
}

func (f *Framework) logWarnings(id string, warnings []string) {
	for _, w := range warnings {
		f.log.Warn("app definition field ignored", "app", id, "warning", w)
	}
}

func (f *Framework) serveCreate(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	spec, warnings, err := parseSpec(body, "")
	if err != nil {
		fail(w, err)
		return
	}
	f.logWarnings(spec.ID, warnings)
	type created struct {
		res    Result
		status marathon.AppStatus
	}
	c, err := change(r.Context(), f, func(now time.Time) (created, error) {
		res, err := f.createApp(spec, now)
		if err != nil {
			return created{}, err
		}
		f.emit("api_post_event", map[string]any{"clientIp": r.RemoteAddr, "uri": r.URL.Path, "appDefinition": f.apps[spec.ID].spec})
		return created{res, f.appStatus(f.apps[spec.ID], embed{counts: true, deployments: true, tasks: true})}, nil
	})
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Location", "/v2/apps"+spec.ID)
	w.Header().Set("Marathon-Deployment-Id", c.res.DeploymentID)
	out := map[string]any{}
	raw, _ := json.Marshal(c.status)
	_ = json.Unmarshal(raw, &out)
	if len(warnings) > 0 {
		out["warnings"] = warnings
	}
	writeJSON(w, http.StatusCreated, out)
}

func (f *Framework) serveApps(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	e := parseEmbed(q["embed"], false)
	idPrefix, cmdSub, label := q.Get("id"), q.Get("cmd"), q.Get("label")
	apps, err := query(r.Context(), f, func() []marathon.AppStatus {
		out := []marathon.AppStatus{}
		for _, a := range f.sortedApps() {
			if idPrefix != "" && !strings.Contains(a.spec.ID, idPrefix) {
				continue
			}
			if cmdSub != "" && (a.spec.Cmd == nil || !strings.Contains(*a.spec.Cmd, cmdSub)) {
				continue
			}
			if label != "" && !labelMatches(a.spec.Labels, label) {
				continue
			}
			out = append(out, f.appStatus(a, e))
		}
		return out
	})
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"apps": apps})
}

// labelMatches implements Marathon's label selector: "k", "k==v", "k!=v",
// "k in (a,b)", "k notin (a,b)", several separated by commas.
func labelMatches(labels map[string]string, sel string) bool {
	for _, term := range splitSelector(sel) {
		term = strings.TrimSpace(term)
		switch {
		case strings.Contains(term, "!="):
			k, v, _ := strings.Cut(term, "!=")
			if labels[strings.TrimSpace(k)] == strings.TrimSpace(v) {
				return false
			}
		case strings.Contains(term, "=="):
			k, v, _ := strings.Cut(term, "==")
			if got, ok := labels[strings.TrimSpace(k)]; !ok || got != strings.TrimSpace(v) {
				return false
			}
		case strings.Contains(term, " notin "), strings.Contains(term, " in "):
			neg := strings.Contains(term, " notin ")
			sep := " in "
			if neg {
				sep = " notin "
			}
			k, set, _ := strings.Cut(term, sep)
			set = strings.Trim(strings.TrimSpace(set), "()")
			got, ok := labels[strings.TrimSpace(k)]
			in := false
			for _, v := range strings.Split(set, ",") {
				in = in || ok && got == strings.TrimSpace(v)
			}
			if in == neg {
				return false
			}
		default:
			if _, ok := labels[term]; !ok {
				return false
			}
		}
	}
	return true
}

// splitSelector splits on commas outside parentheses.
func splitSelector(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// appPath splits /v2/apps/{id...} into the app id and a trailing verb
// ("tasks", "tasks/<id>", "versions", "versions/<v>", "restart").
func appPath(raw string) (id, verb, arg string) {
	raw = strings.Trim(raw, "/")
	parts := strings.Split(raw, "/")
	for k := len(parts) - 1; k >= 0; k-- {
		switch parts[k] {
		case "tasks", "versions", "restart":
			if k > 0 {
				return "/" + strings.Join(parts[:k], "/"), parts[k], strings.Join(parts[k+1:], "/")
			}
		}
	}
	return "/" + raw, "", ""
}

func (f *Framework) serveAppGet(w http.ResponseWriter, r *http.Request) {
	id, verb, arg := appPath(r.PathValue("id"))
	switch verb {
	case "":
		e := parseEmbed(r.URL.Query()["embed"], true)
		st, err := query(r.Context(), f, func() *marathon.AppStatus {
			if a := f.apps[id]; a != nil && !a.deleting {
				s := f.appStatus(a, e)
				return &s
			}
			return nil
		})
		if err != nil {
			fail(w, err)
		} else if st == nil {
			writeMessage(w, http.StatusNotFound, fmt.Sprintf("App '%s' does not exist", id))
		} else {
			writeJSON(w, http.StatusOK, map[string]any{"app": st})
		}
	case "tasks":
		tasks, err := query(r.Context(), f, func() []marathon.Task {
			a := f.apps[id]
			if a == nil || a.deleting {
				return nil
			}
			out := []marathon.Task{}
			for _, i := range a.sortedInstances() {
				if !i.State.Terminal() {
					out = append(out, f.taskView(a, i))
				}
			}
			return out
		})
		if err != nil {
			fail(w, err)
		} else if tasks == nil {
			writeMessage(w, http.StatusNotFound, fmt.Sprintf("App '%s' does not exist", id))
		} else {
			writeJSON(w, http.StatusOK, map[string]any{"tasks": tasks})
		}
	case "versions":
		if arg == "" {
			vs, err := query(r.Context(), f, func() []string {
				if _, ok := f.apps[id]; !ok {
					return nil
				}
				out := append([]string{}, f.versions[id]...)
				for l, k := 0, len(out)-1; l < k; l, k = l+1, k-1 {
					out[l], out[k] = out[k], out[l]
				}
				return out
			})
			if err != nil {
				fail(w, err)
			} else if vs == nil {
				writeMessage(w, http.StatusNotFound, fmt.Sprintf("App '%s' does not exist", id))
			} else {
				writeJSON(w, http.StatusOK, map[string]any{"versions": vs})
			}
			return
		}
		val, err := f.st.Get(r.Context(), versionKey(id, arg))
		if err != nil {
			writeMessage(w, http.StatusNotFound, fmt.Sprintf("App '%s' has no version %s", id, arg))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(val)
	default:
		writeMessage(w, http.StatusNotFound, "no such endpoint")
	}
}

func (f *Framework) serveAppPut(w http.ResponseWriter, r *http.Request) {
	id, verb, _ := appPath(r.PathValue("id"))
	if verb != "" {
		writeMessage(w, http.StatusMethodNotAllowed, "no such endpoint")
		return
	}
	cid, err := marathon.CanonicalID(id)
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, marathon.ValidationError{Message: "Object is not valid",
			Details: []marathon.Detail{{Path: "/id", Errors: []string{err.Error()}}}})
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	force := boolParam(r, "force", false)
	partial := r.Method == http.MethodPatch || boolParam(r, "partialUpdate", true)
	var upd marathon.AppUpdate
	var full marathon.App
	var warnings []string
	if partial {
		upd, warnings, err = marathon.ParseAppUpdate(body)
	} else {
		full, warnings, err = parseSpec(body, cid)
	}
	if err != nil {
		fail(w, err)
		return
	}
	f.logWarnings(cid, warnings)
	res, err := change(r.Context(), f, func(now time.Time) (Result, error) {
		spec := full
		if partial {
			base := marathon.App{ID: cid}
			if a := f.apps[cid]; a != nil && !a.deleting {
				base = a.spec
			}
			spec = upd.Apply(base)
			spec.ID = cid
			spec.Version, spec.VersionInfo = "", nil
			spec.Normalize()
			if verr := spec.Validate(); verr != nil {
				return Result{}, verr
			}
		}
		return f.updateApp(spec, force, now)
	})
	if err != nil {
		fail(w, err)
		return
	}
	out := map[string]any{"deploymentId": res.DeploymentID, "version": res.Version}
	if len(warnings) > 0 {
		out["warnings"] = warnings
	}
	w.Header().Set("Marathon-Deployment-Id", res.DeploymentID)
	writeJSON(w, http.StatusOK, out)
}

func (f *Framework) serveAppDelete(w http.ResponseWriter, r *http.Request) {
	id, verb, arg := appPath(r.PathValue("id"))
	force := boolParam(r, "force", false)
	switch verb {
	case "":
		res, err := change(r.Context(), f, func(now time.Time) (Result, error) { return f.deleteApp(id, force, now) })
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	case "tasks":
		scale, wipe, host := boolParam(r, "scale", false), boolParam(r, "wipe", false), r.URL.Query().Get("host")
		type killed struct {
			tasks []marathon.Task
			res   *Result
		}
		k, err := change(r.Context(), f, func(now time.Time) (killed, error) {
			a := f.apps[id]
			if a == nil || a.deleting {
				return killed{}, fmt.Errorf("App '%s' does not exist: %w", id, ErrNotFound)
			}
			var ids []string
			for _, i := range a.sortedInstances() {
				if i.State.Terminal() || (arg != "" && i.TaskID != arg) || (host != "" && i.Host != host && i.Hostname != host) {
					continue
				}
				ids = append(ids, i.TaskID)
			}
			if arg != "" && len(ids) == 0 {
				return killed{}, fmt.Errorf("Task '%s' does not exist: %w", arg, ErrNotFound)
			}
			tasks, res, err := f.killTasks(r.Context(), ids, scale, wipe, now)
			return killed{tasks, res}, err
		})
		switch {
		case err != nil:
			fail(w, err)
		case k.res != nil:
			writeJSON(w, http.StatusOK, k.res)
		case arg != "" && len(k.tasks) == 1:
			writeJSON(w, http.StatusOK, map[string]any{"task": k.tasks[0]})
		default:
			if k.tasks == nil {
				k.tasks = []marathon.Task{}
			}
			writeJSON(w, http.StatusOK, map[string]any{"tasks": k.tasks})
		}
	default:
		writeMessage(w, http.StatusNotFound, "no such endpoint")
	}
}

func (f *Framework) serveAppPost(w http.ResponseWriter, r *http.Request) {
	id, verb, _ := appPath(r.PathValue("id"))
	if verb != "restart" {
		writeMessage(w, http.StatusNotFound, "no such endpoint: POST /v2/apps/<id>/restart restarts an app")
		return
	}
	force := boolParam(r, "force", false)
	res, err := change(r.Context(), f, func(now time.Time) (Result, error) { return f.restartApp(id, force, now) })
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (f *Framework) serveTasks(w http.ResponseWriter, r *http.Request) {
	status := strings.ToLower(r.URL.Query().Get("status"))
	tasks, err := query(r.Context(), f, func() []marathon.Task {
		out := []marathon.Task{}
		for _, a := range f.sortedApps() {
			for _, i := range a.sortedInstances() {
				if i.State.Terminal() {
					continue
				}
				switch status {
				case "running":
					if i.State != "TASK_RUNNING" {
						continue
					}
				case "staging":
					if i.State != "TASK_STAGING" && i.State != "TASK_STARTING" {
						continue
					}
				}
				out = append(out, f.taskView(a, i))
			}
		}
		return out
	})
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": tasks})
}

func (f *Framework) serveTasksDelete(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var req struct {
		IDs []string `json:"ids"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, marathon.ValidationError{Message: "Invalid JSON",
			Details: []marathon.Detail{{Path: "/ids", Errors: []string{"expected {\"ids\": [\"<task id>\", ...]}: " + err.Error()}}}})
		return
	}
	scale, wipe := boolParam(r, "scale", false), boolParam(r, "wipe", false)
	type killed struct {
		tasks []marathon.Task
		res   *Result
	}
	k, err := change(r.Context(), f, func(now time.Time) (killed, error) {
		tasks, res, err := f.killTasks(r.Context(), req.IDs, scale, wipe, now)
		return killed{tasks, res}, err
	})
	switch {
	case err != nil:
		fail(w, err)
	case k.res != nil:
		writeJSON(w, http.StatusOK, k.res)
	default:
		if k.tasks == nil {
			k.tasks = []marathon.Task{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"tasks": k.tasks})
	}
}

func (f *Framework) serveDeployments(w http.ResponseWriter, r *http.Request) {
	deps, err := query(r.Context(), f, f.deployments)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, deps)
}

func (f *Framework) serveDeploymentDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	force := boolParam(r, "force", false)
	res, err := change(r.Context(), f, func(now time.Time) (*Result, error) { return f.rollback(id, force, now) })
	switch {
	case err != nil:
		fail(w, err)
	case res == nil:
		w.WriteHeader(http.StatusAccepted)
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

func (f *Framework) serveGroups(w http.ResponseWriter, r *http.Request) {
	root := "/" + strings.Trim(r.PathValue("id"), "/")
	g, err := query(r.Context(), f, func() map[string]any { return f.groups(root) })
	if err != nil {
		fail(w, err)
	} else if g == nil {
		writeMessage(w, http.StatusNotFound, fmt.Sprintf("Group '%s' does not exist", root))
	} else {
		writeJSON(w, http.StatusOK, g)
	}
}

// serveGroupDelete deletes every app under a group; apps stop after the
// apps that depend on them.
func (f *Framework) serveGroupDelete(w http.ResponseWriter, r *http.Request) {
	root := "/" + strings.Trim(r.PathValue("id"), "/")
	force := boolParam(r, "force", false)
	res, err := change(r.Context(), f, func(now time.Time) (Result, error) {
		var ids []string
		for id, a := range f.apps {
			if !a.deleting && (root == "/" || id == root || strings.HasPrefix(id, root+"/")) {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return Result{}, fmt.Errorf("Group '%s' does not exist: %w", root, ErrNotFound)
		}
		for _, id := range ids {
			if err := f.locked(f.apps[id], force); err != nil {
				return Result{}, err
			}
		}
		var last Result
		for _, id := range ids {
			r, err := f.deleteApp(id, force, now)
			if err != nil {
				return Result{}, err
			}
			last = r
		}
		return last, nil
	})
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (f *Framework) serveQueue(w http.ResponseWriter, r *http.Request) {
	q, err := query(r.Context(), f, func() []map[string]any { return f.queue(time.Now()) })
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"queue": q})
}

func (f *Framework) serveInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"name": "cairn-services", "version": "1.10.0-cairn", "frameworkId": f.sched.ID(), "leader": f.url, "elected": true,
		"buildref": "cairn", "marathon_config": map[string]any{"framework_name": f.cfg.Name, "mesos_role": f.cfg.Role,
			"task_launch_timeout": f.cfg.StagingTimeout.Milliseconds()},
		"http_config":      map[string]any{"http_port": strings.TrimPrefix(f.url[strings.LastIndex(f.url, ":"):], ":")},
		"event_subscriber": map[string]any{"type": "sse"},
	})
}

func (f *Framework) serveLeader(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"leader": strings.TrimPrefix(f.url, "http://")})
}

// serveEvents streams Marathon events (SSE), optionally filtered with
// ?event_type=a&event_type=b.
func (f *Framework) serveEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeMessage(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	types := map[string]bool{}
	for _, t := range r.URL.Query()["event_type"] {
		types[t] = true
	}
	ch := make(chan marathon.Event, 4096)
	if _, err := query(r.Context(), f, func() bool { f.subscribers[ch] = struct{}{}; return true }); err != nil {
		fail(w, err)
		return
	}
	defer f.push(context.Background(), func() { delete(f.subscribers, ch) })
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "event: event_stream_attached\ndata: {\"remoteAddress\":%q,\"eventType\":\"event_stream_attached\",\"timestamp\":%q}\n\n",
		r.RemoteAddr, marathon.Timestamp(time.Now()))
	fl.Flush()
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-f.Done():
			return
		case <-keep.C:
			_, _ = io.WriteString(w, ":\n\n")
			fl.Flush()
		case ev := <-ch:
			if len(types) > 0 && !types[ev.Type] {
				continue
			}
			data, _ := json.Marshal(ev.Body)
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Type, data)
			fl.Flush()
		}
	}
}
