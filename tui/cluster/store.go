// Package cluster keeps the TUI's picture of the cluster: the full state of
// the event stream's SUBSCRIBED event, changed by every later event. The
// TUI's shell owns one Store and applies events to it before its pages see
// them; pages only read it. A Store is not safe for concurrent use: the
// bubbletea program's Update and View (one goroutine) use it, commands
// never do.
package cluster

import (
	"cmp"
	"iter"
	"maps"
	"slices"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// Limits of what a Store remembers.
const (
	// MaxEnded is how many ended tasks are kept (the oldest are forgotten
	// first); running ones are always kept.
	MaxEnded = 1000
	// MaxEvents is how many recent events Events returns.
	MaxEvents = 100
	// maxStatuses is how many status updates are kept per task.
	maxStatuses = 10
)

// TaskKey identifies a task: task IDs are unique per framework.
type TaskKey struct {
	Framework protocol.FrameworkID
	Task      protocol.TaskID
}

// KeyOf is t's key.
func KeyOf(t protocol.Task) TaskKey { return TaskKey{Framework: t.FrameworkID, Task: t.ID} }

// Change says what an Apply changed.
type Change uint8

const (
	// Agents: an agent was added, changed or removed.
	Agents Change = 1 << iota
	// Frameworks: a framework was added, changed or removed.
	Frameworks
	// Tasks: a task was added or changed state.
	Tasks
	// Usage: agents' and frameworks' used resources and task counts are
	// stale (a task was added or ended); refresh them with SetAgents and
	// SetFrameworks (the events do not carry them).
	Usage
)

// Has reports whether c includes all of o.
func (c Change) Has(o Change) bool { return c&o == o }

// Store is the cluster as the event stream describes it.
type Store struct {
	synced     bool
	master     protocol.MasterInfo
	agents     map[protocol.AgentID]protocol.Agent
	frameworks map[protocol.FrameworkID]protocol.Framework
	tasks      map[TaskKey]*protocol.Task
	ended      []TaskKey // in the order the tasks ended, for MaxEnded
	events     []Event   // ring of the latest MaxEvents
	version    uint64

	cache cache // sorted lists, rebuilt when version moved
}

type cache struct {
	agents     sorted[protocol.Agent]
	frameworks sorted[protocol.Framework]
	tasks      sorted[protocol.Task]
}

// sorted is a sorted list of a map's values, made again when the store's
// version moved.
type sorted[T any] struct {
	at   uint64
	list []T
}

// get is the list at version: the values (n of them) sorted by compare.
func (c *sorted[T]) get(version uint64, n int, values iter.Seq[T], compare func(a, b T) int) []T {
	if c.list == nil || c.at != version {
		l := make([]T, 0, n)
		for v := range values {
			l = append(l, v)
		}
		slices.SortFunc(l, compare)
		c.list, c.at = l, version
	}
	return c.list
}

// New returns an empty Store (Synced is false until a SUBSCRIBED event).
func New() *Store {
	return &Store{
		agents:     map[protocol.AgentID]protocol.Agent{},
		frameworks: map[protocol.FrameworkID]protocol.Framework{},
		tasks:      map[TaskKey]*protocol.Task{},
	}
}

// Synced reports whether the store holds a full state (a SUBSCRIBED event
// arrived).
func (s *Store) Synced() bool { return s.synced }

// Version grows with every change; pages compare it to cache what they
// derive from the store.
func (s *Store) Version() uint64 { return s.version }

// Master is the leading master's identity.
func (s *Store) Master() protocol.MasterInfo { return s.master }

// Reset replaces everything with st (a SUBSCRIBED event's state).
func (s *Store) Reset(st protocol.State) {
	s.synced = true
	s.master = st.Master
	clear(s.agents)
	clear(s.frameworks)
	clear(s.tasks)
	s.ended = s.ended[:0]
	for _, a := range st.Agents {
		s.agents[a.ID] = a
	}
	for _, f := range st.Frameworks {
		s.frameworks[f.ID] = f
	}
	for i := range st.Tasks {
		t := st.Tasks[i]
		s.tasks[KeyOf(t)] = &t
		if t.State.Terminal() {
			s.ended = append(s.ended, KeyOf(t))
		}
	}
	s.trimEnded()
	s.version++
}

// SetUsage refreshes the used and offered resources and task counts of
// the known agents and frameworks from GET /v1/agents and /v1/frameworks
// answers. Which agents and frameworks exist, and their status, stay as
// the events said: an answer may be older than the latest event.
func (s *Store) SetUsage(as []protocol.Agent, fs []protocol.Framework) {
	for _, a := range as {
		if cur, ok := s.agents[a.ID]; ok {
			cur.UsedResources, cur.OfferedResources, cur.ActiveTasks = a.UsedResources, a.OfferedResources, a.ActiveTasks
			s.agents[a.ID] = cur
		}
	}
	for _, f := range fs {
		if cur, ok := s.frameworks[f.ID]; ok {
			cur.UsedResources, cur.OfferedResources, cur.ActiveTasks = f.UsedResources, f.OfferedResources, f.ActiveTasks
			s.frameworks[f.ID] = cur
		}
	}
	s.version++
}

// Apply changes the store by one event and reports what changed.
func (s *Store) Apply(ev protocol.ClusterEvent) Change {
	var c Change
	switch ev.Type {
	case protocol.EvSubscribed:
		if ev.State == nil {
			return 0
		}
		s.Reset(*ev.State)
		c = Agents | Frameworks | Tasks
	case protocol.EvAgentAdded, protocol.EvAgentUpdated:
		if ev.Agent == nil {
			return 0
		}
		s.agents[ev.Agent.ID] = *ev.Agent
		c = Agents
	case protocol.EvAgentRemoved:
		if ev.Agent == nil {
			return 0
		}
		delete(s.agents, ev.Agent.ID)
		c = Agents
	case protocol.EvFrameworkAdded, protocol.EvFrameworkUpdated:
		if ev.Framework == nil {
			return 0
		}
		s.frameworks[ev.Framework.ID] = *ev.Framework
		c = Frameworks
	case protocol.EvFrameworkRemoved:
		if ev.Framework == nil {
			return 0
		}
		delete(s.frameworks, ev.Framework.ID)
		c = Frameworks | Usage
	case protocol.EvTaskAdded:
		if ev.Task == nil {
			return 0
		}
		t := *ev.Task
		s.tasks[KeyOf(t)] = &t
		if t.State.Terminal() {
			s.ended = append(s.ended, KeyOf(t))
			s.trimEnded()
		}
		c = Tasks | Usage
	case protocol.EvTaskUpdated:
		if ev.Task == nil {
			return 0
		}
		c = s.updateTask(*ev.Task, ev.Status)
	default:
		return 0
	}
	s.version++
	s.record(ev)
	return c
}

// updateTask applies a TASK_UPDATED event: identity and new state (no
// resources), plus the status update.
func (s *Store) updateTask(u protocol.Task, st *protocol.TaskStatus) Change {
	k := KeyOf(u)
	t, ok := s.tasks[k]
	if !ok {
		// Its TASK_ADDED came before this subscription's state; keep what
		// the update says.
		t = &u
		t.Statuses = nil
		s.tasks[k] = t
	}
	wasEnded := t.State.Terminal()
	t.State, t.Healthy, t.AgentID = u.State, u.Healthy, cmp.Or(u.AgentID, t.AgentID)
	if u.Name != "" {
		t.Name = u.Name
	}
	if st != nil {
		t.Statuses = append(t.Statuses, *st)
		if n := len(t.Statuses); n > maxStatuses {
			t.Statuses = slices.Clone(t.Statuses[n-maxStatuses:])
		}
	}
	c := Tasks
	if t.State.Terminal() && !wasEnded {
		s.ended = append(s.ended, k)
		s.trimEnded()
		c |= Usage
	}
	return c
}

// trimEnded forgets the oldest ended tasks beyond MaxEnded.
func (s *Store) trimEnded() {
	for len(s.ended) > MaxEnded {
		k := s.ended[0]
		s.ended = s.ended[1:]
		if t, ok := s.tasks[k]; ok && t.State.Terminal() {
			delete(s.tasks, k)
		}
	}
	if cap(s.ended) > 4*MaxEnded {
		s.ended = slices.Clone(s.ended)
	}
}

// Agent returns the agent with id.
func (s *Store) Agent(id protocol.AgentID) (protocol.Agent, bool) {
	a, ok := s.agents[id]
	return a, ok
}

// Framework returns the framework with id.
func (s *Store) Framework(id protocol.FrameworkID) (protocol.Framework, bool) {
	f, ok := s.frameworks[id]
	return f, ok
}

// Task returns the task with key k.
func (s *Store) Task(k TaskKey) (protocol.Task, bool) {
	t, ok := s.tasks[k]
	if !ok {
		return protocol.Task{}, false
	}
	return *t, true
}

// Agents are the agents by hostname, then ID. The slice is shared: do not
// change it.
func (s *Store) Agents() []protocol.Agent {
	return s.cache.agents.get(s.version, len(s.agents), maps.Values(s.agents), func(a, b protocol.Agent) int {
		return cmp.Or(cmp.Compare(a.Hostname, b.Hostname), cmp.Compare(a.ID, b.ID))
	})
}

// Frameworks are the frameworks by name, then ID. The slice is shared: do
// not change it.
func (s *Store) Frameworks() []protocol.Framework {
	return s.cache.frameworks.get(s.version, len(s.frameworks), maps.Values(s.frameworks), func(a, b protocol.Framework) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
}

// Tasks are the tasks by ID, then framework ID. The slice is shared: do
// not change it.
func (s *Store) Tasks() []protocol.Task {
	tasks := func(yield func(protocol.Task) bool) {
		for _, t := range s.tasks {
			if !yield(*t) {
				return
			}
		}
	}
	return s.cache.tasks.get(s.version, len(s.tasks), tasks, func(a, b protocol.Task) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.FrameworkID, b.FrameworkID))
	})
}

// TasksOn are the tasks on agent id, running ones first, then by ID.
func (s *Store) TasksOn(id protocol.AgentID) []protocol.Task {
	var l []protocol.Task
	for _, t := range s.Tasks() {
		if t.AgentID == id {
			l = append(l, t)
		}
	}
	slices.SortStableFunc(l, func(a, b protocol.Task) int {
		return cmp.Compare(boolInt(a.State.Terminal()), boolInt(b.State.Terminal()))
	})
	return l
}

// TaskStates counts the tasks in each state.
func (s *Store) TaskStates() map[protocol.TaskState]int {
	m := map[protocol.TaskState]int{}
	for _, t := range s.tasks {
		m[t.State]++
	}
	return m
}

// LastUpdate is when t last changed state, or the zero time when no status
// says.
func LastUpdate(t protocol.Task) time.Time {
	if n := len(t.Statuses); n > 0 {
		return t.Statuses[n-1].Time()
	}
	return time.Time{}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
