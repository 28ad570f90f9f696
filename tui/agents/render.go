package agents

import (
	"fmt"
	"strings"

	"github.com/cairn-dc/cairn/kernel/protocol"
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
	as := st.Agents()
	lines := []string{ui.Heading(th, "Agents", fmt.Sprintf("%d", len(as))), ""}
	if len(as) == 0 {
		lines = append(lines, th.Muted.Render("No agent registered yet: start one with cairn agent (or cairn up)."))
		return ui.Block(lines, width, height)
	}
	cursor := p.sel.Index(len(as), func(i int) string { return string(as[i].ID) })
	lines = append(lines, ui.Lines(ui.AgentTable(th, as, cursor, width).Render(th, width, height-len(lines)))...)
	return ui.Block(lines, width, height)
}

// renderDetail draws one agent: identity, resources, attributes, tasks.
func (p *Page) renderDetail(width, height int) string {
	th := p.env.Theme
	st := p.env.Cluster
	a, ok := st.Agent(p.detail)
	if !ok {
		return ui.Block([]string{th.Muted.Render("The agent is gone from the cluster (esc returns).")}, width, height)
	}
	status := ui.AgentStatus(th, a.Status)
	now := p.env.Time()
	lines := []string{th.Title.Render("Agent "+a.Hostname) + "  " + status.Style.Render(status.Text), ""}
	pairs := [][2]string{{"id", string(a.ID)}, {"address", a.Address}, {"url", a.URL}, {"version", a.Version},
		{"registered", ui.Age(now, ui.Seconds(a.RegisteredTime)) + " ago"}}
	if a.UnreachableTime != 0 {
		pairs = append(pairs, [2]string{"unreachable", ui.Age(now, ui.Seconds(a.UnreachableTime)) + " ago"})
	}
	attrs := a.Attributes.String()
	if attrs == "" {
		attrs = th.Muted.Render("none")
	}
	pairs = append(pairs, [2]string{"attributes", attrs})
	lines = append(lines, ui.KV(th, pairs)...)
	lines = append(lines, "", th.Title.Render("Resources"))
	lines = append(lines, resourceTable(th, a, width)...)
	ts := st.TasksOn(a.ID)
	lines = append(lines, "", ui.Heading(th, "Tasks on "+a.Hostname, fmt.Sprintf("%d", len(ts))))
	if len(ts) == 0 {
		lines = append(lines, th.Muted.Render(" none"))
		return ui.Block(lines, width, height)
	}
	cursor := p.taskSel.Index(len(ts), func(i int) string { return string(ts[i].FrameworkID) + "/" + string(ts[i].ID) })
	t := view.Table{Cursor: cursor, Columns: []view.Column{
		{Title: "ID", Width: 20, Flex: 2}, {Title: "NAME", Width: 10, Flex: 1}, {Title: "STATE", Width: 11},
		{Title: "FRAMEWORK", Width: 10}, {Title: "CPUS", Width: 5}, {Title: "MEM", Width: 6},
	}}
	for _, tk := range ts {
		fw := string(tk.FrameworkID)
		if f, ok := st.Framework(tk.FrameworkID); ok {
			fw = f.Name
		}
		t.Rows = append(t.Rows, []view.Cell{view.Plain(string(tk.ID)), view.Plain(tk.Name), ui.TaskState(th, tk.State),
			view.Plain(fw), view.Plain(ui.Amount(tk.Resources, "cpus")), view.Plain(ui.Amount(tk.Resources, "mem"))})
	}
	lines = append(lines, ui.Lines(t.Render(th, width, max(height-len(lines), 2)))...)
	return ui.Block(lines, width, height)
}

// resourceTable draws each resource's total, used, offered and free.
func resourceTable(th view.Theme, a protocol.Agent, width int) []string {
	t := view.Table{Cursor: -1, Columns: []view.Column{
		{Title: "NAME", Width: 6}, {Title: "TOTAL", Width: 8}, {Title: "USED", Width: 8}, {Title: "OFFERED", Width: 8},
		{Title: "FREE", Width: 8}, {Title: "", Width: 10, Flex: 1},
	}}
	for _, name := range []string{"cpus", "mem", "disk", "gpus"} {
		tot := ui.Scalar(a.Resources, name)
		if tot == 0 && name == "gpus" {
			continue
		}
		used, off := ui.Scalar(a.UsedResources, name), ui.Scalar(a.OfferedResources, name)
		f := ui.MB
		if name == "cpus" || name == "gpus" {
			f = ui.CPUs
		}
		t.Rows = append(t.Rows, []view.Cell{view.Plain(name), view.Plain(f(tot)), view.Plain(f(used)), view.Plain(f(off)),
			view.Plain(f(max(tot-used-off, 0))), view.Styled(ui.PlainBar(used, tot, 20), th.BarFull)})
	}
	var other []string
	for _, r := range a.Resources {
		if !strings.Contains(" cpus mem disk gpus ", " "+r.Name+" ") {
			other = append(other, r.String())
		}
	}
	lines := ui.Lines(t.Render(th, width, len(t.Rows)+1))
	if len(other) > 0 {
		lines = append(lines, " "+th.Muted.Render("also ")+strings.Join(other, " "))
	}
	return lines
}
