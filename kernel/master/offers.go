package master

import (
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// allocate runs one allocation cycle and sends the offers, one OFFERS event
// per framework.
func (m *Master) allocate(now time.Time) {
	m.lastAlloc = now
	m.allocTimer.Reset(m.cfg.AllocationInterval)
	allocs := m.alloc.Allocate(now)
	if len(allocs) == 0 {
		return
	}
	byFw := map[*framework][]protocol.Offer{}
	for _, al := range allocs {
		f, a := m.frameworks[protocol.FrameworkID(al.FrameworkID)], m.agents[protocol.AgentID(al.AgentID)]
		if f == nil || a == nil || !f.connected || f.removed || a.status != protocol.AgentActive || a.drain != nil {
			// Should not happen: the allocator knows what we know. Give it back.
			m.log.Error("allocator offered to an unknown or inactive party; recovering",
				"framework", al.FrameworkID, "agent", al.AgentID)
			m.alloc.Recover(al.FrameworkID, al.AgentID, al.Role, al.Resources, 0, now)
			continue
		}
		o := &offer{id: protocol.OfferID(protocol.NewID()), fid: f.info.ID, aid: a.info.ID, role: al.Role,
			res: al.Resources, expires: now.Add(m.cfg.OfferTimeout)}
		m.offers[o.id] = o
		f.offers[o.id], a.offers[o.id] = o, o
		f.offered, a.offered = f.offered.Plus(o.res), a.offered.Plus(o.res)
		f.view, a.view = nil, nil
		m.changed = true
		byFw[f] = append(byFw[f], protocol.Offer{ID: o.id, FrameworkID: f.info.ID, AgentID: a.info.ID,
			Hostname: a.info.Hostname, Resources: o.res, Attributes: a.info.Attributes,
			AllocationInfo: protocol.AllocationInfo{Role: o.role}, Address: a.info.Address, URL: a.info.URL})
	}
	for f, offers := range byFw {
		m.sendEvent(f, protocol.Event{Type: protocol.EventOffers, Offers: &protocol.Offers{Offers: offers}})
	}
}

// removeOffer forgets an outstanding offer (it was used, declined, expired
// or rescinded); the caller decides what happens to its resources.
func (m *Master) removeOffer(o *offer) {
	delete(m.offers, o.id)
	if f := m.frameworks[o.fid]; f != nil {
		delete(f.offers, o.id)
		f.offered = f.offered.Minus(o.res)
		f.view = nil
	}
	if a := m.agents[o.aid]; a != nil {
		delete(a.offers, o.id)
		a.offered = a.offered.Minus(o.res)
		a.view = nil
	}
	m.changed = true
}

// rescind takes an offer back (telling the framework if notify) and returns
// its resources to the pool without a filter.
func (m *Master) rescind(o *offer, notify bool) {
	m.removeOffer(o)
	m.alloc.Recover(string(o.fid), string(o.aid), o.role, o.res, 0, time.Now())
	if f := m.frameworks[o.fid]; notify && f != nil {
		m.sendEvent(f, protocol.Event{Type: protocol.EventRescind, Rescind: &protocol.Rescind{OfferID: o.id}})
	}
}

func (m *Master) rescindFrameworkOffers(f *framework, notify bool) {
	for _, o := range f.offers {
		m.rescind(o, notify)
	}
}

func (m *Master) rescindAgentOffers(a *agent) {
	for _, o := range a.offers {
		m.rescind(o, true)
	}
}

func refuse(f *protocol.Filters) time.Duration {
	return time.Duration(f.Refuse() * float64(time.Second))
}

// decline returns offers with a filter. Unknown offers (already rescinded,
// used or expired) are named in an error reply; the known ones are declined.
func (m *Master) decline(msg *nats.Msg, f *framework, d *protocol.Decline, now time.Time) {
	var unknown []string
	for _, id := range d.OfferIDs {
		o := m.offers[id]
		if o == nil || o.fid != f.info.ID {
			unknown = append(unknown, string(id))
			continue
		}
		m.removeOffer(o)
		m.alloc.Recover(string(o.fid), string(o.aid), o.role, o.res, refuse(d.Filters), now)
	}
	if len(unknown) > 0 {
		m.replyErr(msg, protocol.ErrNotFound, fmt.Sprintf("offers %s are not outstanding for this framework (expired, rescinded or already used); the others were declined", strings.Join(unknown, ", ")))
		return
	}
	m.replyOK(msg, protocol.Response{})
}

// accept validates an ACCEPT against its offers and launches its tasks. The
// call is refused as a whole (nothing applied, tasks DROPPED) when an offer
// is invalid or an operation is unsupported; a task that does not fit or is
// invalid is refused alone (TASK_ERROR) and the others launch, as in Mesos.
func (m *Master) accept(msg *nats.Msg, f *framework, acc *protocol.Accept, now time.Time) {
	var offers []*offer
	var problem string
	seen := map[protocol.OfferID]bool{}
	for _, id := range acc.OfferIDs {
		o := m.offers[id]
		switch {
		case seen[id]:
			problem = fmt.Sprintf("offer %s is listed twice", id)
		case o == nil:
			problem = fmt.Sprintf("offer %s is not outstanding (expired, rescinded or already used): wait for new offers", id)
		case o.fid != f.info.ID:
			problem = fmt.Sprintf("offer %s was made to another framework", id)
		case len(offers) > 0 && o.aid != offers[0].aid:
			problem = fmt.Sprintf("offers %s and %s are for different agents: accept offers of one agent at a time", offers[0].id, id)
		case len(offers) > 0 && o.role != offers[0].role:
			problem = fmt.Sprintf("offers %s and %s are for different roles", offers[0].id, id)
		}
		if problem != "" {
			break
		}
		seen[id] = true
		offers = append(offers, o)
	}
	if problem == "" {
		for i, op := range acc.Operations {
			if op.Type != protocol.OpLaunch {
				problem = fmt.Sprintf("accept.operations[%d]: %s is not supported by this master yet; only LAUNCH is", i, op.Type)
				break
			}
		}
	}
	if problem != "" {
		// Nothing is applied; the offers stay outstanding. Tasks are DROPPED.
		for _, op := range acc.Operations {
			if op.Launch == nil {
				continue
			}
			for _, ti := range op.Launch.TaskInfos {
				m.sendEvent(f, protocol.Event{Type: protocol.EventUpdate, Update: &protocol.Update{Status: protocol.TaskStatus{
					TaskID: ti.TaskID, State: protocol.TaskDropped, Source: protocol.SourceMaster,
					Reason: protocol.ReasonInvalidOffers, Message: problem, Timestamp: protocol.Timestamp(now)}}})
			}
		}
		m.replyErr(msg, protocol.ErrNotFound, problem)
		return
	}

	a := m.agents[offers[0].aid]
	role := offers[0].role
	var avail resources.Resources
	for _, o := range offers {
		avail = avail.Plus(o.res)
		m.removeOffer(o)
	}
	var resp protocol.Response
	var launch []protocol.TaskInfo
	reject := func(ti *protocol.TaskInfo, reason protocol.Reason, text string) {
		resp.Rejected = append(resp.Rejected, protocol.Rejection{TaskID: ti.TaskID, Message: text})
		m.sendEvent(f, protocol.Event{Type: protocol.EventUpdate, Update: &protocol.Update{Status: protocol.TaskStatus{
			TaskID: ti.TaskID, State: protocol.TaskError, Source: protocol.SourceMaster, Reason: reason,
			AgentID: a.info.ID, Message: text, Timestamp: protocol.Timestamp(now)}}})
	}
	batch := map[protocol.TaskID]bool{}
	for _, op := range acc.Operations {
		for i := range op.Launch.TaskInfos {
			ti := op.Launch.TaskInfos[i]
			if ti.AgentID == "" {
				ti.AgentID = a.info.ID
			}
			switch {
			case ti.AgentID != a.info.ID:
				reject(&ti, protocol.ReasonTaskInvalid, fmt.Sprintf("task %s names agent %s but the offers are for agent %s", ti.TaskID, ti.AgentID, a.info.ID))
			case batch[ti.TaskID] || (f.tasks[ti.TaskID] != nil && !f.tasks[ti.TaskID].state.Terminal()):
				reject(&ti, protocol.ReasonTaskInvalid, fmt.Sprintf("task id %s is already in use by an active task of this framework", ti.TaskID))
			case !avail.Contains(ti.Resources):
				reject(&ti, protocol.ReasonTaskInvalid, fmt.Sprintf("task %s needs %s but the offers have only %s left", ti.TaskID, ti.Resources, avail))
			default:
				avail = avail.Minus(ti.Resources)
				batch[ti.TaskID] = true
				launch = append(launch, ti)
			}
		}
	}
	// What was not used goes back, with the accept's filter.
	if !avail.IsEmpty() {
		m.alloc.Recover(string(f.info.ID), string(a.info.ID), role, avail, refuse(acc.Filters), now)
	}
	for i := range launch {
		m.addTask(f, a, role, launch[i], now)
	}
	if len(launch) > 0 {
		m.sendAgent(a.info.ID, protocol.AgentCommand{Type: protocol.AgentLaunch,
			Launch: &protocol.LaunchTasks{Framework: f.info, Role: role, Tasks: launch}})
	}
	m.replyOK(msg, resp)
}

// addTask records a launched task (TASK_STAGING) on its agent.
func (m *Master) addTask(f *framework, a *agent, role string, ti protocol.TaskInfo, now time.Time) {
	if old := f.tasks[ti.TaskID]; old != nil {
		// A completed task's id is reused: the old record goes.
		m.forgetTask(f, old)
	}
	t := &task{info: ti, fid: f.info.ID, aid: a.info.ID, role: role, state: protocol.TaskStaging,
		statuses: []protocol.TaskStatus{{TaskID: ti.TaskID, State: protocol.TaskStaging, Source: protocol.SourceMaster,
			AgentID: a.info.ID, Timestamp: protocol.Timestamp(now)}}}
	f.tasks[ti.TaskID] = t
	a.tasks[t.key()] = t
	f.active++
	a.active++
	f.used, a.used = f.used.Plus(ti.Resources), a.used.Plus(ti.Resources)
	f.view, a.view = nil, nil
	m.newTask(t)
	m.clusterEvent(protocol.EvTaskAdded, func(e *protocol.ClusterEvent) { e.Task = t.buildView() })
}

// forgetTask drops a task's record entirely (pruned completed task or a
// reused id).
func (m *Master) forgetTask(f *framework, t *task) {
	delete(f.tasks, t.info.TaskID)
	if a := m.agents[t.aid]; a != nil {
		delete(a.tasks, t.key())
	}
	for i, c := range f.completed {
		if c == t {
			f.completed = append(f.completed[:i], f.completed[i+1:]...)
			break
		}
	}
	delete(m.retry, t)
	t.deleted = true
	m.touchTask(t)
}

// expireOffers rescinds offers past their timeout.
func (m *Master) expireOffers(now time.Time) {
	for _, o := range m.offers {
		if now.After(o.expires) {
			m.log.Debug("offer timed out; rescinding", "offer", o.id, "framework", o.fid)
			m.rescind(o, true)
		}
	}
}
