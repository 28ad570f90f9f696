package frameworks

import (
	"cmp"
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
	th := p.env.Theme
	st := p.env.Cluster
	if !st.Synced() {
		return ui.Waiting(th, width, height)
	}
	if p.detail != "" {
		return p.renderDetail(width, height)
	}
	fs := st.Frameworks()
	lines := []string{ui.Heading(th, "Frameworks", fmt.Sprintf("%d", len(fs))), ""}
	if len(fs) == 0 {
		lines = append(lines, th.Muted.Render("No framework subscribed yet."))
		return ui.Block(lines, width, height)
	}
	now := p.env.Time()
	idw := ui.IDWidth(width, 72)
	t := view.Table{Cursor: p.sel.Index(len(fs), func(i int) string { return string(fs[i].ID) }), Columns: []view.Column{
		{Title: "NAME", Width: 12, Flex: 1}, {Title: "ID", Width: idw}, {Title: "STATUS", Width: 12},
		{Title: "TASKS", Width: 5}, {Title: "CPUS", Width: 6}, {Title: "MEM", Width: 6}, {Title: "ROLES", Width: 10},
		{Title: "AGE", Width: 4}, {Title: "HOST", Width: 12, Flex: 1},
	}}
	for _, f := range fs {
		t.Rows = append(t.Rows, []view.Cell{view.Plain(f.Name), view.Plain(ui.ShortID(string(f.ID), idw)), ui.Connected(th, f),
			view.Plain(fmt.Sprint(f.ActiveTasks)), view.Plain(ui.Amount(f.UsedResources, "cpus")), view.Plain(ui.Amount(f.UsedResources, "mem")),
			view.Plain(strings.Join(f.Roles, ",")), view.Plain(ui.Age(now, ui.Seconds(f.RegisteredTime))), view.Plain(f.Hostname)})
	}
	lines = append(lines, ui.Lines(t.Render(th, width, height-len(lines)))...)
	return ui.Block(lines, width, height)
}

// renderDetail draws one framework.
func (p *Page) renderDetail(width, height int) string {
	th := p.env.Theme
	st := p.env.Cluster
	f, ok := st.Framework(p.detail)
	if !ok {
		return ui.Block([]string{th.Muted.Render("The framework is gone from the cluster (esc returns).")}, width, height)
	}
	now := p.env.Time()
	conn := ui.Connected(th, f)
	lines := []string{th.Title.Render("Framework "+f.Name) + "  " + conn.Style.Render(conn.Text), ""}
	pairs := [][2]string{{"id", string(f.ID)}, {"roles", strings.Join(f.Roles, ", ")}, {"principal", f.Principal},
		{"host", f.Hostname}, {"web ui", f.WebuiURL},
		{"registered", ui.Age(now, ui.Seconds(f.RegisteredTime)) + " ago"},
		{"failover", fmt.Sprintf("%gs (how long its tasks outlive a disconnection)", f.FailoverTimeout)},
	}
	if f.DisconnectedTime != 0 {
		pairs = append(pairs, [2]string{"disconnected", ui.Age(now, ui.Seconds(f.DisconnectedTime)) + " ago"})
	}
	pairs = append(pairs, [2]string{"used", f.UsedResources.String()}, [2]string{"offered", f.OfferedResources.String()})
	if len(f.Labels) > 0 {
		var ls []string
		for _, k := range slices.Sorted(maps.Keys(f.Labels)) {
			ls = append(ls, k+"="+f.Labels[k])
		}
		pairs = append(pairs, [2]string{"labels", strings.Join(ls, " ")})
	}
	lines = append(lines, ui.KV(th, pairs)...)

	counts := map[protocol.TaskState]int{}
	for _, t := range st.Tasks() {
		if t.FrameworkID == f.ID {
			counts[t.State]++
		}
	}
	lines = append(lines, "", ui.Heading(th, "Tasks", fmt.Sprintf("%d active", f.ActiveTasks)))
	if len(counts) == 0 {
		lines = append(lines, th.Muted.Render(" none"))
	}
	states := slices.SortedFunc(maps.Keys(counts), func(a, b protocol.TaskState) int { return cmp.Compare(a, b) })
	var parts []string
	for _, s := range states {
		parts = append(parts, ui.StateStyle(th, s).Render(cluster.StateName(s))+" "+fmt.Sprint(counts[s]))
	}
	if len(parts) > 0 {
		lines = append(lines, " "+strings.Join(parts, "  "))
	}
	return ui.Block(lines, width, height)
}
