// Package deploymenttest is a fake Cairn master for the tests of the app
// and deployment commands: it serves /v1/frameworks and the services
// framework's Marathon API behind /service/services/ (apps, deployments,
// queue, events), parsing and validating definitions with the real wire
// package. Deployments progress one step each time /v2/deployments is read
// (one more task running, or one fewer for a removal) and end as the test
// says (Settings.Outcome).
package deploymenttest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// Outcome is how the fake's deployments end.
type Outcome int

const (
	// Succeed: tasks start (or stop) one per look, then deployment_success.
	Succeed Outcome = iota
	// Fail: after one look, deployment_failed with Settings.FailReason, and
	// the app is back as it was (a rollback).
	Fail
	// Stick: the deployment never progresses; the queue says
	// Settings.Waiting.
	Stick
	// Vanish: like Succeed, but the deployment leaves /v2/deployments
	// without an event.
	Vanish
	// VanishRolledBack: after one look the deployment leaves
	// /v2/deployments without an event, the app back as it was.
	VanishRolledBack
)

// Settings steer the fake.
type Settings struct {
	// NoServices: no services framework is subscribed (the master's 404
	// for /service/services/...).
	NoServices bool
	// NoEvents: /v2/events answers 503 (the CLI must poll).
	NoEvents bool
	// Outcome of the deployments started from now on.
	Outcome Outcome
	// FailReason is the reason of deployment_failed with Fail.
	FailReason string
	// Waiting is the queue's "waiting" for apps short of instances.
	Waiting string
	// DeploymentWaiting is the "waiting" of the deployments (Cairn's
	// addition to /v2/deployments) started from now on.
	DeploymentWaiting string
}

// Base is the time of the fake's first version; version n is n seconds
// later.
var Base = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// FrameworkID is the fake services framework's id.
const FrameworkID = protocol.FrameworkID("01JB8X5Q2M3N4P5R6S7T8V9W0S")

type fakeApp struct {
	status   marathon.AppStatus
	versions []string // oldest first
}

type fakeDep struct {
	d       marathon.Deployment
	appID   string
	removal bool
	creates bool
	prev    *marathon.App
	outcome Outcome
	looks   int
}

// Master is the fake master. Its methods are safe for concurrent use.
type Master struct {
	*httptest.Server
	t *testing.T

	mu       sync.Mutex
	settings Settings
	apps     map[string]*fakeApp
	deps     []*fakeDep
	subs     map[chan marathon.Event]struct{}
	clock    int
	nextDep  int
	requests []string
}

// New starts a fake master, closed when the test ends.
func New(t *testing.T) *Master {
	t.Helper()
	m := &Master{t: t, apps: map[string]*fakeApp{}, subs: map[chan marathon.Event]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/frameworks", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		fws := []protocol.Framework{}
		if !m.settings.NoServices {
			fws = append(fws, protocol.Framework{ID: FrameworkID, Name: apiclient.ServicesName, Connected: true, WebuiURL: "http://127.0.0.1:1"})
		}
		writeJSON(w, 200, fws)
	})
	mux.HandleFunc("/service/services/{rest...}", m.serveMarathon)
	m.Server = httptest.NewServer(mux)
	t.Cleanup(m.Close)
	return m
}

// Configure changes the settings.
func (m *Master) Configure(s Settings) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.settings = s
}

// Requests returns "METHOD /path?query" of every Marathon API call so far.
func (m *Master) Requests() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.requests)
}

// AddApp adds an app (a definition as JSON) with running tasks of its
// instances and no deployment; it returns the app's version.
func (m *Master) AddApp(definition string, running int) string {
	m.t.Helper()
	spec, _, err := parse([]byte(definition))
	if err != nil {
		m.t.Fatalf("deploymenttest: AddApp: %v", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	spec.Version = m.version()
	spec.VersionInfo = &marathon.VersionInfo{LastScalingAt: spec.Version, LastConfigChangeAt: spec.Version}
	a := &fakeApp{status: marathon.AppStatus{App: spec}, versions: []string{spec.Version}}
	setRunning(a, running)
	m.apps[spec.ID] = a
	return spec.Version
}

// SetLastTaskFailure sets an app's last task failure.
func (m *Master) SetLastTaskFailure(appID string, f marathon.LastTaskFailure) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.apps[appID].status.LastTaskFailure = &f
}

// StartDeployment starts a deployment scaling an existing app to
// instances (with the current Settings.Outcome) and returns its id.
func (m *Master) StartDeployment(appID string, instances int) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.apps[appID]
	prev := a.status.App.Clone()
	a.status.Instances = &instances
	m.newVersion(a)
	return m.startDeployment(a, &prev, "ScaleApplication").d.ID
}

// Deployments is the ids of the deployments in progress.
func (m *Master) Deployments() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for _, d := range m.deps {
		ids = append(ids, d.d.ID)
	}
	return ids
}

// App returns an app's state (false when it does not exist).
func (m *Master) App(id string) (marathon.AppStatus, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.apps[id]
	if !ok {
		return marathon.AppStatus{}, false
	}
	return a.status, true
}

// parse reads, normalises and validates a definition as the framework does.
func parse(body []byte) (marathon.App, []string, error) {
	spec, warnings, err := marathon.ParseApp(body)
	if err != nil {
		return spec, warnings, err
	}
	spec.Normalize()
	if verr := spec.Validate(); verr != nil {
		return spec, warnings, verr
	}
	return spec, warnings, nil
}

// version is a new version timestamp; m.mu is held.
func (m *Master) version() string {
	m.clock++
	return marathon.Timestamp(Base.Add(time.Duration(m.clock) * time.Second))
}

func (m *Master) newVersion(a *fakeApp) {
	a.status.Version = m.version()
	a.status.VersionInfo = &marathon.VersionInfo{LastScalingAt: a.status.Version, LastConfigChangeAt: a.status.Version}
	a.versions = append(a.versions, a.status.Version)
}

func setRunning(a *fakeApp, n int) {
	a.status.TasksRunning = n
	if len(a.status.HealthChecks) > 0 {
		a.status.TasksHealthy = n
	}
}

// startDeployment starts a deployment of app a; m.mu is held.
func (m *Master) startDeployment(a *fakeApp, prev *marathon.App, actions ...string) *fakeDep {
	m.nextDep++
	id := fmt.Sprintf("dep-%d", m.nextDep)
	d := &fakeDep{appID: a.status.ID, prev: prev, outcome: m.settings.Outcome,
		d: marathon.Deployment{ID: id, Version: a.status.Version, AffectedApps: []string{a.status.ID}, Waiting: m.settings.DeploymentWaiting}}
	for _, act := range actions {
		d.d.Steps = append(d.d.Steps, marathon.Step{Actions: []marathon.Action{{Action: act, App: a.status.ID}}})
		d.removal = act == "StopApplication"
		d.creates = d.creates || act == "StartApplication"
	}
	if d.removal {
		d.d.Version = m.version()
	}
	d.d.TotalSteps = len(d.d.Steps)
	d.d.CurrentStep = d.d.TotalSteps
	last := d.d.Steps[len(d.d.Steps)-1].Actions[0]
	d.d.CurrentActions = []marathon.CurrentAction{{Action: last.Action, App: last.App}}
	a.status.Deployments = marathon.DeploymentRefs{{ID: id}}
	m.deps = append(m.deps, d)
	m.emit("deployment_info", map[string]any{"plan": plan(d), "currentStep": d.d.Steps[len(d.d.Steps)-1]})
	return d
}

func plan(d *fakeDep) map[string]any {
	return map[string]any{"id": d.d.ID, "version": d.d.Version, "steps": d.d.Steps}
}

// emit sends an event to the subscribers; m.mu is held.
func (m *Master) emit(typ string, body map[string]any) {
	ev := marathon.NewEvent(typ, Base, body)
	for ch := range m.subs {
		select {
		case ch <- ev:
		default:
			m.t.Errorf("deploymenttest: a subscriber is too slow for event %s", typ)
		}
	}
}

// finish ends a deployment; m.mu is held.
func (m *Master) finish(d *fakeDep, ok bool, reason string, events bool) {
	m.deps = slices.DeleteFunc(m.deps, func(x *fakeDep) bool { return x == d })
	if a := m.apps[d.appID]; a != nil && len(a.status.Deployments) > 0 && a.status.Deployments[0].ID == d.d.ID {
		a.status.Deployments = nil
	}
	if !events {
		return
	}
	if ok {
		m.emit("deployment_step_success", map[string]any{"plan": plan(d), "currentStep": d.d.Steps[len(d.d.Steps)-1]})
		m.emit("deployment_success", map[string]any{"id": d.d.ID, "plan": plan(d)})
	} else {
		m.emit("deployment_failed", map[string]any{"id": d.d.ID, "plan": plan(d), "reason": reason})
	}
}

// restore puts a deployment's app back as it was (a rollback); m.mu is held.
func (m *Master) restore(d *fakeDep) {
	a := m.apps[d.appID]
	switch {
	case d.prev == nil:
		delete(m.apps, d.appID)
	case a == nil:
		m.apps[d.appID] = &fakeApp{status: marathon.AppStatus{App: *d.prev}}
		m.newVersion(m.apps[d.appID])
	default:
		a.status.App = d.prev.Clone()
		m.newVersion(a)
	}
}

// look advances every deployment by one step; m.mu is held.
func (m *Master) look() {
	for _, d := range slices.Clone(m.deps) {
		d.looks++
		a := m.apps[d.appID]
		switch d.outcome {
		case Stick:
			continue
		case Fail:
			m.finish(d, false, m.settings.FailReason, true)
			m.restore(d)
			continue
		case VanishRolledBack:
			m.finish(d, false, "", false)
			m.restore(d)
			continue
		}
		if a == nil {
			m.finish(d, true, "", d.outcome != Vanish)
			continue
		}
		want := *a.status.Instances
		if d.removal {
			want = 0
		}
		switch {
		case a.status.TasksRunning < want:
			setRunning(a, a.status.TasksRunning+1)
		case a.status.TasksRunning > want:
			setRunning(a, a.status.TasksRunning-1)
		}
		m.emit("status_update_event", map[string]any{"appId": d.appID, "taskId": fmt.Sprintf("%s.%d", d.appID[1:], a.status.TasksRunning), "taskStatus": "TASK_RUNNING"})
		if a.status.TasksRunning == want {
			if d.removal {
				delete(m.apps, d.appID)
			}
			m.finish(d, true, "", d.outcome != Vanish)
		}
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeMessage(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"message": msg})
}

// appPath splits /v2/apps/<id>[/versions|/restart].
func appPath(rest string) (id, verb string) {
	rest = strings.TrimPrefix(rest, "v2/apps")
	for _, v := range []string{"/versions", "/restart"} {
		if strings.HasSuffix(rest, v) {
			return strings.TrimSuffix(rest, v), v[1:]
		}
	}
	return rest, ""
}

func (m *Master) serveMarathon(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.requests = append(m.requests, strings.TrimSuffix(r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery, "?"))
	if m.settings.NoServices {
		m.mu.Unlock()
		writeMessage(w, 404, `no framework named "services" with an HTTP API is subscribed: is it installed and running? (see /v1/frameworks)`)
		return
	}
	rest := r.PathValue("rest")
	if r.Method == http.MethodGet && rest == "v2/events" {
		m.mu.Unlock()
		m.serveEvents(w, r)
		return
	}
	defer m.mu.Unlock()
	force := r.URL.Query().Get("force") == "true"
	switch {
	case r.Method == http.MethodGet && rest == "v2/apps":
		out := []marathon.AppStatus{}
		keys := make([]string, 0, len(m.apps))
		for id := range m.apps {
			keys = append(keys, id)
		}
		slices.Sort(keys)
		for _, id := range keys {
			if strings.Contains(id, r.URL.Query().Get("id")) && !m.removing(id) {
				out = append(out, m.apps[id].status)
			}
		}
		writeJSON(w, 200, map[string]any{"apps": out})
	case r.Method == http.MethodPost && rest == "v2/apps":
		m.create(w, r)
	case strings.HasPrefix(rest, "v2/apps/"):
		id, verb := appPath(rest)
		a := m.apps[id]
		if a == nil || (len(m.deps) > 0 && m.removing(id)) {
			writeMessage(w, 404, fmt.Sprintf("App '%s' does not exist", id))
			return
		}
		switch {
		case r.Method == http.MethodGet && verb == "":
			st := a.status
			st.Tasks = []marathon.Task{}
			for i := range st.TasksRunning {
				t := marathon.Task{ID: fmt.Sprintf("%s.%d", id[1:], i+1), AppID: id, Host: "10.0.0.1", Ports: []int{31000 + i},
					SlaveID: "agent-1", Version: st.Version, State: "TASK_RUNNING", StartedAt: marathon.Timestamp(Base)}
				if len(st.HealthChecks) > 0 {
					t.HealthCheckResults = []marathon.HealthCheckResult{{Alive: true, TaskID: t.ID}}
				}
				st.Tasks = append(st.Tasks, t)
			}
			writeJSON(w, 200, map[string]any{"app": st})
		case r.Method == http.MethodGet && verb == "versions":
			vs := slices.Clone(a.versions)
			slices.Reverse(vs)
			writeJSON(w, 200, map[string]any{"versions": vs})
		case r.Method == http.MethodPut && verb == "":
			m.change(w, a, force, func() error {
				body, _ := io.ReadAll(r.Body)
				u, _, err := marathon.ParseAppUpdate(body)
				if err != nil {
					return err
				}
				next := u.Apply(a.status.App)
				next.ID, next.Version, next.VersionInfo = id, "", nil
				next.Normalize()
				if verr := next.Validate(); verr != nil {
					return verr
				}
				a.status.App = next
				return nil
			}, "ScaleApplication")
		case r.Method == http.MethodPost && verb == "restart":
			m.change(w, a, force, func() error { return nil }, "RestartApplication")
		case r.Method == http.MethodDelete && verb == "":
			m.change(w, a, force, func() error { return nil }, "StopApplication")
		default:
			writeMessage(w, 404, "no such endpoint")
		}
	case r.Method == http.MethodGet && rest == "v2/deployments":
		out := []marathon.Deployment{}
		for _, d := range m.deps {
			out = append(out, d.d)
		}
		m.look()
		writeJSON(w, 200, out)
	case r.Method == http.MethodDelete && strings.HasPrefix(rest, "v2/deployments/"):
		m.rollback(w, strings.TrimPrefix(rest, "v2/deployments/"), force)
	case r.Method == http.MethodGet && rest == "v2/queue":
		q := []apiclient.QueueItem{}
		keys := make([]string, 0, len(m.apps))
		for id := range m.apps {
			keys = append(keys, id)
		}
		slices.Sort(keys)
		for _, id := range keys {
			a := m.apps[id]
			if n := *a.status.Instances - a.status.TasksRunning; n > 0 {
				q = append(q, apiclient.QueueItem{QueueItem: marathon.QueueItem{App: a.status.App, Count: n, Since: marathon.Timestamp(Base)},
					Waiting: m.settings.Waiting})
			}
		}
		writeJSON(w, 200, map[string]any{"queue": q})
	default:
		writeMessage(w, 404, "no such endpoint "+r.Method+" "+r.URL.Path)
	}
}

// removing reports whether a removal of app id is in progress; m.mu is held.
func (m *Master) removing(id string) bool {
	for _, d := range m.deps {
		if d.appID == id && d.removal {
			return true
		}
	}
	return false
}

// fail answers an error as the framework does; m.mu is held.
func fail(w http.ResponseWriter, err error) {
	if ve, ok := err.(*marathon.ValidationError); ok {
		writeJSON(w, 422, ve)
		return
	}
	writeMessage(w, 400, err.Error())
}

func (m *Master) create(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	spec, warnings, err := parse(body)
	if err != nil {
		fail(w, err)
		return
	}
	if m.apps[spec.ID] != nil {
		writeMessage(w, 409, fmt.Sprintf("an app with id [%s] already exists", spec.ID))
		return
	}
	a := &fakeApp{status: marathon.AppStatus{App: spec}}
	m.newVersion(a)
	m.apps[spec.ID] = a
	m.startDeployment(a, nil, "StartApplication", "ScaleApplication")
	out := map[string]any{}
	raw, _ := json.Marshal(a.status)
	_ = json.Unmarshal(raw, &out)
	if len(warnings) > 0 {
		out["warnings"] = warnings
	}
	writeJSON(w, 201, out)
}

// change carries out a change of a (apply changes its spec) as a
// deployment with action; m.mu is held.
func (m *Master) change(w http.ResponseWriter, a *fakeApp, force bool, apply func() error, action string) {
	if len(a.status.Deployments) > 0 {
		if !force {
			writeJSON(w, 409, map[string]any{
				"message":     "App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'.",
				"deployments": []map[string]string{{"id": a.status.Deployments[0].ID}},
			})
			return
		}
		for _, d := range m.deps {
			if d.appID == a.status.ID {
				m.finish(d, false, "superseded by a forced change", true)
			}
		}
	}
	prev := a.status.App.Clone()
	if err := apply(); err != nil {
		fail(w, err)
		return
	}
	if action != "StopApplication" {
		m.newVersion(a)
	}
	d := m.startDeployment(a, &prev, action)
	writeJSON(w, 200, map[string]string{"deploymentId": d.d.ID, "version": d.d.Version})
}

func (m *Master) rollback(w http.ResponseWriter, id string, force bool) {
	var d *fakeDep
	for _, x := range m.deps {
		if x.d.ID == id {
			d = x
		}
	}
	if d == nil {
		writeMessage(w, 404, fmt.Sprintf("DeploymentPlan %s does not exist", id))
		return
	}
	if force {
		m.finish(d, false, "cancelled", true)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	m.finish(d, false, "rolled back", true)
	var next *fakeDep
	switch {
	case d.creates:
		a := m.apps[d.appID]
		prev := a.status.App.Clone()
		next = m.startDeployment(a, &prev, "StopApplication")
	case d.removal:
		m.restore(d)
		a := m.apps[d.appID]
		next = m.startDeployment(a, nil, "StartApplication", "ScaleApplication")
	default:
		a := m.apps[d.appID]
		cur := a.status.App.Clone()
		a.status.App = d.prev.Clone()
		m.newVersion(a)
		next = m.startDeployment(a, &cur, "ScaleApplication")
	}
	writeJSON(w, 200, map[string]string{"deploymentId": next.d.ID, "version": next.d.Version})
}

func (m *Master) serveEvents(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	if m.settings.NoEvents {
		m.mu.Unlock()
		writeMessage(w, 503, "events are off in this test")
		return
	}
	types := r.URL.Query()["event_type"]
	ch := make(chan marathon.Event, 1000)
	m.subs[ch] = struct{}{}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.subs, ch)
		m.mu.Unlock()
	}()
	fl := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(200)
	fmt.Fprintf(w, "event: event_stream_attached\ndata: {\"remoteAddress\":%q,\"eventType\":\"event_stream_attached\"}\n\n", r.RemoteAddr)
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev := <-ch:
			if len(types) > 0 && !slices.Contains(types, ev.Type) {
				continue
			}
			data, _ := json.Marshal(ev.Body)
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Type, data)
			fl.Flush()
		}
	}
}
