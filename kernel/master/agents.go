package master

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/allocator"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

func (m *Master) replyAgent(msg *nats.Msg, r protocol.AgentRegistered) {
	data, _ := json.Marshal(r)
	m.later(func() { _ = msg.Respond(data) })
}

// handleRegister handles an agent's registration or re-registration.
func (m *Master) handleRegister(msg *nats.Msg) {
	aid := protocol.AgentID(protocol.TokenOf(msg.Subject, 3))
	reg, err := protocol.DecodeRegisterAgent(msg.Data)
	if err == nil && reg.Agent.ID != aid {
		err = fmt.Errorf("agent.id %s differs from the subject's agent %s: an agent registers on its own subject", reg.Agent.ID, aid)
	}
	if err != nil {
		m.log.Warn("refusing agent registration", "agent", aid, "err", err)
		m.replyAgent(msg, protocol.AgentRegistered{AgentID: aid, MasterID: m.cfg.ID,
			Error: &protocol.Error{Code: protocol.ErrBadRequest, Message: err.Error()}})
		return
	}
	now := time.Now()
	a := m.agents[aid]
	if a != nil && a.status == protocol.AgentRemoved {
		m.replyAgent(msg, protocol.AgentRegistered{AgentID: aid, MasterID: m.cfg.ID, Error: &protocol.Error{Code: protocol.ErrForbidden,
			Message: fmt.Sprintf("agent %s was declared gone after being unreachable too long and its tasks were replaced: restart it with a fresh id (remove its work dir's agent id)", aid)}})
		return
	}
	info := reg.Agent
	if a == nil {
		a = &agent{info: info, registered: now, tasks: map[taskKey]*task{}, offers: map[protocol.OfferID]*offer{}}
		m.agents[aid] = a
		a.status = protocol.AgentActive
		a.lastPing = now
		m.addAgentTasks(a, reg.Tasks, now)
		m.alloc.AddAgent(string(aid), allocator.AgentInfo{Hostname: info.Hostname, Attributes: info.Attributes}, info.Resources, a.usedByFramework())
		m.log.Info("agent registered", "agent", aid, "hostname", info.Hostname, "resources", info.Resources.String())
		m.touchAgent(a)
		m.clusterEvent(protocol.EvAgentAdded, func(e *protocol.ClusterEvent) { e.Agent = a.buildView() })
	} else {
		m.reregister(a, reg, now)
	}
	m.replyAgent(msg, protocol.AgentRegistered{AgentID: aid, MasterID: m.cfg.ID, PingIntervalSeconds: m.cfg.AgentPingInterval.Seconds()})
}

// usedByFramework is what the agent's active tasks hold, framework → role.
func (a *agent) usedByFramework() map[string]map[string]resources.Resources {
	used := map[string]map[string]resources.Resources{}
	for _, t := range a.tasks {
		if t.state.Terminal() {
			continue
		}
		byRole := used[string(t.fid)]
		if byRole == nil {
			byRole = map[string]resources.Resources{}
			used[string(t.fid)] = byRole
		}
		byRole[t.role] = byRole[t.role].Plus(t.info.Resources)
	}
	return used
}

// addAgentTasks adopts tasks a newly registering agent reports that the
// master does not know (its state was lost): tasks of live frameworks are
// kept, others are killed.
func (m *Master) addAgentTasks(a *agent, tasks []protocol.AgentTask, now time.Time) {
	for _, at := range tasks {
		f := m.frameworks[at.FrameworkID]
		if f == nil || f.removed {
			if !at.State.Terminal() {
				m.sendAgent(a.info.ID, protocol.AgentCommand{Type: protocol.AgentKill, Kill: &protocol.KillTask{
					FrameworkID: at.FrameworkID, TaskID: at.TaskID, Reason: protocol.ReasonFrameworkRemoved}})
			}
			continue
		}
		if f.tasks[at.TaskID] != nil {
			continue
		}
		role := at.Role
		if role == "" {
			role = f.info.RolesOrDefault()[0]
		}
		t := &task{info: protocol.TaskInfo{TaskID: at.TaskID, Name: at.Name, AgentID: a.info.ID, Resources: at.Resources},
			fid: f.info.ID, aid: a.info.ID, role: role, state: at.State,
			statuses: []protocol.TaskStatus{{TaskID: at.TaskID, State: at.State, Source: protocol.SourceMaster,
				Reason: protocol.ReasonAgentReregistered, AgentID: a.info.ID, Timestamp: protocol.Timestamp(now)}}}
		f.tasks[at.TaskID] = t
		a.tasks[t.key()] = t
		if !at.State.Terminal() {
			f.active++
			a.active++
			f.used, a.used = f.used.Plus(at.Resources), a.used.Plus(at.Resources)
		}
		m.newTask(t)
		m.clusterEvent(protocol.EvTaskAdded, func(e *protocol.ClusterEvent) { e.Task = t.buildView() })
	}
}

// reregister reconciles a known agent's report with what the master has.
func (m *Master) reregister(a *agent, reg protocol.RegisterAgent, now time.Time) {
	wasUnreachable := a.status == protocol.AgentUnreachable
	m.log.Info("agent re-registered", "agent", a.info.ID, "hostname", reg.Agent.Hostname, "was", a.status, "tasks", len(reg.Tasks))
	m.rescindAgentOffers(a)
	reported := map[taskKey]protocol.AgentTask{}
	for _, at := range reg.Tasks {
		reported[taskKey{at.FrameworkID, at.TaskID}] = at
	}
	now64 := protocol.Timestamp(now)
	for k, t := range a.tasks {
		at, ok := reported[k]
		switch {
		case ok && t.state == protocol.TaskUnreachable:
			// Back from a partition: the task's real state, reliably.
			m.applyStatus(t, protocol.TaskStatus{TaskID: t.info.TaskID, State: at.State, AgentID: a.info.ID,
				Source: protocol.SourceMaster, Reason: protocol.ReasonAgentReregistered,
				Message: "agent re-registered after being unreachable", Timestamp: now64}, true)
		case !ok && !t.state.Terminal():
			m.applyStatus(t, protocol.TaskStatus{TaskID: t.info.TaskID, State: protocol.TaskDropped, AgentID: a.info.ID,
				Source: protocol.SourceMaster, Reason: protocol.ReasonAgentRestarted,
				Message: "the agent re-registered without this task: it was lost (agent restarted without its checkpoint?)", Timestamp: now64}, true)
		}
		if ok && t.killRequested && !at.State.Terminal() && a.drain == nil { // a drain's kills are sent below
			m.sendAgent(a.info.ID, protocol.AgentCommand{Type: protocol.AgentKill, Kill: &protocol.KillTask{
				FrameworkID: t.fid, TaskID: t.info.TaskID, KillPolicy: t.info.KillPolicy}})
		}
		delete(reported, k)
	}
	// Whatever is left the master did not know on this agent.
	var unknown []protocol.AgentTask
	for _, at := range reported {
		unknown = append(unknown, at)
	}
	m.addAgentTasks(a, unknown, now)

	totalChanged := !a.info.Resources.Equal(reg.Agent.Resources)
	a.info = reg.Agent
	a.lastPing = now
	a.status = protocol.AgentActive
	a.unreachable = time.Time{}
	// The allocator's view of the agent is rebuilt from the report.
	m.alloc.RemoveAgent(string(a.info.ID))
	m.alloc.AddAgent(string(a.info.ID), allocator.AgentInfo{Hostname: a.info.Hostname, Attributes: a.info.Attributes}, a.info.Resources, a.usedByFramework())
	if a.drain != nil {
		// Still marked for maintenance: no offers, and what it runs is killed.
		m.alloc.DeactivateAgent(string(a.info.ID))
		if a.drain.State == protocol.DrainDrained && a.active > 0 {
			// It came back with tasks the master did not know: draining again.
			d := *a.drain
			d.State, d.DrainedTime = protocol.DrainDraining, 0
			a.drain = &d
		}
		m.killForDrain(a)
		m.checkDrained(a, now)
	}
	if totalChanged {
		m.log.Info("agent resources changed", "agent", a.info.ID, "resources", a.info.Resources.String())
	}
	m.touchAgent(a)
	if wasUnreachable {
		m.clusterEvent(protocol.EvAgentUpdated, func(e *protocol.ClusterEvent) { e.Agent = a.buildView() })
	}
}

// handlePing answers an agent's ping. Unknown and unreachable agents are
// told to re-register, so the master learns their tasks' real states.
func (m *Master) handlePing(msg *nats.Msg) {
	aid := protocol.AgentID(protocol.TokenOf(msg.Subject, 3))
	a := m.agents[aid]
	known := a != nil && a.status == protocol.AgentActive
	if known {
		a.lastPing = time.Now()
		var p protocol.Ping
		if len(msg.Data) > 0 && json.Unmarshal(msg.Data, &p) == nil {
			m.applyUsage(a, p.Usage)
		}
	}
	data, _ := json.Marshal(protocol.Pong{Known: known, MasterID: m.cfg.ID})
	m.later(func() { _ = msg.Respond(data) })
}

// handleAgentMessage forwards a task's message to its framework.
func (m *Master) handleAgentMessage(msg *nats.Msg) {
	aid := protocol.AgentID(protocol.TokenOf(msg.Subject, 3))
	var fm protocol.FrameworkMessage
	if err := json.Unmarshal(msg.Data, &fm); err != nil {
		m.log.Warn("dropping malformed agent message", "agent", aid, "err", err)
		return
	}
	if a := m.agents[aid]; a == nil || a.status == protocol.AgentRemoved {
		return
	}
	if f := m.frameworks[fm.FrameworkID]; f != nil && !f.removed {
		m.sendEvent(f, protocol.Event{Type: protocol.EventMessage, Message: &protocol.TaskMessage{AgentID: aid, Data: fm.Data}})
	}
}

// checkAgents declares silent agents UNREACHABLE and, after the unreachable
// timeout, GONE.
func (m *Master) checkAgents(now time.Time) {
	pingTimeout := m.cfg.AgentPingInterval * time.Duration(m.cfg.AgentPingTimeouts)
	for _, a := range m.agents {
		switch a.status {
		case protocol.AgentActive, protocol.AgentDraining:
			if now.Sub(a.lastPing) > pingTimeout {
				m.markUnreachable(a, now)
			}
		case protocol.AgentUnreachable:
			if now.Sub(a.unreachable) > m.cfg.AgentUnreachableTimeout {
				m.markGone(a, now)
			}
		}
	}
}

func (m *Master) markUnreachable(a *agent, now time.Time) {
	m.log.Warn("agent unreachable: no ping", "agent", a.info.ID, "hostname", a.info.Hostname,
		"last_ping", a.lastPing.Format(time.RFC3339Nano), "gone_after", m.cfg.AgentUnreachableTimeout)
	a.status = protocol.AgentUnreachable
	a.unreachable = now
	m.rescindAgentOffers(a)
	m.alloc.DeactivateAgent(string(a.info.ID))
	for _, t := range a.tasks {
		if !t.state.Terminal() {
			m.applyStatus(t, protocol.TaskStatus{TaskID: t.info.TaskID, State: protocol.TaskUnreachable, AgentID: a.info.ID,
				Source: protocol.SourceMaster, Reason: protocol.ReasonAgentDisconnected,
				Message: "the agent stopped answering", Timestamp: protocol.Timestamp(now)}, true)
		}
	}
	m.touchAgent(a)
	m.clusterEvent(protocol.EvAgentUpdated, func(e *protocol.ClusterEvent) { e.Agent = a.buildView() })
}

func (m *Master) markGone(a *agent, now time.Time) {
	m.log.Warn("agent gone: unreachable too long; removing it", "agent", a.info.ID, "hostname", a.info.Hostname)
	for _, t := range a.tasks {
		if !t.state.Terminal() {
			m.applyStatus(t, protocol.TaskStatus{TaskID: t.info.TaskID, State: protocol.TaskGone, AgentID: a.info.ID,
				Source: protocol.SourceMaster, Reason: protocol.ReasonAgentRemoved,
				Message: "the agent was unreachable for longer than the unreachable timeout", Timestamp: protocol.Timestamp(now)}, true)
		}
	}
	a.status = protocol.AgentRemoved
	m.alloc.RemoveAgent(string(a.info.ID))
	a.tasks = map[taskKey]*task{}
	a.used, a.offered, a.active = nil, nil, 0
	for _, f := range m.frameworks {
		if f.connected {
			m.sendEvent(f, protocol.Event{Type: protocol.EventFailure, Failure: &protocol.Failure{AgentID: a.info.ID}})
		}
	}
	m.touchAgent(a)
	m.clusterEvent(protocol.EvAgentRemoved, func(e *protocol.ClusterEvent) { e.Agent = a.buildView() })
}

// applyUsage records the resource usage an agent reported for its tasks.
func (m *Master) applyUsage(a *agent, usage []protocol.TaskUsage) {
	for i := range usage {
		u := &usage[i]
		t := a.tasks[taskKey{u.FrameworkID, u.TaskID}]
		if t == nil || t.state.Terminal() {
			continue
		}
		st := u.Statistics
		t.stats = &st
		t.view = nil
		m.changed = true
	}
}
