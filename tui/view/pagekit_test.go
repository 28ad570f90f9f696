package view

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

func TestTableFitsAndDropsColumns(t *testing.T) {
	tb := Table{
		Columns: []Column{{Title: "ID", Width: 10, Flex: 1}, {Title: "STATE", Width: 8}, {Title: "NOTE", Width: 30}},
		Cursor:  4,
	}
	for i := range 6 {
		tb.Rows = append(tb.Rows, []Cell{Plain(strings.Repeat("x", i+8)), Styled("RUNNING", NewTheme(false).OK), Plain("n")})
	}
	th := NewTheme(true)
	out := tb.Render(th, 40, 4)
	lines := strings.Split(out, "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4 (header and 3 rows)", len(lines))
	}
	for _, l := range lines {
		if w := ansi.StringWidth(l); w > 40 {
			t.Errorf("line %q is %d wide", ansi.Strip(l), w)
		}
	}
	if strings.Contains(out, "NOTE") {
		t.Errorf("NOTE does not fit in 40 cells but is shown:\n%s", ansi.Strip(out))
	}
	if got := ansi.Strip(lines[3]); !strings.HasPrefix(got, "xxxxxxxxxxxx") {
		t.Errorf("the cursor's row (5th) is not the last shown: %q", got)
	}
	if !strings.Contains(lines[3], "\x1b[7m") {
		t.Errorf("the selected row is not reversed in the plain theme: %q", lines[3])
	}
}

func TestRefresherOneInFlight(t *testing.T) {
	var r Refresher
	if !r.Want() || r.Want() {
		t.Fatal("Want arms one timer at a time")
	}
	if !r.Fired() {
		t.Fatal("the timer firing does not start a fetch")
	}
	if r.Now() || r.Want() && r.Fired() {
		t.Fatal("a fetch started while one is in flight")
	}
	if !r.Done() {
		t.Fatal("the asks meanwhile do not start one fetch when the first ends")
	}
	if r.Done() {
		t.Fatal("two fetches after the asks meanwhile")
	}
}

func TestFrameworkFilter(t *testing.T) {
	f := FrameworkFilter{Name: "cron"}
	sub := protocol.ClusterEvent{Type: protocol.EvSubscribed, State: &protocol.State{Frameworks: []protocol.Framework{
		{ID: "S", Name: "services", Connected: true}, {ID: "C2", Name: "cron-dev", Connected: true}, {ID: "C", Name: "cron", Connected: true},
	}}}
	if !f.Concerns(sub) || f.ID() != "C" {
		t.Fatalf("after SUBSCRIBED: id %q, want C", f.ID())
	}
	task := func(fw protocol.FrameworkID) protocol.ClusterEvent {
		return protocol.ClusterEvent{Type: protocol.EvTaskUpdated, Task: &protocol.Task{ID: "t", FrameworkID: fw}}
	}
	if f.Concerns(task("S")) || !f.Concerns(task("C2")) || !f.Concerns(task("C")) {
		t.Error("task events: only cron's frameworks concern the filter")
	}
	gone := protocol.ClusterEvent{Type: protocol.EvFrameworkRemoved, Framework: &protocol.Framework{ID: "C", Name: "cron"}}
	if !f.Concerns(gone) || f.ID() != "C2" || f.Concerns(task("C")) {
		t.Errorf("after cron was removed: id %q", f.ID())
	}
}
