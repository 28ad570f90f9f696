package ui

import (
	"fmt"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui/view"
)

// IDWidth is how wide an ID column is in a table width cells wide when
// the other columns take others: whole ULIDs (26) when they fit, at
// least 13 (ShortID's head, "…", tail).
func IDWidth(width, others int) int { return min(max(width-others, 13), 26) }

// AgentTable is a table of agents (cursor -1: no selection) for a width:
// ID, hostname, status, cpus/mem/disk used of total, tasks, attributes.
func AgentTable(th view.Theme, as []protocol.Agent, cursor, width int) view.Table {
	idw := IDWidth(width, 62)
	t := view.Table{Cursor: cursor, Columns: []view.Column{
		{Title: "ID", Width: idw}, {Title: "HOSTNAME", Width: 12, Flex: 2}, {Title: "STATUS", Width: 11},
		{Title: "CPUS", Width: 9}, {Title: "MEM", Width: 11}, {Title: "TASKS", Width: 5},
		{Title: "DISK", Width: 11}, {Title: "ATTRIBUTES", Width: 12, Flex: 1},
	}}
	for _, a := range as {
		t.Rows = append(t.Rows, []view.Cell{
			view.Plain(ShortID(string(a.ID), idw)), view.Plain(a.Hostname), AgentStatus(th, a.Status),
			view.Plain(UsedOf(a.UsedResources, a.Resources, "cpus")), view.Plain(UsedOf(a.UsedResources, a.Resources, "mem")),
			view.Plain(fmt.Sprint(a.ActiveTasks)), view.Plain(UsedOf(a.UsedResources, a.Resources, "disk")),
			view.Plain(a.Attributes.String()),
		})
	}
	return t
}
