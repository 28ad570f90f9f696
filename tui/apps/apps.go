// Package apps is the TUI's Apps page: the services framework's apps
// (instances, health, resources, deployments in progress), an app's tasks,
// and the actions scale, restart and open a task's log. It speaks the
// services framework's Marathon API through the master's proxy, and
// refetches when the event stream says a task of that framework changed.
package apps

import (
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/tui/internal/listpage"
	"github.com/cairn-dc/cairn/tui/view"
)

// Timings of the page's refetches.
const (
	// debounceDelay gathers a burst of task events into one refetch.
	debounceDelay = 300 * time.Millisecond
	// deploymentPoll refetches while deployments are in progress (their
	// steps move without task events sometimes: health, back-off).
	deploymentPoll = 10 * time.Second
	// requestTimeout bounds one fetch or action.
	requestTimeout = 15 * time.Second
)

// page is the Apps page. Its methods have pointer receivers: Update
// changes it in place and returns it.
type page struct {
	env  view.Env
	keys keyMap
	// after arms a timer that delivers msg after d (tea.Tick; tests
	// replace it to fire timers themselves).
	after func(d time.Duration, msg tea.Msg) tea.Cmd

	fw        view.FrameworkFilter
	refresh   view.Refresher
	pollArmed bool

	loaded bool
	err    error // the last list fetch's error
	apps   []marathon.AppStatus
	steps  map[string]string // deployment id → "step 1/2 ScaleApplication"
	cursor int

	// detail is the id of the app shown with its tasks ("": the list).
	detail     string
	app        *marathon.AppStatus
	appErr     error
	taskCursor int

	// scale is the instance count input while scaling.
	scale    *scaleForm
	inputErr string
}

// scaleForm is the input of "scale app to N instances".
type scaleForm struct {
	appID string
	input textinput.Model
}

// New returns the Apps page.
func New(env view.Env) view.Page {
	return &page{
		env:   env,
		keys:  newKeyMap(),
		after: listpage.Tick,
		fw:    view.FrameworkFilter{Name: apiclient.ServicesName},
	}
}

func (p *page) Title() string { return "Apps" }

func (p *page) Init() tea.Cmd {
	if p.env.Client == nil {
		return nil // no master to ask (a shell tested without one)
	}
	return listpage.Refetch(&p.refresh, p.fetch)
}

func (p *page) Capturing() bool { return p.scale != nil }

func (p *page) Keys() []key.Binding {
	k := p.keys
	switch {
	case p.scale != nil:
		return []key.Binding{k.Submit, k.Cancel}
	case p.detail != "":
		return []key.Binding{k.Up, k.Down, k.Scale, k.Restart, k.Log, k.Stderr, k.Back, k.Refresh}
	}
	return []key.Binding{k.Up, k.Down, k.Open, k.Scale, k.Restart, k.Refresh}
}

func (p *page) Update(msg tea.Msg) (view.Page, tea.Cmd) {
	if p.env.Client == nil {
		return p, nil
	}
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		return p, p.key(msg)
	case view.EventMsg:
		if p.fw.Concerns(msg.Event) && p.refresh.Want() {
			return p, p.after(debounceDelay, debounceMsg{})
		}
	case debounceMsg:
		if p.refresh.Fired() {
			return p, p.fetch()
		}
	case pollMsg:
		p.pollArmed = false
		if p.refresh.Now() {
			return p, p.fetch()
		}
	case fetchedMsg:
		return p, p.fetched(msg)
	case actionMsg:
		return p, p.acted(msg)
	}
	return p, nil
}

// selected is the app under the cursor in the list, or the detail's app.
func (p *page) selected() (marathon.AppStatus, bool) {
	if p.detail != "" {
		if p.app != nil {
			return *p.app, true
		}
		for _, a := range p.apps {
			if a.ID == p.detail {
				return a, true
			}
		}
		return marathon.AppStatus{}, false
	}
	return listpage.At(p.apps, p.cursor)
}
