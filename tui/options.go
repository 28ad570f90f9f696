// Package tui is the shell of "cairn tui": a bubbletea program whose tabs
// are pages (package view's Page: overview, agents, frameworks, tasks,
// apps ...). The shell streams the master's events into a shared
// cluster.Store and to every page, draws the tab bar, the status line and
// the keyboard help, asks for confirmations and shows task logs. It speaks
// only the public HTTP APIs, through cli/apiclient.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/tui/view"
)

// Options configure the TUI.
type Options struct {
	// Client speaks to the master's operator API (required by Run; New
	// accepts nil for tests that feed events themselves).
	Client *apiclient.Client
	// In and Out are the terminal (nil: the process's stdin and stdout).
	In  io.Reader
	Out io.Writer
	// NoColor draws without colour (set it when NO_COLOR is set): the
	// plain theme, and a colour profile without colours.
	NoColor bool
	// Mouse turns mouse reporting on (click a tab, scroll a log). It stops
	// the terminal's own text selection, so it is off by default.
	Mouse bool
	// Pages makes the tabs (nil: DefaultPages).
	Pages func(view.Env) []view.Page
	// Now is the clock (nil: time.Now); tests fix it.
	Now func() time.Time
	// Logger gets the TUI's debug logs (nil: discarded; the screen is the
	// TUI's).
	Logger *slog.Logger
}

// Run runs the TUI until the user quits or ctx ends.
func Run(ctx context.Context, opts Options) error {
	if opts.Client == nil {
		return errors.New("tui: no operator API client: pass Options.Client")
	}
	m := New(ctx, opts)
	defer m.Close()
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if opts.In != nil {
		popts = append(popts, tea.WithInput(opts.In))
	}
	if opts.Out != nil {
		popts = append(popts, tea.WithOutput(opts.Out))
	}
	if opts.NoColor {
		popts = append(popts, tea.WithColorProfile(colorprofile.Ascii))
	}
	_, err := tea.NewProgram(m, popts...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("the terminal UI stopped: %w", err)
	}
	return nil
}
