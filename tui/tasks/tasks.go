// Package tasks is the TUI's tasks page: every task the event stream told
// of, live, filtered by state (s), framework (f) and text (/); enter shows
// a task's statuses, x kills it (after a confirmation), l and e open its
// stdout and stderr.
package tasks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui/cluster"
	"github.com/cairn-dc/cairn/tui/internal/ui"
	"github.com/cairn-dc/cairn/tui/view"
)

// killTimeout bounds a kill request.
const killTimeout = 30 * time.Second

type keyMap struct {
	nav                                     ui.Nav
	State, StateBack, Framework, Find, Kill key.Binding
	Log, Stderr, Clear                      key.Binding
}

func newKeys() keyMap {
	return keyMap{
		nav:       ui.NewNav("details"),
		State:     key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "filter by state")),
		StateBack: key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "previous state filter")),
		Framework: key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "filter by framework")),
		Find:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter by text")),
		Kill:      key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "kill")),
		Log:       key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "log")),
		Stderr:    key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "stderr")),
		Clear:     key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "clear filters")),
	}
}

// Page is the tasks page.
type Page struct {
	env    view.Env
	keys   keyMap
	sel    ui.Selection
	filter filter
	input  textinput.Model
	typing bool
	detail *cluster.TaskKey
	height int
}

// New returns the tasks page.
func New(env view.Env) *Page {
	if env.Cluster == nil {
		env.Cluster = cluster.New()
	}
	return &Page{env: env, keys: newKeys(), input: view.NewInput(env.Theme, "/", "id, name, agent, framework or state")}
}

// Title implements view.Page.
func (p *Page) Title() string { return "Tasks" }

// Init implements view.Page: the tasks come with the event stream.
func (p *Page) Init() tea.Cmd { return nil }

// Capturing implements view.Page: true while a text filter is typed.
func (p *Page) Capturing() bool { return p.typing }

// Keys implements view.Page.
func (p *Page) Keys() []key.Binding {
	k := p.keys
	if p.detail != nil {
		return []key.Binding{k.nav.Back, k.Kill, k.Log, k.Stderr}
	}
	return append([]key.Binding{k.State, k.Framework, k.Find, k.Kill, k.Log, k.Stderr, k.nav.Open, k.Clear, k.StateBack}, k.nav.List()...)
}

// Update implements view.Page.
func (p *Page) Update(msg tea.Msg) (view.Page, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		p.height = msg.Height
		p.input.SetWidth(max(msg.Width-10, 10))
	case tea.KeyPressMsg:
		if p.typing {
			return p, p.typeKey(msg)
		}
		return p, p.key(msg)
	}
	return p, nil
}

// typeKey edits the text filter: enter keeps it, esc drops it.
func (p *Page) typeKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "enter":
		p.typing = false
		p.input.Blur()
		return nil
	case "esc":
		p.typing = false
		p.input.Blur()
		p.input.SetValue("")
		p.filter.text = ""
		return nil
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	p.filter.text = strings.TrimSpace(p.input.Value())
	return cmd
}

func (p *Page) key(msg tea.KeyPressMsg) tea.Cmd {
	k := p.keys
	if p.detail != nil {
		t, ok := p.env.Cluster.Task(*p.detail)
		switch {
		case key.Matches(msg, k.nav.Back):
			p.detail = nil
		case !ok:
		case key.Matches(msg, k.Kill):
			return p.kill(t)
		case key.Matches(msg, k.Log):
			return openLog(t, false)
		case key.Matches(msg, k.Stderr):
			return openLog(t, true)
		}
		return nil
	}
	rows := p.visible()
	keyOf := func(i int) string { return keyString(rows[i]) }
	if d, ok := k.nav.Delta(msg, p.height-4); ok {
		p.sel.Move(len(rows), keyOf, d)
		return nil
	}
	switch {
	case key.Matches(msg, k.State):
		p.filter.state = (p.filter.state + 1) % len(stateFilters)
	case key.Matches(msg, k.StateBack):
		p.filter.state = (p.filter.state + len(stateFilters) - 1) % len(stateFilters)
	case key.Matches(msg, k.Framework):
		p.filter.framework = nextFramework(p.env.Cluster.Frameworks(), p.filter.framework)
	case key.Matches(msg, k.Find):
		p.typing = true
		return p.input.Focus()
	case key.Matches(msg, k.Clear), key.Matches(msg, k.nav.Back):
		p.filter = filter{}
		p.input.SetValue("")
	}
	i := p.sel.Index(len(rows), keyOf)
	if i < 0 {
		return nil
	}
	t := rows[i]
	switch {
	case key.Matches(msg, k.nav.Open):
		tk := cluster.KeyOf(t)
		p.detail = &tk
	case key.Matches(msg, k.Kill):
		return p.kill(t)
	case key.Matches(msg, k.Log):
		return openLog(t, false)
	case key.Matches(msg, k.Stderr):
		return openLog(t, true)
	}
	return nil
}

func keyString(t protocol.Task) string { return string(t.FrameworkID) + "/" + string(t.ID) }

// visible are the tasks that pass the filters.
func (p *Page) visible() []protocol.Task {
	all := p.env.Cluster.Tasks()
	if p.filter.empty() {
		return all
	}
	out := make([]protocol.Task, 0, len(all))
	for _, t := range all {
		if p.filter.match(p.env.Cluster, t) {
			out = append(out, t)
		}
	}
	return out
}

// kill asks to confirm, then asks the master to kill t.
func (p *Page) kill(t protocol.Task) tea.Cmd {
	if t.State.Terminal() {
		return view.FlashCmd("", fmt.Errorf("task %s already ended (%s)", t.ID, cluster.StateName(t.State)))
	}
	where := ""
	if a, ok := p.env.Cluster.Agent(t.AgentID); ok {
		where = " on " + a.Hostname
	}
	ctx, client := p.env.Ctx, p.env.Client
	return view.ConfirmCmd(fmt.Sprintf("Kill task %s%s?", t.ID, where), func() tea.Msg {
		if client == nil {
			return view.Flash{Err: errors.New("no operator API client")}
		}
		ctx, cancel := context.WithTimeout(ctx, killTimeout)
		defer cancel()
		_, err := client.Kill(ctx, t.ID, t.FrameworkID)
		var ae *apiclient.APIError
		if errors.As(err, &ae) && (ae.StatusCode == http.StatusNotFound || ae.StatusCode == http.StatusConflict) && ae.Message != "" {
			err = errors.New(ae.Message)
		}
		if err != nil {
			return view.Flash{Text: "killing " + string(t.ID), Err: err}
		}
		return view.Flash{Text: "killing " + string(t.ID) + ": its state follows"}
	})
}

func openLog(t protocol.Task, stderr bool) tea.Cmd {
	if t.AgentID == "" {
		return view.FlashCmd("", fmt.Errorf("task %s has no agent yet: no log to show", t.ID))
	}
	return func() tea.Msg { return view.OpenLog{Task: t, Stderr: stderr} }
}
