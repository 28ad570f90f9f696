package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/agent/health"
	"github.com/cairn-dc/cairn/kernel/containerizer/cgroups"
	"github.com/cairn-dc/cairn/kernel/containerizer/supervisor"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// recover loads the checkpointed tasks and reconciles them with the
// supervisor: running ones are re-attached, ones that ended while the agent
// was away get their terminal update, ones the supervisor never heard of
// failed. Updates never acknowledged are sent again.
func (a *Agent) recover(ctx context.Context) error {
	cps, err := a.loadCheckpoints()
	if err != nil {
		return fmt.Errorf("agent: read checkpoints: %w", err)
	}
	procs, err := a.supervisor().List(ctx)
	if err != nil {
		return fmt.Errorf("agent: ask the supervisor for its processes: %w", err)
	}
	byKey := procsByKey(procs)
	for _, cp := range cps {
		t := taskFromCheckpoint(cp)
		a.tasks[t.key] = t
		a.byID[taskID{t.fid, t.info.TaskID}] = t
		p, known := byKey[t.key]
		delete(byKey, t.key)
		switch {
		case t.state.Terminal():
			// Only its unacknowledged updates remain to be delivered.
		case known && p.Exit == nil:
			t.pid = p.PID
			a.log.Info("re-attached to running task", "task", t.info.TaskID, "framework", t.fid, "pid", p.PID)
			if t.state != protocol.TaskRunning && !t.killRequested {
				a.sendStatus(t, protocol.TaskStatus{State: protocol.TaskRunning, Message: "running (re-attached after an agent restart)"})
			}
			if t.killRequested {
				a.killTask(ctx, t, a.cfg.DefaultKillGrace, t.killReason, "")
			} else {
				a.startHealth(ctx, t)
			}
		case known:
			proc := p
			a.log.Info("task ended while the agent was away", "task", t.info.TaskID, "exit", describeExit(proc.Exit))
			a.exited(proc)
		case t.launched:
			a.sendStatus(t, protocol.TaskStatus{State: protocol.TaskFailed, Reason: protocol.ReasonExecutorTerminated,
				Message: "the task's process is gone and its supervisor has no record of it (was the machine restarted?)"})
		default:
			a.sendStatus(t, protocol.TaskStatus{State: protocol.TaskFailed, Reason: protocol.ReasonAgentRestarted,
				Message: "the agent restarted while launching the task"})
		}
	}
	// Cgroups no live task uses (left by a crash): remove them.
	if names, err := a.cg.List(); err == nil {
		inUse := map[string]bool{}
		for _, t := range a.tasks {
			if !t.state.Terminal() {
				inUse[t.cgroup] = true
			}
		}
		for _, n := range names {
			if !inUse[n] {
				if cg, err := a.cg.Open(n); err == nil {
					_ = cg.Destroy()
				}
			}
		}
	}
	// Processes the supervisor runs that no checkpoint claims: kill them.
	a.dropUnclaimed(ctx, a.supervisor(), byKey)
	return nil
}

// procsByKey indexes a supervisor's processes by key.
func procsByKey(procs []supervisor.Proc) map[string]supervisor.Proc {
	byKey := make(map[string]supervisor.Proc, len(procs))
	for _, p := range procs {
		byKey[p.Key] = p
	}
	return byKey
}

// dropUnclaimed kills the running processes of sup that no task claims
// and forgets the ended ones.
func (a *Agent) dropUnclaimed(ctx context.Context, sup *supervisor.Client, unclaimed map[string]supervisor.Proc) {
	for key, p := range unclaimed {
		if p.Exit == nil {
			a.log.Warn("killing a process no task claims", "key", key, "pid", p.PID)
			_ = sup.Kill(ctx, key, 0)
		} else {
			_ = sup.Forget(ctx, key)
		}
	}
}

// command handles one master → agent command.
func (a *Agent) command(ctx context.Context, data []byte) {
	cmd, err := protocol.DecodeAgentCommand(data)
	if err != nil {
		a.log.Warn("dropping malformed command", "err", err)
		return
	}
	switch cmd.Type {
	case protocol.AgentLaunch:
		for i := range cmd.Launch.Tasks {
			a.launch(ctx, cmd.Launch.Framework, cmd.Launch.Role, cmd.Launch.Tasks[i])
		}
	case protocol.AgentKill:
		k := cmd.Kill
		t := a.byID[taskID{k.FrameworkID, k.TaskID}]
		if t == nil {
			a.sendOrphanStatus(k.FrameworkID, protocol.TaskStatus{TaskID: k.TaskID, State: protocol.TaskDropped,
				Reason: protocol.ReasonTaskUnknown, Message: "task unknown to agent"})
			return
		}
		grace := a.graceOf(t, k.KillPolicy)
		a.killTask(ctx, t, grace, k.Reason, k.Message)
	case protocol.AgentAcknowledge:
		for _, ack := range cmd.Acknowledge {
			a.acknowledged(ctx, ack)
		}
	case protocol.AgentShutdownFramework:
		for _, t := range a.tasks {
			if t.fid == cmd.ShutdownFramework.FrameworkID {
				a.killTask(ctx, t, a.graceOf(t, nil), protocol.ReasonFrameworkRemoved, "killed: its framework was removed")
			}
		}
	case protocol.AgentFrameworkMessage:
		a.log.Debug("framework message ignored: command tasks have no executor to receive it",
			"framework", cmd.Message.FrameworkID)
	}
}

func (a *Agent) graceOf(t *task, p *protocol.KillPolicy) time.Duration {
	if p != nil && p.GracePeriod != nil {
		return p.GracePeriod.Duration()
	}
	if t.info.KillPolicy != nil && t.info.KillPolicy.GracePeriod != nil {
		return t.info.KillPolicy.GracePeriod.Duration()
	}
	return a.cfg.DefaultKillGrace
}

// launch starts a task: it is checkpointed and reported STARTING at once,
// then fetched and started off the loop.
func (a *Agent) launch(ctx context.Context, fw protocol.FrameworkInfo, role string, ti protocol.TaskInfo) {
	id := taskID{fw.ID, ti.TaskID}
	if old := a.byID[id]; old != nil && !old.state.Terminal() {
		a.log.Warn("ignoring a second launch of an active task", "task", ti.TaskID, "framework", fw.ID)
		return
	} else if old != nil {
		a.forget(old)
	}
	run := protocol.NewID()
	t := &task{fid: fw.ID, framework: fw, role: role, info: ti, runID: run, key: keyFor(fw.ID, ti.TaskID, run),
		state: protocol.TaskStaging}
	// One directory per run, <framework>/<task>@<run>: each directory costs
	// an inode, and on slow disks inodes are what launching costs most.
	t.sandbox = filepath.Join(a.cfg.WorkDir, "sandboxes", string(fw.ID), string(ti.TaskID)+"@"+run)
	a.tasks[t.key] = t
	a.byID[id] = t
	if ti.AgentID != "" && ti.AgentID != a.id {
		a.sendStatus(t, protocol.TaskStatus{State: protocol.TaskDropped, Reason: protocol.ReasonTaskInvalid,
			Message: fmt.Sprintf("task was sent to agent %s but names agent %s", a.id, ti.AgentID)})
		return
	}
	if !a.warnedNoIso && a.cg.Version() == "none" {
		a.warnedNoIso = true
		a.log.Warn("launching tasks without isolation (no cgroups): " + a.cgWhy)
	}
	if a.cg.Version() != "none" {
		t.cgroup = t.key
	}
	lctx, cancel := context.WithCancel(ctx)
	t.cancelLaunch = cancel
	spec := a.launchSpec(t)
	t.launched = true // from here on the supervisor may have it
	if ti.Command != nil && len(ti.Command.URIs) > 0 {
		// Fetching may take a while: say the task is starting.
		a.sendStatus(t, protocol.TaskStatus{State: protocol.TaskStarting})
	} else if err := a.checkpoint(t); err != nil {
		// A task with nothing to fetch starts at once: it goes from
		// STAGING to RUNNING (TASK_STARTING is optional, as in Mesos),
		// a third fewer updates through the master and the stream. Its
		// launch is journaled all the same before the supervisor may
		// have it.
		a.log.Error("checkpoint failed; the task is launched anyway", "task", ti.TaskID, "err", err)
	}
	a.launches <- func() {
		spec, labels, reason, err := a.prepare(lctx, t.fid, t.info, spec)
		if err != nil {
			cancel()
			a.push(ctx, func() { a.started(ctx, t, supervisor.Proc{}, reason, err) })
			return
		}
		if labels != nil {
			a.push(ctx, func() { t.labels = labels })
		}
		// The start itself is a pipelined request: wait for it aside, so
		// the workers keep preparing.
		go func() {
			defer cancel()
			sup := a.supervisor()
			proc, err := sup.Start(lctx, spec)
			ended := false
			if errors.Is(err, supervisor.ErrClosed) && lctx.Err() == nil {
				// The supervisor went away: wait for the new one.
				proc, ended, err = a.startAgain(lctx, sup, spec)
			}
			reason := protocol.Reason("")
			if err != nil {
				reason = protocol.ReasonContainerLaunchFailed
			}
			a.push(ctx, func() {
				a.started(ctx, t, proc, reason, err)
				if ended {
					a.exited(proc)
				}
			})
		}()
	}
}

// launchSpec is what the supervisor needs, computed on the loop.
func (a *Agent) launchSpec(t *task) supervisor.StartSpec {
	env := a.taskEnv(t)
	spec := supervisor.StartSpec{Key: t.key, Env: env, Dir: t.sandbox,
		Stdout: filepath.Join(t.sandbox, "stdout"), Stderr: filepath.Join(t.sandbox, "stderr"), Cgroup: t.cgroup}
	if c := t.info.Command; c != nil {
		spec.User = c.User
	}
	if ct := t.info.Container; ct != nil && ct.Linux != nil {
		spec.NewPIDNamespace = ct.Linux.SharePIDNamespace != nil && !*ct.Linux.SharePIDNamespace
		spec.NewMountNamespace = ct.Linux.PrivateMounts || spec.NewPIDNamespace
	}
	if ct := t.info.Container; ct != nil {
		for _, v := range ct.Volumes {
			// A relative container path is inside the sandbox (as Mesos).
			target := v.ContainerPath
			if !filepath.IsAbs(target) {
				target = filepath.Join(t.sandbox, target)
			}
			spec.Mounts = append(spec.Mounts, supervisor.Mount{Source: v.HostPath, Target: target, ReadOnly: v.Mode == "RO"})
		}
	}
	return spec
}

// prepare runs on a launch worker: sandbox, fetch, command, cgroup.
func (a *Agent) prepare(ctx context.Context, fid protocol.FrameworkID, ti protocol.TaskInfo, spec supervisor.StartSpec) (supervisor.StartSpec, map[string]string, protocol.Reason, error) {
	if ti.Container != nil && ti.Container.Image != nil {
		return spec, nil, protocol.ReasonTaskInvalid, fmt.Errorf("container images are not supported by this agent yet; run a command instead")
	}
	if len(spec.Mounts) > 0 && os.Geteuid() != 0 {
		return spec, nil, protocol.ReasonContainerLaunchFailed, fmt.Errorf("volumes (host path mounts) need the agent to run as root")
	}
	for _, m := range spec.Mounts {
		if m.Source == "" || !filepath.IsAbs(m.Source) {
			return spec, nil, protocol.ReasonTaskInvalid, fmt.Errorf("volume host path %q must be an absolute path on the agent", m.Source)
		}
		if _, err := os.Stat(m.Source); err != nil {
			return spec, nil, protocol.ReasonContainerLaunchFailed, fmt.Errorf("volume host path %s does not exist on agent %s", m.Source, a.info.Hostname)
		}
	}
	if err := makeSandbox(spec); err != nil {
		return spec, nil, protocol.ReasonContainerLaunchFailed, err
	}
	if ti.Command != nil && len(ti.Command.URIs) > 0 {
		if _, err := a.fetch.Fetch(ctx, ti.Command.URIs, spec.Dir); err != nil {
			return spec, nil, protocol.ReasonContainerLaunchFailed, err
		}
	}
	var labels map[string]string
	if a.cfg.LaunchHook != nil {
		spec.Env, labels = a.runLaunchHook(ctx, fid, ti, spec.Env)
	}
	path, argv, err := resolveCommand(ti.Command, spec.Env, spec.Dir)
	if err != nil {
		return spec, labels, protocol.ReasonContainerLaunchFailed, err
	}
	spec.Path, spec.Argv = path, argv
	if spec.Cgroup != "" {
		if _, err := a.cg.Create(spec.Cgroup, a.limits(ti)); err != nil {
			return spec, labels, protocol.ReasonContainerLaunchFailed, fmt.Errorf("create the task's cgroup: %w", err)
		}
	}
	if ctx.Err() != nil {
		return spec, labels, protocol.ReasonTaskKilledDuringLaunch, ctx.Err()
	}
	return spec, labels, "", nil
}

// LaunchHook may add environment variables and labels to a task about to
// start.
type LaunchHook func(ctx context.Context, task LaunchInfo) (LaunchChanges, error)

// LaunchChanges are a LaunchHook's additions.
type LaunchChanges struct {
	Env    map[string]string
	Labels map[string]string
}

// LaunchInfo is what a LaunchHook learns of a task.
type LaunchInfo struct {
	TaskID      protocol.TaskID
	Name        string
	FrameworkID protocol.FrameworkID
	// Env is the task's environment so far; Labels its labels.
	Env    map[string]string
	Labels map[string]string
	// Command is the command's value (a shell line, or the program).
	Command string
}

// runLaunchHook asks the hook and adds its variables to env (replacing
// those of the same names); it returns the labels it added too.
func (a *Agent) runLaunchHook(ctx context.Context, fid protocol.FrameworkID, ti protocol.TaskInfo, env []string) ([]string, map[string]string) {
	info := LaunchInfo{TaskID: ti.TaskID, Name: ti.Name, FrameworkID: fid, Env: map[string]string{}, Labels: ti.Labels}
	if ti.Command != nil {
		info.Command = ti.Command.Value
	}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			info.Env[k] = v
		}
	}
	changes, err := a.cfg.LaunchHook(ctx, info)
	if err != nil {
		a.log.Warn("a launch hook failed; the task starts with the other hooks' changes", "task", ti.TaskID, "err", err)
	}
	labels := boundLabels(changes.Labels)
	add := changes.Env
	if len(add) == 0 {
		return env, labels
	}
	out := make([]string, 0, len(env)+len(add))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if _, replaced := add[k]; !replaced {
			out = append(out, kv)
		}
	}
	keys := make([]string, 0, len(add))
	for k := range add {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, k+"="+add[k])
	}
	return out, labels
}

// boundLabels keeps the hook labels a status update may carry (the
// protocol's bounds): the first MaxStatusLabels by key, each within
// MaxStatusLabelBytes.
func boundLabels(in map[string]string) map[string]string {
	if len(in) == 0 {
		return nil
	}
	keys := make([]string, 0, len(in))
	for k, v := range in {
		if k != "" && len(k)+len(v) <= protocol.MaxStatusLabelBytes {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := map[string]string{}
	for _, k := range keys[:min(len(keys), protocol.MaxStatusLabels)] {
		out[k] = in[k]
	}
	return out
}

// makeSandbox creates the sandbox directory. Its stdout and stderr are
// created by the supervisor as it starts the task (it opens them with
// O_CREAT): creating them here too cost two more opens per task.
func makeSandbox(spec supervisor.StartSpec) error {
	// <work>/sandboxes/<framework> exists but for a framework's first task.
	err := os.Mkdir(spec.Dir, 0o750)
	if errors.Is(err, fs.ErrNotExist) {
		err = os.MkdirAll(spec.Dir, 0o750)
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("cannot create the sandbox %s: %w (is the work dir writable and not full?)", spec.Dir, err)
	}
	return nil
}

// limits turns a task's resources into cgroup limits.
func (a *Agent) limits(ti protocol.TaskInfo) cgroups.Limits {
	cpus := ti.Resources.ScalarTotal("cpus")
	lim := cgroups.Limits{CPUShares: uint64(max(2, int64(cpus)*1024/1000)),
		MemoryBytes: int64(ti.Resources.ScalarTotal("mem")) * (1 << 20) / 1000}
	if !a.cfg.DisableCPUHardLimit && cpus > 0 {
		lim.CPUPeriod = 100 * time.Millisecond
		lim.CPUQuota = time.Duration(int64(cpus) * int64(lim.CPUPeriod) / 1000)
		if lim.CPUQuota < time.Millisecond {
			lim.CPUQuota = time.Millisecond
		}
	}
	return lim
}

// started records the outcome of a launch.
func (a *Agent) started(ctx context.Context, t *task, p supervisor.Proc, reason protocol.Reason, err error) {
	t.cancelLaunch = nil
	if a.tasks[t.key] != t {
		return // forgotten meanwhile
	}
	if err != nil {
		st := protocol.TaskStatus{State: protocol.TaskFailed, Reason: reason, Message: err.Error()}
		if t.killRequested {
			st = protocol.TaskStatus{State: protocol.TaskKilled, Reason: protocol.ReasonTaskKilledDuringLaunch,
				Message: "killed while launching"}
		}
		a.sendStatus(t, st)
		a.destroyCgroup(t)
		return
	}
	t.pid = p.PID
	t.startedAt = p.StartedAt
	if t.state.Terminal() { // it exited before we heard it started
		return
	}
	if t.killRequested {
		// Off the loop, as every call to the supervisor while running.
		sup, key := a.supervisor(), t.key
		go func() { _ = sup.Kill(ctx, key, 0) }()
		return // its exit reports KILLED
	}
	a.sendStatus(t, protocol.TaskStatus{State: protocol.TaskRunning})
	a.startHealth(ctx, t)
}

// startHealth runs the task's health check, if it has one.
func (a *Agent) startHealth(ctx context.Context, t *task) {
	hc := t.info.HealthCheck
	if hc == nil || t.stopHealth != nil {
		return
	}
	c, err := health.New(*hc, health.Target{Host: "127.0.0.1", Env: a.taskEnv(t), Dir: t.sandbox})
	if err != nil {
		a.log.Warn("invalid health check; not checking", "task", t.info.TaskID, "err", err)
		return
	}
	hctx, cancel := context.WithCancel(ctx)
	t.stopHealth = cancel
	events := make(chan health.Event, 4)
	go c.Run(hctx, events)
	go func() {
		for ev := range events {
			e := ev
			a.push(ctx, func() { a.healthEvent(ctx, t, e) })
		}
	}()
}

func (a *Agent) healthEvent(ctx context.Context, t *task, e health.Event) {
	if a.tasks[t.key] != t || t.state.Terminal() || t.killRequested {
		return
	}
	healthy := e.Healthy
	if t.healthy == nil || *t.healthy != healthy {
		a.sendStatus(t, protocol.TaskStatus{State: t.state, Healthy: &healthy, Reason: protocol.ReasonHealthCheckUpdated, Message: e.Message})
	}
	if e.Kill {
		t.healthKill = e.Message
		a.log.Warn("killing a task that keeps failing its health check", "task", t.info.TaskID, "why", e.Message)
		a.killTask(ctx, t, a.graceOf(t, nil), protocol.ReasonHealthCheckUpdated, "")
	}
}

// killTask kills a task: at once if it has not started, else SIGTERM, grace, SIGKILL.
func (a *Agent) killTask(ctx context.Context, t *task, grace time.Duration, reason protocol.Reason, message string) {
	if t.state.Terminal() {
		return
	}
	first := !t.killRequested
	t.killRequested, t.killReason = true, reason
	if message != "" {
		t.killMessage = message
	}
	if t.cancelLaunch != nil { // still fetching or starting
		t.cancelLaunch()
		return
	}
	if !t.launched {
		a.sendStatus(t, protocol.TaskStatus{State: protocol.TaskKilled, Reason: reason, Message: "killed before it started"})
		return
	}
	if first && t.state != protocol.TaskKilling {
		a.sendStatus(t, protocol.TaskStatus{State: protocol.TaskKilling, Reason: reason,
			Message: fmt.Sprintf("sending SIGTERM; SIGKILL after %v", grace)})
	} else {
		_ = a.checkpoint(t)
	}
	key := t.key
	go func() {
		if err := a.supervisor().Kill(ctx, key, grace); err != nil {
			a.log.Error("the supervisor could not kill a task", "task", key, "err", err)
		}
	}()
}

// exited turns a process exit into the task's terminal update.
func (a *Agent) exited(p supervisor.Proc) {
	t := a.tasks[p.Key]
	if t == nil || p.Exit == nil {
		if p.Exit != nil {
			sup := a.supervisor()
			go func() { _ = sup.Forget(context.Background(), p.Key) }()
		}
		return
	}
	if t.state.Terminal() {
		return
	}
	if t.stopHealth != nil {
		t.stopHealth()
		t.stopHealth = nil
	}
	var oom bool
	var memLimit int64
	if t.cgroup != "" {
		if cg, err := a.cg.Open(t.cgroup); err == nil {
			if st, err := cg.Stats(); err == nil {
				oom, memLimit = st.OOMKills > 0, st.MemoryLimit
			}
		}
	}
	a.sendStatus(t, t.exitStatus(p.Exit, oom, memLimit))
	a.destroyCgroup(t)
}

func (a *Agent) destroyCgroup(t *task) {
	if t.cgroup == "" {
		return
	}
	name := t.cgroup
	go func() {
		if cg, err := a.cg.Open(name); err == nil {
			if err := cg.Destroy(); err != nil {
				a.log.Warn("cannot remove a task's cgroup", "cgroup", name, "err", err)
			}
		}
	}()
}

// sendStatus records a new status of t and queues it for the stream.
func (a *Agent) sendStatus(t *task, st protocol.TaskStatus) {
	st.TaskID = t.info.TaskID
	st.AgentID = a.id
	st.Source = protocol.SourceAgent
	st.UUID = protocol.NewID()
	st.Timestamp = protocol.Timestamp(time.Now())
	if st.Labels == nil {
		st.Labels = t.labels
	}
	if st.Healthy != nil {
		t.healthy = st.Healthy
	} else if st.State == protocol.TaskRunning || st.State == protocol.TaskKilling {
		st.Healthy = t.healthy
	}
	t.state = st.State
	t.updates = append(t.updates, st)
	t.lazy = false
	if err := a.checkpoint(t); err != nil {
		a.log.Error("checkpoint failed; the update is sent anyway", "task", t.info.TaskID, "err", err)
	}
	a.pump(t)
}

// sendOrphanStatus publishes an update for a task the agent does not track.
func (a *Agent) sendOrphanStatus(fid protocol.FrameworkID, st protocol.TaskStatus) {
	st.AgentID, st.Source, st.UUID, st.Timestamp = a.id, protocol.SourceAgent, protocol.NewID(), protocol.Timestamp(time.Now())
	data, _ := json.Marshal(protocol.StatusUpdate{FrameworkID: fid, AgentID: a.id, Status: st})
	msg := nats.NewMsg(protocol.Updates(fid, a.id))
	msg.Header.Set(nats.MsgIdHdr, st.UUID)
	msg.Data = data
	if _, err := a.js.PublishMsgAsync(msg); err != nil {
		a.log.Warn("cannot publish a status update", "task", st.TaskID, "err", err)
	}
}

// pump publishes t's next unstored update: one in flight per task keeps
// them in order on the stream.
func (a *Agent) pump(t *task) {
	if t.inflight || t.stored >= len(t.updates) {
		return
	}
	st := t.updates[t.stored]
	data, err := json.Marshal(protocol.StatusUpdate{FrameworkID: t.fid, AgentID: a.id, Status: st})
	if err != nil {
		a.log.Error("encode status update", "err", err)
		return
	}
	msg := nats.NewMsg(protocol.Updates(t.fid, a.id))
	msg.Header.Set(nats.MsgIdHdr, st.UUID)
	msg.Data = data
	t.inflight = true
	f, err := a.js.PublishMsgAsync(msg)
	if err != nil {
		t.inflight = false
		a.retryPump(t, err)
		return
	}
	go func() {
		select {
		case <-f.Ok():
			a.push(a.runCtx, func() {
				t.inflight = false
				if t.stored < len(t.updates) && t.updates[t.stored].UUID == st.UUID {
					t.stored++
				}
				a.pump(t)
			})
		case err := <-f.Err():
			a.push(a.runCtx, func() {
				t.inflight = false
				a.retryPump(t, err)
			})
		}
	}()
}

func (a *Agent) retryPump(t *task, err error) {
	a.log.Warn("status update not stored yet; retrying", "task", t.info.TaskID, "err", err)
	time.AfterFunc(time.Second, func() { a.push(a.runCtx, func() { a.pump(t) }) })
}

// acknowledged drops an acknowledged update; a task whose terminal update
// is acknowledged is forgotten (its sandbox stays until garbage collection).
func (a *Agent) acknowledged(ctx context.Context, ack protocol.AckUpdate) {
	t := a.byID[taskID{ack.FrameworkID, ack.TaskID}]
	if t == nil {
		return
	}
	for i, st := range t.updates {
		if st.UUID != ack.UUID {
			continue
		}
		t.updates = append(t.updates[:i], t.updates[i+1:]...)
		if i < t.stored {
			t.stored--
		}
		break
	}
	if t.terminalAcked() {
		a.forget(t)
		return
	}
	t.lazy = true
}

// forget drops a task entirely (keeping its sandbox for GC).
func (a *Agent) forget(t *task) {
	if t.stopHealth != nil {
		t.stopHealth()
	}
	delete(a.tasks, t.key)
	if a.byID[taskID{t.fid, t.info.TaskID}] == t {
		delete(a.byID, taskID{t.fid, t.info.TaskID})
	}
	a.removeCheckpoint(t)
	a.completed = append(a.completed, completedTask{view: a.view(t)})
	if len(a.completed) > 100 {
		a.completed = a.completed[len(a.completed)-100:]
	}
	if t.launched {
		key := t.key
		sup := a.supervisor()
		go func() { _ = sup.Forget(context.Background(), key) }()
	}
}

// flushLazy writes the checkpoints owed for acknowledgements.
func (a *Agent) flushLazy() {
	for _, t := range a.tasks {
		if t.lazy {
			t.lazy = false
			if err := a.checkpoint(t); err != nil {
				a.log.Warn("checkpoint failed", "task", t.info.TaskID, "err", err)
			}
		}
	}
}

// usage reads a task's resource usage from its cgroup, or from /proc.
func (a *Agent) usage(cgroup string, pid int) (protocol.ResourceStatistics, bool) {
	now := protocol.Timestamp(time.Now())
	if cgroup != "" {
		cg, err := a.cg.Open(cgroup)
		if err == nil {
			st, err := cg.Stats()
			if err == nil {
				return protocol.ResourceStatistics{Timestamp: now, CPUsUserTimeSecs: st.CPUUser.Seconds(),
					CPUsSystemTimeSecs: st.CPUSystem.Seconds(), MemRSSBytes: uint64(max(0, st.MemoryUsage)),
					MemMaxBytes: uint64(max(0, st.MemoryMaxUsage)), MemLimitBytes: uint64(max(0, st.MemoryLimit)),
					Processes: st.Processes}, true
			}
		}
	}
	if pid <= 0 {
		return protocol.ResourceStatistics{}, false
	}
	return procStats(pid, now)
}

// procStats reads one process's CPU times and RSS from /proc.
func procStats(pid int, now float64) (protocol.ResourceStatistics, bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return protocol.ResourceStatistics{}, false
	}
	// Fields after the command name in parentheses.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return protocol.ResourceStatistics{}, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 22 {
		return protocol.ResourceStatistics{}, false
	}
	var utime, stime, rss int64
	_, _ = fmt.Sscan(f[11], &utime)
	_, _ = fmt.Sscan(f[12], &stime)
	_, _ = fmt.Sscan(f[21], &rss)
	const hz = 100 // USER_HZ on Linux
	return protocol.ResourceStatistics{Timestamp: now, CPUsUserTimeSecs: float64(utime) / hz,
		CPUsSystemTimeSecs: float64(stime) / hz, MemRSSBytes: uint64(rss) * uint64(os.Getpagesize()), Processes: 1}, true
}

// Shutdown kills every task (SIGTERM, grace, SIGKILL) through the
// supervisor, which then exits: for stopping a whole one-machine cluster.
// The terminal updates are recorded by the supervisor and reported by the
// agent when it starts again.
func (a *Agent) Shutdown(ctx context.Context, grace time.Duration) error {
	select { // a Run still starting its supervisor: wait for it
	case <-a.supReady:
	case <-ctx.Done():
		return ctx.Err()
	}
	sup := a.supervisor()
	if sup == nil {
		return nil
	}
	a.supStopping.Store(true) // its end must not start another
	err := sup.Shutdown(ctx, grace)
	if errors.Is(err, supervisor.ErrClosed) {
		// It had gone away (perhaps being started again meanwhile): get
		// one, which re-adopts the tasks, and stop that one.
		if c, eerr := supervisor.Ensure(ctx, a.supDir, a.supCommand); eerr == nil {
			err = c.Shutdown(ctx, grace)
			c.Close()
		}
	}
	// Every task is dead: their cgroups can go (the terminal updates are
	// already recorded by the supervisor).
	if a.cg != nil && a.cg.Version() != "none" {
		if rerr := cgroups.RemoveAll(a.cg); rerr != nil {
			a.log.Debug("removing the agent's cgroups", "err", rerr)
		}
	}
	return err
}

// WaitIdle waits until every task has ended and every status update is on
// the stream (or ctx ends): after Shutdown, so the cluster learns of the kills.
func (a *Agent) WaitIdle(ctx context.Context) {
	for {
		busy, err := query(ctx, a, func() bool {
			for _, t := range a.tasks {
				if t.inflight || t.stored < len(t.updates) || !t.state.Terminal() {
					return true
				}
			}
			return false
		})
		if err != nil || !busy {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}
