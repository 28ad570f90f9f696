// Package jobs is the TUI's Jobs page: the cron framework's jobs (their
// schedules, next run, last result, active runs), a job's runs and
// history, and the actions run now, stop a run and open a run's log. It
// speaks the cron framework's Metronome API through the master's proxy,
// and refetches when the event stream says a task of that framework
// changed.
package jobs

import (
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
	"github.com/cairn-dc/cairn/tui/internal/listpage"
	"github.com/cairn-dc/cairn/tui/view"
)

// Timings of the page's refetches.
const (
	// debounceDelay gathers a burst of task events into one refetch.
	debounceDelay = 300 * time.Millisecond
	// activePoll refetches while runs are active (their durations and
	// retries move between task events).
	activePoll = 10 * time.Second
	// requestTimeout bounds one fetch or action.
	requestTimeout = 15 * time.Second
)

// page is the Jobs page. Its methods have pointer receivers: Update
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
	jobs   []cronapi.Job
	cursor int

	// detail is the id of the job shown with its runs ("": the list).
	detail    string
	job       *cronapi.Job
	jobErr    error
	runCursor int
}

// New returns the Jobs page.
func New(env view.Env) view.Page {
	return &page{
		env:   env,
		keys:  newKeyMap(),
		after: listpage.Tick,
		fw:    view.FrameworkFilter{Name: cronapi.DefaultName},
	}
}

func (p *page) Title() string { return "Jobs" }

func (p *page) Init() tea.Cmd {
	if p.env.Client == nil {
		return nil // no master to ask (a shell tested without one)
	}
	return listpage.Refetch(&p.refresh, p.fetch)
}

func (p *page) Capturing() bool { return false }

func (p *page) Keys() []key.Binding {
	k := p.keys
	if p.detail != "" {
		return []key.Binding{k.Up, k.Down, k.Run, k.Stop, k.Log, k.Stderr, k.Back, k.Refresh}
	}
	return []key.Binding{k.Up, k.Down, k.Open, k.Run, k.Stop, k.Refresh}
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

// selected is the job under the cursor in the list, or the open job.
func (p *page) selected() (cronapi.Job, bool) {
	if p.detail != "" {
		if p.job != nil {
			return *p.job, true
		}
		for _, j := range p.jobs {
			if j.ID == p.detail {
				return j, true
			}
		}
		return cronapi.Job{}, false
	}
	return listpage.At(p.jobs, p.cursor)
}
