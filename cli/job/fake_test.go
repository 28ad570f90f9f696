package job

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// testNow is the tests' current time.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeCron is a master with the cron framework behind /service/cron/,
// serving its API from memory.
type fakeCron struct {
	*httptest.Server
	t *testing.T

	mu sync.Mutex
	// noCron: no cron framework is connected (the master's 404).
	noCron bool
	jobs   map[string]*fakeJob
	// requests are "METHOD path?query" of the cron API, in order.
	requests []string
	// script is the statuses a started run goes through, one per GET of
	// the run (default: SUCCESS at once); a FAILED run gets failMessage
	// and exit code 3.
	script      []string
	failMessage string
	// override answers "METHOD path" with a status and a body.
	override map[string]fakeAnswer
	runs     int
}

type fakeAnswer struct {
	status int
	body   any
}

type fakeJob struct {
	spec   cronapi.Job // without schedules' next runs and read-only fields
	active []cronapi.Run
	hist   cronapi.History
	// steps are the statuses left for each active run.
	steps map[string][]string
}

func newFakeCron(t *testing.T) *fakeCron {
	t.Helper()
	m := &fakeCron{t: t, jobs: map[string]*fakeJob{}, override: map[string]fakeAnswer{}}
	api := m.cronAPI()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/frameworks", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		fws := []protocol.Framework{{ID: "01JB8X5Q2M3N4P5R6S7T8V9W0S", Name: "services", Connected: true, WebuiURL: "http://10.0.0.1:8080"}}
		if !m.noCron {
			fws = append(fws, protocol.Framework{ID: "01JB8X5Q2M3N4P5R6S7T8V9W0C", Name: "cron", Connected: true, WebuiURL: "http://10.0.0.1:8081"})
		}
		writeJSON(w, 200, fws)
	})
	mux.HandleFunc("/service/cron/", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.noCron {
			writeJSON(w, 404, map[string]string{"message": `no framework named "cron" with an HTTP API is subscribed`})
			return
		}
		path := strings.TrimPrefix(r.URL.Path, "/service/cron")
		req := r.Method + " " + path
		if r.URL.RawQuery != "" {
			req += "?" + r.URL.RawQuery
		}
		m.requests = append(m.requests, req)
		if a, ok := m.override[r.Method+" "+path]; ok {
			writeJSON(w, a.status, a.body)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = path
		api.ServeHTTP(w, r2)
	})
	m.Server = httptest.NewServer(mux)
	t.Cleanup(m.Close)
	return m
}

// Requests are the cron API requests so far.
func (m *fakeCron) Requests() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.requests)
}

// put stores a job as it is, with history and active runs.
func (m *fakeCron) put(spec cronapi.Job, hist cronapi.History, active ...cronapi.Run) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.jobs[spec.ID] = &fakeJob{spec: spec, hist: hist, active: active, steps: map[string][]string{}}
}

// job is a stored job's definition.
func (m *fakeCron) job(id string) (cronapi.Job, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return cronapi.Job{}, false
	}
	return j.spec, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func cronError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, cronapi.Error{Message: fmt.Sprintf(format, args...)})
}

// details collects 422 details.
type details []cronapi.ErrorDetail

func (d *details) add(path, msg string) {
	for i := range *d {
		if (*d)[i].Path == path {
			(*d)[i].Errors = append((*d)[i].Errors, msg)
			return
		}
	}
	*d = append(*d, cronapi.ErrorDetail{Path: path, Errors: []string{msg}})
}

func (d details) reply(w http.ResponseWriter) bool {
	if len(d) == 0 {
		return false
	}
	writeJSON(w, 422, cronapi.Error{Message: "Object is not valid", Details: d})
	return true
}

// decode reads a body strictly, as the framework does.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	data, _ := io.ReadAll(r.Body)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, 422, cronapi.Error{Message: "Object is not valid", Details: []cronapi.ErrorDetail{{Path: "/", Errors: []string{err.Error()}}}})
		return false
	}
	return true
}

var fakeIDRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// checkSchedule validates a schedule under path.
func checkSchedule(d *details, path string, s cronapi.Schedule) {
	if s.ID == "" {
		d.add(path+"/id", "a schedule id is required")
	}
	switch {
	case s.Cron == "" && s.Interval == "":
		d.add(path, "give a cron expression or an interval")
	case s.Cron != "" && len(strings.Fields(s.Cron)) != 5 && !strings.HasPrefix(s.Cron, "@"):
		d.add(path+"/cron", fmt.Sprintf("%q is not a 5-field cron expression", s.Cron))
	case s.Interval != "" && !strings.HasPrefix(s.Interval, "R"):
		d.add(path+"/interval", fmt.Sprintf("%q is not an ISO 8601 repeating interval (R[n]/start/period)", s.Interval))
	}
	switch s.ConcurrencyPolicy {
	case "", cronapi.ConcurrencyAllow, cronapi.ConcurrencyForbid, cronapi.ConcurrencyReplace:
	default:
		d.add(path+"/concurrencyPolicy", "use ALLOW, FORBID or REPLACE")
	}
}

// checkJob validates a job and fills its defaults (m.mu is held).
func (m *fakeCron) checkJob(j *cronapi.Job) details {
	var d details
	if !fakeIDRe.MatchString(j.ID) {
		d.add("/id", fmt.Sprintf("%q is not a valid job id", j.ID))
	}
	if j.Run.Cmd == "" && len(j.Run.Args) == 0 {
		d.add("/run", "give cmd or args")
	}
	if j.Run.CPUs < 0 {
		d.add("/run/cpus", "must be more than 0")
	}
	if j.Run.Mem != 0 && j.Run.Mem < 8 {
		d.add("/run/mem", "must be at least 8 (MiB)")
	}
	if j.Run.CPUs == 0 {
		j.Run.CPUs = 1
	}
	if j.Run.Mem == 0 {
		j.Run.Mem = 128
	}
	for i, s := range j.Schedules {
		checkSchedule(&d, fmt.Sprintf("/schedules/%d", i), s)
	}
	if len(j.Parents) > 0 && len(j.Schedules) > 0 {
		d.add("/parents", "a job with parents runs after them: it cannot also have schedules")
	}
	for i, p := range j.Parents {
		if _, ok := m.jobs[p]; !ok {
			d.add(fmt.Sprintf("/parents/%d", i), fmt.Sprintf("job %s does not exist", p))
		}
	}
	return d
}

// view is a job as the API shows it (m.mu is held).
func (m *fakeCron) view(j *fakeJob, embed string) cronapi.Job {
	v := j.spec
	v.Schedules = nil
	embeds := strings.Split(embed, ",")
	if slices.Contains(embeds, cronapi.EmbedSchedules) {
		v.Schedules = schedulesOf(j.spec)
	}
	if slices.Contains(embeds, cronapi.EmbedActiveRuns) {
		v.ActiveRuns = slices.Clone(j.active)
	}
	if slices.Contains(embeds, cronapi.EmbedHistorySummary) {
		s := j.hist.HistorySummary
		v.HistorySummary = &s
	}
	if slices.Contains(embeds, cronapi.EmbedHistory) {
		h := j.hist
		v.History = &h
	}
	return v
}

// schedulesOf are a job's schedules with their next runs: a minute from
// now for the first, two for the second ...
func schedulesOf(spec cronapi.Job) []cronapi.Schedule {
	var out []cronapi.Schedule
	for i, s := range spec.Schedules {
		if s.IsEnabled() {
			next := testNow.Add(time.Duration(i+1) * time.Minute)
			s.NextRunAt = &next
		}
		out = append(out, s)
	}
	return out
}

func (m *fakeCron) children(id string) []string {
	var out []string
	for cid, j := range m.jobs {
		if slices.Contains(j.spec.Parents, id) {
			out = append(out, cid)
		}
	}
	slices.Sort(out)
	return out
}

// finish moves an active run into the history (m.mu is held).
func (j *fakeJob) finish(i int) {
	r := j.active[i]
	j.active = slices.Delete(j.active, i, i+1)
	done := testNow.Add(42 * time.Second)
	r.CompletedAt = &done
	fr := cronapi.FinishedRun{ID: r.ID, Trigger: r.Trigger, CreatedAt: r.CreatedAt, FinishedAt: done, Message: r.Message}
	if tk, ok := lastTask(r); ok {
		fr.ExitCode = tk.ExitCode
		fr.Tasks = []string{tk.ID}
	}
	if r.Status == cronapi.RunSuccess {
		j.hist.SuccessCount++
		j.hist.LastSuccessAt = &done
		j.hist.SuccessfulFinishedRuns = append([]cronapi.FinishedRun{fr}, j.hist.SuccessfulFinishedRuns...)
	} else {
		j.hist.FailureCount++
		j.hist.LastFailureAt = &done
		j.hist.FailedFinishedRuns = append([]cronapi.FinishedRun{fr}, j.hist.FailedFinishedRuns...)
	}
}

// finished is a run of the history as a Run.
func (j *fakeJob) finished(rid string) (cronapi.Run, bool) {
	for _, l := range []struct {
		runs   []cronapi.FinishedRun
		status string
	}{{j.hist.SuccessfulFinishedRuns, cronapi.RunSuccess}, {j.hist.FailedFinishedRuns, cronapi.RunFailed}} {
		for _, fr := range l.runs {
			if fr.ID == rid {
				done := fr.FinishedAt
				run := cronapi.Run{ID: fr.ID, JobID: j.spec.ID, Status: l.status, Trigger: fr.Trigger, CreatedAt: fr.CreatedAt,
					CompletedAt: &done, Message: fr.Message, Tasks: []cronapi.RunTask{}}
				for _, t := range fr.Tasks {
					run.Tasks = append(run.Tasks, cronapi.RunTask{ID: t, ExitCode: fr.ExitCode})
				}
				return run, true
			}
		}
	}
	return cronapi.Run{}, false
}

func (j *fakeJob) activeIndex(rid string) int {
	return slices.IndexFunc(j.active, func(r cronapi.Run) bool { return r.ID == rid })
}

func intp(i int) *int { return &i }

// cronAPI serves the cron framework's API; m.mu is held by the caller.
func (m *fakeCron) cronAPI() http.Handler {
	mux := http.NewServeMux()
	lookup := func(w http.ResponseWriter, r *http.Request) *fakeJob {
		id := r.PathValue("id")
		j, ok := m.jobs[id]
		if !ok {
			cronError(w, 404, "Job '%s' does not exist", id)
			return nil
		}
		return j
	}
	mux.HandleFunc("GET /v1/jobs", func(w http.ResponseWriter, r *http.Request) {
		out := []cronapi.Job{}
		for _, j := range m.jobs { // unsorted: the CLI sorts
			out = append(out, m.view(j, r.URL.Query().Get("embed")))
		}
		writeJSON(w, 200, out)
	})
	mux.HandleFunc("POST /v1/jobs", func(w http.ResponseWriter, r *http.Request) {
		var spec cronapi.Job
		if !decode(w, r, &spec) {
			return
		}
		if m.checkJob(&spec).reply(w) {
			return
		}
		if _, ok := m.jobs[spec.ID]; ok {
			cronError(w, 409, "Job with id '%s' already exists", spec.ID)
			return
		}
		j := &fakeJob{spec: spec, steps: map[string][]string{}}
		m.jobs[spec.ID] = j
		writeJSON(w, 201, m.view(j, cronapi.EmbedSchedules))
	})
	mux.HandleFunc("GET /v1/jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		if j := lookup(w, r); j != nil {
			writeJSON(w, 200, m.view(j, r.URL.Query().Get("embed")))
		}
	})
	mux.HandleFunc("PUT /v1/jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		j := lookup(w, r)
		if j == nil {
			return
		}
		var spec cronapi.Job
		if !decode(w, r, &spec) {
			return
		}
		if spec.Schedules == nil {
			spec.Schedules = j.spec.Schedules
		}
		if m.checkJob(&spec).reply(w) {
			return
		}
		j.spec = spec
		writeJSON(w, 200, m.view(j, cronapi.EmbedSchedules))
	})
	mux.HandleFunc("DELETE /v1/jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		j := lookup(w, r)
		if j == nil {
			return
		}
		if cs := m.children(j.spec.ID); len(cs) > 0 {
			cronError(w, 409, "jobs %s depend on %s: remove them, or their dependency on it, first", strings.Join(cs, ", "), j.spec.ID)
			return
		}
		if len(j.active) > 0 && r.URL.Query().Get("stopCurrentJobRuns") != "true" {
			cronError(w, 409, "job %s has %d active runs: stop them first, or pass stopCurrentJobRuns=true", j.spec.ID, len(j.active))
			return
		}
		delete(m.jobs, j.spec.ID)
		writeJSON(w, 200, m.view(j, cronapi.EmbedSchedules))
	})
	mux.HandleFunc("GET /v1/jobs/{id}/schedules", func(w http.ResponseWriter, r *http.Request) {
		if j := lookup(w, r); j != nil {
			writeJSON(w, 200, append([]cronapi.Schedule{}, schedulesOf(j.spec)...))
		}
	})
	mux.HandleFunc("POST /v1/jobs/{id}/schedules", func(w http.ResponseWriter, r *http.Request) {
		j := lookup(w, r)
		if j == nil {
			return
		}
		var s cronapi.Schedule
		if !decode(w, r, &s) {
			return
		}
		var d details
		checkSchedule(&d, "", s)
		if len(j.spec.Parents) > 0 {
			d.add("/", "job "+j.spec.ID+" runs after its parents: it cannot also have schedules")
		}
		if d.reply(w) {
			return
		}
		if slices.ContainsFunc(j.spec.Schedules, func(o cronapi.Schedule) bool { return o.ID == s.ID }) {
			cronError(w, 409, "job %s already has a schedule %q", j.spec.ID, s.ID)
			return
		}
		j.spec.Schedules = append(j.spec.Schedules, s)
		ss := schedulesOf(j.spec)
		writeJSON(w, 201, ss[len(ss)-1])
	})
	mux.HandleFunc("GET /v1/jobs/{id}/schedules/{sid}", func(w http.ResponseWriter, r *http.Request) {
		j := lookup(w, r)
		if j == nil {
			return
		}
		for _, s := range schedulesOf(j.spec) {
			if s.ID == r.PathValue("sid") {
				writeJSON(w, 200, s)
				return
			}
		}
		cronError(w, 404, "Schedule '%s' of job '%s' does not exist", r.PathValue("sid"), j.spec.ID)
	})
	mux.HandleFunc("PUT /v1/jobs/{id}/schedules/{sid}", func(w http.ResponseWriter, r *http.Request) {
		j := lookup(w, r)
		if j == nil {
			return
		}
		var s cronapi.Schedule
		if !decode(w, r, &s) {
			return
		}
		i := slices.IndexFunc(j.spec.Schedules, func(o cronapi.Schedule) bool { return o.ID == r.PathValue("sid") })
		if i < 0 {
			cronError(w, 404, "Schedule '%s' of job '%s' does not exist", r.PathValue("sid"), j.spec.ID)
			return
		}
		j.spec.Schedules[i] = s
		writeJSON(w, 200, schedulesOf(j.spec)[i])
	})
	mux.HandleFunc("DELETE /v1/jobs/{id}/schedules/{sid}", func(w http.ResponseWriter, r *http.Request) {
		j := lookup(w, r)
		if j == nil {
			return
		}
		i := slices.IndexFunc(j.spec.Schedules, func(s cronapi.Schedule) bool { return s.ID == r.PathValue("sid") })
		if i < 0 {
			cronError(w, 404, "Schedule '%s' of job '%s' does not exist", r.PathValue("sid"), j.spec.ID)
			return
		}
		j.spec.Schedules = slices.Delete(j.spec.Schedules, i, i+1)
		writeJSON(w, 200, map[string]string{"message": "removed"})
	})
	mux.HandleFunc("GET /v1/jobs/{id}/runs", func(w http.ResponseWriter, r *http.Request) {
		if j := lookup(w, r); j != nil {
			writeJSON(w, 200, append([]cronapi.Run{}, j.active...))
		}
	})
	mux.HandleFunc("POST /v1/jobs/{id}/runs", func(w http.ResponseWriter, r *http.Request) {
		j := lookup(w, r)
		if j == nil {
			return
		}
		m.runs++
		run := cronapi.Run{ID: fmt.Sprintf("manual-%d", m.runs), JobID: j.spec.ID, Status: cronapi.RunInitial,
			Trigger: cronapi.TriggerManual, CreatedAt: testNow, Tasks: []cronapi.RunTask{}}
		j.active = append(j.active, run)
		steps := m.script
		if steps == nil {
			steps = []string{cronapi.RunSuccess}
		}
		j.steps[run.ID] = slices.Clone(steps)
		writeJSON(w, 201, run)
	})
	mux.HandleFunc("GET /v1/jobs/{id}/runs/{rid}", func(w http.ResponseWriter, r *http.Request) {
		j := lookup(w, r)
		if j == nil {
			return
		}
		rid := r.PathValue("rid")
		if i := j.activeIndex(rid); i >= 0 {
			run := &j.active[i]
			if steps := j.steps[rid]; len(steps) > 0 {
				run.Status, j.steps[rid] = steps[0], steps[1:]
				task := cronapi.RunTask{ID: rid + ".task-1", Status: "TASK_RUNNING", AgentID: "agent-1"}
				switch run.Status {
				case cronapi.RunSuccess:
					task.Status, task.ExitCode = "TASK_FINISHED", intp(0)
				case cronapi.RunFailed:
					task.Status, task.ExitCode, run.Message = "TASK_FAILED", intp(3), m.failMessage
				}
				run.Tasks = []cronapi.RunTask{task}
			}
			out := *run
			if out.Done() {
				j.finish(i)
				out, _ = j.finished(rid)
			}
			writeJSON(w, 200, out)
			return
		}
		if run, ok := j.finished(rid); ok {
			writeJSON(w, 200, run)
			return
		}
		cronError(w, 404, "Run '%s' of job '%s' does not exist", rid, j.spec.ID)
	})
	mux.HandleFunc("POST /v1/jobs/{id}/runs/{rid}/actions/stop", func(w http.ResponseWriter, r *http.Request) {
		j := lookup(w, r)
		if j == nil {
			return
		}
		rid := r.PathValue("rid")
		i := j.activeIndex(rid)
		if i < 0 {
			if fr, ok := j.finished(rid); ok {
				cronError(w, 409, "run %s of job %s has already ended (%s)", rid, j.spec.ID, fr.Status)
				return
			}
			cronError(w, 404, "Run '%s' of job '%s' does not exist", rid, j.spec.ID)
			return
		}
		j.active[i].Status, j.active[i].Message = cronapi.RunFailed, "stopped by request"
		out := j.active[i]
		j.finish(i)
		writeJSON(w, 200, out)
	})
	mux.HandleFunc("GET /v1/jobs/{id}/dependencies", func(w http.ResponseWriter, r *http.Request) {
		if j := lookup(w, r); j != nil {
			writeJSON(w, 200, cronapi.Dependencies{Parents: append([]string{}, j.spec.Parents...), Children: append([]string{}, m.children(j.spec.ID)...)})
		}
	})
	mux.HandleFunc("GET /v1/graph", func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString("digraph jobs {\n")
		ids := make([]string, 0, len(m.jobs))
		for id := range m.jobs {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			fmt.Fprintf(&b, "  %q;\n", id)
			for _, p := range m.jobs[id].spec.Parents {
				fmt.Fprintf(&b, "  %q -> %q;\n", p, id)
			}
		}
		b.WriteString("}") // no final newline: the CLI adds it
		w.Header().Set("Content-Type", "text/vnd.graphviz; charset=utf-8")
		_, _ = io.WriteString(w, b.String())
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		m.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		cronError(w, 404, "no such endpoint %s %s", r.Method, r.URL.Path)
	})
	return mux
}
