// Package overview is the TUI's first page: the cluster at a glance —
// resources used of total as bars, agents, frameworks, tasks by state and
// the latest events. Everything comes from the shell's cluster.Store (the
// event stream); the page fetches nothing itself.
package overview

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/tui/cluster"
	"github.com/cairn-dc/cairn/tui/internal/ui"
	"github.com/cairn-dc/cairn/tui/view"
)

// wide is the width from which the overview uses two columns.
const wide = 140

// Page is the overview.
type Page struct {
	env view.Env
}

// New returns the overview page.
func New(env view.Env) *Page {
	if env.Cluster == nil {
		env.Cluster = cluster.New()
	}
	return &Page{env: env}
}

// Title implements view.Page.
func (p *Page) Title() string { return "Overview" }

// Init implements view.Page.
func (p *Page) Init() tea.Cmd { return nil }

// Update implements view.Page: the page draws from the store, which the
// shell keeps current, so it needs no messages.
func (p *Page) Update(tea.Msg) (view.Page, tea.Cmd) { return p, nil }

// Keys implements view.Page.
func (p *Page) Keys() []key.Binding { return nil }

// Capturing implements view.Page.
func (p *Page) Capturing() bool { return false }

// Render implements view.Page.
func (p *Page) Render(width, height int) string {
	st := p.env.Cluster
	th := p.env.Theme
	if !st.Synced() {
		return ui.Waiting(th, width, height)
	}
	if width >= wide {
		lw := (width - 3) / 2
		rw := width - lw - 3
		left := append(p.resources(lw), "")
		left = append(left, ui.Stack([]ui.Section{p.agents(), p.frameworks()}, lw, height-len(left))...)
		right := append(p.taskStates(rw), "")
		right = append(right, ui.Stack([]ui.Section{p.events()}, rw, height-len(right))...)
		return ui.Block(ui.SideBySide(left, right, lw, 3), width, height)
	}
	lines := append(p.resources(width), "")
	lines = append(lines, p.taskStates(width)...)
	lines = append(lines, "")
	agents, fws, evs := p.agents(), p.frameworks(), p.events()
	agents.Min, fws.Min, evs.Min = 4, 2, 3
	lines = append(lines, ui.Stack([]ui.Section{agents, fws, evs}, width, height-len(lines))...)
	return ui.Block(lines, width, height)
}

// resources draws the cluster's cpus, mem and disk, used of total, over
// the agents that count (not gone).
func (p *Page) resources(width int) []string {
	th := p.env.Theme
	var total, used resources.Resources
	n := 0
	for _, a := range p.env.Cluster.Agents() {
		if a.Status == protocol.AgentRemoved {
			continue
		}
		n++
		total = total.Plus(a.Resources)
		used = used.Plus(a.UsedResources)
	}
	lines := []string{ui.Heading(th, "Resources", fmt.Sprintf("%d agents", n))}
	const label, figures = 6, 22
	barWidth := max(width-label-figures-2, 4)
	for _, name := range []string{"cpus", "mem", "disk"} {
		u, t := ui.Scalar(used, name), ui.Scalar(total, name)
		fig := fmt.Sprintf("%-14s %5s", ui.UsedOf(used, total, name), ui.Percent(u, t))
		lines = append(lines, " "+view.Pad(name, label-1)+ui.Bar(th, u, t, barWidth)+"  "+fig)
	}
	return lines
}

// taskStates draws the number of tasks in each state.
func (p *Page) taskStates(width int) []string {
	th := p.env.Theme
	counts := p.env.Cluster.TaskStates()
	total := 0
	states := make([]protocol.TaskState, 0, len(counts))
	for s, n := range counts {
		states = append(states, s)
		total += n
	}
	slices.SortFunc(states, func(a, b protocol.TaskState) int {
		return cmp.Or(cmp.Compare(stateRank(a), stateRank(b)), cmp.Compare(a, b))
	})
	title := ui.Heading(th, "Tasks", fmt.Sprintf("%d", total))
	if total == 0 {
		return []string{title + th.Muted.Render("  none yet")}
	}
	var parts []string
	for _, s := range states {
		parts = append(parts, ui.StateStyle(th, s).Render(cluster.StateName(s))+" "+fmt.Sprint(counts[s]))
	}
	if inline := title + "   " + strings.Join(parts, "  "); ansi.StringWidth(inline) <= width {
		return []string{inline}
	}
	return append([]string{title}, wrap(parts, "  ", width-1)...)
}

// stateRank orders states as a task lives them, active ones first.
func stateRank(s protocol.TaskState) int {
	order := []protocol.TaskState{protocol.TaskRunning, protocol.TaskStaging, protocol.TaskStarting, protocol.TaskKilling,
		protocol.TaskUnreachable, protocol.TaskFinished, protocol.TaskKilled, protocol.TaskFailed}
	if i := slices.Index(order, s); i >= 0 {
		return i
	}
	return len(order)
}

// wrap joins parts with sep into lines of at most width cells, each
// indented by one space.
func wrap(parts []string, sep string, width int) []string {
	var lines []string
	cur := ""
	for _, p := range parts {
		switch {
		case cur == "":
			cur = p
		case ansi.StringWidth(cur+sep+p) <= width:
			cur += sep + p
		default:
			lines = append(lines, " "+cur)
			cur = p
		}
	}
	if cur != "" {
		lines = append(lines, " "+cur)
	}
	return lines
}

// agents is the agents section: a table with their IDs.
func (p *Page) agents() ui.Section {
	th := p.env.Theme
	as := p.env.Cluster.Agents()
	counts := map[protocol.AgentStatus]int{}
	for _, a := range as {
		counts[a.Status]++
	}
	var sum []string
	for _, s := range []protocol.AgentStatus{protocol.AgentActive, protocol.AgentDraining, protocol.AgentDrained, protocol.AgentUnreachable, protocol.AgentRemoved} {
		if counts[s] > 0 {
			sum = append(sum, fmt.Sprintf("%d %s", counts[s], strings.ToLower(string(s))))
		}
	}
	title := ui.Heading(th, "Agents", fmt.Sprintf("%d", len(as)))
	if len(sum) > 0 {
		title += th.Muted.Render(" · " + strings.Join(sum, " · "))
	}
	return ui.Section{
		Title: title,
		Want:  len(as) + 1,
		Min:   4,
		Draw: func(width, rows int) []string {
			if len(as) == 0 {
				return []string{th.Muted.Render(" no agent registered yet")}
			}
			return ui.Lines(ui.AgentTable(th, as, -1, width).Render(th, width, rows))
		},
	}
}

// frameworks is the frameworks section.
func (p *Page) frameworks() ui.Section {
	th := p.env.Theme
	fs := p.env.Cluster.Frameworks()
	return ui.Section{
		Title: ui.Heading(th, "Frameworks", fmt.Sprintf("%d", len(fs))),
		Want:  len(fs) + 1,
		Min:   2,
		Draw: func(width, rows int) []string {
			if len(fs) == 0 {
				return []string{th.Muted.Render(" none subscribed")}
			}
			idw := ui.IDWidth(width, 53)
			t := view.Table{Cursor: -1, Columns: []view.Column{
				{Title: "NAME", Width: 14}, {Title: "STATUS", Width: 12}, {Title: "TASKS", Width: 5},
				{Title: "CPUS", Width: 6}, {Title: "MEM", Width: 6}, {Title: "ID", Width: idw},
			}}
			for _, f := range fs {
				t.Rows = append(t.Rows, []view.Cell{view.Plain(f.Name), ui.Connected(th, f), view.Plain(fmt.Sprint(f.ActiveTasks)),
					view.Plain(ui.Amount(f.UsedResources, "cpus")), view.Plain(ui.Amount(f.UsedResources, "mem")),
					view.Plain(ui.ShortID(string(f.ID), idw))})
			}
			return ui.Lines(t.Render(th, width, rows))
		},
	}
}

// events is the recent events section, newest first.
func (p *Page) events() ui.Section {
	th := p.env.Theme
	evs := p.env.Cluster.Events()
	now := p.env.Time()
	return ui.Section{
		Title: th.Title.Render("Recent events"),
		Want:  max(len(evs), 1),
		Min:   3,
		Draw: func(width, rows int) []string {
			if len(evs) == 0 {
				return []string{th.Muted.Render(" none since the TUI started")}
			}
			var lines []string
			for i := len(evs) - 1; i >= 0 && len(lines) < rows; i-- {
				e := evs[i]
				text := e.Text
				if e.Bad {
					text = th.Bad.Render(text)
				}
				lines = append(lines, " "+th.Muted.Render(fmt.Sprintf("%4s  %-17s ", ui.Age(now, e.Time), e.Type))+text)
			}
			return lines
		},
	}
}
