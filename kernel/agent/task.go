package agent

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-dc/cairn/kernel/containerizer/supervisor"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// task is one task on this agent. Owned by the agent's loop.
type task struct {
	fid       protocol.FrameworkID
	framework protocol.FrameworkInfo
	role      string
	info      protocol.TaskInfo
	runID     string
	sandbox   string
	key       string // the supervisor's name for its process
	cgroup    string

	state         protocol.TaskState
	healthy       *bool
	launched      bool
	killRequested bool
	killReason    protocol.Reason
	killMessage   string
	startedAt     time.Time

	// updates not yet acknowledged by the framework, oldest first; the
	// first `stored` of them are known to be on the stream.
	updates  []protocol.TaskStatus
	stored   int
	inflight bool

	pid          int
	cancelLaunch context.CancelFunc // while fetching/starting
	stopHealth   context.CancelFunc
	healthKill   string // why the health checker killed it
	lazy         bool   // checkpoint owed (an acknowledgement)
	// labels are what the launch hooks added; every update carries them.
	labels map[string]string
}

func (t *task) checkpoint() taskCheckpoint {
	cp := taskCheckpoint{Framework: t.framework, Role: t.role, Info: t.info, RunID: t.runID, Sandbox: t.sandbox,
		Key: t.key, Cgroup: t.cgroup, State: t.state, Healthy: t.healthy, Launched: t.launched,
		KillRequested: t.killRequested, Updates: t.updates, Labels: t.labels}
	if !t.startedAt.IsZero() {
		cp.StartedAt = protocol.Timestamp(t.startedAt)
	}
	return cp
}

func taskFromCheckpoint(cp taskCheckpoint) *task {
	t := &task{fid: cp.Framework.ID, framework: cp.Framework, role: cp.Role, info: cp.Info, runID: cp.RunID,
		sandbox: cp.Sandbox, key: cp.Key, cgroup: cp.Cgroup, state: cp.State, healthy: cp.Healthy,
		launched: cp.Launched, killRequested: cp.KillRequested, updates: cp.Updates, labels: cp.Labels}
	if cp.StartedAt > 0 {
		t.startedAt = time.Unix(0, int64(cp.StartedAt*1e9))
	}
	return t
}

func (t *task) agentTask() protocol.AgentTask {
	return protocol.AgentTask{FrameworkID: t.fid, TaskID: t.info.TaskID, Name: t.info.Name, Role: t.role,
		Resources: t.info.Resources, State: t.state}
}

// terminalAcked: its terminal update was acknowledged (nothing left to tell).
func (t *task) terminalAcked() bool { return t.state.Terminal() && len(t.updates) == 0 }

// exitStatus turns how the process ended into the task's terminal status.
// oom is whether the memory cgroup's OOM killer struck.
func (t *task) exitStatus(exit *supervisor.Exit, oom bool, memLimit int64) protocol.TaskStatus {
	st := protocol.TaskStatus{TaskID: t.info.TaskID}
	code := exit.Code
	if !exit.Unknown && exit.Signal == "" {
		st.ExitCode = &code
	}
	how := describeExit(exit)
	switch {
	case oom:
		st.State, st.Reason = protocol.TaskFailed, protocol.ReasonMemoryLimit
		st.Message = fmt.Sprintf("memory limit of %s exceeded: the task was killed by the OOM killer (%s); give it more mem", bytesText(memLimit), how)
	case t.healthKill != "":
		st.State, st.Reason = protocol.TaskKilled, protocol.ReasonHealthCheckUpdated
		f := false
		st.Healthy = &f
		st.Message = "killed after failing its health check: " + t.healthKill
	case t.killRequested || exit.KillRequested:
		st.State, st.Reason = protocol.TaskKilled, t.killReason
		st.Message = "killed"
		if t.killMessage != "" {
			st.Message = t.killMessage
		}
		st.Message += " (" + how + ")"
	case exit.Unknown:
		st.State, st.Reason = protocol.TaskFailed, protocol.ReasonExecutorTerminated
		st.Message = "the task ended while its supervisor was restarting: exit status unknown"
	case exit.Signal == "" && exit.Code == 0:
		st.State, st.Message = protocol.TaskFinished, how
	default:
		st.State, st.Reason = protocol.TaskFailed, protocol.ReasonCommandFailed
		st.Message = how
		if exit.Code == 127 && t.info.Command.IsShell() {
			st.Message += ": command not found (see the task's stderr)"
		} else if exit.Code == 126 {
			st.Message += ": command not executable (see the task's stderr)"
		}
	}
	return st
}

func describeExit(e *supervisor.Exit) string {
	switch {
	case e.Unknown:
		return "exit status unknown"
	case e.Signal != "":
		return "killed by signal " + e.Signal
	default:
		return "exited with status " + strconv.Itoa(e.Code)
	}
}

func bytesText(b int64) string {
	switch {
	case b <= 0:
		return "its limit"
	case b%(1<<30) == 0:
		return strconv.FormatInt(b>>30, 10) + " GiB"
	case b%(1<<20) == 0:
		return strconv.FormatInt(b>>20, 10) + " MiB"
	}
	return strconv.FormatInt(b, 10) + " bytes"
}

// keyFor names a task run for the supervisor: [A-Za-z0-9_.-].
func keyFor(fid protocol.FrameworkID, tid protocol.TaskID, run string) string {
	return strings.Join([]string{string(fid), string(tid), run}, ".")
}
