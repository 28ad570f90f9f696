package sdk

// The cluster as a module sees it. These types mirror the messages of
// modulepb/module.proto; the host fills them from the master's operator API
// (GET /v1/state and GET /v1/events).

// Snapshot is the whole cluster at one moment.
type Snapshot struct {
	// Leader is the leading master's operator API URL ("http://10.0.0.1:5050").
	Leader     string
	Agents     []Agent
	Frameworks []Framework
	// Tasks are the tasks that are not terminal (staging, starting,
	// running, killing, unreachable ...).
	Tasks []Task
}

// Agent is a machine of the cluster.
type Agent struct {
	ID       string
	Hostname string
	// Address is where the agent's tasks are reached: an IP, or a name
	// that resolves.
	Address string
	// Attributes are the agent's attributes in text form: "rack" → "r1",
	// "ports" → "[1-5]".
	Attributes map[string]string
	// Active is false while the agent is unreachable.
	Active bool
}

// Framework is a scheduler subscribed to the master.
type Framework struct {
	ID   string
	Name string
	// Active is false while the framework is disconnected (within its
	// failover timeout).
	Active   bool
	WebuiURL string
}

// Port is a port a task was given.
type Port struct {
	Number uint32
	// Name and Protocol ("tcp", "udp") are empty when the master does not
	// know them: treat an empty Protocol as "tcp".
	Name     string
	Protocol string
}

// Health is a task's health as its health checks report it.
type Health int32

const (
	// HealthUnknown: the task has no health check, or it has not run yet.
	HealthUnknown Health = iota
	HealthHealthy
	HealthUnhealthy
)

func (h Health) String() string {
	switch h {
	case HealthHealthy:
		return "healthy"
	case HealthUnhealthy:
		return "unhealthy"
	}
	return "unknown"
}

// Task is a task of some framework on some agent.
type Task struct {
	ID            string
	Name          string
	FrameworkID   string
	FrameworkName string
	AgentID       string
	// Hostname and Address are the task's agent's.
	Hostname string
	Address  string
	// IPs are the addresses the task is reached at: its agent's address
	// when that is an IP (host networking).
	IPs   []string
	Ports []Port
	// State is the Mesos task state: TASK_STAGING, TASK_STARTING,
	// TASK_RUNNING, TASK_KILLING, TASK_FINISHED ... See Terminal.
	State  string
	Health Health
	Labels map[string]string
}

// Terminal reports whether the task's state means it will never run again
// (finished, failed, killed, error, lost, dropped, gone ...).
func (t Task) Terminal() bool { return TerminalState(t.State) }

// TerminalState reports whether a task in state will never run again.
func TerminalState(state string) bool {
	switch state {
	case "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR", "TASK_LOST",
		"TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR":
		return true
	}
	return false
}

// EventType says what an Event is about. New types may be added: ignore
// the ones you do not know.
type EventType string

const (
	// AgentAdded: a new agent (Event.Agent).
	AgentAdded EventType = "AGENT_ADDED"
	// AgentUpdated: an agent changed, e.g. it became unreachable or came
	// back (Event.Agent).
	AgentUpdated EventType = "AGENT_UPDATED"
	// AgentRemoved: the agent is gone for good (Event.Agent).
	AgentRemoved EventType = "AGENT_REMOVED"
	// FrameworkAdded: a new framework subscribed (Event.Framework).
	FrameworkAdded EventType = "FRAMEWORK_ADDED"
	// FrameworkUpdated: a framework changed, e.g. it disconnected or
	// re-subscribed (Event.Framework).
	FrameworkUpdated EventType = "FRAMEWORK_UPDATED"
	// FrameworkRemoved: the framework was torn down (Event.Framework).
	FrameworkRemoved EventType = "FRAMEWORK_REMOVED"
	// TaskUpdated: a task was launched or changed (Event.Task, the whole
	// task after the change). A terminal state means it is gone.
	TaskUpdated EventType = "TASK_UPDATED"
	// LeaderChanged: another master leads now (Event.Leader).
	LeaderChanged EventType = "LEADER_CHANGED"
)

// Event is one change of the cluster. Exactly one of Agent, Framework and
// Task is set, as Type says; Leader is set on LeaderChanged.
type Event struct {
	Type      EventType
	Agent     *Agent
	Framework *Framework
	Task      *Task
	Leader    string
}

// TaskLaunchInfo describes a task an agent is about to launch, for hooks.
type TaskLaunchInfo struct {
	TaskID        string
	Name          string
	FrameworkID   string
	FrameworkName string
	AgentID       string
	Hostname      string
	Address       string
	Ports         []Port
	// Env is the task's environment so far, earlier hooks' changes
	// included. Do not modify it: return changes in LaunchChanges.
	Env map[string]string
	// Labels are the task's labels so far.
	Labels map[string]string
	// Command is the task's command line, when it has one.
	Command string
	// Image is the task's container image, when it has one.
	Image string
}

// LaunchChanges is what a hook adds to a task before it launches: its
// entries are added to the task's environment and labels, replacing values
// of the same names. Nil maps change nothing.
type LaunchChanges struct {
	Env    map[string]string
	Labels map[string]string
}

// Kind is what a module does.
type Kind string

const (
	// KindWatcher: it receives a snapshot of the cluster, then its events
	// (see Watcher).
	KindWatcher Kind = "watcher"
	// KindHook: the agent asks it before launching a task (see Hook).
	KindHook Kind = "hook"
)
