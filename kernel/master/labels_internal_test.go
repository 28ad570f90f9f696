package master

import (
	"testing"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// TestTaskLabelsWithHookLabels: a task's view has the labels its agent's
// launch hooks added (from its latest update carrying some), and its own
// labels win on a conflict.
func TestTaskLabelsWithHookLabels(t *testing.T) {
	tk := &task{info: protocol.TaskInfo{TaskID: "t1", Labels: map[string]string{"team": "web", "tier": "own"}}}
	if got := tk.labels(); len(got) != 2 || got["team"] != "web" {
		t.Fatalf("no hook labels: %v", got)
	}
	tk.statuses = []protocol.TaskStatus{
		{State: protocol.TaskRunning, Labels: map[string]string{"echo": "seen", "tier": "hook"}},
		{State: protocol.TaskLost}, // the master's own update: no labels
	}
	got := tk.labels()
	if got["echo"] != "seen" || got["tier"] != "own" || got["team"] != "web" || len(got) != 3 {
		t.Fatalf("labels = %v", got)
	}
	if tk.info.Labels["echo"] != "" {
		t.Fatal("the task's own labels were changed")
	}
	if v := tk.buildView(); v.Labels["echo"] != "seen" {
		t.Fatalf("view labels = %v", v.Labels)
	}
}

// TestStatusLabelsValidated: status labels are bounded and need keys.
func TestStatusLabelsValidated(t *testing.T) {
	many := map[string]string{}
	for i := 0; i <= protocol.MaxStatusLabels; i++ {
		many[string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
	}
	for _, labels := range []map[string]string{many, {"": "x"}, {"k": string(make([]byte, protocol.MaxStatusLabelBytes))}} {
		u := protocol.StatusUpdate{FrameworkID: "F", AgentID: "A", Status: protocol.TaskStatus{TaskID: "t", State: protocol.TaskRunning, UUID: "u", Labels: labels}}
		if err := u.Validate(); err == nil {
			t.Errorf("labels %d accepted", len(labels))
		}
	}
}
