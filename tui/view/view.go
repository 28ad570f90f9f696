// Package view is the contract between the TUI's shell (package tui) and its
// pages (overview, agents, tasks, apps, jobs ...): the Page interface, the
// environment pages share, and the messages they exchange with the shell.
//
// The shell owns the program: it streams GET /v1/events and hands every
// cluster event to every page (EventMsg), draws the tab bar, the status line
// and the help, shows confirmations, and sizes pages. A page owns one view of
// the cluster; it fetches what it shows through Env.Client (public HTTP APIs
// only) from commands, never from Update or Render.
package view

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui/cluster"
)

// Page is one tab of the TUI.
type Page interface {
	// Title is the tab's label ("Tasks").
	Title() string
	// Init starts the page's first fetches; it runs once, when the program
	// starts.
	Init() tea.Cmd
	// Update handles a message: keys (only while the page is shown), window
	// sizes, cluster events (always) and the page's own results.
	Update(msg tea.Msg) (Page, tea.Cmd)
	// Render draws the page into width×height cells (the space between the
	// tab bar and the status line). It must not exceed either.
	Render(width, height int) string
	// Keys are the page's bindings, for the help (?) and the status line.
	Keys() []key.Binding
	// Capturing reports that the page takes every key (a text input or a
	// form has focus), so the shell's global keys (q, tab, 1-9, ?) pass
	// through to it; esc should end the capture.
	Capturing() bool
}

// Env is what pages share.
type Env struct {
	// Ctx ends when the program ends; bound page requests with it.
	Ctx context.Context
	// Client speaks to the master's operator API, the framework APIs
	// behind /service/<name>/ and the package API.
	Client *apiclient.Client
	// Theme styles everything; it is plain when NO_COLOR is set.
	Theme Theme
	// Now is the clock for ages and expiries (nil: time.Now); tests fix it
	// so rendered screens are reproducible. Read it through Env.Time.
	Now func() time.Time
	// Cluster is the cluster as the event stream describes it, kept by the
	// shell: it applies every event (and refreshes agents' and frameworks'
	// used resources, debounced) before pages see the EventMsg. Pages read
	// it in Update and Render and never change it. Nil until the shell
	// sets it (a page tested alone may make its own with cluster.New).
	Cluster *cluster.Store
}

// Time is the current time by Env's clock.
func (e Env) Time() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// EventMsg is one event of the cluster's event stream, handed to every
// page. The first one of each connection is SUBSCRIBED with the full state.
type EventMsg struct{ Event protocol.ClusterEvent }

// StreamMsg tells pages the event stream's state: Connected false with Err
// while the shell reconnects (pages may show that their data is stale).
type StreamMsg struct {
	Connected bool
	Err       error
}

// Flash is a page's message for the status line: the result of an action
// ("killed task web.1"), or its error.
type Flash struct {
	Text string
	Err  error
}

// FlashCmd returns a command that flashes text, or err when it is not nil.
func FlashCmd(text string, err error) tea.Cmd {
	return func() tea.Msg { return Flash{Text: text, Err: err} }
}

// Confirm asks the shell to show Prompt and, when the user answers y, to
// run Yes (usually the action, which ends with a Flash). Any other key
// cancels.
type Confirm struct {
	Prompt string
	Yes    tea.Cmd
}

// ConfirmCmd returns a command asking for confirmation before yes.
func ConfirmCmd(prompt string, yes tea.Cmd) tea.Cmd {
	return func() tea.Msg { return Confirm{Prompt: prompt, Yes: yes} }
}

// OpenLog asks the shell to show a task's log (stdout, or stderr), following
// it, over the current page; esc returns.
type OpenLog struct {
	Task   protocol.Task
	Stderr bool
}
