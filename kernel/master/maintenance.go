package master

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// Maintenance, as Mesos' DRAIN_AGENT / REACTIVATE_AGENT: a drained agent is
// deactivated in the allocator (no offers), its outstanding offers are
// rescinded and its tasks killed with REASON_AGENT_DRAINING, so that their
// frameworks launch them elsewhere. It is DRAINING until none of its tasks
// is active, then DRAINED. The mark is part of the agent's record, so it
// survives a master restart and the agent's re-registration. Undrain
// (reactivate) makes the agent offer again.
//
// The drain is apart from reachability: an unreachable draining agent has
// its kills sent when it re-registers.

// viewStatus is the agent's status for the operator API: its reachability,
// or its maintenance state while it is reachable and marked.
func (a *agent) viewStatus() protocol.AgentStatus {
	if a.status != protocol.AgentActive || a.drain == nil {
		return a.status
	}
	if a.drain.State == protocol.DrainDrained {
		return protocol.AgentDrained
	}
	return protocol.AgentDraining
}

// drainMessage is the message of the kills of a drain.
func drainMessage(a *agent) string {
	msg := fmt.Sprintf("killed because agent %s (%s) is draining for maintenance", a.info.ID, a.info.Hostname)
	if a.drain.Reason != "" {
		msg += ": " + a.drain.Reason
	}
	return msg
}

// killForDrain sends the agent a kill for each of its active tasks (but
// those it is killing already), with
// the drain's reason, message and grace period (else the task's own kill
// policy). Only a reachable agent is sent kills; one that comes back gets
// them when it re-registers.
func (m *Master) killForDrain(a *agent) {
	if a.status != protocol.AgentActive || a.drain == nil || a.drain.State != protocol.DrainDraining {
		return
	}
	var grace *protocol.KillPolicy
	if g := a.drain.GracePeriodSeconds; g != nil {
		grace = &protocol.KillPolicy{GracePeriod: &protocol.DurationInfo{Nanoseconds: int64(*g * float64(time.Second))}}
	}
	msg := drainMessage(a)
	for _, t := range a.tasks {
		if t.state.Terminal() || t.state == protocol.TaskKilling {
			continue // ended, or the agent is killing it already
		}
		if !t.killRequested {
			t.killRequested = true
			m.touchTask(t)
		}
		policy := grace
		if policy == nil {
			policy = t.info.KillPolicy
		}
		m.sendAgent(a.info.ID, protocol.AgentCommand{Type: protocol.AgentKill, Kill: &protocol.KillTask{
			FrameworkID: t.fid, TaskID: t.info.TaskID, KillPolicy: policy,
			Reason: protocol.ReasonAgentDraining, Message: msg}})
	}
}

// checkDrained marks a draining agent DRAINED once none of its tasks is
// active.
func (m *Master) checkDrained(a *agent, now time.Time) {
	if a.drain == nil || a.drain.State != protocol.DrainDraining || a.active > 0 || a.status == protocol.AgentRemoved {
		return
	}
	d := *a.drain
	d.State, d.DrainedTime = protocol.DrainDrained, protocol.Timestamp(now)
	a.drain = &d
	m.log.Info("agent drained: no task left on it", "agent", a.info.ID, "hostname", a.info.Hostname)
	m.touchAgent(a)
	m.clusterEvent(protocol.EvAgentUpdated, func(e *protocol.ClusterEvent) { e.Agent = a.buildView() })
}

// agentOpResult is what a maintenance operation on the loop answers.
type agentOpResult struct {
	status  int
	message string
	agent   *protocol.Agent
}

// findAgentForOp looks an agent up for a maintenance operation.
func (m *Master) findAgentForOp(aid protocol.AgentID, verb string) (*agent, *agentOpResult) {
	a := m.agents[aid]
	switch {
	case a == nil:
		return nil, &agentOpResult{status: http.StatusNotFound,
			message: fmt.Sprintf("agent %s is unknown to the master: see GET /v1/agents (cairn node list) for the agents' IDs", aid)}
	case a.status == protocol.AgentRemoved:
		return nil, &agentOpResult{status: http.StatusConflict,
			message: fmt.Sprintf("agent %s (%s) is gone (unreachable for longer than the unreachable timeout, its tasks replaced): there is nothing to %s", aid, a.info.Hostname, verb)}
	}
	return a, nil
}

// drainAgent runs on the loop: it marks the agent draining (or updates the
// reason and grace period of a drain in progress), rescinds its offers and
// kills its tasks.
func (m *Master) drainAgent(aid protocol.AgentID, req protocol.DrainAgent) agentOpResult {
	a, bad := m.findAgentForOp(aid, "drain")
	if bad != nil {
		return *bad
	}
	now := time.Now()
	d := protocol.DrainInfo{State: protocol.DrainDraining, Since: protocol.Timestamp(now), Reason: req.Reason,
		GracePeriodSeconds: req.GracePeriodSeconds}
	if a.drain != nil {
		// Asked again: same drain, new reason and grace period.
		d.State, d.Since, d.DrainedTime = a.drain.State, a.drain.Since, a.drain.DrainedTime
	}
	a.drain = &d
	m.alloc.DeactivateAgent(string(aid))
	m.rescindAgentOffers(a)
	m.log.Info("draining agent: no more offers; killing its tasks", "agent", aid, "hostname", a.info.Hostname,
		"reason", d.Reason, "tasks", a.active, "reachable", a.status == protocol.AgentActive)
	m.killForDrain(a)
	m.touchAgent(a)
	m.clusterEvent(protocol.EvAgentUpdated, func(e *protocol.ClusterEvent) { e.Agent = a.buildView() })
	m.checkDrained(a, now)
	return agentOpResult{status: http.StatusOK, agent: a.buildView()}
}

// undrainAgent runs on the loop: it reactivates a drained or draining
// agent. Kills already sent are not undone. Undraining an agent that is not
// marked changes nothing.
func (m *Master) undrainAgent(aid protocol.AgentID) agentOpResult {
	a, bad := m.findAgentForOp(aid, "undrain")
	if bad != nil {
		return *bad
	}
	if a.drain == nil {
		return agentOpResult{status: http.StatusOK, agent: a.buildView()}
	}
	a.drain = nil
	if a.status == protocol.AgentActive {
		m.alloc.ActivateAgent(string(aid))
	}
	m.log.Info("agent reactivated after maintenance: offering it again", "agent", aid, "hostname", a.info.Hostname)
	m.touchAgent(a)
	m.clusterEvent(protocol.EvAgentUpdated, func(e *protocol.ClusterEvent) { e.Agent = a.buildView() })
	return agentOpResult{status: http.StatusOK, agent: a.buildView()}
}

// maxDrainBody bounds the body of a drain request.
const maxDrainBody = 64 << 10

// opConfirmTimeout bounds the wait for a maintenance operation to be stored.
const opConfirmTimeout = 30 * time.Second

// serveDrain is POST /v1/agents/<id>/drain with an optional JSON body
// {"grace_period_seconds": N, "reason": "..."}; it answers the agent once
// the drain is stored.
func (m *Master) serveDrain(w http.ResponseWriter, r *http.Request) {
	if m.notReady(w) {
		return
	}
	aid, ok := agentIDParam(w, r)
	if !ok {
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxDrainBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading the drain request's body: "+err.Error())
		return
	}
	if len(data) > maxDrainBody {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("drain request: the body is larger than %d bytes: send only {\"grace_period_seconds\": N, \"reason\": \"...\"}", maxDrainBody))
		return
	}
	req, err := protocol.DecodeDrainAgent(data)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	m.agentOp(w, r, "drain", func() agentOpResult { return m.drainAgent(aid, req) })
}

// serveUndrain is POST /v1/agents/<id>/undrain (Mesos' REACTIVATE_AGENT).
func (m *Master) serveUndrain(w http.ResponseWriter, r *http.Request) {
	if m.notReady(w) {
		return
	}
	aid, ok := agentIDParam(w, r)
	if !ok {
		return
	}
	m.agentOp(w, r, "undrain", func() agentOpResult { return m.undrainAgent(aid) })
}

func agentIDParam(w http.ResponseWriter, r *http.Request) (protocol.AgentID, bool) {
	id := r.PathValue("id")
	if err := protocol.ValidateToken("agent id", id); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return "", false
	}
	return protocol.AgentID(id), true
}

// agentOp runs op on the loop and answers with its result; a success is
// answered only once the batch that made it is durable, and is in the
// snapshot the read endpoints serve.
func (m *Master) agentOp(w http.ResponseWriter, r *http.Request, verb string, op func() agentOpResult) {
	res := make(chan agentOpResult, 1)
	fn := func() {
		out := op()
		if out.status >= 300 {
			res <- out
			return
		}
		m.later(func() {
			// Read-your-writes: the operator API shows the change before
			// the answer leaves (a CLI polls /v1/agents right after).
			m.publishSnapshot(time.Now())
			res <- out
		})
	}
	ctx, cancel := context.WithTimeout(r.Context(), opConfirmTimeout)
	defer cancel()
	select {
	case m.inbox <- fn:
	case <-ctx.Done():
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("the master is too busy to take the %s: retry", verb))
		return
	}
	select {
	case out := <-res:
		if out.status >= 300 {
			writeError(w, out.status, out.message)
			return
		}
		writeJSON(w, out.status, out.agent)
	case <-ctx.Done():
		if r.Context().Err() == nil {
			writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("the master did not confirm the %s within %v (stepping down or overloaded?): check GET /v1/maintenance and retry", verb, opConfirmTimeout))
		}
	}
}

// serveMaintenance is GET /v1/maintenance: the agents marked for
// maintenance, draining or drained.
func (m *Master) serveMaintenance(w http.ResponseWriter, _ *http.Request) {
	if m.notReady(w) {
		return
	}
	out := protocol.Maintenance{Agents: []protocol.Agent{}}
	for _, a := range m.snap.Load().sorted().agents {
		if a.Drain != nil {
			out.Agents = append(out.Agents, *a)
		}
	}
	writeJSON(w, http.StatusOK, out)
}
