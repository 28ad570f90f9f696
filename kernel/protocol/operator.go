package protocol

import (
	"strings"

	"github.com/cairn-dc/cairn/kernel/resources"
)

// Operator API types (HTTP on the master, default 127.0.0.1:5050). Every
// list item has an "id" field.

// State is GET /v1/state: a snapshot of the whole cluster.
type State struct {
	Master     MasterInfo  `json:"master"`
	Timestamp  float64     `json:"timestamp"`
	Agents     []Agent     `json:"agents"`
	Frameworks []Framework `json:"frameworks"`
	Tasks      []Task      `json:"tasks"`
}

// AgentStatus is an agent's standing with the master.
type AgentStatus string

const (
	AgentActive      AgentStatus = "ACTIVE"
	AgentUnreachable AgentStatus = "UNREACHABLE"
	// AgentDraining: reachable, marked for maintenance; gets no offers and
	// its tasks are being killed (Agent.Drain says since when and why).
	AgentDraining AgentStatus = "DRAINING"
	// AgentDrained: reachable, marked for maintenance, no task left.
	AgentDrained AgentStatus = "DRAINED"
	AgentRemoved AgentStatus = "GONE"
)

// Agent is an agent as the master knows it.
type Agent struct {
	ID               AgentID              `json:"id"`
	Hostname         string               `json:"hostname"`
	Address          string               `json:"address,omitempty"`
	URL              string               `json:"url,omitempty"`
	Version          string               `json:"version,omitempty"`
	Status           AgentStatus          `json:"status"`
	Resources        resources.Resources  `json:"resources"`
	UsedResources    resources.Resources  `json:"used_resources"`
	OfferedResources resources.Resources  `json:"offered_resources"`
	Attributes       resources.Attributes `json:"attributes,omitempty"`
	RegisteredTime   float64              `json:"registered_time"`
	UnreachableTime  float64              `json:"unreachable_time,omitempty"`
	ActiveTasks      int                  `json:"active_tasks"`
	// Drain is set while the agent is marked for maintenance (draining or
	// drained), whatever its reachability.
	Drain *DrainInfo `json:"drain,omitempty"`
}

// Framework is a framework as the master knows it.
type Framework struct {
	ID               FrameworkID         `json:"id"`
	Name             string              `json:"name"`
	Roles            []string            `json:"roles"`
	Principal        string              `json:"principal,omitempty"`
	Hostname         string              `json:"hostname,omitempty"`
	WebuiURL         string              `json:"webui_url,omitempty"`
	Connected        bool                `json:"connected"`
	FailoverTimeout  float64             `json:"failover_timeout"`
	RegisteredTime   float64             `json:"registered_time"`
	DisconnectedTime float64             `json:"disconnected_time,omitempty"`
	UsedResources    resources.Resources `json:"used_resources"`
	OfferedResources resources.Resources `json:"offered_resources"`
	ActiveTasks      int                 `json:"active_tasks"`
	Labels           map[string]string   `json:"labels,omitempty"`
}

// Task is a task as the master knows it.
type Task struct {
	ID          TaskID              `json:"id"`
	Name        string              `json:"name"`
	FrameworkID FrameworkID         `json:"framework_id"`
	AgentID     AgentID             `json:"agent_id"`
	Role        string              `json:"role,omitempty"`
	State       TaskState           `json:"state"`
	Healthy     *bool               `json:"healthy,omitempty"`
	Resources   resources.Resources `json:"resources"`
	// Statuses are the task's latest status updates, oldest first.
	Statuses []TaskStatus      `json:"statuses,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	// Statistics is the task's latest resource usage, as its agent reports it.
	Statistics *ResourceStatistics `json:"statistics,omitempty"`
}

// ClusterEventType is the type of a cluster event (GET /v1/events, and NATS
// ClusterEvents(kind)).
type ClusterEventType string

const (
	EvAgentAdded       ClusterEventType = "AGENT_ADDED"
	EvAgentUpdated     ClusterEventType = "AGENT_UPDATED"
	EvAgentRemoved     ClusterEventType = "AGENT_REMOVED"
	EvFrameworkAdded   ClusterEventType = "FRAMEWORK_ADDED"
	EvFrameworkUpdated ClusterEventType = "FRAMEWORK_UPDATED"
	EvFrameworkRemoved ClusterEventType = "FRAMEWORK_REMOVED"
	EvTaskAdded        ClusterEventType = "TASK_ADDED"
	EvTaskUpdated      ClusterEventType = "TASK_UPDATED"
	// EvSubscribed is the first event of GET /v1/events: the full state.
	EvSubscribed ClusterEventType = "SUBSCRIBED"
)

func (t ClusterEventType) token() string { return strings.ToLower(string(t)) }

// ClusterEvent is one cluster event. TASK_ADDED carries the whole task;
// TASK_UPDATED (the frequent one) carries, as Mesos' operator API does, only
// the task's identity and new state in Task (no resources or status
// history) plus the new Status.
type ClusterEvent struct {
	Type      ClusterEventType `json:"type"`
	Timestamp float64          `json:"timestamp"`
	Agent     *Agent           `json:"agent,omitempty"`
	Framework *Framework       `json:"framework,omitempty"`
	Task      *Task            `json:"task,omitempty"`
	Status    *TaskStatus      `json:"status,omitempty"`
	State     *State           `json:"state,omitempty"`
}

// AgentState is GET /v1/state of an agent's own API.
type AgentState struct {
	Agent      AgentInfo       `json:"agent"`
	MasterID   string          `json:"master_id,omitempty"`
	Registered bool            `json:"registered"`
	Isolation  string          `json:"isolation"` // v1, v2 or none
	Tasks      []AgentTaskView `json:"tasks"`
	// Completed are recently ended tasks whose updates were acknowledged.
	Completed []AgentTaskView `json:"completed,omitempty"`
}

// AgentTaskView is a task as its agent sees it.
type AgentTaskView struct {
	ID          TaskID              `json:"id"`
	Name        string              `json:"name"`
	FrameworkID FrameworkID         `json:"framework_id"`
	State       TaskState           `json:"state"`
	Healthy     *bool               `json:"healthy,omitempty"`
	Resources   resources.Resources `json:"resources"`
	Sandbox     string              `json:"sandbox"`
	PID         int                 `json:"pid,omitempty"`
	StartedAt   float64             `json:"started_at,omitempty"`
	// Unacknowledged counts status updates the framework has not acknowledged.
	Unacknowledged int                 `json:"unacknowledged"`
	Statistics     *ResourceStatistics `json:"statistics,omitempty"`
}
