// Package modules is the TUI's Modules page: the modules the master's
// module host runs (kind, state, restarts, pid, last error), a module's
// details, and removing a module added at runtime. Module states are not
// in the cluster's event stream: the page reads GET /v1/modules when it
// starts, on ctrl+r, after a removal, and every few seconds while a module
// is starting or backing off.
package modules

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/modules/host/moduleapi"
	"github.com/cairn-dc/cairn/tui/internal/listpage"
	"github.com/cairn-dc/cairn/tui/view"
)

const (
	// transitionPoll refetches while a module is starting or backing off.
	transitionPoll = 10 * time.Second
	// requestTimeout bounds one request.
	requestTimeout = 15 * time.Second
)

// The page's own messages (unexported, so other pages ignore them).
type (
	pollMsg    struct{}
	fetchedMsg struct {
		mods []moduleapi.Status
		err  error
	}
	removedMsg struct {
		name string
		err  error
	}
)

// page is the Modules page. Its methods have pointer receivers: Update
// changes it in place and returns it.
type page struct {
	env  view.Env
	keys keyMap
	// after arms a timer that delivers msg after d (tea.Tick; tests
	// replace it to fire timers themselves).
	after func(d time.Duration, msg tea.Msg) tea.Cmd

	refresh   view.Refresher
	pollArmed bool

	loaded bool
	err    error
	mods   []moduleapi.Status
	cursor int
	// detail is the name of the module described ("": the list).
	detail string
}

// New returns the Modules page.
func New(env view.Env) view.Page {
	return &page{
		env:   env,
		keys:  newKeyMap(),
		after: listpage.Tick,
	}
}

func (p *page) Title() string { return "Modules" }

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
		return []key.Binding{k.Remove, k.Back, k.Refresh}
	}
	return []key.Binding{k.Up, k.Down, k.Open, k.Remove, k.Refresh}
}

func (p *page) Update(msg tea.Msg) (view.Page, tea.Cmd) {
	if p.env.Client == nil {
		return p, nil
	}
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		return p, p.key(msg)
	case view.StreamMsg:
		// back from a lost connection to the master: look again
		if msg.Connected && p.loaded && p.refresh.Now() {
			return p, p.fetch()
		}
	case pollMsg:
		p.pollArmed = false
		if p.refresh.Now() {
			return p, p.fetch()
		}
	case fetchedMsg:
		return p, p.fetched(msg)
	case removedMsg:
		return p, p.removed(msg)
	}
	return p, nil
}

func (p *page) key(msg tea.KeyPressMsg) tea.Cmd {
	k := p.keys
	if by, ok := k.Step(msg); ok {
		if p.detail == "" {
			p.cursor = listpage.Clamp(p.cursor+by, len(p.mods))
		}
		return nil
	}
	switch {
	case key.Matches(msg, k.Refresh):
		return listpage.Refetch(&p.refresh, p.fetch)
	case key.Matches(msg, k.Open) && p.detail == "":
		if m, ok := p.selected(); ok {
			p.detail = m.Name
			return listpage.Refetch(&p.refresh, p.fetch) // describe what the host says now
		}
	case key.Matches(msg, k.Back):
		p.detail = ""
	case key.Matches(msg, k.Remove):
		return p.remove()
	}
	return nil
}

// selected is the module under the cursor, or the one described.
func (p *page) selected() (moduleapi.Status, bool) {
	if p.detail != "" {
		i := slices.IndexFunc(p.mods, func(m moduleapi.Status) bool { return m.Name == p.detail })
		if i < 0 {
			return moduleapi.Status{}, false
		}
		return p.mods[i], true
	}
	return listpage.At(p.mods, p.cursor)
}

// fetch reads every module's status; the page calls it only when its
// Refresher says so.
func (p *page) fetch() tea.Cmd {
	ctx, client := p.env.Ctx, p.env.Client
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		mods, err := client.Modules(ctx)
		slices.SortFunc(mods, func(a, b moduleapi.Status) int { return strings.Compare(a.Name, b.Name) })
		return fetchedMsg{mods: mods, err: err}
	}
}

func (p *page) fetched(m fetchedMsg) tea.Cmd {
	var cmds []tea.Cmd
	if p.refresh.Done() {
		cmds = append(cmds, p.fetch())
	}
	p.loaded = true
	p.err = m.err
	if m.err == nil {
		p.cursor = listpage.Keep(p.mods, m.mods, p.cursor, func(s moduleapi.Status) string { return s.Name })
		p.mods = m.mods
	}
	moving := slices.ContainsFunc(p.mods, func(s moduleapi.Status) bool {
		return s.State == moduleapi.Starting || s.State == moduleapi.Backoff || s.State == moduleapi.Stopped
	})
	if moving && !p.pollArmed && m.err == nil {
		p.pollArmed = true
		cmds = append(cmds, p.after(transitionPoll, pollMsg{}))
	}
	return tea.Batch(cmds...)
}

// remove asks to confirm removing the selected module; modules from the
// host's configuration or from a package are removed elsewhere.
func (p *page) remove() tea.Cmd {
	m, ok := p.selected()
	if !ok {
		return nil
	}
	switch m.Source {
	case "config":
		return view.FlashCmd("", fmt.Errorf("module %s comes from the master's module configuration (--modules-config): remove it there and restart the master", m.Name))
	case moduleapi.SourcePackage:
		pkg := m.Name
		if m.Package != nil {
			pkg = m.Package.Name
		}
		return view.FlashCmd("", fmt.Errorf("module %s was installed from package %s: uninstall it in the Packages tab (or cairn package uninstall %s)", m.Name, pkg, pkg))
	}
	ctx, client, name := p.env.Ctx, p.env.Client, m.Name
	prompt := fmt.Sprintf("Remove module %s (the host stops it and forgets it)?", name)
	return view.ConfirmCmd(prompt, func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		_, err := client.ModuleRemove(ctx, name)
		return removedMsg{name: name, err: err}
	})
}

func (p *page) removed(m removedMsg) tea.Cmd {
	flash := view.FlashCmd("removed module "+m.name, nil)
	if m.err != nil {
		flash = view.FlashCmd("", fmt.Errorf("remove module %s: %w", m.name, m.err))
	} else if p.detail == m.name {
		p.detail = ""
	}
	if p.refresh.Now() {
		return tea.Batch(flash, p.fetch())
	}
	return flash
}

// errorText says what went wrong and what to do.
func errorText(err error) string {
	if errors.Is(err, apiclient.ErrNoModuleAPI) {
		return apiclient.ErrNoModuleAPI.Error()
	}
	return err.Error()
}
