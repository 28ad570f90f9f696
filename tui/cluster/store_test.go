package cluster

import (
	"fmt"
	"testing"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

func TestApply(t *testing.T) {
	s := New()
	if s.Synced() {
		t.Fatal("synced before SUBSCRIBED")
	}
	st := protocol.State{Agents: []protocol.Agent{{ID: "a1", Hostname: "h1", Status: protocol.AgentActive}}}
	if c := s.Apply(protocol.ClusterEvent{Type: protocol.EvSubscribed, State: &st}); !c.Has(Agents|Tasks) || !s.Synced() {
		t.Fatalf("SUBSCRIBED: change %b, synced %v", c, s.Synced())
	}
	add := protocol.ClusterEvent{Type: protocol.EvTaskAdded, Timestamp: 10, Task: &protocol.Task{ID: "t1", FrameworkID: "f1", AgentID: "a1",
		State: protocol.TaskStaging, Resources: resources.MustParse("cpus:1")}}
	if c := s.Apply(add); !c.Has(Tasks | Usage) {
		t.Errorf("TASK_ADDED change %b", c)
	}
	up := func(id protocol.TaskID, st protocol.TaskState) Change {
		return s.Apply(protocol.ClusterEvent{Type: protocol.EvTaskUpdated, Timestamp: 11, Task: &protocol.Task{ID: id, FrameworkID: "f1", AgentID: "a1", State: st},
			Status: &protocol.TaskStatus{TaskID: id, State: st, Timestamp: 11}})
	}
	if c := up("t1", protocol.TaskRunning); c.Has(Usage) {
		t.Errorf("RUNNING asks for a usage refresh: %b", c)
	}
	tk, _ := s.Task(TaskKey{"f1", "t1"})
	if tk.State != protocol.TaskRunning || !tk.Resources.Equal(resources.MustParse("cpus:1")) || len(tk.Statuses) != 1 {
		t.Errorf("task after update: %+v", tk)
	}
	if c := up("t1", protocol.TaskKilled); !c.Has(Usage) {
		t.Errorf("KILLED: change %b, want Usage", c)
	}
	// An update of a task the store never saw adds it.
	up("t0", protocol.TaskRunning)
	if ts := s.Tasks(); len(ts) != 2 || ts[0].ID != "t0" {
		t.Errorf("tasks %+v", ts)
	}
	if evs := s.Events(); len(evs) != 4 || evs[3].Text != "t0 RUNNING on h1" {
		t.Errorf("events %+v", evs)
	}
	// Usage refreshes never add or remove agents.
	s.SetUsage([]protocol.Agent{{ID: "a1", ActiveTasks: 7}, {ID: "a2"}}, nil)
	if a, _ := s.Agent("a1"); a.ActiveTasks != 7 || a.Hostname != "h1" || len(s.Agents()) != 1 {
		t.Errorf("agents after SetUsage: %+v", s.Agents())
	}
}

func TestEndedTasksAreBounded(t *testing.T) {
	s := New()
	s.Reset(protocol.State{})
	s.Apply(protocol.ClusterEvent{Type: protocol.EvTaskAdded, Task: &protocol.Task{ID: "live", FrameworkID: "f", State: protocol.TaskRunning}})
	for i := range MaxEnded + 10 {
		s.Apply(protocol.ClusterEvent{Type: protocol.EvTaskAdded, Task: &protocol.Task{ID: protocol.TaskID(fmt.Sprintf("e%05d", i)), FrameworkID: "f", State: protocol.TaskFinished}})
	}
	if n := len(s.Tasks()); n != MaxEnded+1 {
		t.Errorf("%d tasks kept, want %d ended + 1 running", n, MaxEnded)
	}
	if _, ok := s.Task(TaskKey{"f", "e00000"}); ok {
		t.Error("the oldest ended task is still kept")
	}
	if _, ok := s.Task(TaskKey{"f", "live"}); !ok {
		t.Error("the running task was forgotten")
	}
	if len(s.Events()) != MaxEvents {
		t.Errorf("%d events kept, want %d", len(s.Events()), MaxEvents)
	}
}
