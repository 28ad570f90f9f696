// Package pagetest drives a page in tests as the shell would, against a
// fake master. Only tests import it.
package pagetest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui/internal/ui"
	"github.com/cairn-dc/cairn/tui/view"
)

// Now is the tests' clock: 2026-03-01T12:00:00Z.
var Now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Framework ids of the fake cluster.
const (
	ServicesID protocol.FrameworkID = "01JB8X5Q2M3N4P5R6S7T8V9W0S"
	CronID     protocol.FrameworkID = "01JB8X5Q2M3N4P5R6S7T8V9W0C"
)

// Master answers canned JSON per "METHOD path" and records every
// request ("METHOD path?query body").
type Master struct {
	*httptest.Server
	mu       sync.Mutex
	answers  map[string]answer
	requests []string
}

type answer struct {
	status int
	body   string
}

// NewMaster starts a fake master, closed when the test ends.
func NewMaster(t testing.TB) *Master {
	t.Helper()
	m := &Master{answers: map[string]answer{}}
	m.Server = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.Close)
	return m
}

func (m *Master) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Method + " " + r.URL.Path
	m.mu.Lock()
	line := key
	if r.URL.RawQuery != "" {
		line += "?" + r.URL.RawQuery
	}
	if len(body) > 0 {
		line += " " + string(body)
	}
	m.requests = append(m.requests, line)
	a, ok := m.answers[key]
	m.mu.Unlock()
	if !ok {
		a = answer{404, `{"message":"not found: ` + key + `"}`}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

// Set answers method path with status and v (a string is sent as it is).
func (m *Master) Set(method, path string, status int, v any) {
	body, ok := v.(string)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		body = string(b)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.answers[method+" "+path] = answer{status, body}
}

// Took returns the requests so far and forgets them.
func (m *Master) Took() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.requests
	m.requests = nil
	return r
}

// Count counts the requests so far starting with prefix.
func (m *Master) Count(prefix string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, r := range m.requests {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// Env is a page's environment against m: the plain theme and the tests'
// clock.
func Env(t testing.TB, m *Master) view.Env {
	t.Helper()
	client, err := apiclient.New(m.URL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return view.Env{Ctx: t.Context(), Client: client, Theme: view.NewTheme(true), Now: func() time.Time { return Now }}
}

// Timer is a timer the page armed; tests fire it themselves.
type Timer struct {
	D   time.Duration
	Msg tea.Msg
}

// After stands for a page's timer (tea.Tick): the driver keeps it in
// Timers instead of waiting.
func After(d time.Duration, msg tea.Msg) tea.Cmd {
	return func() tea.Msg { return Timer{d, msg} }
}

// Driver runs a page as the shell would: it feeds the messages of the
// page's commands back to it, and keeps what is meant for the shell.
type Driver[P view.Page] struct {
	T        testing.TB
	P        P
	Confirms []view.Confirm
	Flashes  []view.Flash
	Logs     []view.OpenLog
	Timers   []Timer
}

// NewDriver drives p; p's timers should be After.
func NewDriver[P view.Page](t testing.TB, p P) *Driver[P] {
	return &Driver[P]{T: t, P: p}
}

// Send hands msg to the page and runs the command it returns.
func (d *Driver[P]) Send(msg tea.Msg) {
	d.T.Helper()
	p, cmd := d.P.Update(msg)
	d.P = p.(P)
	d.Run(cmd)
}

// Run runs cmd and delivers its messages.
func (d *Driver[P]) Run(cmd tea.Cmd) {
	d.T.Helper()
	if cmd == nil {
		return
	}
	switch m := cmd().(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range m {
			d.Run(c)
		}
	case view.Confirm:
		d.Confirms = append(d.Confirms, m)
	case view.Flash:
		d.Flashes = append(d.Flashes, m)
	case view.OpenLog:
		d.Logs = append(d.Logs, m)
	case Timer:
		d.Timers = append(d.Timers, m)
	default:
		d.Send(m)
	}
}

// Fire delivers the timers armed so far.
func (d *Driver[P]) Fire() {
	d.T.Helper()
	ts := d.Timers
	d.Timers = nil
	for _, t := range ts {
		d.Send(t.Msg)
	}
}

// Keys sends key presses: single characters, or names (enter, esc ...).
func (d *Driver[P]) Keys(keys ...string) {
	d.T.Helper()
	for _, k := range keys {
		d.Send(ui.KeyPress(k))
	}
}

// TypeText types s into a focused input.
func (d *Driver[P]) TypeText(s string) {
	d.T.Helper()
	for _, r := range s {
		d.Send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// CheckSize fails when a render is larger than width×height.
func CheckSize(t testing.TB, out string, width, height int) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) > height {
		t.Errorf("render has %d lines, more than %d", len(lines), height)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > width {
			t.Errorf("line %d is %d cells wide, more than %d: %q", i+1, w, width, ansi.Strip(l))
		}
	}
}

// RenderGolden compares the page's render at 80×24 and 160×48 with the
// golden files testdata/<test>/80x24.golden and 160x48.golden, after
// checking its size.
func RenderGolden(t *testing.T, p view.Page) {
	t.Helper()
	for _, size := range []struct {
		name          string
		width, height int
	}{{"80x24", 80, 24}, {"160x48", 160, 48}} {
		t.Run(size.name, func(t *testing.T) {
			out := p.Render(size.width, size.height)
			CheckSize(t, out, size.width, size.height)
			golden.RequireEqual(t, out)
		})
	}
}

// Subscribed is the stream's first event: a cluster with frameworks fws.
func Subscribed(fws ...protocol.Framework) view.EventMsg {
	return view.EventMsg{Event: protocol.ClusterEvent{Type: protocol.EvSubscribed, State: &protocol.State{Frameworks: fws}}}
}

// TaskEvent is a task of framework fw going RUNNING.
func TaskEvent(fw protocol.FrameworkID, id string) view.EventMsg {
	return view.EventMsg{Event: protocol.ClusterEvent{Type: protocol.EvTaskUpdated, Task: &protocol.Task{ID: protocol.TaskID(id), FrameworkID: fw, State: protocol.TaskRunning}}}
}

// Frameworks are the fake cluster's frameworks, services and cron, as the
// event stream has them.
func Frameworks() []protocol.Framework {
	return []protocol.Framework{
		{ID: ServicesID, Name: "services", Connected: true},
		{ID: CronID, Name: "cron", Connected: true},
	}
}

// SetFrameworks answers GET /v1/frameworks with Frameworks and their web
// UIs.
func (m *Master) SetFrameworks() {
	m.Set("GET", "/v1/frameworks", 200, []protocol.Framework{
		{ID: ServicesID, Name: "services", Connected: true, WebuiURL: "http://10.0.0.1:8080"},
		{ID: CronID, Name: "cron", Connected: true, WebuiURL: "http://10.0.0.1:8081"},
	})
}
