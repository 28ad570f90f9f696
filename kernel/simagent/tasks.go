package simagent

import (
	"container/heap"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// Labels a task may carry to steer its simulated life.
const (
	// LabelDuration: a Go duration ("30s"); the task ends by itself that
	// long after TASK_RUNNING (overrides Config.TaskDuration; "0s" ends it
	// at once, "" or absent uses the Config).
	LabelDuration = "sim.duration"
	// LabelExit: how the task ends by itself: "finished" (default,
	// TASK_FINISHED, exit code 0) or "failed" (TASK_FAILED, exit code 1).
	// With "failed" and no duration at all the task fails right after
	// TASK_RUNNING (a crash-looping app).
	LabelExit = "sim.exit"
	// LabelHealthy: "true" or "false": the TASK_RUNNING update carries
	// healthy. Without it, a task with a health check is reported healthy.
	LabelHealthy = "sim.healthy"
	// LabelStartDelay: a Go duration the task spends in TASK_STARTING
	// (overrides Config.StartDelay).
	LabelStartDelay = "sim.start_delay"
)

// Messages of the updates the agent makes up itself.
const (
	// MessageUnknownTask is the message of the TASK_DROPPED
	// (REASON_TASK_UNKNOWN) answering a KILL of a task the agent does not hold.
	MessageUnknownTask = "task unknown to agent"
	// MessageOvercommitPrefix starts the message of the TASK_DROPPED
	// (REASON_INVALID_OFFERS) answering a LAUNCH that does not fit in what
	// the agent has free: the master allocated something twice.
	MessageOvercommitPrefix = "overcommit: "
)

// task is one task the agent holds: active, or terminal and waiting for
// the framework's acknowledgement of its terminal update.
type task struct {
	fid   protocol.FrameworkID
	id    protocol.TaskID
	name  string
	role  string
	res   resources.Resources
	base  resources.Resources // res in base form; counted in Agent.used while active
	state protocol.TaskState
	seen  uint16 // bit per state reached

	healthy  *bool
	lastUUID string // of the latest update
	acked    bool   // the latest update was acknowledged
	updates  int

	outbox []*outUpdate // updates not yet on the stream; the head is the one sent

	// The timer: at due, the task moves to dueState (TASK_RUNNING after its
	// start delay, or a terminal state).
	hidx      int // index in Agent.timers; -1 when not there
	due       time.Time
	dueState  protocol.TaskState
	dueReason protocol.Reason
	dueMsg    string
	runFor    time.Duration      // after TASK_RUNNING; <0: until killed
	exitState protocol.TaskState // how it ends by itself

	ephemeral bool // made up to answer a kill of an unknown task: forgotten once published
	forgotten bool
}

// outUpdate is a status update on its way to the stream.
type outUpdate struct {
	agent    *Agent
	task     *task
	uuid     string
	subject  string
	data     []byte // JSON protocol.StatusUpdate
	inFlight bool   // handed to the publisher, no answer yet
	attempts int    // failed publishes (touched by the publisher only)
}

func (t *task) agentTask() protocol.AgentTask {
	return protocol.AgentTask{FrameworkID: t.fid, TaskID: t.id, Name: t.name, Role: t.role, Resources: t.res, State: t.state}
}

// TaskSnapshot is a task as the agent holds it.
type TaskSnapshot struct {
	FrameworkID protocol.FrameworkID
	TaskID      protocol.TaskID
	Name        string
	Role        string
	Resources   resources.Resources
	State       protocol.TaskState // latest state (its update may not be on the stream yet)
	Healthy     *bool
	Updates     int    // status updates generated for it
	LastUUID    string // UUID of the latest update
	// Acknowledged: the framework acknowledged the latest update.
	Acknowledged bool
	// Pending counts its updates not yet on the stream (no PubAck).
	Pending int
}

func (t *task) snapshot() TaskSnapshot {
	return TaskSnapshot{FrameworkID: t.fid, TaskID: t.id, Name: t.name, Role: t.role, Resources: t.res,
		State: t.state, Healthy: t.healthy, Updates: t.updates, LastUUID: t.lastUUID, Acknowledged: t.acked,
		Pending: len(t.outbox)}
}

// Tasks returns the tasks the agent holds (active, or terminal and not yet
// acknowledged), by framework then task ID.
func (a *Agent) Tasks() []TaskSnapshot {
	a.mu.Lock()
	out := make([]TaskSnapshot, 0, a.ntasks)
	for _, ts := range a.tasks {
		for _, t := range ts {
			if !t.ephemeral {
				out = append(out, t.snapshot())
			}
		}
	}
	a.mu.Unlock()
	slices.SortFunc(out, func(x, y TaskSnapshot) int {
		if c := strings.Compare(string(x.FrameworkID), string(y.FrameworkID)); c != 0 {
			return c
		}
		return strings.Compare(string(x.TaskID), string(y.TaskID))
	})
	return out
}

// Task returns the task with that ID (of any framework).
func (a *Agent) Task(id protocol.TaskID) (TaskSnapshot, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.tasks[id] {
		if !t.ephemeral {
			return t.snapshot(), true
		}
	}
	return TaskSnapshot{}, false
}

// WaitTask waits until the task with that ID has reached state (now or
// earlier: waiting for TASK_RUNNING returns at once for a finished task;
// a task forgotten lately still counts).
func (a *Agent) WaitTask(ctx context.Context, id protocol.TaskID, state protocol.TaskState) error {
	bit := stateBit(state)
	if bit == 0 {
		return fmt.Errorf("simagent: WaitTask: unknown state %q", state)
	}
	err := a.Wait(ctx, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, t := range a.tasks[id] {
			if !t.ephemeral && t.seen&bit != 0 {
				return true
			}
		}
		return a.recent.seen(id)&bit != 0
	})
	if err != nil {
		s, ok := a.Task(id)
		if !ok {
			return fmt.Errorf("simagent %s: task %s never reached %s (agent does not hold it): %w", a.id, id, state, err)
		}
		return fmt.Errorf("simagent %s: task %s never reached %s (it is %s): %w", a.id, id, state, s.State, err)
	}
	return nil
}

// Finish ends an active task now with a terminal state (TASK_FINISHED,
// TASK_FAILED, TASK_KILLED ...) and message.
func (a *Agent) Finish(id protocol.TaskID, state protocol.TaskState, message string) error {
	if !state.Terminal() {
		return fmt.Errorf("simagent: Finish task %s: %q is not a terminal state", id, state)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t, err := a.activeLocked(id)
	if err != nil {
		return err
	}
	a.updateLocked(t, state, "", message, nil, exitCode(state))
	return nil
}

// SetHealthy sends a TASK_RUNNING update of a running task with the given
// health (reason REASON_TASK_HEALTH_CHECK_STATUS_UPDATED), as a health
// check changing its mind.
func (a *Agent) SetHealthy(id protocol.TaskID, healthy bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, err := a.activeLocked(id)
	if err != nil {
		return err
	}
	if t.state != protocol.TaskRunning {
		return fmt.Errorf("simagent %s: task %s is %s, not running", a.id, id, t.state)
	}
	a.updateLocked(t, protocol.TaskRunning, protocol.ReasonHealthCheckUpdated, "", &healthy, nil)
	return nil
}

func (a *Agent) activeLocked(id protocol.TaskID) (*task, error) {
	var found *task
	for _, t := range a.tasks[id] {
		if t.ephemeral || t.state.Terminal() {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("simagent %s: task id %s is used by frameworks %s and %s", a.id, id, found.fid, t.fid)
		}
		found = t
	}
	if found == nil {
		return nil, fmt.Errorf("simagent %s: no active task %s", a.id, id)
	}
	return found, nil
}

// findLocked finds the task of framework fid (any framework when empty).
func (a *Agent) findLocked(fid protocol.FrameworkID, id protocol.TaskID) *task {
	for _, t := range a.tasks[id] {
		if !t.ephemeral && (fid == "" || t.fid == fid) {
			return t
		}
	}
	return nil
}

func (a *Agent) addLocked(t *task) {
	t.hidx = -1
	a.tasks[t.id] = append(a.tasks[t.id], t)
	a.ntasks++
}

// forgetLocked drops a task: its terminal update was acknowledged.
func (a *Agent) forgetLocked(t *task) {
	if t.forgotten {
		return
	}
	t.forgotten = true
	ts := a.tasks[t.id]
	if i := slices.Index(ts, t); i >= 0 {
		ts = slices.Delete(ts, i, i+1)
	}
	if len(ts) == 0 {
		delete(a.tasks, t.id)
	} else {
		a.tasks[t.id] = ts
	}
	a.ntasks--
	a.unscheduleLocked(t)
	if t.counted() {
		a.used = a.used.Minus(t.base)
	}
	t.outbox = nil
	if !t.ephemeral {
		a.recent.add(t.id, t.seen)
	}
}

func (t *task) counted() bool { return t.base != nil && !t.state.Terminal() }

// updateLocked makes a status update of t and queues it for the stream.
func (a *Agent) updateLocked(t *task, state protocol.TaskState, reason protocol.Reason, msg string, healthy *bool, exit *int) {
	if t.state.Terminal() {
		return // nothing follows a terminal update
	}
	if state.Terminal() {
		if t.counted() {
			a.used = a.used.Minus(t.base)
		}
		a.unscheduleLocked(t)
	}
	st := protocol.TaskStatus{
		TaskID:    t.id,
		State:     state,
		Message:   msg,
		Source:    protocol.SourceAgent,
		Reason:    reason,
		AgentID:   a.id,
		Healthy:   healthy,
		ExitCode:  exit,
		Timestamp: protocol.Timestamp(time.Now()),
		UUID:      protocol.NewID(),
	}
	data, err := json.Marshal(protocol.StatusUpdate{FrameworkID: t.fid, AgentID: a.id, Status: st})
	if err != nil { // cannot happen with these types
		a.log.Error("encode status update", "task", t.id, "err", err)
		return
	}
	t.state = state
	t.seen |= stateBit(state)
	if healthy != nil {
		t.healthy = healthy
	}
	t.lastUUID = st.UUID
	t.acked = false
	t.updates++
	a.stats.Updates++
	u := &outUpdate{agent: a, task: t, uuid: st.UUID, subject: protocol.Updates(t.fid, a.id), data: data}
	t.outbox = append(t.outbox, u)
	if len(t.outbox) == 1 && a.canSendLocked() {
		a.sendLocked(u)
	}
}

func exitCode(s protocol.TaskState) *int {
	var c int
	switch s {
	case protocol.TaskFinished:
		c = 0
	case protocol.TaskFailed:
		c = 1
	default:
		return nil
	}
	return &c
}

// simSpec is what a task's labels (and the Config) say about its life.
type simSpec struct {
	startDelay time.Duration
	runFor     time.Duration // <0: until killed
	exit       protocol.TaskState
	healthy    *bool
}

func (a *Agent) parseSpec(ti *protocol.TaskInfo) (simSpec, error) {
	s := simSpec{startDelay: a.cfg.StartDelay, runFor: -1, exit: protocol.TaskFinished}
	if a.cfg.TaskDuration > 0 {
		s.runFor = a.cfg.TaskDuration
	}
	l := ti.Labels
	if v, ok := l[LabelStartDelay]; ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return s, fmt.Errorf("label %s=%q: want a non-negative Go duration such as 2s", LabelStartDelay, v)
		}
		s.startDelay = d
	}
	durSet := false
	if v, ok := l[LabelDuration]; ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return s, fmt.Errorf("label %s=%q: want a non-negative Go duration such as 30s", LabelDuration, v)
		}
		s.runFor, durSet = d, true
	}
	switch v := l[LabelExit]; v {
	case "", "finished":
	case "failed":
		s.exit = protocol.TaskFailed
		if !durSet && s.runFor < 0 {
			s.runFor = 0
		}
	default:
		return s, fmt.Errorf("label %s=%q: want finished or failed", LabelExit, v)
	}
	switch v := l[LabelHealthy]; v {
	case "":
		if ti.HealthCheck != nil {
			h := true
			s.healthy = &h
		}
	case "true", "false":
		h, _ := strconv.ParseBool(v)
		s.healthy = &h
	default:
		return s, fmt.Errorf("label %s=%q: want true or false", LabelHealthy, v)
	}
	return s, nil
}

func (a *Agent) launchLocked(l *protocol.LaunchTasks) {
	for i := range l.Tasks {
		a.stats.Launches++
		a.launchOneLocked(l.Framework.ID, l.Role, &l.Tasks[i])
	}
}

func (a *Agent) launchOneLocked(fid protocol.FrameworkID, role string, ti *protocol.TaskInfo) {
	if old := a.findLocked(fid, ti.TaskID); old != nil {
		if !old.state.Terminal() {
			a.stats.DuplicateLaunches++
			a.log.Warn("ignored a launch of a task that is already active", "framework", fid, "task", ti.TaskID, "state", old.state)
			return
		}
		a.forgetLocked(old) // a new incarnation replaces the finished one
	}
	t := &task{fid: fid, id: ti.TaskID, name: ti.Name, role: role, res: ti.Resources}
	a.addLocked(t)
	spec, err := a.parseSpec(ti)
	if err != nil {
		a.updateLocked(t, protocol.TaskError, protocol.ReasonTaskInvalid, err.Error(), nil, nil)
		return
	}
	if ti.AgentID != "" && ti.AgentID != a.id {
		a.updateLocked(t, protocol.TaskDropped, protocol.ReasonTaskInvalid,
			fmt.Sprintf("task is for agent %s but was sent to agent %s", ti.AgentID, a.id), nil, nil)
		return
	}
	b := base(ti.Resources)
	if free := a.total.Minus(a.used); !free.Contains(b) {
		a.stats.Overcommits++
		a.updateLocked(t, protocol.TaskDropped, protocol.ReasonInvalidOffers,
			fmt.Sprintf("%stask %s needs %s but agent %s has only %s free of %s",
				MessageOvercommitPrefix, ti.TaskID, ti.Resources, a.id, free, a.total), nil, nil)
		return
	}
	t.base = b
	a.used = a.used.Plus(b)
	t.runFor, t.exitState, t.healthy = spec.runFor, spec.exit, spec.healthy
	if !a.cfg.SkipStarting || spec.startDelay > 0 {
		a.updateLocked(t, protocol.TaskStarting, "", "", nil, nil)
	}
	if spec.startDelay > 0 {
		a.scheduleLocked(t, time.Now().Add(spec.startDelay), protocol.TaskRunning, "", "")
		return
	}
	a.runLocked(t)
}

// runLocked moves t to TASK_RUNNING and schedules its end, if it has one.
func (a *Agent) runLocked(t *task) {
	a.updateLocked(t, protocol.TaskRunning, "", "", t.healthy, nil)
	switch {
	case t.runFor == 0:
		a.updateLocked(t, t.exitState, "", exitMessage(t.exitState), nil, exitCode(t.exitState))
	case t.runFor > 0:
		a.scheduleLocked(t, time.Now().Add(t.runFor), t.exitState, "", exitMessage(t.exitState))
	}
}

func exitMessage(s protocol.TaskState) string {
	if s == protocol.TaskFailed {
		return "simulated task failed (exit code 1)"
	}
	return "simulated task finished"
}

func (a *Agent) killLocked(k *protocol.KillTask) {
	if a.dropKills > 0 {
		a.dropKills--
		a.stats.DroppedCommands++
		a.log.Debug("kill dropped (DropKills)", "task", k.TaskID)
		return
	}
	t := a.findLocked(k.FrameworkID, k.TaskID)
	if t == nil {
		if err := protocol.ValidateToken("kill.framework_id", string(k.FrameworkID)); err != nil {
			a.log.Warn("kill of an unknown task without a valid framework id: cannot answer", "task", k.TaskID, "err", err)
			return
		}
		// Answer with TASK_DROPPED; the made-up task is forgotten once
		// its update is on the stream (nothing to acknowledge, nothing to
		// report on re-registration).
		t = &task{fid: k.FrameworkID, id: k.TaskID, ephemeral: true}
		a.addLocked(t)
		a.updateLocked(t, protocol.TaskDropped, protocol.ReasonTaskUnknown, MessageUnknownTask, nil, nil)
		return
	}
	msg := "task killed"
	if k.Message != "" {
		msg = k.Message
	}
	a.killTaskLocked(t, k.Reason, msg)
}

func (a *Agent) killTaskLocked(t *task, reason protocol.Reason, msg string) {
	if t.state.Terminal() || t.state == protocol.TaskKilling {
		return
	}
	if t.state == protocol.TaskStarting && reason == "" {
		reason = protocol.ReasonTaskKilledDuringLaunch
	}
	if a.cfg.SendKilling {
		a.updateLocked(t, protocol.TaskKilling, reason, "", nil, nil)
	}
	if a.cfg.KillDelay > 0 {
		a.scheduleLocked(t, time.Now().Add(a.cfg.KillDelay), protocol.TaskKilled, reason, msg)
		return
	}
	a.updateLocked(t, protocol.TaskKilled, reason, msg, nil, nil)
}

func (a *Agent) ackLocked(ack *protocol.AckUpdate) {
	var t *task
	if ack.TaskID != "" {
		for _, c := range a.tasks[ack.TaskID] {
			if !c.ephemeral && c.lastUUID == ack.UUID && (ack.FrameworkID == "" || c.fid == ack.FrameworkID) {
				t = c
			}
		}
	} else {
	scan:
		for _, ts := range a.tasks {
			for _, c := range ts {
				if !c.ephemeral && c.lastUUID == ack.UUID {
					t = c
					break scan
				}
			}
		}
	}
	if t == nil {
		return // an older update, or a task already forgotten
	}
	t.acked = true
	if t.state.Terminal() {
		a.forgetLocked(t)
	}
}

func (a *Agent) shutdownFrameworkLocked(fid protocol.FrameworkID) {
	var victims []*task
	for _, ts := range a.tasks {
		for _, t := range ts {
			if t.fid == fid && !t.ephemeral && !t.state.Terminal() {
				victims = append(victims, t)
			}
		}
	}
	slices.SortFunc(victims, func(x, y *task) int { return strings.Compare(string(x.id), string(y.id)) })
	for _, t := range victims {
		a.killTaskLocked(t, "", "framework shut down")
	}
}

// ---- the timer: one per agent, for all tasks ----

func (a *Agent) scheduleLocked(t *task, at time.Time, state protocol.TaskState, reason protocol.Reason, msg string) {
	t.due, t.dueState, t.dueReason, t.dueMsg = at, state, reason, msg
	if t.hidx >= 0 {
		heap.Fix(&a.timers, t.hidx)
	} else {
		heap.Push(&a.timers, t)
	}
	a.armLocked()
}

func (a *Agent) unscheduleLocked(t *task) {
	if t.hidx >= 0 {
		heap.Remove(&a.timers, t.hidx)
	}
}

// armLocked makes the timer fire at the earliest due time.
func (a *Agent) armLocked() {
	if len(a.timers) == 0 || a.stopped.Load() {
		return // a timer firing early finds nothing due and re-arms
	}
	next := a.timers[0].due
	if !a.timerAt.IsZero() && !next.Before(a.timerAt) {
		return
	}
	a.timerAt = next
	d := time.Until(next)
	if a.timer == nil {
		a.timer = time.AfterFunc(d, a.onTimer)
	} else {
		a.timer.Reset(d)
	}
}

func (a *Agent) onTimer() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped.Load() {
		return
	}
	a.timerAt = time.Time{}
	now := time.Now()
	for len(a.timers) > 0 && !a.timers[0].due.After(now) {
		t := heap.Pop(&a.timers).(*task)
		if t.dueState == protocol.TaskRunning {
			a.runLocked(t)
		} else {
			a.updateLocked(t, t.dueState, t.dueReason, t.dueMsg, nil, exitCode(t.dueState))
		}
	}
	a.armLocked()
	a.notify()
}

type taskHeap []*task

func (h taskHeap) Len() int           { return len(h) }
func (h taskHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h taskHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = i, j
}
func (h *taskHeap) Push(x any) {
	t := x.(*task)
	t.hidx = len(*h)
	*h = append(*h, t)
}
func (h *taskHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.hidx = -1
	return t
}

// ---- checkpoints: agent restarts ----

// Checkpoint is what a crashed agent leaves behind to be recovered from
// (Config.Recover), like a real agent's work dir.
type Checkpoint struct {
	AgentID protocol.AgentID
	Tasks   []TaskCheckpoint
}

// TaskCheckpoint is one task of a Checkpoint.
type TaskCheckpoint struct {
	Task         protocol.AgentTask
	Healthy      *bool
	LastUUID     string
	Acknowledged bool
	// Pending are its updates not yet on the stream: the recovered agent
	// sends them again (same UUIDs) once registered.
	Pending []protocol.StatusUpdate
	// Next is when the task moves on by itself to NextState (TASK_RUNNING
	// after a start delay, or its end); zero: never.
	Next      time.Time
	NextState protocol.TaskState
	// RunFor is how long it runs after TASK_RUNNING (0: it ends at once;
	// <0: until killed) and ExitState how it then ends; used only when
	// NextState is TASK_RUNNING.
	RunFor    time.Duration
	ExitState protocol.TaskState
}

func (a *Agent) checkpoint() *Checkpoint {
	a.mu.Lock()
	defer a.mu.Unlock()
	cp := &Checkpoint{AgentID: a.id}
	for _, ts := range a.tasks {
		for _, t := range ts {
			if t.ephemeral {
				continue
			}
			tc := TaskCheckpoint{Task: t.agentTask(), Healthy: t.healthy, LastUUID: t.lastUUID, Acknowledged: t.acked,
				RunFor: t.runFor, ExitState: t.exitState}
			if t.hidx >= 0 {
				tc.Next, tc.NextState = t.due, t.dueState
			}
			for _, u := range t.outbox {
				var su protocol.StatusUpdate
				if json.Unmarshal(u.data, &su) == nil {
					tc.Pending = append(tc.Pending, su)
				}
			}
			cp.Tasks = append(cp.Tasks, tc)
		}
	}
	slices.SortFunc(cp.Tasks, func(x, y TaskCheckpoint) int {
		if c := strings.Compare(string(x.Task.FrameworkID), string(y.Task.FrameworkID)); c != 0 {
			return c
		}
		return strings.Compare(string(x.Task.TaskID), string(y.Task.TaskID))
	})
	return cp
}

// recover loads a checkpoint into a new agent (before it registers).
func (a *Agent) recover(cp *Checkpoint) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, tc := range cp.Tasks {
		at := tc.Task
		t := &task{fid: at.FrameworkID, id: at.TaskID, name: at.Name, role: at.Role, res: at.Resources,
			state: at.State, seen: stateBit(at.State), healthy: tc.Healthy, lastUUID: tc.LastUUID,
			acked: tc.Acknowledged, runFor: tc.RunFor, exitState: tc.ExitState}
		if t.exitState == "" {
			t.exitState = protocol.TaskFinished
		}
		a.addLocked(t)
		if !t.state.Terminal() {
			t.base = base(at.Resources)
			if free := a.total.Minus(a.used); !free.Contains(t.base) {
				a.log.Warn("recovered task does not fit in the agent's resources", "task", t.id, "resources", at.Resources)
			}
			a.used = a.used.Plus(t.base)
			if !tc.Next.IsZero() && tc.NextState.Valid() {
				a.scheduleLocked(t, tc.Next, tc.NextState, "", exitMessage(tc.NextState))
			}
		}
		for _, su := range tc.Pending {
			su.AgentID = a.id
			su.Status.AgentID = a.id
			data, err := json.Marshal(su)
			if err != nil {
				continue
			}
			t.outbox = append(t.outbox, &outUpdate{agent: a, task: t, uuid: su.Status.UUID,
				subject: protocol.Updates(t.fid, a.id), data: data})
		}
	}
}

// ---- helpers ----

// base is rs as the pool it was carved from: dynamic reservations popped
// (they are made from the agent's unreserved or statically reserved
// resources, and the agent hears of no RESERVE) and persistent volume info
// dropped (a volume is disk). Two tasks may then not use more than the
// agent has of each pool.
func base(rs resources.Resources) resources.Resources {
	plain := true
	for _, r := range rs {
		if r.Disk != nil || slices.ContainsFunc(r.Reservations, func(v resources.Reservation) bool { return v.Type != resources.Static }) {
			plain = false
			break
		}
	}
	if plain {
		return rs
	}
	var out resources.Resources
	for _, r := range rs {
		r.Disk = nil
		r.Reservations = slices.DeleteFunc(slices.Clone(r.Reservations), func(v resources.Reservation) bool { return v.Type != resources.Static })
		if len(r.Reservations) == 0 {
			r.Reservations = nil
		}
		out = out.Plus(resources.Resources{r})
	}
	return out
}

var stateOrder = [...]protocol.TaskState{
	protocol.TaskStaging, protocol.TaskStarting, protocol.TaskRunning, protocol.TaskKilling,
	protocol.TaskFinished, protocol.TaskFailed, protocol.TaskKilled, protocol.TaskError,
	protocol.TaskLost, protocol.TaskDropped, protocol.TaskUnreachable, protocol.TaskGone,
	protocol.TaskGoneByOperator, protocol.TaskUnknown,
}

func stateBit(s protocol.TaskState) uint16 {
	for i, v := range stateOrder {
		if v == s {
			return 1 << i
		}
	}
	return 0
}

// recentRing remembers the states reached by the last tasks forgotten, so
// that WaitTask still sees a task acknowledged and dropped meanwhile.
type recentRing struct {
	ids    [256]protocol.TaskID
	states [256]uint16
	next   int
}

func (r *recentRing) add(id protocol.TaskID, seen uint16) {
	r.ids[r.next], r.states[r.next] = id, seen
	r.next = (r.next + 1) % len(r.ids)
}

func (r *recentRing) seen(id protocol.TaskID) uint16 {
	var s uint16
	for i, v := range r.ids {
		if v == id {
			s |= r.states[i]
		}
	}
	return s
}
