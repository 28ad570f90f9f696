package cron

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
	"github.com/cairn-dc/cairn/frameworks/cron/schedule"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// maxBody bounds a request body.
const maxBody = 1 << 20

// apiError is an answer other than 2xx.
type apiError struct {
	status int
	body   cronapi.Error
}

func (e *apiError) Error() string { return e.body.Message }

func notFound(format string, args ...any) *apiError {
	return &apiError{status: http.StatusNotFound, body: cronapi.Error{Message: fmt.Sprintf(format, args...)}}
}

func conflict(format string, args ...any) *apiError {
	return &apiError{status: http.StatusConflict, body: cronapi.Error{Message: fmt.Sprintf(format, args...)}}
}

func invalid(path, format string, args ...any) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, body: cronapi.Error{Message: "Object is not valid",
		Details: []cronapi.ErrorDetail{{Path: path, Errors: []string{fmt.Sprintf(format, args...)}}}}}
}

func (f *Framework) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "pong\n") })
	mux.HandleFunc("GET /v1/info", f.serveInfo)
	mux.HandleFunc("GET /v1/jobs", f.serveJobs)
	mux.HandleFunc("POST /v1/jobs", f.serveJobAdd)
	mux.HandleFunc("GET /v1/jobs/{id}", f.serveJob)
	mux.HandleFunc("PUT /v1/jobs/{id}", f.serveJobPut)
	mux.HandleFunc("DELETE /v1/jobs/{id}", f.serveJobDelete)
	mux.HandleFunc("GET /v1/jobs/{id}/schedules", f.serveSchedules)
	mux.HandleFunc("POST /v1/jobs/{id}/schedules", f.serveScheduleAdd)
	mux.HandleFunc("GET /v1/jobs/{id}/schedules/{sid}", f.serveSchedule)
	mux.HandleFunc("PUT /v1/jobs/{id}/schedules/{sid}", f.serveSchedulePut)
	mux.HandleFunc("DELETE /v1/jobs/{id}/schedules/{sid}", f.serveScheduleDelete)
	mux.HandleFunc("GET /v1/jobs/{id}/runs", f.serveRuns)
	mux.HandleFunc("POST /v1/jobs/{id}/runs", f.serveRunStart)
	mux.HandleFunc("GET /v1/jobs/{id}/runs/{rid}", f.serveRun)
	mux.HandleFunc("POST /v1/jobs/{id}/runs/{rid}/actions/stop", f.serveRunStop)
	mux.HandleFunc("GET /v1/jobs/{id}/dependencies", f.serveDependencies)
	mux.HandleFunc("PUT /v1/jobs/{id}/dependencies", f.serveDependenciesPut)
	mux.HandleFunc("GET /v1/graph", f.serveGraph)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, cronapi.Error{Message: fmt.Sprintf("no such endpoint %s %s (Cairn's cron framework speaks Metronome's /v1 API: /v1/jobs ...)", r.Method, r.URL.Path)})
	})
	if f.cfg.Token == "" {
		return mux
	}
	want := []byte("Bearer " + f.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ping" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			writeJSON(w, http.StatusUnauthorized, cronapi.Error{Message: "missing or wrong token: pass --token or set CAIRN_TOKEN"})
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

// reply writes v, or err as its status and body.
func reply(w http.ResponseWriter, status int, v any, err error) {
	if err == nil {
		writeJSON(w, status, v)
		return
	}
	var ae *apiError
	var ve *ValidationError
	switch {
	case errors.As(err, &ae):
		writeJSON(w, ae.status, ae.body)
	case errors.As(err, &ve):
		writeJSON(w, http.StatusUnprocessableEntity, cronapi.Error{Message: "Object is not valid", Details: ve.Details})
	default:
		writeJSON(w, http.StatusServiceUnavailable, cronapi.Error{Message: err.Error()})
	}
}

// decode reads a JSON body strictly: unknown fields, trailing data and
// oversized bodies are errors naming what is wrong.
func decode(r *http.Request, v any) error {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return invalid("/", "cannot read the request body: %v", err)
	}
	if len(data) > maxBody {
		return invalid("/", "the body is larger than %d MiB", maxBody>>20)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return invalid("/", "not valid JSON at byte %d: %v", se.Offset, err)
		case errors.As(err, &te):
			return invalid("/"+strings.ReplaceAll(te.Field, ".", "/"), "expected %s, got a JSON %s", te.Type, te.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return invalid("/"+strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "unknown field")
		}
		return invalid("/", "%v", err)
	}
	if dec.More() {
		return invalid("/", "more than one JSON value in the body")
	}
	return nil
}

// embeds parses ?embed= (repeated or comma-separated).
func embeds(r *http.Request) (map[string]bool, error) {
	out := map[string]bool{}
	for _, v := range r.URL.Query()["embed"] {
		for e := range strings.SplitSeq(v, ",") {
			e = strings.TrimSpace(e)
			switch e {
			case "":
			case cronapi.EmbedHistory, cronapi.EmbedHistorySummary, cronapi.EmbedActiveRuns, cronapi.EmbedSchedules:
				out[e] = true
			default:
				return nil, invalid("/embed", "%q: use history, historySummary, activeRuns or schedules", e)
			}
		}
	}
	return out, nil
}

// view is a job as the API shows it.
func (f *Framework) view(j *job, embed map[string]bool) cronapi.Job {
	v := j.spec
	v.Schedules = nil
	v.Labels = cloneMap(v.Labels)
	if embed[cronapi.EmbedSchedules] {
		v.Schedules = j.scheduleList()
	}
	if embed[cronapi.EmbedActiveRuns] {
		v.ActiveRuns = j.activeRuns()
	}
	if embed[cronapi.EmbedHistorySummary] {
		s := j.hist.HistorySummary
		v.HistorySummary = &s
	}
	if embed[cronapi.EmbedHistory] {
		h := j.hist
		h.SuccessfulFinishedRuns = newestFirst(h.SuccessfulFinishedRuns)
		h.FailedFinishedRuns = newestFirst(h.FailedFinishedRuns)
		h.SkippedRuns = slices.Clone(h.SkippedRuns)
		slices.Reverse(h.SkippedRuns)
		if h.SkippedRuns == nil {
			h.SkippedRuns = []cronapi.SkippedRun{}
		}
		v.History = &h
	}
	return v
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func newestFirst(l []cronapi.FinishedRun) []cronapi.FinishedRun {
	out := slices.Clone(l)
	slices.Reverse(out)
	if out == nil {
		out = []cronapi.FinishedRun{}
	}
	return out
}

type result[T any] struct {
	v   T
	err error
}

// call runs fn on the loop and answers once its batch is stored.
func call[T any](w http.ResponseWriter, r *http.Request, f *Framework, status int, fn func() (T, error)) {
	res, err := query(r.Context(), f, func() result[T] {
		v, err := fn()
		return result[T]{v, err}
	})
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	reply(w, status, res.v, res.err)
}

func (f *Framework) serveInfo(w http.ResponseWriter, r *http.Request) {
	call(w, r, f, http.StatusOK, func() (map[string]any, error) {
		return map[string]any{"name": f.cfg.Name, "frameworkId": f.sched.ID(), "jobs": len(f.jobs), "activeRuns": len(f.byTask),
			"launched": f.stats.launched, "finished": f.stats.finished, "time": f.clock.Now().UTC()}, nil
	})
}

func (f *Framework) serveJobs(w http.ResponseWriter, r *http.Request) {
	embed, err := embeds(r)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	call(w, r, f, http.StatusOK, func() ([]cronapi.Job, error) {
		out := make([]cronapi.Job, 0, len(f.jobs))
		for _, j := range f.jobs {
			out = append(out, f.view(j, embed))
		}
		slices.SortFunc(out, func(a, b cronapi.Job) int { return strings.Compare(a.ID, b.ID) })
		return out, nil
	})
}

func (f *Framework) lookup(id string) (*job, error) {
	if err := validJobID(id); err != nil {
		return nil, notFound("Job '%s' does not exist: %v", id, err)
	}
	j := f.jobs[id]
	if j == nil {
		return nil, notFound("Job '%s' does not exist", id)
	}
	return j, nil
}

func (f *Framework) serveJob(w http.ResponseWriter, r *http.Request) {
	embed, err := embeds(r)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	id := r.PathValue("id")
	call(w, r, f, http.StatusOK, func() (cronapi.Job, error) {
		j, err := f.lookup(id)
		if err != nil {
			return cronapi.Job{}, err
		}
		return f.view(j, embed), nil
	})
}

func (f *Framework) serveJobAdd(w http.ResponseWriter, r *http.Request) {
	var spec cronapi.Job
	if err := decode(r, &spec); err != nil {
		reply(w, 0, nil, err)
		return
	}
	scheds, err := normalizeJob(&spec)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	call(w, r, f, http.StatusCreated, func() (cronapi.Job, error) {
		if _, ok := f.jobs[spec.ID]; ok {
			return cronapi.Job{}, conflict("Job with id '%s' already exists: change it with PUT /v1/jobs/%s (cairn job update)", spec.ID, spec.ID)
		}
		if err := f.checkParents(spec); err != nil {
			return cronapi.Job{}, err
		}
		j := f.putJob(spec, scheds, nil)
		return f.view(j, map[string]bool{cronapi.EmbedSchedules: true}), nil
	})
}

// putJob stores a new or changed job and arms its schedules. old is the
// job it replaces (nil for a new one): its runs, history and cursors stay.
func (f *Framework) putJob(spec cronapi.Job, calcs map[string]schedule.Schedule, old *job) *job {
	j := newJob(spec, calcs)
	now := f.clock.Now()
	if old != nil {
		for _, s := range old.scheds {
			f.disarm(s)
		}
		j.runs, j.hist, j.state = old.runs, old.hist, old.state
		for _, r := range j.runs {
			r.job = j
		}
		for sid := range j.state.Cursors {
			if _, ok := j.scheds[sid]; !ok {
				delete(j.state.Cursors, sid)
			}
		}
		// Parents no longer listed do not count.
		for p := range j.state.ParentsDone {
			if !slices.Contains(spec.Parents, p) {
				delete(j.state.ParentsDone, p)
			}
		}
	}
	for _, s := range j.scheds {
		if old != nil {
			if os := old.scheds[s.spec.ID]; os != nil && !sameTiming(os.spec, s.spec) {
				// A changed schedule starts from now.
				delete(j.state.Cursors, s.spec.ID)
			}
		}
		if !s.spec.IsEnabled() {
			delete(j.state.Cursors, s.spec.ID)
		}
		f.arm(j, s, now)
	}
	var oldParents []string
	if old != nil {
		oldParents = old.spec.Parents
		j.children = old.children
	}
	f.jobs[spec.ID] = j
	f.relink(spec.ID, oldParents, spec.Parents)
	stored := spec
	stored.History, stored.HistorySummary, stored.ActiveRuns = nil, nil, nil
	f.write(jobKey(spec.ID), stored)
	f.write(stateKey(spec.ID), j.state)
	return j
}

// sameTiming says whether two versions of a schedule fire alike.
func sameTiming(a, b cronapi.Schedule) bool {
	return a.Cron == b.Cron && a.Interval == b.Interval && a.TimeZone == b.TimeZone && a.IsEnabled() == b.IsEnabled()
}

func (f *Framework) serveJobPut(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var spec cronapi.Job
	if err := decode(r, &spec); err != nil {
		reply(w, 0, nil, err)
		return
	}
	if spec.ID == "" {
		spec.ID = id
	}
	if spec.ID != id {
		reply(w, 0, nil, invalid("/id", "the job's id %q differs from the one in the path (%s)", spec.ID, id))
		return
	}
	keepSchedules := spec.Schedules == nil
	scheds, err := normalizeJob(&spec)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	call(w, r, f, http.StatusOK, func() (cronapi.Job, error) {
		old, err := f.lookup(id)
		if err != nil {
			return cronapi.Job{}, err
		}
		if keepSchedules {
			// Metronome's PUT changes the job, not its schedules.
			spec.Schedules = old.spec.Schedules
			scheds = map[string]schedule.Schedule{}
			for sid, s := range old.scheds {
				scheds[sid] = s.calc
			}
			if len(spec.Parents) > 0 && len(spec.Schedules) > 0 {
				return cronapi.Job{}, invalid("/parents", "a job with parents runs after them: it cannot also have schedules (remove its schedules first)")
			}
		}
		if err := f.checkParents(spec); err != nil {
			return cronapi.Job{}, err
		}
		j := f.putJob(spec, scheds, old)
		return f.view(j, map[string]bool{cronapi.EmbedSchedules: true}), nil
	})
}

func (f *Framework) serveJobDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	stopRuns := r.URL.Query().Get("stopCurrentJobRuns") == "true"
	call(w, r, f, http.StatusOK, func() (cronapi.Job, error) {
		j, err := f.lookup(id)
		if err != nil {
			return cronapi.Job{}, err
		}
		if len(j.children) > 0 {
			return cronapi.Job{}, conflict("jobs %s depend on %s: remove them, or their dependency on it, first", strings.Join(j.children, ", "), id)
		}
		if len(j.runs) > 0 && !stopRuns {
			return cronapi.Job{}, conflict("job %s has %d active runs: stop them first, or pass stopCurrentJobRuns=true", id, len(j.runs))
		}
		v := f.view(j, map[string]bool{cronapi.EmbedSchedules: true})
		for _, s := range j.scheds {
			f.disarm(s)
		}
		for _, run := range j.runs {
			if t := run.currentTask(); t != nil && !protocol.TaskState(t.Status).Terminal() {
				tid, aid := protocol.TaskID(t.ID), protocol.AgentID(t.AgentID)
				f.later(func() { go f.kill(r.Context(), tid, aid) })
			}
			f.dropRun(run)
			f.remove(runKey(id, run.rec.ID))
		}
		f.relink(id, j.spec.Parents, nil)
		delete(f.jobs, id)
		f.remove(historyKey(id))
		f.remove(stateKey(id))
		f.remove(jobKey(id))
		return v, nil
	})
}

func (f *Framework) serveSchedules(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	call(w, r, f, http.StatusOK, func() ([]cronapi.Schedule, error) {
		j, err := f.lookup(id)
		if err != nil {
			return nil, err
		}
		return j.scheduleList(), nil
	})
}

func (f *Framework) serveSchedule(w http.ResponseWriter, r *http.Request) {
	id, sid := r.PathValue("id"), r.PathValue("sid")
	call(w, r, f, http.StatusOK, func() (cronapi.Schedule, error) {
		j, err := f.lookup(id)
		if err != nil {
			return cronapi.Schedule{}, err
		}
		for _, s := range j.scheduleList() {
			if s.ID == sid {
				return s, nil
			}
		}
		return cronapi.Schedule{}, notFound("Schedule '%s' of job '%s' does not exist", sid, id)
	})
}

// changeSchedules replaces a job's schedules with fn's answer.
func (f *Framework) changeSchedules(id string, fn func(j *job) ([]cronapi.Schedule, error)) (*job, error) {
	old, err := f.lookup(id)
	if err != nil {
		return nil, err
	}
	list, err := fn(old)
	if err != nil {
		return nil, err
	}
	spec := old.spec
	spec.Schedules = list
	if len(spec.Parents) > 0 && len(list) > 0 {
		return nil, invalid("/", "job %s runs after its parents (%s): it cannot also have schedules", id, strings.Join(spec.Parents, ", "))
	}
	calcs, err := normalizeJob(&spec)
	if err != nil {
		return nil, err
	}
	return f.putJob(spec, calcs, old), nil
}

func (f *Framework) serveScheduleAdd(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var s cronapi.Schedule
	if err := decode(r, &s); err != nil {
		reply(w, 0, nil, err)
		return
	}
	if _, err := normalizeSchedule(&s); err != nil {
		reply(w, 0, nil, err)
		return
	}
	call(w, r, f, http.StatusCreated, func() (cronapi.Schedule, error) {
		j, err := f.changeSchedules(id, func(j *job) ([]cronapi.Schedule, error) {
			for _, o := range j.spec.Schedules {
				if o.ID == s.ID {
					return nil, conflict("job %s already has a schedule %q: change it with PUT /v1/jobs/%s/schedules/%s", id, s.ID, id, s.ID)
				}
			}
			return append(slices.Clone(j.spec.Schedules), s), nil
		})
		if err != nil {
			return cronapi.Schedule{}, err
		}
		for _, sc := range j.scheduleList() {
			if sc.ID == s.ID {
				return sc, nil
			}
		}
		return s, nil
	})
}

func (f *Framework) serveSchedulePut(w http.ResponseWriter, r *http.Request) {
	id, sid := r.PathValue("id"), r.PathValue("sid")
	var s cronapi.Schedule
	if err := decode(r, &s); err != nil {
		reply(w, 0, nil, err)
		return
	}
	if s.ID == "" {
		s.ID = sid
	}
	if s.ID != sid {
		reply(w, 0, nil, invalid("/id", "the schedule's id %q differs from the one in the path (%s)", s.ID, sid))
		return
	}
	if _, err := normalizeSchedule(&s); err != nil {
		reply(w, 0, nil, err)
		return
	}
	call(w, r, f, http.StatusOK, func() (cronapi.Schedule, error) {
		j, err := f.changeSchedules(id, func(j *job) ([]cronapi.Schedule, error) {
			list := slices.Clone(j.spec.Schedules)
			for i := range list {
				if list[i].ID == sid {
					list[i] = s
					return list, nil
				}
			}
			return nil, notFound("Schedule '%s' of job '%s' does not exist: add it with POST /v1/jobs/%s/schedules", sid, id, id)
		})
		if err != nil {
			return cronapi.Schedule{}, err
		}
		for _, sc := range j.scheduleList() {
			if sc.ID == sid {
				return sc, nil
			}
		}
		return s, nil
	})
}

func (f *Framework) serveScheduleDelete(w http.ResponseWriter, r *http.Request) {
	id, sid := r.PathValue("id"), r.PathValue("sid")
	call(w, r, f, http.StatusOK, func() (map[string]string, error) {
		_, err := f.changeSchedules(id, func(j *job) ([]cronapi.Schedule, error) {
			list := slices.Clone(j.spec.Schedules)
			for i := range list {
				if list[i].ID == sid {
					return slices.Delete(list, i, i+1), nil
				}
			}
			return nil, notFound("Schedule '%s' of job '%s' does not exist", sid, id)
		})
		if err != nil {
			return nil, err
		}
		return map[string]string{"message": fmt.Sprintf("schedule %s of job %s removed", sid, id)}, nil
	})
}

func (f *Framework) serveRuns(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	call(w, r, f, http.StatusOK, func() ([]cronapi.Run, error) {
		j, err := f.lookup(id)
		if err != nil {
			return nil, err
		}
		return j.activeRuns(), nil
	})
}

func (f *Framework) serveRunStart(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	call(w, r, f, http.StatusCreated, func() (cronapi.Run, error) {
		j, err := f.lookup(id)
		if err != nil {
			return cronapi.Run{}, err
		}
		now := f.clock.Now()
		run := f.newRun(j, manualRunID(now), cronapi.TriggerManual, nil, time.Time{}, now)
		return run.view(), nil
	})
}

func (f *Framework) serveRun(w http.ResponseWriter, r *http.Request) {
	id, rid := r.PathValue("id"), r.PathValue("rid")
	call(w, r, f, http.StatusOK, func() (cronapi.Run, error) {
		j, err := f.lookup(id)
		if err != nil {
			return cronapi.Run{}, err
		}
		if run := j.runs[rid]; run != nil {
			return run.view(), nil
		}
		if run, ok := finishedRun(j, rid); ok {
			return run, nil
		}
		return cronapi.Run{}, notFound("Run '%s' of job '%s' does not exist (or is no longer in its history)", rid, id)
	})
}

// finishedRun is a run of the history, as a Run.
func finishedRun(j *job, rid string) (cronapi.Run, bool) {
	for _, l := range []struct {
		runs   []cronapi.FinishedRun
		status string
	}{{j.hist.SuccessfulFinishedRuns, cronapi.RunSuccess}, {j.hist.FailedFinishedRuns, cronapi.RunFailed}} {
		for _, fr := range l.runs {
			if fr.ID != rid {
				continue
			}
			done := fr.FinishedAt
			out := cronapi.Run{ID: fr.ID, JobID: j.spec.ID, Status: l.status, Trigger: fr.Trigger, ScheduledAt: fr.ScheduledAt,
				CreatedAt: fr.CreatedAt, CompletedAt: &done, Message: fr.Message, Tasks: []cronapi.RunTask{}}
			for i, t := range fr.Tasks {
				rt := cronapi.RunTask{ID: t}
				if i == len(fr.Tasks)-1 {
					rt.ExitCode = fr.ExitCode
				}
				out.Tasks = append(out.Tasks, rt)
			}
			return out, true
		}
	}
	return cronapi.Run{}, false
}

func (f *Framework) serveRunStop(w http.ResponseWriter, r *http.Request) {
	id, rid := r.PathValue("id"), r.PathValue("rid")
	call(w, r, f, http.StatusOK, func() (cronapi.Run, error) {
		j, err := f.lookup(id)
		if err != nil {
			return cronapi.Run{}, err
		}
		run := j.runs[rid]
		if run == nil {
			if fr, ok := finishedRun(j, rid); ok {
				return cronapi.Run{}, conflict("run %s of job %s has already ended (%s)", rid, id, fr.Status)
			}
			return cronapi.Run{}, notFound("Run '%s' of job '%s' does not exist", rid, id)
		}
		f.stopRun(r.Context(), run, "stopped by request")
		return run.view(), nil
	})
}

func (f *Framework) serveDependencies(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	call(w, r, f, http.StatusOK, func() (cronapi.Dependencies, error) {
		j, err := f.lookup(id)
		if err != nil {
			return cronapi.Dependencies{}, err
		}
		return cronapi.Dependencies{Parents: nonNil(j.spec.Parents), Children: nonNil(j.children)}, nil
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

func (f *Framework) serveDependenciesPut(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var d cronapi.Dependencies
	if err := decode(r, &d); err != nil {
		reply(w, 0, nil, err)
		return
	}
	if len(d.Children) > 0 {
		reply(w, 0, nil, invalid("/children", "children are read only: set a child's parents instead"))
		return
	}
	call(w, r, f, http.StatusOK, func() (cronapi.Dependencies, error) {
		old, err := f.lookup(id)
		if err != nil {
			return cronapi.Dependencies{}, err
		}
		spec := old.spec
		spec.Parents = d.Parents
		calcs, err := normalizeJob(&spec)
		if err != nil {
			return cronapi.Dependencies{}, err
		}
		if err := f.checkParents(spec); err != nil {
			return cronapi.Dependencies{}, err
		}
		j := f.putJob(spec, calcs, old)
		return cronapi.Dependencies{Parents: nonNil(j.spec.Parents), Children: nonNil(j.children)}, nil
	})
}

func (f *Framework) serveGraph(w http.ResponseWriter, r *http.Request) {
	dot, err := query(r.Context(), f, func() string { return f.graphDOT() })
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	w.Header().Set("Content-Type", "text/vnd.graphviz; charset=utf-8")
	_, _ = io.WriteString(w, dot)
}
