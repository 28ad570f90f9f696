package tasks

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui/cluster"
	"github.com/cairn-dc/cairn/tui/internal/ui"
	"github.com/cairn-dc/cairn/tui/view"
)

// Render implements view.Page.
func (p *Page) Render(width, height int) string {
	if p.detail != nil {
		return p.renderDetail(width, height)
	}
	th := p.env.Theme
	st := p.env.Cluster
	rows := p.visible()
	head := th.Title.Render("Tasks") + th.Muted.Render(fmt.Sprintf("  %d of %d", len(rows), len(st.Tasks())))
	head += "   " + th.Muted.Render("state ") + p.filterValue(stateFilters[p.filter.state].name, p.filter.state != 0)
	fw := "all"
	if p.filter.framework != "" {
		fw = string(p.filter.framework)
		if f, ok := st.Framework(p.filter.framework); ok {
			fw = f.Name
		}
	}
	head += "   " + th.Muted.Render("framework ") + p.filterValue(fw, p.filter.framework != "")
	lines := []string{head}
	switch {
	case p.typing:
		lines = append(lines, p.input.View())
	case p.filter.text != "":
		lines = append(lines, th.Muted.Render("/")+p.filterValue(p.filter.text, true))
	default:
		lines = append(lines, "")
	}
	if !st.Synced() {
		lines = append(lines, th.Muted.Render(ui.WaitingText))
		return ui.Block(lines, width, height)
	}
	if len(rows) == 0 {
		msg := "No task matches the filters (c clears them)."
		if len(st.Tasks()) == 0 {
			msg = "No task in the cluster yet."
		}
		lines = append(lines, th.Muted.Render(msg))
		return ui.Block(lines, width, height)
	}
	cursor := p.sel.Index(len(rows), func(i int) string { return keyString(rows[i]) })
	lines = append(lines, ui.Lines(p.table(rows, cursor, width).Render(th, width, height-len(lines)))...)
	return ui.Block(lines, width, height)
}

func (p *Page) filterValue(v string, on bool) string {
	if on {
		return p.env.Theme.Warn.Render(v)
	}
	return v
}

func (p *Page) table(rows []protocol.Task, cursor, width int) view.Table {
	th := p.env.Theme
	st := p.env.Cluster
	now := p.env.Time()
	idw := min(max(width-58, 16), 40)
	t := view.Table{Cursor: cursor, Columns: []view.Column{
		{Title: "ID", Width: idw}, {Title: "NAME", Width: 8, Flex: 1}, {Title: "STATE", Width: 11},
		{Title: "FRAMEWORK", Width: 10}, {Title: "AGENT", Width: 10}, {Title: "AGE", Width: 4},
		{Title: "CPUS", Width: 5}, {Title: "MEM", Width: 6}, {Title: "HEALTH", Width: 9},
	}}
	for _, tk := range rows {
		fw := string(tk.FrameworkID)
		if f, ok := st.Framework(tk.FrameworkID); ok {
			fw = f.Name
		}
		host := string(tk.AgentID)
		if a, ok := st.Agent(tk.AgentID); ok {
			host = a.Hostname
		}
		t.Rows = append(t.Rows, []view.Cell{
			view.Plain(ui.ShortID(string(tk.ID), idw)), view.Plain(tk.Name), ui.TaskState(th, tk.State),
			view.Plain(fw), view.Plain(host), view.Plain(ui.Age(now, cluster.LastUpdate(tk))),
			view.Plain(ui.Amount(tk.Resources, "cpus")), view.Plain(ui.Amount(tk.Resources, "mem")), health(th, tk.Healthy),
		})
	}
	return t
}

func health(th view.Theme, h *bool) view.Cell {
	switch {
	case h == nil:
		return view.Plain("-")
	case *h:
		return view.Styled("healthy", th.OK)
	}
	return view.Styled("unhealthy", th.Bad)
}

// renderDetail draws one task: what it is, where it runs, its statuses.
func (p *Page) renderDetail(width, height int) string {
	th := p.env.Theme
	st := p.env.Cluster
	t, ok := st.Task(*p.detail)
	if !ok {
		return ui.Block([]string{th.Muted.Render("The task is gone from the cluster's state (esc returns)."), ""}, width, height)
	}
	fw, host := string(t.FrameworkID), string(t.AgentID)
	if f, ok := st.Framework(t.FrameworkID); ok {
		fw = f.Name + "  " + th.Muted.Render(string(f.ID))
	}
	if a, ok := st.Agent(t.AgentID); ok {
		host = a.Hostname + "  " + th.Muted.Render(string(a.ID))
	}
	hl := health(th, t.Healthy)
	healthText := hl.Text
	if hl.Style != nil {
		healthText = hl.Style.Render(hl.Text)
	}
	lines := []string{th.Title.Render("Task "+string(t.ID)) + "  " + ui.StateStyle(th, t.State).Render(cluster.StateName(t.State)), ""}
	pairs := [][2]string{
		{"name", t.Name}, {"framework", fw}, {"agent", host}, {"role", t.Role},
		{"resources", t.Resources.String()}, {"health", healthText},
	}
	if len(t.Labels) > 0 {
		var ls []string
		for _, k := range slices.Sorted(maps.Keys(t.Labels)) {
			ls = append(ls, k+"="+t.Labels[k])
		}
		pairs = append(pairs, [2]string{"labels", strings.Join(ls, " ")})
	}
	lines = append(lines, ui.KV(th, pairs)...)
	lines = append(lines, "", th.Title.Render("Status updates")+th.Muted.Render("  newest first"))
	now := p.env.Time()
	if len(t.Statuses) == 0 {
		lines = append(lines, th.Muted.Render(" none seen yet"))
	}
	for i := len(t.Statuses) - 1; i >= 0; i-- {
		s := t.Statuses[i]
		text := " " + view.Pad(ui.Age(now, s.Time()), 5) + ui.StateStyle(th, s.State).Render(view.Pad(cluster.StateName(s.State), 12))
		var more []string
		if s.Reason != "" {
			more = append(more, strings.TrimPrefix(string(s.Reason), "REASON_"))
		}
		if s.ExitCode != nil {
			more = append(more, fmt.Sprintf("exit %d", *s.ExitCode))
		}
		if s.Message != "" {
			more = append(more, view.Clean(s.Message))
		}
		lines = append(lines, text+th.Muted.Render(strings.Join(more, " · ")))
	}
	return ui.Block(lines, width, height)
}
