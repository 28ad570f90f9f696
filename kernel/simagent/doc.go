// Package simagent is a simulated Cairn agent: in-process, no real
// processes. It speaks the real agent wire (kernel/protocol) to the master
// over NATS: it picks its ID, registers (retrying until a master answers),
// pings, re-registers with its tasks when the master no longer knows it,
// obeys LAUNCH / KILL / ACKNOWLEDGE / SHUTDOWN_FRAMEWORK / MESSAGE commands,
// and publishes task status updates into the JetStream updates stream
// exactly as a real agent must (Nats-Msg-Id = update UUID, kept and retried
// until the stream acknowledges it, in order per task).
//
// Tasks cost no goroutine: one timer per agent drives every task's start
// delay and duration. Agents may share one *nats.Conn (and then should share
// one Publisher; StartFleet does both), so a benchmark can run 1,000 agents
// in one process.
//
// A task's life is steered by Config (SkipStarting, StartDelay,
// TaskDuration, SendKilling, KillDelay) and by its labels (LabelDuration,
// LabelExit, LabelHealthy, LabelStartDelay); tests drive it further with
// Finish, SetHealthy, Partition/Heal, PausePings/ResumePings and
// Crash + Config.Recover (an agent restart). Tasks, Stats, Messages, Wait
// and WaitTask let tests observe it without sleeping.
//
// See README.md for the behaviour in detail.
package simagent
