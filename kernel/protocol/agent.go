package protocol

import "github.com/cairn-dc/cairn/kernel/resources"

// AgentInfo describes an agent. The agent chooses its ID (a ULID it
// checkpoints in its work dir) so it can be used in subjects before the
// agent has talked to any master.
type AgentInfo struct {
	ID         AgentID              `json:"id"`
	Hostname   string               `json:"hostname"`
	Resources  resources.Resources  `json:"resources"`
	Attributes resources.Attributes `json:"attributes,omitempty"`
	// Address is where the agent's tasks can be reached (an IP or a
	// resolvable name); Hostname is the agent's unique name, which may not
	// resolve (several agents on one machine are agent-1, agent-2 ...).
	Address string `json:"address,omitempty"`
	// URL of the agent's own HTTP API (sandbox files, logs), if any.
	URL     string `json:"url,omitempty"`
	Version string `json:"version,omitempty"`
}

// RegisterAgent is an agent's (re-)registration, a request on
// AgentRegister(id); the reply is AgentRegistered.
type RegisterAgent struct {
	Agent AgentInfo `json:"agent"`
	// Tasks the agent runs or holds unacknowledged terminal updates for.
	Tasks []AgentTask `json:"tasks,omitempty"`
}

// AgentTask is a task as an agent reports it when re-registering.
type AgentTask struct {
	FrameworkID FrameworkID         `json:"framework_id"`
	TaskID      TaskID              `json:"task_id"`
	Name        string              `json:"name,omitempty"`
	Role        string              `json:"role,omitempty"`
	Resources   resources.Resources `json:"resources"`
	State       TaskState           `json:"state"`
}

// AgentRegistered answers RegisterAgent.
type AgentRegistered struct {
	AgentID             AgentID `json:"agent_id"`
	MasterID            string  `json:"master_id"`
	PingIntervalSeconds float64 `json:"ping_interval_seconds"`
	Error               *Error  `json:"error,omitempty"`
}

// Ping is an agent's liveness ping, a request on AgentPing(id). It carries
// the resource usage of the agent's running tasks.
type Ping struct {
	AgentID AgentID     `json:"agent_id"`
	Usage   []TaskUsage `json:"usage,omitempty"`
}

// TaskUsage is one task's resource usage.
type TaskUsage struct {
	FrameworkID FrameworkID        `json:"framework_id"`
	TaskID      TaskID             `json:"task_id"`
	Statistics  ResourceStatistics `json:"statistics"`
}

// ResourceStatistics is a task's resource usage (Mesos' field names).
type ResourceStatistics struct {
	Timestamp          float64 `json:"timestamp"`
	CPUsUserTimeSecs   float64 `json:"cpus_user_time_secs"`
	CPUsSystemTimeSecs float64 `json:"cpus_system_time_secs"`
	CPUsLimit          float64 `json:"cpus_limit,omitempty"`
	MemRSSBytes        uint64  `json:"mem_rss_bytes"`
	MemMaxBytes        uint64  `json:"mem_max_bytes,omitempty"`
	MemLimitBytes      uint64  `json:"mem_limit_bytes,omitempty"`
	Processes          int     `json:"processes,omitempty"`
}

// Pong answers Ping; Known=false tells the agent to re-register.
type Pong struct {
	Known    bool   `json:"known"`
	MasterID string `json:"master_id,omitempty"`
}

// AgentCommandType is the type of a master → agent command.
type AgentCommandType string

const (
	AgentLaunch            AgentCommandType = "LAUNCH"
	AgentKill              AgentCommandType = "KILL"
	AgentAcknowledge       AgentCommandType = "ACKNOWLEDGE"
	AgentShutdownFramework AgentCommandType = "SHUTDOWN_FRAMEWORK"
	AgentFrameworkMessage  AgentCommandType = "MESSAGE"
)

// AgentCommand is a master → agent command on AgentCommands(id).
type AgentCommand struct {
	Type              AgentCommandType   `json:"type"`
	Launch            *LaunchTasks       `json:"launch,omitempty"`
	Kill              *KillTask          `json:"kill,omitempty"`
	Acknowledge       []AckUpdate        `json:"acknowledge,omitempty"`
	ShutdownFramework *ShutdownFramework `json:"shutdown_framework,omitempty"`
	Message           *FrameworkMessage  `json:"message,omitempty"`
}

// LaunchTasks asks an agent to run tasks of a framework.
type LaunchTasks struct {
	Framework FrameworkInfo `json:"framework"`
	Role      string        `json:"role,omitempty"`
	Tasks     []TaskInfo    `json:"tasks"`
}

// KillTask asks an agent to kill a task.
type KillTask struct {
	FrameworkID FrameworkID `json:"framework_id"`
	TaskID      TaskID      `json:"task_id"`
	KillPolicy  *KillPolicy `json:"kill_policy,omitempty"`
	Reason      Reason      `json:"reason,omitempty"`
	// Message, when set, is the message of the task's TASK_KILLED update
	// (e.g. which drain killed it).
	Message string `json:"message,omitempty"`
}

// AckUpdate tells an agent its update was acknowledged by the framework, so
// it may forget a terminal task. An ACKNOWLEDGE command carries all the
// acknowledgements for the agent from one master batch.
type AckUpdate struct {
	FrameworkID FrameworkID `json:"framework_id"`
	TaskID      TaskID      `json:"task_id"`
	UUID        string      `json:"uuid"`
}

// ShutdownFramework kills all the framework's tasks on the agent.
type ShutdownFramework struct {
	FrameworkID FrameworkID `json:"framework_id"`
}

// FrameworkMessage carries data between a framework and its tasks on an agent.
type FrameworkMessage struct {
	FrameworkID FrameworkID `json:"framework_id"`
	TaskID      TaskID      `json:"task_id,omitempty"`
	Data        []byte      `json:"data"`
}

// StatusUpdate is a task status update as published by agents on
// Updates(fid, aid) into the UpdatesStream, with the NATS header
// Nats-Msg-Id set to Status.UUID for de-duplication.
type StatusUpdate struct {
	FrameworkID FrameworkID `json:"framework_id"`
	AgentID     AgentID     `json:"agent_id"`
	Status      TaskStatus  `json:"status"`
}
