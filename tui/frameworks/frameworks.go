// Package frameworks is the TUI's frameworks page: a table of the
// frameworks subscribed to the master, and a framework's details (roles,
// connection, failover, resources, its tasks by state, labels).
package frameworks

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui/cluster"
	"github.com/cairn-dc/cairn/tui/internal/ui"
	"github.com/cairn-dc/cairn/tui/view"
)

// Page is the frameworks page.
type Page struct {
	env    view.Env
	nav    ui.Nav
	sel    ui.Selection
	detail protocol.FrameworkID // "" lists the frameworks
	height int
}

// New returns the frameworks page.
func New(env view.Env) *Page {
	if env.Cluster == nil {
		env.Cluster = cluster.New()
	}
	return &Page{env: env, nav: ui.NewNav("details")}
}

// Title implements view.Page.
func (p *Page) Title() string { return "Frameworks" }

// Init implements view.Page: frameworks come with the event stream.
func (p *Page) Init() tea.Cmd { return nil }

// Capturing implements view.Page.
func (p *Page) Capturing() bool { return false }

// Keys implements view.Page.
func (p *Page) Keys() []key.Binding {
	if p.detail != "" {
		return []key.Binding{p.nav.Back}
	}
	return append([]key.Binding{p.nav.Open}, p.nav.List()...)
}

// Update implements view.Page.
func (p *Page) Update(msg tea.Msg) (view.Page, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		p.height = msg.Height
	case tea.KeyPressMsg:
		if p.detail != "" {
			if key.Matches(msg, p.nav.Back) {
				p.detail = ""
			}
			return p, nil
		}
		fs := p.env.Cluster.Frameworks()
		keyOf := func(i int) string { return string(fs[i].ID) }
		if d, ok := p.nav.Delta(msg, p.height-4); ok {
			p.sel.Move(len(fs), keyOf, d)
			return p, nil
		}
		if i := p.sel.Index(len(fs), keyOf); i >= 0 && key.Matches(msg, p.nav.Open) {
			p.detail = fs[i].ID
		}
	}
	return p, nil
}
