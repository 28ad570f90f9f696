package master

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// handleCall handles one framework call (a NATS request).
func (m *Master) handleCall(msg *nats.Msg) {
	fid := protocol.FrameworkID(protocol.TokenOf(msg.Subject, 3))
	call, err := protocol.DecodeCall(msg.Data)
	if err != nil {
		m.log.Debug("bad call", "framework", fid, "err", err)
		m.replyErr(msg, protocol.ErrBadRequest, err.Error())
		return
	}
	if call.FrameworkID != fid {
		m.replyErr(msg, protocol.ErrForbidden, fmt.Sprintf(
			"call for framework %s sent on framework %s's subject %s: a framework may only call for its own id",
			call.FrameworkID, fid, msg.Subject))
		return
	}
	if call.Type == protocol.CallSubscribe {
		m.subscribeFramework(msg, &call)
		return
	}
	f := m.frameworks[fid]
	switch {
	case f == nil:
		m.replyErr(msg, protocol.ErrNotSubscribed, fmt.Sprintf("framework %s is unknown to this master: SUBSCRIBE first", fid))
		return
	case f.removed:
		m.replyErr(msg, protocol.ErrForbidden, fmt.Sprintf("framework %s was removed (torn down or failed over too late): subscribe with a new id", fid))
		return
	case !f.connected:
		m.replyErr(msg, protocol.ErrNotSubscribed, fmt.Sprintf("framework %s is not subscribed to this master: SUBSCRIBE again with its id to fail over", fid))
		return
	}
	now := time.Now()
	f.lastSeen = now
	switch call.Type {
	case protocol.CallHeartbeat:
		m.replyOK(msg, protocol.Response{})
	case protocol.CallTeardown:
		m.removeFramework(f, "torn down by the framework")
		m.replyOK(msg, protocol.Response{})
	case protocol.CallAccept:
		m.accept(msg, f, call.Accept, now)
	case protocol.CallDecline:
		m.decline(msg, f, call.Decline, now)
	case protocol.CallRevive:
		if err := m.checkRoles(f, call.Revive); err != nil {
			m.replyErr(msg, protocol.ErrBadRequest, err.Error())
			return
		}
		roles := []string(nil)
		if call.Revive != nil {
			roles = call.Revive.Roles
		}
		m.alloc.Revive(string(f.info.ID), roles...)
		m.replyOK(msg, protocol.Response{})
	case protocol.CallSuppress:
		var roles []string
		if call.Suppress != nil {
			roles = call.Suppress.Roles
		}
		if err := m.checkRoles(f, &protocol.Revive{Roles: roles}); err != nil {
			m.replyErr(msg, protocol.ErrBadRequest, strings.Replace(err.Error(), "revive", "suppress", 1))
			return
		}
		m.alloc.Suppress(string(f.info.ID), roles...)
		m.replyOK(msg, protocol.Response{})
	case protocol.CallKill:
		m.kill(msg, f, call.Kill)
	case protocol.CallShutdown:
		a := m.agents[call.Shutdown.AgentID]
		if a == nil || a.status == protocol.AgentRemoved {
			m.replyErr(msg, protocol.ErrNotFound, fmt.Sprintf("agent %s is unknown", call.Shutdown.AgentID))
			return
		}
		m.sendAgent(a.info.ID, protocol.AgentCommand{Type: protocol.AgentShutdownFramework,
			ShutdownFramework: &protocol.ShutdownFramework{FrameworkID: f.info.ID}})
		m.replyOK(msg, protocol.Response{})
	case protocol.CallAcknowledge:
		m.acknowledge(msg, f, call.Acknowledge)
	case protocol.CallAcknowledgeMany:
		m.acknowledgeMany(msg, f, call.Acknowledgements)
	case protocol.CallReconcile:
		m.reconcile(f, call.Reconcile)
		m.replyOK(msg, protocol.Response{})
	case protocol.CallMessage:
		a := m.agents[call.Message.AgentID]
		if a == nil || a.status == protocol.AgentRemoved {
			m.replyErr(msg, protocol.ErrNotFound, fmt.Sprintf("agent %s is unknown", call.Message.AgentID))
			return
		}
		m.sendAgent(a.info.ID, protocol.AgentCommand{Type: protocol.AgentFrameworkMessage,
			Message: &protocol.FrameworkMessage{FrameworkID: f.info.ID, Data: call.Message.Data}})
		m.replyOK(msg, protocol.Response{})
	}
}

func (m *Master) checkRoles(f *framework, r *protocol.Revive) error {
	if r == nil {
		return nil
	}
	have := f.info.RolesOrDefault()
	for i, role := range r.Roles {
		ok := false
		for _, h := range have {
			ok = ok || h == role
		}
		if !ok {
			return fmt.Errorf("revive.roles[%d]: the framework is not subscribed with role %q (its roles: %s)", i, role, strings.Join(have, ", "))
		}
	}
	return nil
}

// subscribeFramework registers a new framework or fails over an existing one.
func (m *Master) subscribeFramework(msg *nats.Msg, call *protocol.Call) {
	now := time.Now()
	info := call.Subscribe.FrameworkInfo
	info.ID = call.FrameworkID
	f := m.frameworks[info.ID]
	if f != nil && f.removed {
		m.replyErr(msg, protocol.ErrForbidden, fmt.Sprintf("framework %s was removed (torn down or failed over too late): subscribe with a new id", info.ID))
		return
	}
	if f == nil {
		f = &framework{info: info, registered: now, offers: map[protocol.OfferID]*offer{}, tasks: map[protocol.TaskID]*task{}}
		m.frameworks[info.ID] = f
		m.alloc.AddFramework(string(info.ID), info.RolesOrDefault(), nil, true)
		m.log.Info("framework subscribed", "framework", info.ID, "name", info.Name, "roles", info.RolesOrDefault())
		m.clusterEvent(protocol.EvFrameworkAdded, func(e *protocol.ClusterEvent) { e.Framework = f.buildView(&m.cfg) })
	} else {
		// Failover: the new instance replaces the old; its offers go back.
		m.log.Info("framework re-subscribed", "framework", info.ID, "name", info.Name, "was_connected", f.connected)
		m.rescindFrameworkOffers(f, false)
		if !sameRoles(f.info.RolesOrDefault(), info.RolesOrDefault()) {
			m.alloc.UpdateFramework(string(info.ID), info.RolesOrDefault())
		}
		f.info = info
		m.alloc.ActivateFramework(string(info.ID))
		m.clusterEvent(protocol.EvFrameworkUpdated, func(e *protocol.ClusterEvent) { e.Framework = f.buildView(&m.cfg) })
	}
	f.connected, f.lastSeen, f.disconnected = true, now, time.Time{}
	if len(call.Subscribe.SuppressedRoles) > 0 {
		m.alloc.Suppress(string(info.ID), call.Subscribe.SuppressedRoles...)
	}
	m.touchFramework(f)
	sub := &protocol.Subscribed{FrameworkID: info.ID, HeartbeatIntervalSeconds: m.cfg.FrameworkHeartbeatInterval.Seconds(), MasterInfo: m.info()}
	m.replyOK(msg, protocol.Response{Subscribed: sub})
	// Unacknowledged updates go out again to the new instance, in order.
	for _, t := range f.tasks {
		if len(t.pending) > 0 {
			m.resend(f, t, now)
		}
	}
}

func sameRoles(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// disconnectFramework is called when a framework stopped calling: its
// offers go back and its failover timeout starts.
func (m *Master) disconnectFramework(f *framework, now time.Time) {
	m.log.Warn("framework disconnected; its tasks keep running until its failover timeout",
		"framework", f.info.ID, "name", f.info.Name, "failover_timeout", f.failoverTimeout(m.cfg.DefaultFailoverTimeout))
	f.connected = false
	f.disconnected = now
	m.rescindFrameworkOffers(f, false)
	m.alloc.DeactivateFramework(string(f.info.ID))
	m.touchFramework(f)
	m.clusterEvent(protocol.EvFrameworkUpdated, func(e *protocol.ClusterEvent) { e.Framework = f.buildView(&m.cfg) })
}

// removeFramework tears a framework down: its tasks are killed on their
// agents and marked KILLED, its resources go back, it may not come back.
func (m *Master) removeFramework(f *framework, why string) {
	now := time.Now()
	m.log.Warn("removing framework and killing its tasks", "framework", f.info.ID, "name", f.info.Name, "why", why)
	m.rescindFrameworkOffers(f, f.connected)
	agents := map[protocol.AgentID]bool{}
	for _, t := range f.tasks {
		if !t.state.Terminal() {
			agents[t.aid] = true
			st := protocol.TaskStatus{TaskID: t.info.TaskID, State: protocol.TaskKilled, Source: protocol.SourceMaster,
				Reason: protocol.ReasonFrameworkRemoved, AgentID: t.aid, Message: "framework removed: " + why,
				Timestamp: protocol.Timestamp(now)}
			m.applyStatus(t, st, false)
		}
		t.pending = nil
		delete(m.retry, t)
		t.deleted = true
		m.touchTask(t)
		if a := m.agents[t.aid]; a != nil {
			delete(a.tasks, t.key())
		}
	}
	f.tasks, f.completed = map[protocol.TaskID]*task{}, nil
	for aid := range agents {
		if a := m.agents[aid]; a != nil && a.status != protocol.AgentRemoved {
			m.sendAgent(aid, protocol.AgentCommand{Type: protocol.AgentShutdownFramework,
				ShutdownFramework: &protocol.ShutdownFramework{FrameworkID: f.info.ID}})
		}
	}
	if f.connected {
		m.sendEvent(f, protocol.Event{Type: protocol.EventError, Error: &protocol.FatalError{Message: "framework removed: " + why}})
	}
	m.alloc.RemoveFramework(string(f.info.ID))
	f.removed, f.connected = true, false
	if f.disconnected.IsZero() {
		f.disconnected = now
	}
	m.touchFramework(f)
	m.clusterEvent(protocol.EvFrameworkRemoved, func(e *protocol.ClusterEvent) { e.Framework = f.buildView(&m.cfg) })
}

// Replies and events: encoded now, sent once the batch is durable.

func (m *Master) replyOK(msg *nats.Msg, r protocol.Response) {
	if msg.Reply == "" {
		return
	}
	data, _ := json.Marshal(r)
	m.later(func() { _ = msg.Respond(data) })
}

func (m *Master) replyErr(msg *nats.Msg, code protocol.ErrorCode, text string) {
	m.replyOK(msg, protocol.Response{Error: &protocol.Error{Code: code, Message: text}})
}

func (m *Master) sendEvent(f *framework, ev protocol.Event) {
	if !f.connected {
		return
	}
	data, err := json.Marshal(ev)
	if err != nil {
		m.log.Error("encode event", "type", ev.Type, "err", err)
		return
	}
	subject := protocol.FrameworkEvents(f.info.ID)
	m.later(func() { _ = m.nc.Publish(subject, data) })
}

func (m *Master) sendAgent(aid protocol.AgentID, cmd protocol.AgentCommand) {
	data, err := json.Marshal(cmd)
	if err != nil {
		m.log.Error("encode agent command", "type", cmd.Type, "err", err)
		return
	}
	subject := protocol.AgentCommands(aid)
	m.later(func() { _ = m.nc.Publish(subject, data) })
}

// clusterEvent publishes an operator event; fill runs at once (views are
// built from the current state) but the event goes out after the batch.
func (m *Master) clusterEvent(typ protocol.ClusterEventType, fill func(*protocol.ClusterEvent)) {
	ev := protocol.ClusterEvent{Type: typ, Timestamp: protocol.Timestamp(time.Now())}
	fill(&ev)
	data, err := json.Marshal(ev)
	if err != nil {
		m.log.Error("encode cluster event", "type", typ, "err", err)
		return
	}
	subject := protocol.ClusterEvents(typ)
	m.later(func() { _ = m.nc.Publish(subject, data) })
}
