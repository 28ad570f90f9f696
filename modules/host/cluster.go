package host

import (
	"cmp"
	"context"
	"log/slog"
	"maps"
	"net"
	"reflect"
	"slices"
	"sync"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/modules/sdk"
)

// cluster is the host's view of the cluster, built from the master's event
// stream, and the fan-out of its changes to the watchers. Every watcher
// subscribes: it gets a snapshot and, from that moment on, every change, on
// its own buffered channel. A watcher that falls more than subBuffer
// events behind has its channel closed: it resubscribes with a fresh
// snapshot, so a slow module never slows the host or the others.
type cluster struct {
	log       *slog.Logger
	subBuffer int

	mu         sync.Mutex
	ready      chan struct{} // closed at the first snapshot
	synced     bool
	leader     string
	agents     map[string]sdk.Agent
	frameworks map[string]sdk.Framework
	tasks      map[taskKey]sdk.Task
	subs       map[*subscription]struct{}
}

// taskKey identifies a task: ids are unique within a framework.
type taskKey struct{ framework, task string }

type subscription struct {
	events chan sdk.Event
	closed bool // guarded by cluster.mu
}

func newCluster(log *slog.Logger, subBuffer int) *cluster {
	return &cluster{log: log, subBuffer: subBuffer, ready: make(chan struct{}),
		agents: map[string]sdk.Agent{}, frameworks: map[string]sdk.Framework{}, tasks: map[taskKey]sdk.Task{},
		subs: map[*subscription]struct{}{}}
}

// subscribe waits for the first snapshot, then returns the current one and
// a subscription to the changes after it.
func (c *cluster) subscribe(ctx context.Context) (sdk.Snapshot, *subscription, error) {
	select {
	case <-c.ready:
	case <-ctx.Done():
		return sdk.Snapshot{}, nil, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	sub := &subscription{events: make(chan sdk.Event, c.subBuffer)}
	c.subs[sub] = struct{}{}
	return c.snapshotLocked(), sub, nil
}

func (c *cluster) unsubscribe(sub *subscription) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(sub)
}

func (c *cluster) dropLocked(sub *subscription) {
	if !sub.closed {
		sub.closed = true
		close(sub.events)
		delete(c.subs, sub)
	}
}

// snapshot is the current view; ok is false before the first snapshot.
func (c *cluster) snapshot() (sdk.Snapshot, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snapshotLocked(), c.synced
}

func (c *cluster) snapshotLocked() sdk.Snapshot {
	s := sdk.Snapshot{Leader: c.leader,
		Agents:     slices.Collect(maps.Values(c.agents)),
		Frameworks: slices.Collect(maps.Values(c.frameworks)),
		Tasks:      slices.Collect(maps.Values(c.tasks)),
	}
	slices.SortFunc(s.Agents, func(a, b sdk.Agent) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(s.Frameworks, func(a, b sdk.Framework) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(s.Tasks, func(a, b sdk.Task) int {
		return cmp.Or(cmp.Compare(a.FrameworkID, b.FrameworkID), cmp.Compare(a.ID, b.ID))
	})
	return s
}

func (c *cluster) broadcastLocked(ev sdk.Event) {
	for sub := range c.subs {
		select {
		case sub.events <- ev:
		default:
			c.log.Warn("a watcher fell behind the cluster's events: it gets a fresh snapshot", "buffer", c.subBuffer)
			c.dropLocked(sub)
		}
	}
}

// apply handles one event of the master's stream. SUBSCRIBED (with its
// state) replaces the view: the first time it makes the cluster ready;
// later (after a reconnection) the differences are broadcast as events.
func (c *cluster) apply(ev protocol.ClusterEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch ev.Type {
	case protocol.EvSubscribed:
		if ev.State != nil {
			c.resetLocked(*ev.State)
		}
	case protocol.EvAgentAdded, protocol.EvAgentUpdated:
		if ev.Agent == nil {
			return
		}
		if ev.Agent.Status == protocol.AgentRemoved {
			c.removeAgentLocked(string(ev.Agent.ID))
			return
		}
		a := convertAgent(ev.Agent)
		old, known := c.agents[a.ID]
		if known && reflect.DeepEqual(old, a) {
			return
		}
		c.agents[a.ID] = a
		typ := sdk.AgentAdded
		if known {
			typ = sdk.AgentUpdated
		}
		c.broadcastLocked(sdk.Event{Type: typ, Agent: &a})
	case protocol.EvAgentRemoved:
		if ev.Agent != nil {
			c.removeAgentLocked(string(ev.Agent.ID))
		}
	case protocol.EvFrameworkAdded, protocol.EvFrameworkUpdated:
		if ev.Framework == nil {
			return
		}
		f := convertFramework(ev.Framework)
		old, known := c.frameworks[f.ID]
		if known && reflect.DeepEqual(old, f) {
			return
		}
		c.frameworks[f.ID] = f
		typ := sdk.FrameworkAdded
		if known {
			typ = sdk.FrameworkUpdated
		}
		c.broadcastLocked(sdk.Event{Type: typ, Framework: &f})
	case protocol.EvFrameworkRemoved:
		if ev.Framework == nil {
			return
		}
		id := string(ev.Framework.ID)
		if f, ok := c.frameworks[id]; ok {
			delete(c.frameworks, id)
			c.broadcastLocked(sdk.Event{Type: sdk.FrameworkRemoved, Framework: &f})
		}
	case protocol.EvTaskAdded:
		if ev.Task != nil {
			c.updateTaskLocked(c.convertTask(ev.Task))
		}
	case protocol.EvTaskUpdated:
		if ev.Task == nil {
			return
		}
		// TASK_UPDATED carries the task's identity and new state only:
		// keep what the host knows of it (ports, labels).
		key := taskKey{string(ev.Task.FrameworkID), string(ev.Task.ID)}
		t, known := c.tasks[key]
		if !known {
			t = c.convertTask(ev.Task)
		}
		t.State = string(ev.Task.State)
		t.Health = convertHealth(ev.Task.Healthy)
		if ev.Status != nil && len(ev.Status.Labels) > 0 {
			// Labels the agent's launch hooks added (the task's own win).
			labels := maps.Clone(t.Labels)
			if labels == nil {
				labels = map[string]string{}
			}
			for k, v := range ev.Status.Labels {
				if _, own := labels[k]; !own {
					labels[k] = v
				}
			}
			t.Labels = labels
		}
		if ev.Task.AgentID != "" && string(ev.Task.AgentID) != t.AgentID {
			t.AgentID = string(ev.Task.AgentID)
			c.placeTaskLocked(&t)
		}
		c.updateTaskLocked(t)
	}
}

func (c *cluster) removeAgentLocked(id string) {
	if a, ok := c.agents[id]; ok {
		delete(c.agents, id)
		c.broadcastLocked(sdk.Event{Type: sdk.AgentRemoved, Agent: &a})
	}
}

// updateTaskLocked stores t (or forgets it when terminal) and broadcasts
// the change, if any.
func (c *cluster) updateTaskLocked(t sdk.Task) {
	key := taskKey{t.FrameworkID, t.ID}
	old, known := c.tasks[key]
	if t.Terminal() {
		if !known {
			return // never seen live: nothing to take back
		}
		delete(c.tasks, key)
	} else {
		if known && reflect.DeepEqual(old, t) {
			return
		}
		c.tasks[key] = t
	}
	c.broadcastLocked(sdk.Event{Type: sdk.TaskUpdated, Task: &t})
}

// resetLocked replaces the view with st. After the first time, it
// broadcasts what changed while the host was not listening.
func (c *cluster) resetLocked(st protocol.State) {
	agents := make(map[string]sdk.Agent, len(st.Agents))
	for i := range st.Agents {
		if st.Agents[i].Status != protocol.AgentRemoved {
			a := convertAgent(&st.Agents[i])
			agents[a.ID] = a
		}
	}
	frameworks := make(map[string]sdk.Framework, len(st.Frameworks))
	for i := range st.Frameworks {
		f := convertFramework(&st.Frameworks[i])
		frameworks[f.ID] = f
	}
	oldLeader, oldAgents, oldFrameworks, oldTasks := c.leader, c.agents, c.frameworks, c.tasks
	c.agents, c.frameworks, c.leader = agents, frameworks, st.Master.URL
	tasks := make(map[taskKey]sdk.Task, len(st.Tasks))
	for i := range st.Tasks {
		if !st.Tasks[i].State.Terminal() {
			t := c.convertTask(&st.Tasks[i])
			tasks[taskKey{t.FrameworkID, t.ID}] = t
		}
	}
	c.tasks = tasks
	if !c.synced {
		c.synced = true
		close(c.ready)
		c.log.Info("cluster state received from the master", "leader", c.leader,
			"agents", len(agents), "frameworks", len(frameworks), "tasks", len(tasks))
		return
	}
	// Tell the watchers what changed, in an order that keeps references
	// valid: the leader, new frameworks and agents, tasks, then what left.
	if oldLeader != c.leader {
		c.broadcastLocked(sdk.Event{Type: sdk.LeaderChanged, Leader: c.leader})
	}
	for _, id := range slices.Sorted(maps.Keys(frameworks)) {
		f := frameworks[id]
		if o, ok := oldFrameworks[id]; !ok {
			c.broadcastLocked(sdk.Event{Type: sdk.FrameworkAdded, Framework: &f})
		} else if !reflect.DeepEqual(o, f) {
			c.broadcastLocked(sdk.Event{Type: sdk.FrameworkUpdated, Framework: &f})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(agents)) {
		a := agents[id]
		if o, ok := oldAgents[id]; !ok {
			c.broadcastLocked(sdk.Event{Type: sdk.AgentAdded, Agent: &a})
		} else if !reflect.DeepEqual(o, a) {
			c.broadcastLocked(sdk.Event{Type: sdk.AgentUpdated, Agent: &a})
		}
	}
	for _, key := range sortedTaskKeys(tasks) {
		t := tasks[key]
		if o, ok := oldTasks[key]; !ok || !reflect.DeepEqual(o, t) {
			c.broadcastLocked(sdk.Event{Type: sdk.TaskUpdated, Task: &t})
		}
	}
	for _, key := range sortedTaskKeys(oldTasks) {
		if _, ok := tasks[key]; !ok {
			// Ended while the host was away (the master may have
			// forgotten it already): report it gone.
			t := oldTasks[key]
			if st, ok := findTask(st.Tasks, key); ok {
				t.State = string(st.State)
			} else {
				t.State = string(protocol.TaskGone)
			}
			c.broadcastLocked(sdk.Event{Type: sdk.TaskUpdated, Task: &t})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(oldAgents)) {
		if _, ok := agents[id]; !ok {
			a := oldAgents[id]
			c.broadcastLocked(sdk.Event{Type: sdk.AgentRemoved, Agent: &a})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(oldFrameworks)) {
		if _, ok := frameworks[id]; !ok {
			f := oldFrameworks[id]
			c.broadcastLocked(sdk.Event{Type: sdk.FrameworkRemoved, Framework: &f})
		}
	}
	c.log.Info("cluster state re-read from the master", "leader", c.leader,
		"agents", len(agents), "frameworks", len(frameworks), "tasks", len(tasks))
}

func findTask(tasks []protocol.Task, key taskKey) (protocol.Task, bool) {
	for _, t := range tasks {
		if string(t.FrameworkID) == key.framework && string(t.ID) == key.task {
			return t, true
		}
	}
	return protocol.Task{}, false
}

func sortedTaskKeys(m map[taskKey]sdk.Task) []taskKey {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b taskKey) int {
		return cmp.Or(cmp.Compare(a.framework, b.framework), cmp.Compare(a.task, b.task))
	})
	return keys
}

// ---- conversions from the operator API's types ----

func convertAgent(a *protocol.Agent) sdk.Agent {
	out := sdk.Agent{ID: string(a.ID), Hostname: a.Hostname, Address: a.Address,
		Active: a.Status != protocol.AgentUnreachable && a.Status != protocol.AgentRemoved}
	if len(a.Attributes) > 0 {
		out.Attributes = make(map[string]string, len(a.Attributes))
		for _, at := range a.Attributes {
			out.Attributes[at.Name] = at.Value()
		}
	}
	return out
}

func convertFramework(f *protocol.Framework) sdk.Framework {
	return sdk.Framework{ID: string(f.ID), Name: f.Name, Active: f.Connected, WebuiURL: f.WebuiURL}
}

func convertHealth(h *bool) sdk.Health {
	switch {
	case h == nil:
		return sdk.HealthUnknown
	case *h:
		return sdk.HealthHealthy
	}
	return sdk.HealthUnhealthy
}

// maxTaskPorts bounds the ports listed for one task (a task holding a huge
// range is not a service with that many ports).
const maxTaskPorts = 1024

// convertTask converts a task, with its agent's and framework's details.
func (c *cluster) convertTask(t *protocol.Task) sdk.Task {
	out := sdk.Task{ID: string(t.ID), Name: t.Name, FrameworkID: string(t.FrameworkID), AgentID: string(t.AgentID),
		State: string(t.State), Health: convertHealth(t.Healthy), Ports: taskPorts(t.Resources)}
	if len(t.Labels) > 0 {
		out.Labels = maps.Clone(t.Labels)
	}
	if f, ok := c.frameworks[out.FrameworkID]; ok {
		out.FrameworkName = f.Name
	}
	c.placeTaskLocked(&out)
	return out
}

// placeTaskLocked fills the task's agent details.
func (c *cluster) placeTaskLocked(t *sdk.Task) {
	t.Hostname, t.Address, t.IPs = "", "", nil
	if a, ok := c.agents[t.AgentID]; ok {
		t.Hostname, t.Address = a.Hostname, a.Address
		if ip := net.ParseIP(a.Address); ip != nil {
			t.IPs = []string{ip.String()}
		}
	}
}

// taskPorts lists the ports of a task's "ports" resources.
func taskPorts(rs resources.Resources) []sdk.Port {
	var out []sdk.Port
	for _, r := range rs.Named("ports") {
		for _, rg := range r.Ranges {
			for p := rg.Begin; p <= rg.End && p <= 65535; p++ {
				if len(out) == maxTaskPorts {
					return out
				}
				out = append(out, sdk.Port{Number: uint32(p)})
				if p == rg.End {
					break
				}
			}
		}
	}
	return out
}
