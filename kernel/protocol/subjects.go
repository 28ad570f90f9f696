package protocol

// Every NATS subject Cairn uses lives in this file. Tokens never contain dots:
// framework and agent IDs are validated with ValidateToken before they are
// put in a subject.
const (
	// Prefix is the root of all Cairn subjects, versioned with the wire.
	Prefix = "cairn.v1"

	// UpdatesStream is the JetStream stream holding task status updates
	// (subjects cairn.v1.updates.<fid>.<aid>), de-duplicated by update UUID.
	// Limits retention: the master purges what it has acknowledged.
	UpdatesStream = "CAIRN_TASK_UPDATES"
	// LegacyUpdatesStream is the work-queue stream of earlier masters; a
	// master that finds it moves its updates to UpdatesStream and deletes it.
	LegacyUpdatesStream = "CAIRN_UPDATES"
	// UpdatesConsumer is the master's durable consumer on UpdatesStream.
	UpdatesConsumer = "cairn-master"
	// StateBucket is the JetStream KV bucket with the master's state.
	StateBucket = "cairn-state"
	// LeaderBucket is the JetStream KV bucket with the leader lease.
	LeaderBucket = "cairn-leader"
)

// FrameworkCall is where a framework sends its calls (request/reply).
func FrameworkCall(fid FrameworkID) string { return Prefix + ".fw." + string(fid) + ".call" }

// FrameworkEvents is where the master publishes a framework's events.
func FrameworkEvents(fid FrameworkID) string { return Prefix + ".fw." + string(fid) + ".events" }

// FrameworkCallWildcard is what the master subscribes to for all calls.
const FrameworkCallWildcard = Prefix + ".fw.*.call"

// AgentRegister is where an agent registers or re-registers (request/reply).
func AgentRegister(aid AgentID) string { return Prefix + ".agent." + string(aid) + ".register" }

// AgentPing is where an agent pings the master (request/reply).
func AgentPing(aid AgentID) string { return Prefix + ".agent." + string(aid) + ".ping" }

// AgentMessage is where an agent sends a task's message for its framework.
func AgentMessage(aid AgentID) string { return Prefix + ".agent." + string(aid) + ".message" }

// AgentCommands is where the master sends an agent its commands (LAUNCH, KILL, ...).
func AgentCommands(aid AgentID) string { return Prefix + ".agent." + string(aid) + ".cmd" }

// Wildcards the master subscribes to for agent traffic.
const (
	AgentRegisterWildcard = Prefix + ".agent.*.register"
	AgentPingWildcard     = Prefix + ".agent.*.ping"
	AgentMessageWildcard  = Prefix + ".agent.*.message"
)

// Updates is the stream subject for status updates of framework fid's tasks on agent aid.
func Updates(fid FrameworkID, aid AgentID) string {
	return Prefix + ".updates." + string(fid) + "." + string(aid)
}

// UpdatesWildcard matches every status update subject.
const UpdatesWildcard = Prefix + ".updates.>"

// ClusterEvents is where the master publishes cluster events of a kind
// (e.g. cairn.v1.events.task_updated).
func ClusterEvents(kind ClusterEventType) string { return Prefix + ".events." + kind.token() }

// ClusterEventsWildcard matches every cluster event.
const ClusterEventsWildcard = Prefix + ".events.>"

// TokenOf returns the n-th dot-separated token of subject (0-based), or "".
func TokenOf(subject string, n int) string {
	start := 0
	for i := 0; i <= len(subject); i++ {
		if i == len(subject) || subject[i] == '.' {
			if n == 0 {
				return subject[start:i]
			}
			n--
			start = i + 1
		}
	}
	return ""
}
