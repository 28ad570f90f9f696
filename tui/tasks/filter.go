package tasks

import (
	"strings"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui/cluster"
)

// stateFilter is one step of the state filter's cycle (key s).
type stateFilter struct {
	name  string
	match func(protocol.TaskState) bool
}

func is(states ...protocol.TaskState) func(protocol.TaskState) bool {
	return func(s protocol.TaskState) bool {
		for _, x := range states {
			if s == x {
				return true
			}
		}
		return false
	}
}

// stateFilters is the state filter's cycle; the first matches every task.
var stateFilters = [...]stateFilter{
	{"all", func(protocol.TaskState) bool { return true }},
	{"active", func(s protocol.TaskState) bool { return !s.Terminal() }},
	{"running", is(protocol.TaskRunning)},
	{"starting", is(protocol.TaskStaging, protocol.TaskStarting)},
	{"killing", is(protocol.TaskKilling)},
	{"ended", protocol.TaskState.Terminal},
	{"finished", is(protocol.TaskFinished)},
	{"killed", is(protocol.TaskKilled)},
	{"failed", cluster.Failed},
}

// filter selects the tasks shown.
type filter struct {
	state     int // index in stateFilters
	framework protocol.FrameworkID
	text      string
}

func (f filter) empty() bool { return f.state == 0 && f.framework == "" && f.text == "" }

func (f filter) match(st *cluster.Store, t protocol.Task) bool {
	if !stateFilters[f.state].match(t.State) {
		return false
	}
	if f.framework != "" && t.FrameworkID != f.framework {
		return false
	}
	if f.text == "" {
		return true
	}
	needle := strings.ToLower(f.text)
	hay := []string{string(t.ID), t.Name, string(t.State), string(t.AgentID)}
	if a, ok := st.Agent(t.AgentID); ok {
		hay = append(hay, a.Hostname)
	}
	if fw, ok := st.Framework(t.FrameworkID); ok {
		hay = append(hay, fw.Name)
	}
	for _, h := range hay {
		if strings.Contains(strings.ToLower(h), needle) {
			return true
		}
	}
	return false
}

// nextFramework is the framework filter after cur: all, then each
// framework in turn, then all again.
func nextFramework(fs []protocol.Framework, cur protocol.FrameworkID) protocol.FrameworkID {
	if len(fs) == 0 {
		return ""
	}
	if cur == "" {
		return fs[0].ID
	}
	for i, f := range fs {
		if f.ID == cur {
			if i+1 < len(fs) {
				return fs[i+1].ID
			}
			return ""
		}
	}
	return ""
}
