package tui

import (
	"github.com/cairn-dc/cairn/tui/agents"
	"github.com/cairn-dc/cairn/tui/apps"
	"github.com/cairn-dc/cairn/tui/frameworks"
	"github.com/cairn-dc/cairn/tui/jobs"
	"github.com/cairn-dc/cairn/tui/modules"
	"github.com/cairn-dc/cairn/tui/overview"
	"github.com/cairn-dc/cairn/tui/packages"
	"github.com/cairn-dc/cairn/tui/tasks"
	"github.com/cairn-dc/cairn/tui/view"
)

// DefaultPages are the TUI's tabs, in order (keys 1-9 pick them).
func DefaultPages(env view.Env) []view.Page {
	return []view.Page{
		overview.New(env),
		agents.New(env),
		frameworks.New(env),
		tasks.New(env),
		apps.New(env),
		jobs.New(env),
		packages.New(env),
		modules.New(env),
	}
}
