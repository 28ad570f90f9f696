// Package supervisor is the per-agent process supervisor: a small daemon
// (the cairn binary re-executed as `cairn supervisor`) that is the parent of
// every task of one agent. It outlives agent restarts, so tasks keep running
// while the agent is down, and it records every exit durably so a restarted
// agent learns how its tasks ended. One process per agent instead of one per
// task keeps the per-task overhead near zero (DESIGN: performance bar).
//
// See README.md for the wire protocol, the files on disk and how
// re-adoption works.
package supervisor

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/cairn-dc/cairn/kernel/containerizer/cgroups"
)

// StartSpec is a process to start.
type StartSpec struct {
	// Key identifies the process (the agent uses "<framework>.<task>.<run>");
	// [A-Za-z0-9_.-], unique among live and unforgotten processes.
	Key  string   `json:"key"`
	Path string   `json:"path"` // absolute path of the executable (resolved by the caller)
	Argv []string `json:"argv"` // argv[0] included; empty: [Path]
	Env  []string `json:"env"`
	Dir  string   `json:"dir"` // working directory; empty: the supervisor's
	// Stdout/Stderr are files opened O_WRONLY|O_CREATE|O_APPEND (0640) for
	// the process: its output goes straight to disk, no copying helper.
	// Absolute paths; empty: /dev/null. Stdin is always /dev/null.
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	// Cgroup names a cgroup the caller created with the supervisor's
	// cgroups.Manager (same parent); empty: no cgroup.
	Cgroup string `json:"cgroup,omitempty"`
	// NewPIDNamespace / NewMountNamespace unshare those namespaces for the
	// process (root only). With a new PID namespace the supervisor execs
	// itself as the namespace's init (mounts /proc, reaps, forwards
	// signals, exits with the task's status). Both need Config.InitCommand.
	NewPIDNamespace   bool `json:"new_pid_namespace,omitempty"`
	NewMountNamespace bool `json:"new_mount_namespace,omitempty"`
	// User runs the process as this user (root only); empty: as the supervisor.
	User string `json:"user,omitempty"`
	// Mounts are bind mounts made for the process in its own mount
	// namespace before it starts (root only; implies NewMountNamespace).
	Mounts []Mount `json:"mounts,omitempty"`
}

// Mount binds Source (a path on the host) at Target (an absolute path the
// process sees), read-only if ReadOnly. Target is created if missing.
type Mount struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"read_only,omitempty"`
}

// Exit is how a process ended.
type Exit struct {
	Code   int    `json:"code"`             // exit status, or -1 when killed by a signal or unknown
	Signal string `json:"signal,omitempty"` // e.g. "SIGKILL"
	// Unknown is set when the status could not be observed (the supervisor
	// itself restarted while the process ran; it was re-adopted by pid).
	Unknown bool      `json:"unknown,omitempty"`
	Time    time.Time `json:"time"`
	// KillRequested: a Kill for it was received before it exited.
	KillRequested bool `json:"kill_requested,omitempty"`
}

// String describes the exit for people: "exit 3", "signal SIGKILL", "unknown".
func (e Exit) String() string {
	switch {
	case e.Unknown:
		return "unknown"
	case e.Signal != "":
		return "signal " + e.Signal
	default:
		return fmt.Sprintf("exit %d", e.Code)
	}
}

// Proc is a supervised process.
type Proc struct {
	Key       string    `json:"key"`
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"started_at"`
	Cgroup    string    `json:"cgroup,omitempty"`
	Exit      *Exit     `json:"exit,omitempty"` // nil while running
}

// Config of the supervisor daemon.
type Config struct {
	// Dir holds the socket, the pid file and the records (procs/, exits/).
	Dir     string
	Cgroups cgroups.Manager // cgroups.None() when unavailable (nil means None)
	Logger  *slog.Logger    // nil: slog.Default()
	// InitCommand is the argv prefix that runs RunInit, e.g.
	// [os.Executable(), "supervisor-init"]: RunInit gets the arguments that
	// follow. Needed for NewPIDNamespace and NewMountNamespace.
	InitCommand []string
	// Forkers is the number of OS threads that fork tasks in parallel
	// (0: min(GOMAXPROCS, 4)).
	Forkers int
}
