// Package packages is the TUI's Packages page: the installed packages, a
// search of the repositories, a package's description (versions, notes,
// options), an install form with a field per option, and uninstall. It
// speaks the master's package API, and refetches the installed packages
// when the event stream says a task of the services framework changed
// (their apps' states are what the list shows).
package packages

import (
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/repository/packageapi"
	"github.com/cairn-dc/cairn/tui/internal/listpage"
	"github.com/cairn-dc/cairn/tui/view"
)

// Timings of the page's requests.
const (
	// debounceDelay gathers a burst of task events into one refetch.
	debounceDelay = 300 * time.Millisecond
	// requestTimeout bounds a list, search or describe.
	requestTimeout = 15 * time.Second
	// installTimeout bounds an install or uninstall (the master pulls the
	// package from its repository).
	installTimeout = 2 * time.Minute
)

// mode is what the page shows.
type mode int

const (
	modeInstalled mode = iota // the installed packages
	modeResults               // a search's results
	modeDescribe              // a package version in full
	modeForm                  // the install form
)

// page is the Packages page. Its methods have pointer receivers: Update
// changes it in place and returns it.
type page struct {
	env  view.Env
	keys keyMap
	// after arms a timer that delivers msg after d (tea.Tick; tests
	// replace it to fire timers themselves).
	after func(d time.Duration, msg tea.Msg) tea.Cmd

	fw      view.FrameworkFilter
	refresh view.Refresher

	mode mode

	loaded    bool
	err       error
	installed []packageapi.Installed
	cursor    int

	// search is the query input while it has focus.
	search       *textinput.Model
	query        string
	searching    bool
	results      []packageapi.PackageSummary
	resultsErr   error
	resultCursor int

	// describe: the package version asked for, and the answer.
	descName, descVersion string
	details               *packageapi.PackageDetails
	versions              []string
	descErr               error
	scroll                int
	// back is where esc goes from the description.
	back mode
	// installAfterDescribe opens the form once the description arrives.
	installAfterDescribe bool

	form *form
}

// New returns the Packages page.
func New(env view.Env) view.Page {
	return &page{
		env:   env,
		keys:  newKeyMap(),
		after: listpage.Tick,
		fw:    view.FrameworkFilter{Name: apiclient.ServicesName},
	}
}

func (p *page) Title() string { return "Packages" }

func (p *page) Init() tea.Cmd {
	if p.env.Client == nil {
		return nil // no master to ask (a shell tested without one)
	}
	return listpage.Refetch(&p.refresh, p.list)
}

func (p *page) Capturing() bool { return p.search != nil || p.mode == modeForm }

func (p *page) Keys() []key.Binding {
	k := p.keys
	switch {
	case p.search != nil:
		return []key.Binding{k.Submit, k.Cancel}
	case p.mode == modeForm:
		return []key.Binding{k.Next, k.Prev, k.Install, k.Cancel}
	case p.mode == modeDescribe:
		return []key.Binding{k.Up, k.Down, k.Form, k.Back}
	case p.mode == modeResults:
		return []key.Binding{k.Up, k.Down, k.Open, k.Form, k.Search, k.Back}
	}
	return []key.Binding{k.Up, k.Down, k.Open, k.Search, k.Uninstall, k.Refresh}
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
			return p, p.list()
		}
	case listedMsg:
		return p, p.listed(msg)
	case searchedMsg:
		p.searched(msg)
	case describedMsg:
		return p, p.described(msg)
	case installedMsg:
		return p, p.installDone(msg)
	case uninstalledMsg:
		return p, p.uninstallDone(msg)
	}
	return p, nil
}
