// Package agents is the TUI's agents page: a table of the agents, and an
// agent's details (resources total/used/offered/free, attributes, the
// tasks on it). Everything comes from the shell's cluster.Store.
package agents

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui/cluster"
	"github.com/cairn-dc/cairn/tui/internal/ui"
	"github.com/cairn-dc/cairn/tui/view"
)

type keyMap struct {
	nav           ui.Nav
	Drain, Resume key.Binding
	Log, Stderr   key.Binding
}

func newKeys() keyMap {
	return keyMap{
		nav:    ui.NewNav("details"),
		Drain:  key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "drain")),
		Resume: key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "undrain")),
		Log:    key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "task log")),
		Stderr: key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "task stderr")),
	}
}

// Page is the agents page.
type Page struct {
	env     view.Env
	keys    keyMap
	sel     ui.Selection
	detail  protocol.AgentID // "" lists the agents
	taskSel ui.Selection     // the selected task in a detail
	height  int
}

// New returns the agents page.
func New(env view.Env) *Page {
	if env.Cluster == nil {
		env.Cluster = cluster.New()
	}
	return &Page{env: env, keys: newKeys()}
}

// Title implements view.Page.
func (p *Page) Title() string { return "Agents" }

// Init implements view.Page: agents come with the event stream.
func (p *Page) Init() tea.Cmd { return nil }

// Capturing implements view.Page.
func (p *Page) Capturing() bool { return false }

// Keys implements view.Page.
func (p *Page) Keys() []key.Binding {
	k := p.keys
	if p.detail != "" {
		return append([]key.Binding{k.nav.Back, k.Drain, k.Resume, k.Log, k.Stderr}, k.nav.List()...)
	}
	return append([]key.Binding{k.nav.Open, k.Drain, k.Resume}, k.nav.List()...)
}

// Update implements view.Page.
func (p *Page) Update(msg tea.Msg) (view.Page, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		p.height = msg.Height
	case tea.KeyPressMsg:
		if p.detail != "" {
			return p, p.detailKey(msg)
		}
		return p, p.listKey(msg)
	}
	return p, nil
}

func (p *Page) listKey(msg tea.KeyPressMsg) tea.Cmd {
	as := p.env.Cluster.Agents()
	keyOf := func(i int) string { return string(as[i].ID) }
	if d, ok := p.keys.nav.Delta(msg, p.height-4); ok {
		p.sel.Move(len(as), keyOf, d)
		return nil
	}
	i := p.sel.Index(len(as), keyOf)
	if i < 0 {
		return nil
	}
	switch {
	case key.Matches(msg, p.keys.nav.Open):
		p.detail = as[i].ID
		p.taskSel = ui.Selection{}
	case key.Matches(msg, p.keys.Drain):
		return p.drain(as[i], true)
	case key.Matches(msg, p.keys.Resume):
		return p.drain(as[i], false)
	}
	return nil
}

func (p *Page) detailKey(msg tea.KeyPressMsg) tea.Cmd {
	k := p.keys
	if key.Matches(msg, k.nav.Back) {
		p.detail = ""
		return nil
	}
	a, ok := p.env.Cluster.Agent(p.detail)
	if !ok {
		return nil
	}
	ts := p.env.Cluster.TasksOn(a.ID)
	keyOf := func(i int) string { return string(ts[i].FrameworkID) + "/" + string(ts[i].ID) }
	if d, ok := k.nav.Delta(msg, 5); ok {
		p.taskSel.Move(len(ts), keyOf, d)
		return nil
	}
	switch {
	case key.Matches(msg, k.Drain):
		return p.drain(a, true)
	case key.Matches(msg, k.Resume):
		return p.drain(a, false)
	case key.Matches(msg, k.Log, k.Stderr):
		i := p.taskSel.Index(len(ts), keyOf)
		if i < 0 {
			return view.FlashCmd("no task on "+a.Hostname, nil)
		}
		stderr := key.Matches(msg, k.Stderr)
		t := ts[i]
		return func() tea.Msg { return view.OpenLog{Task: t, Stderr: stderr} }
	}
	return nil
}
