package master

import (
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// The master's in-memory state. It is owned by the event loop goroutine:
// nothing here is touched from anywhere else. The operator API reads
// immutable views (protocol.* values) published in snapshots.

type framework struct {
	info       protocol.FrameworkInfo
	registered time.Time
	connected  bool
	lastSeen   time.Time
	// disconnected is when it was last seen connected (zero while connected);
	// its tasks are killed at disconnected + failover timeout.
	disconnected time.Time
	removed      bool

	offers    map[protocol.OfferID]*offer
	tasks     map[protocol.TaskID]*task // all known tasks, active and completed
	completed []*task                   // acknowledged terminal tasks, oldest first
	active    int                       // tasks not terminal
	used      resources.Resources       // of non-terminal tasks
	offered   resources.Resources

	view *protocol.Framework
}

func (f *framework) failoverTimeout(def time.Duration) time.Duration {
	if f.info.FailoverTimeout > 0 {
		return time.Duration(f.info.FailoverTimeout * float64(time.Second))
	}
	return def
}

type agent struct {
	info       protocol.AgentInfo
	registered time.Time
	lastPing   time.Time
	// status is the agent's reachability: ACTIVE, UNREACHABLE or GONE.
	// Maintenance is apart, in drain: the view's status combines both.
	status      protocol.AgentStatus
	unreachable time.Time
	// drain, when set, marks the agent for maintenance (never modified in
	// place: a change replaces it, since views share it).
	drain *protocol.DrainInfo

	tasks   map[taskKey]*task // tasks on the agent, active and not-yet-pruned
	offers  map[protocol.OfferID]*offer
	active  int
	used    resources.Resources
	offered resources.Resources

	view *protocol.Agent
}

type taskKey struct {
	fid protocol.FrameworkID
	tid protocol.TaskID
}

type task struct {
	info protocol.TaskInfo
	fid  protocol.FrameworkID
	aid  protocol.AgentID
	role string

	state    protocol.TaskState
	healthy  *bool
	statuses []protocol.TaskStatus // latest few, oldest first
	// pending holds updates the framework has not acknowledged yet, in order.
	pending  []protocol.TaskStatus
	lastSent time.Time
	// killRequested survives an unreachable agent: the kill is sent again
	// when it re-registers.
	killRequested bool
	// completed: terminal and its terminal update acknowledged.
	completed bool
	deleted   bool
	// stats is the latest usage the agent reported (not persisted).
	stats *protocol.ResourceStatistics

	view *protocol.Task
}

func (t *task) key() taskKey { return taskKey{t.fid, t.info.TaskID} }

type offer struct {
	id      protocol.OfferID
	fid     protocol.FrameworkID
	aid     protocol.AgentID
	role    string
	res     resources.Resources
	expires time.Time
}

// Records: what is persisted in the state bucket (JSON).

type frameworkRecord struct {
	Info         protocol.FrameworkInfo `json:"info"`
	Registered   float64                `json:"registered"`
	Disconnected float64                `json:"disconnected,omitempty"`
	Removed      bool                   `json:"removed,omitempty"`
}

type agentRecord struct {
	Info        protocol.AgentInfo   `json:"info"`
	Registered  float64              `json:"registered"`
	Status      protocol.AgentStatus `json:"status"`
	Unreachable float64              `json:"unreachable,omitempty"`
	Drain       *protocol.DrainInfo  `json:"drain,omitempty"`
}

// A task is stored as two records: what it is (written once, at launch)
// and where it stands (written on every change), so a status update does
// not re-encode the task's description.
type taskInfoRecord struct {
	Info        protocol.TaskInfo    `json:"info"`
	FrameworkID protocol.FrameworkID `json:"framework_id"`
	AgentID     protocol.AgentID     `json:"agent_id"`
	Role        string               `json:"role"`
}

type taskStatusRecord struct {
	State         protocol.TaskState    `json:"state"`
	Healthy       *bool                 `json:"healthy,omitempty"`
	Statuses      []protocol.TaskStatus `json:"statuses,omitempty"`
	Pending       []protocol.TaskStatus `json:"pending,omitempty"`
	KillRequested bool                  `json:"kill_requested,omitempty"`
	Completed     bool                  `json:"completed,omitempty"`
}

func frameworkKey(fid protocol.FrameworkID) string { return "fw." + string(fid) }
func agentKey(aid protocol.AgentID) string         { return "agent." + string(aid) }
func taskKeyString(fid protocol.FrameworkID, tid protocol.TaskID) string {
	return "task." + string(fid) + "." + string(tid)
}
func taskStatusKey(fid protocol.FrameworkID, tid protocol.TaskID) string {
	return "tstat." + string(fid) + "." + string(tid)
}

func (f *framework) record() frameworkRecord {
	r := frameworkRecord{Info: f.info, Registered: protocol.Timestamp(f.registered), Removed: f.removed}
	if !f.disconnected.IsZero() {
		r.Disconnected = protocol.Timestamp(f.disconnected)
	}
	return r
}

func (a *agent) record() agentRecord {
	r := agentRecord{Info: a.info, Registered: protocol.Timestamp(a.registered), Status: a.status, Drain: a.drain}
	if !a.unreachable.IsZero() {
		r.Unreachable = protocol.Timestamp(a.unreachable)
	}
	return r
}

func (t *task) infoRecord() taskInfoRecord {
	return taskInfoRecord{Info: t.info, FrameworkID: t.fid, AgentID: t.aid, Role: t.role}
}

func (t *task) statusRecord() taskStatusRecord {
	return taskStatusRecord{State: t.state, Healthy: t.healthy, Statuses: t.statuses, Pending: t.pending,
		KillRequested: t.killRequested, Completed: t.completed}
}

func fromTS(ts float64) time.Time {
	if ts == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(ts*1e9))
}

// Views for the operator API. A view is immutable once built; a change to
// the entity drops it and the next snapshot builds a new one.

func (f *framework) buildView(cfg *Config) *protocol.Framework {
	if f.view != nil {
		return f.view
	}
	v := &protocol.Framework{
		ID: f.info.ID, Name: f.info.Name, Roles: f.info.RolesOrDefault(), Principal: f.info.Principal,
		Hostname: f.info.Hostname, WebuiURL: f.info.WebuiURL, Connected: f.connected,
		FailoverTimeout:  f.failoverTimeout(cfg.DefaultFailoverTimeout).Seconds(),
		RegisteredTime:   protocol.Timestamp(f.registered),
		UsedResources:    nonNil(f.used),
		OfferedResources: nonNil(f.offered),
		ActiveTasks:      f.active,
		Labels:           f.info.Labels,
	}
	if !f.disconnected.IsZero() {
		v.DisconnectedTime = protocol.Timestamp(f.disconnected)
	}
	f.view = v
	return v
}

func (a *agent) buildView() *protocol.Agent {
	if a.view != nil {
		return a.view
	}
	v := &protocol.Agent{
		ID: a.info.ID, Hostname: a.info.Hostname, Address: a.info.Address, URL: a.info.URL, Version: a.info.Version, Status: a.viewStatus(),
		Resources: nonNil(a.info.Resources), UsedResources: nonNil(a.used), OfferedResources: nonNil(a.offered),
		Attributes: a.info.Attributes, RegisteredTime: protocol.Timestamp(a.registered), ActiveTasks: a.active, Drain: a.drain,
	}
	if !a.unreachable.IsZero() {
		v.UnreachableTime = protocol.Timestamp(a.unreachable)
	}
	a.view = v
	return v
}

func (t *task) buildView() *protocol.Task {
	if t.view != nil {
		return t.view
	}
	v := &protocol.Task{
		ID: t.info.TaskID, Name: t.info.Name, FrameworkID: t.fid, AgentID: t.aid, Role: t.role,
		State: t.state, Healthy: t.healthy, Resources: nonNil(t.info.Resources),
		Statuses: append([]protocol.TaskStatus(nil), t.statuses...), Labels: t.labels(), Statistics: t.stats,
	}
	t.view = v
	return v
}

// labels are the task's labels with those its agent's launch hooks added
// (on its latest update that carries some); the task's own win.
func (t *task) labels() map[string]string {
	var hook map[string]string
	for i := len(t.statuses) - 1; i >= 0 && hook == nil; i-- {
		hook = t.statuses[i].Labels
	}
	if len(hook) == 0 {
		return t.info.Labels
	}
	out := make(map[string]string, len(hook)+len(t.info.Labels))
	for k, v := range hook {
		out[k] = v
	}
	for k, v := range t.info.Labels {
		out[k] = v
	}
	return out
}

func nonNil(r resources.Resources) resources.Resources {
	if r == nil {
		return resources.Resources{}
	}
	return r
}
