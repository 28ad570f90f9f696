package tui

import (
	"github.com/cairn-dc/cairn/tui/agents"
	"github.com/cairn-dc/cairn/tui/frameworks"
	"github.com/cairn-dc/cairn/tui/overview"
	"github.com/cairn-dc/cairn/tui/tasks"
	"github.com/cairn-dc/cairn/tui/view"
)

// DefaultPages are the TUI's tabs, in order (keys 1-9 pick them).
//
// The apps, jobs, packages and modules pages (tui/apps, tui/jobs,
// tui/packages, tui/modules) are added here, after tasks, when they land.
func DefaultPages(env view.Env) []view.Page {
	return []view.Page{
		overview.New(env),
		agents.New(env),
		frameworks.New(env),
		tasks.New(env),
	}
}
