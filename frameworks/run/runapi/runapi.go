// Package runapi holds the wire types of the run framework's HTTP API
// (frameworks/run), so clients such as the CLI can speak it without
// importing the framework itself. It does no I/O.
//
//	POST   /v1/runs        Request  → 201 Submitted
//	GET    /v1/runs                 → 200 []Run
//	GET    /v1/runs/{id}            → 200 Run
//	DELETE /v1/runs/{id}            → 202 Run (kill)
//
// Errors are {"message": "...", "field": "..."} (field only for validation
// errors, which are 422).
package runapi

import (
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// DefaultName is the run framework's default name: the master proxies its
// API at /service/run/.
const DefaultName = "run"

// StatePending is the state of a run that is queued in the framework and not
// launched yet (no offer fitted it so far). Every other state is a task
// state (protocol.TaskState: TASK_STAGING, TASK_RUNNING, TASK_FINISHED ...).
const StatePending protocol.TaskState = "PENDING"

// Defaults of a Request.
const (
	DefaultCPUs = 0.1
	DefaultMem  = 32 // MB
)

// Request is POST /v1/runs: one one-off task. Exactly one of Cmd and Args
// is required.
type Request struct {
	// Cmd runs through /bin/sh -c.
	Cmd string `json:"cmd,omitempty"`
	// Args runs Args[0] with Args as its argv, without a shell.
	Args []string `json:"args,omitempty"`
	// CPUs (default DefaultCPUs), Mem in MB (default DefaultMem) and Disk
	// in MB (default none).
	CPUs *float64 `json:"cpus,omitempty"`
	Mem  *float64 `json:"mem,omitempty"`
	Disk *float64 `json:"disk,omitempty"`
	// Ports is how many host ports the task gets (as $PORT0 ... and $PORTS).
	Ports int `json:"ports,omitempty"`
	// Env adds environment variables.
	Env map[string]string `json:"env,omitempty"`
	// Labels are set on the task.
	Labels map[string]string `json:"labels,omitempty"`
	// Name is the task's name (default: the command's program name).
	Name string `json:"name,omitempty"`
	// ID is the task's ID (default "run-<ULID>").
	ID protocol.TaskID `json:"id,omitempty"`
}

// Submitted answers POST /v1/runs: the run is queued.
type Submitted struct {
	ID          protocol.TaskID      `json:"id"`
	FrameworkID protocol.FrameworkID `json:"framework_id"`
}

// Run is a run as the framework knows it.
type Run struct {
	ID          protocol.TaskID      `json:"id"`
	Name        string               `json:"name"`
	FrameworkID protocol.FrameworkID `json:"framework_id"`
	// State is StatePending, or the task's latest state.
	State protocol.TaskState `json:"state"`
	// AgentID and Hostname say where the task was launched.
	AgentID  protocol.AgentID `json:"agent_id,omitempty"`
	Hostname string           `json:"hostname,omitempty"`
	// ExitCode is the command's exit code, once it is known.
	ExitCode *int `json:"exit_code,omitempty"`
	// Message is the latest status message, or why a run is still pending.
	Message string `json:"message,omitempty"`
	// Reason is the latest status update's reason, if any.
	Reason protocol.Reason `json:"reason,omitempty"`

	Cmd  string   `json:"cmd,omitempty"`
	Args []string `json:"args,omitempty"`
	// Resources the task asks for, in text form ("cpus:0.1;mem:32").
	Resources string `json:"resources,omitempty"`
	// Ports are the host ports the task got, once launched.
	Ports []uint64 `json:"ports,omitempty"`

	// Submitted is when the run was submitted (zero for a task the
	// framework adopted after a restart).
	Submitted time.Time `json:"submitted,omitzero"`
	// Updated is when the run last changed.
	Updated time.Time `json:"updated"`
}

// Error is the body of every error answer.
type Error struct {
	Message string `json:"message"`
	// Field names the bad field of a Request (422 answers).
	Field string `json:"field,omitempty"`
}
