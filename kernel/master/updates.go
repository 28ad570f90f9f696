package master

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// handleUpdate applies one status update from the stream. The stream
// message is acknowledged only after the new state is durable, so a master
// that dies mid-way gets the update again.
func (m *Master) handleUpdate(msg jetstream.Msg) {
	u, err := protocol.DecodeStatusUpdate(msg.Data())
	if err != nil {
		m.log.Warn("dropping malformed status update", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return
	}
	// The subject names who published it; the body must agree.
	if fid, aid := protocol.TokenOf(msg.Subject(), 3), protocol.TokenOf(msg.Subject(), 4); string(u.FrameworkID) != fid || string(u.AgentID) != aid {
		m.log.Warn("dropping status update whose body does not match its subject", "subject", msg.Subject(),
			"framework", u.FrameworkID, "agent", u.AgentID)
		_ = msg.Term()
		return
	}
	m.later(func() { _ = msg.Ack() })
	m.applyAgentUpdate(u)
}

func (m *Master) applyAgentUpdate(u protocol.StatusUpdate) {
	st := u.Status
	st.AgentID = u.AgentID
	if st.Source == "" {
		st.Source = protocol.SourceAgent
	}
	f := m.frameworks[u.FrameworkID]
	if f == nil || f.removed {
		// Nobody to tell. Make sure the task dies and the agent forgets it.
		if !st.State.Terminal() {
			m.sendAgent(u.AgentID, protocol.AgentCommand{Type: protocol.AgentKill, Kill: &protocol.KillTask{
				FrameworkID: u.FrameworkID, TaskID: st.TaskID, Reason: protocol.ReasonFrameworkRemoved}})
		}
		m.agentAcks[u.AgentID] = append(m.agentAcks[u.AgentID], protocol.AckUpdate{FrameworkID: u.FrameworkID, TaskID: st.TaskID, UUID: st.UUID})
		return
	}
	t := f.tasks[st.TaskID]
	if t == nil || t.aid != u.AgentID {
		// Unknown to us (e.g. the agent kept a task the master forgot):
		// forward it; the framework decides. Terminal ones need no keeping.
		m.log.Info("status update for a task the master does not know", "framework", f.info.ID, "task", st.TaskID,
			"agent", u.AgentID, "state", st.State)
		m.sendEvent(f, protocol.Event{Type: protocol.EventUpdate, Update: &protocol.Update{Status: st}})
		return
	}
	if t.hasStatus(st.UUID) {
		return // a redelivery
	}
	if t.state.Terminal() && !st.State.Terminal() {
		m.log.Debug("ignoring non-terminal update of a terminal task", "task", st.TaskID, "state", st.State)
		m.ackAgent(t, st)
		return
	}
	if n := len(t.statuses); n > 0 && st.Timestamp < t.statuses[n-1].Timestamp && t.statuses[n-1].Source == protocol.SourceAgent {
		// Older than what we have from the agent (redelivered out of order):
		// keep it for the framework's ack but do not go back in state.
		t.pending = append(t.pending, st)
		m.forward(f, t, st)
		m.touchTask(t)
		return
	}
	m.applyStatus(t, st, true)
}

// applyStatus moves a task to a new status; reliable updates are kept until
// the framework acknowledges them.
func (m *Master) applyStatus(t *task, st protocol.TaskStatus, reliable bool) {
	f, a := m.frameworks[t.fid], m.agents[t.aid]
	wasTerminal := t.state.Terminal()
	t.state = st.State
	if st.Healthy != nil {
		t.healthy = st.Healthy
	}
	t.statuses = append(t.statuses, st)
	if len(t.statuses) > m.cfg.MaxStatuses {
		t.statuses = append(t.statuses[:0], t.statuses[len(t.statuses)-m.cfg.MaxStatuses:]...)
	}
	if !wasTerminal && st.State.Terminal() {
		// Its resources go back to the pool now, as in Mesos.
		if f != nil {
			f.active--
			f.used = f.used.Minus(t.info.Resources)
			f.view = nil
		}
		if a != nil {
			a.active--
			a.used = a.used.Minus(t.info.Resources)
			a.view = nil
			if a.status != protocol.AgentRemoved {
				m.alloc.Recover(string(t.fid), string(t.aid), t.role, t.info.Resources, 0, time.Now())
			}
			defer m.checkDrained(a, time.Now()) // after the task's own event
		}
	}
	if reliable {
		if st.UUID == "" {
			st.UUID = protocol.NewID()
			t.statuses[len(t.statuses)-1].UUID = st.UUID
		}
		t.pending = append(t.pending, st)
		if f != nil {
			m.forward(f, t, st)
		}
	} else if f != nil {
		m.sendEvent(f, protocol.Event{Type: protocol.EventUpdate, Update: &protocol.Update{Status: st}})
	}
	m.touchTask(t)
	m.clusterEvent(protocol.EvTaskUpdated, func(e *protocol.ClusterEvent) {
		e.Task = &protocol.Task{ID: t.info.TaskID, Name: t.info.Name, FrameworkID: t.fid, AgentID: t.aid, Role: t.role,
			State: t.state, Healthy: t.healthy}
		e.Status = &st
	})
}

func (t *task) hasStatus(uuid string) bool {
	if uuid == "" {
		return false
	}
	for i := range t.pending {
		if t.pending[i].UUID == uuid {
			return true
		}
	}
	for i := range t.statuses {
		if t.statuses[i].UUID == uuid {
			return true
		}
	}
	return false
}

// forward sends a reliable update and schedules its retry.
func (m *Master) forward(f *framework, t *task, st protocol.TaskStatus) {
	m.sendEvent(f, protocol.Event{Type: protocol.EventUpdate, Update: &protocol.Update{Status: st}})
	t.lastSent = time.Now()
	m.retry[t] = struct{}{}
}

// resend sends every unacknowledged update of a task again, in order.
func (m *Master) resend(f *framework, t *task, now time.Time) {
	for _, st := range t.pending {
		m.sendEvent(f, protocol.Event{Type: protocol.EventUpdate, Update: &protocol.Update{Status: st}})
	}
	t.lastSent = now
}

// retryUpdates re-sends updates unacknowledged for UpdateRetryInterval.
func (m *Master) retryUpdates(now time.Time) {
	for t := range m.retry {
		if len(t.pending) == 0 {
			delete(m.retry, t)
			continue
		}
		if now.Sub(t.lastSent) < m.cfg.UpdateRetryInterval {
			continue
		}
		if f := m.frameworks[t.fid]; f != nil && f.connected {
			m.resend(f, t, now)
		}
	}
}

// acknowledge handles ACKNOWLEDGE: the update leaves the pending list, the
// agent is told, and a task whose terminal update is acknowledged completes.
func (m *Master) acknowledge(msg *nats.Msg, f *framework, ack *protocol.Acknowledge) {
	if err := m.applyAck(f, *ack); err != "" {
		m.replyErr(msg, protocol.ErrNotFound, err)
		return
	}
	m.replyOK(msg, protocol.Response{})
}

// acknowledgeMany applies each acknowledgement of an ACKNOWLEDGE_MANY; the
// refused ones are listed in the reply (their updates are sent again).
func (m *Master) acknowledgeMany(msg *nats.Msg, f *framework, acks []protocol.Acknowledge) {
	var refused []protocol.Rejection
	for _, ack := range acks {
		if err := m.applyAck(f, ack); err != "" {
			refused = append(refused, protocol.Rejection{TaskID: ack.TaskID, Message: err})
		}
	}
	m.replyOK(msg, protocol.Response{Rejected: refused})
}

// applyAck drops the acknowledged update from the task's pending ones; it
// returns why it cannot (unknown task or update), or "".
func (m *Master) applyAck(f *framework, ack protocol.Acknowledge) string {
	t := f.tasks[ack.TaskID]
	if t == nil {
		return fmt.Sprintf("task %s is unknown to the master (or already pruned)", ack.TaskID)
	}
	idx := -1
	for i := range t.pending {
		if t.pending[i].UUID == ack.UUID {
			idx = i
			break
		}
	}
	if idx < 0 {
		if t.hasStatus(ack.UUID) {
			return "" // acknowledged before: fine
		}
		return fmt.Sprintf("task %s has no update with uuid %s", ack.TaskID, ack.UUID)
	}
	st := t.pending[idx]
	t.pending = append(t.pending[:idx], t.pending[idx+1:]...)
	if len(t.pending) == 0 {
		delete(m.retry, t)
	}
	m.ackAgent(t, st)
	if st.State.Terminal() && t.state.Terminal() && len(t.pending) == 0 && !t.completed {
		m.complete(f, t)
	}
	// Losing an acknowledgement in a crash only means the update is sent
	// (and acknowledged) again, so it need not hold up the batch.
	m.touchTaskLazily(t)
	return ""
}

func (m *Master) ackAgent(t *task, st protocol.TaskStatus) {
	if st.Source != protocol.SourceAgent && st.Source != protocol.SourceExecutor {
		return
	}
	if a := m.agents[t.aid]; a != nil && a.status != protocol.AgentRemoved {
		// Batched: one ACKNOWLEDGE command per agent per loop batch.
		m.agentAcks[t.aid] = append(m.agentAcks[t.aid], protocol.AckUpdate{FrameworkID: t.fid, TaskID: t.info.TaskID, UUID: st.UUID})
	}
}

// complete moves an acknowledged terminal task to the completed list,
// pruning the oldest beyond MaxCompletedTasks.
func (m *Master) complete(f *framework, t *task) {
	t.completed = true
	f.completed = append(f.completed, t)
	for len(f.completed) > m.cfg.MaxCompletedTasks {
		m.forgetTask(f, f.completed[0])
	}
}

// kill handles KILL.
func (m *Master) kill(msg *nats.Msg, f *framework, k *protocol.Kill) {
	t := f.tasks[k.TaskID]
	if t == nil {
		m.sendEvent(f, protocol.Event{Type: protocol.EventUpdate, Update: &protocol.Update{Status: protocol.TaskStatus{
			TaskID: k.TaskID, AgentID: k.AgentID, State: protocol.TaskUnknown, Source: protocol.SourceMaster,
			Reason: protocol.ReasonTaskUnknown, Message: "kill of a task the master does not know", Timestamp: protocol.Timestamp(time.Now())}}})
		m.replyErr(msg, protocol.ErrNotFound, fmt.Sprintf("task %s is unknown to the master", k.TaskID))
		return
	}
	if t.state.Terminal() {
		m.sendEvent(f, protocol.Event{Type: protocol.EventUpdate, Update: &protocol.Update{Status: t.latest(protocol.ReasonReconciliation)}})
		m.replyOK(msg, protocol.Response{})
		return
	}
	t.killRequested = true
	m.touchTask(t)
	policy := k.KillPolicy
	if policy == nil {
		policy = t.info.KillPolicy
	}
	if a := m.agents[t.aid]; a != nil && a.status == protocol.AgentActive {
		m.sendAgent(t.aid, protocol.AgentCommand{Type: protocol.AgentKill, Kill: &protocol.KillTask{
			FrameworkID: t.fid, TaskID: t.info.TaskID, KillPolicy: policy}})
	}
	m.replyOK(msg, protocol.Response{})
}

// latest is the task's current status as a reconciliation answer (no UUID).
func (t *task) latest(reason protocol.Reason) protocol.TaskStatus {
	st := protocol.TaskStatus{TaskID: t.info.TaskID, State: t.state, AgentID: t.aid, Source: protocol.SourceMaster,
		Reason: reason, Healthy: t.healthy, Timestamp: protocol.Timestamp(time.Now())}
	if n := len(t.statuses); n > 0 {
		st.Message = t.statuses[n-1].Message
	}
	return st
}

// reconcile answers RECONCILE with the latest known states (Mesos'
// partition-aware rules for tasks the master does not know).
func (m *Master) reconcile(f *framework, r *protocol.Reconcile) {
	send := func(st protocol.TaskStatus) {
		m.sendEvent(f, protocol.Event{Type: protocol.EventUpdate, Update: &protocol.Update{Status: st}})
	}
	if r == nil || len(r.Tasks) == 0 {
		for _, t := range f.tasks {
			if !t.completed {
				send(t.latest(protocol.ReasonReconciliation))
			}
		}
		return
	}
	now := protocol.Timestamp(time.Now())
	for _, rt := range r.Tasks {
		if t := f.tasks[rt.TaskID]; t != nil {
			send(t.latest(protocol.ReasonReconciliation))
			continue
		}
		st := protocol.TaskStatus{TaskID: rt.TaskID, AgentID: rt.AgentID, Source: protocol.SourceMaster,
			Reason: protocol.ReasonReconciliation, Timestamp: now}
		a := m.agents[rt.AgentID]
		switch {
		case rt.AgentID == "":
			st.State, st.Message = protocol.TaskUnknown, "task unknown to the master"
		case a == nil:
			st.State, st.Message = protocol.TaskUnknown, "task and agent unknown to the master"
		case a.status == protocol.AgentRemoved:
			st.State, st.Message = protocol.TaskGone, "the task's agent is gone"
		case a.status == protocol.AgentUnreachable:
			st.State, st.Message = protocol.TaskUnreachable, "the task's agent is unreachable"
		default:
			st.State, st.Message = protocol.TaskGone, "task unknown on a registered agent"
		}
		send(st)
	}
}
