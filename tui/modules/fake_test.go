package modules

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

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/tui/view"
)

// testNow is the tests' clock.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeMaster answers canned JSON per "METHOD path" and records every
// request ("METHOD path body").
type fakeMaster struct {
	*httptest.Server
	mu       sync.Mutex
	answers  map[string]answer
	requests []string
}

type answer struct {
	status int
	body   string
}

func newFakeMaster(t *testing.T) *fakeMaster {
	t.Helper()
	m := &fakeMaster{answers: map[string]answer{}}
	m.Server = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.Close)
	return m
}

func (m *fakeMaster) serve(w http.ResponseWriter, r *http.Request) {
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

// set answers method path with status and v (a string is sent as it is).
func (m *fakeMaster) set(method, path string, status int, v any) {
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

// took returns the requests so far and forgets them.
func (m *fakeMaster) took() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.requests
	m.requests = nil
	return r
}

// count counts the requests so far starting with prefix.
func (m *fakeMaster) count(prefix string) int {
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

// timerMsg is a timer the page armed; tests fire it themselves.
type timerMsg struct {
	d   time.Duration
	msg tea.Msg
}

// driver runs a page as the shell would: it feeds the messages of the
// page's commands back to it, and keeps what is meant for the shell.
type driver struct {
	t        *testing.T
	p        *page
	confirms []view.Confirm
	flashes  []view.Flash
	logs     []view.OpenLog
	timers   []timerMsg
}

func newDriver(t *testing.T, m *fakeMaster) *driver {
	t.Helper()
	client, err := apiclient.New(m.URL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	env := view.Env{Ctx: t.Context(), Client: client, Theme: view.NewTheme(true), Now: func() time.Time { return testNow }}
	p := New(env).(*page)
	p.after = func(d time.Duration, msg tea.Msg) tea.Cmd {
		return func() tea.Msg { return timerMsg{d, msg} }
	}
	return &driver{t: t, p: p}
}

func (d *driver) send(msg tea.Msg) {
	d.t.Helper()
	p, cmd := d.p.Update(msg)
	d.p = p.(*page)
	d.run(cmd)
}

func (d *driver) run(cmd tea.Cmd) {
	d.t.Helper()
	if cmd == nil {
		return
	}
	switch m := cmd().(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range m {
			d.run(c)
		}
	case view.Confirm:
		d.confirms = append(d.confirms, m)
	case view.Flash:
		d.flashes = append(d.flashes, m)
	case view.OpenLog:
		d.logs = append(d.logs, m)
	case timerMsg:
		d.timers = append(d.timers, m)
	default:
		d.send(m)
	}
}

// fire delivers the timers armed so far.
func (d *driver) fire() {
	d.t.Helper()
	ts := d.timers
	d.timers = nil
	for _, t := range ts {
		d.send(t.msg)
	}
}

// keys sends key presses: single characters, or names (enter, esc ...).
func (d *driver) keys(keys ...string) {
	d.t.Helper()
	for _, k := range keys {
		d.send(keyPress(k))
	}
}

func keyPress(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+r":
		return tea.KeyPressMsg{Code: 'r', Mod: tea.ModCtrl}
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("unknown key " + k)
	}
	if r[0] >= 'A' && r[0] <= 'Z' {
		return tea.KeyPressMsg{Code: r[0] + ('a' - 'A'), ShiftedCode: r[0], Mod: tea.ModShift, Text: k}
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// typeText types s into a focused input.
func (d *driver) typeText(s string) {
	d.t.Helper()
	for _, r := range s {
		d.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// checkSize fails when a render is larger than width×height.
func checkSize(t *testing.T, out string, width, height int) {
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
