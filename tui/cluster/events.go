package cluster

import (
	"strings"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// Event is a recent event, summarised for people.
type Event struct {
	Time time.Time
	Type protocol.ClusterEventType
	// Text says what happened ("web.1 TASK_RUNNING on host-1").
	Text string
	// Bad marks failures (a task failed or was lost, an agent unreachable).
	Bad bool
}

// Events are the latest events (at most MaxEvents), oldest first. The
// slice is shared: do not change it.
func (s *Store) Events() []Event { return s.events }

// record remembers ev (after it was applied, so names resolve).
func (s *Store) record(ev protocol.ClusterEvent) {
	e := Event{Time: time.Unix(0, int64(ev.Timestamp*1e9)), Type: ev.Type}
	switch {
	case ev.Type == protocol.EvSubscribed:
		return
	case ev.Agent != nil:
		e.Text = strings.TrimSpace(ev.Agent.Hostname + " " + string(ev.Agent.Status))
		e.Bad = ev.Agent.Status == protocol.AgentUnreachable
		switch ev.Type {
		case protocol.EvAgentAdded:
			e.Text = ev.Agent.Hostname + " registered"
		case protocol.EvAgentRemoved:
			e.Text = ev.Agent.Hostname + " removed"
			e.Bad = true
		}
	case ev.Framework != nil:
		e.Text = ev.Framework.Name
		switch {
		case ev.Type == protocol.EvFrameworkAdded:
			e.Text += " subscribed"
		case ev.Type == protocol.EvFrameworkRemoved:
			e.Text += " removed"
		case ev.Framework.Connected:
			e.Text += " connected"
		default:
			e.Text += " disconnected"
			e.Bad = true
		}
	case ev.Task != nil:
		t := ev.Task
		e.Text = string(t.ID) + " " + StateName(t.State)
		if a, ok := s.agents[t.AgentID]; ok && a.Hostname != "" {
			e.Text += " on " + a.Hostname
		}
		if ev.Status != nil && ev.Status.Message != "" && t.State.Terminal() {
			e.Text += ": " + ev.Status.Message
		}
		e.Bad = Failed(t.State)
	default:
		return
	}
	if e.Time.IsZero() || ev.Timestamp == 0 {
		e.Time = time.Time{}
	}
	if len(s.events) >= MaxEvents {
		copy(s.events, s.events[1:])
		s.events = s.events[:MaxEvents-1]
	}
	s.events = append(s.events, e)
}

// StateName is a task state without its TASK_ prefix ("RUNNING").
func StateName(st protocol.TaskState) string {
	return strings.TrimPrefix(string(st), "TASK_")
}

// Failed reports whether a task in state st ended badly.
func Failed(st protocol.TaskState) bool {
	switch st {
	case protocol.TaskFailed, protocol.TaskError, protocol.TaskLost, protocol.TaskDropped,
		protocol.TaskGone, protocol.TaskGoneByOperator, protocol.TaskUnreachable:
		return true
	}
	return false
}
