// Package protocol holds Cairn's wire: the versioned JSON types that travel
// on NATS between frameworks, the master and agents, the operator API's
// types, and every NATS subject (subjects.go). Field names follow Mesos v1
// JSON where a Mesos concept exists (framework_id, task_id, offer_ids,
// refuse_seconds ...); IDs are plain strings rather than Mesos' {"value":...}
// wrappers.
//
// Decode* functions are the only way daemons should read wire bytes: they
// reject unknown call/event types and missing bodies with an error naming the
// field, so a bad message never reaches a state machine.
//
// The package does no I/O.
package protocol
