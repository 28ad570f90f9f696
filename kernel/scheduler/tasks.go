package scheduler

import (
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// Task returns a task running cmd through /bin/sh -c with resources res.
// Set more fields (Container, HealthCheck, Labels ...) on the result.
func Task(id protocol.TaskID, name string, res resources.Resources, cmd string) protocol.TaskInfo {
	return protocol.TaskInfo{
		Name:      name,
		TaskID:    id,
		Resources: res,
		Command:   &protocol.CommandInfo{Value: cmd},
	}
}

// NewTaskID returns a unique task ID "<prefix>.<ULID>" (Marathon style);
// prefix may be empty. Task IDs allow A-Z a-z 0-9 _ . - only.
func NewTaskID(prefix string) protocol.TaskID {
	if prefix == "" {
		return protocol.TaskID(protocol.NewID())
	}
	return protocol.TaskID(prefix + "." + protocol.NewID())
}

// LaunchOp is a LAUNCH operation for an ACCEPT of offers on agentID. It
// copies tasks, setting AgentID where it is empty.
func LaunchOp(agentID protocol.AgentID, tasks ...protocol.TaskInfo) protocol.Operation {
	infos := make([]protocol.TaskInfo, len(tasks))
	for i, t := range tasks {
		if t.AgentID == "" {
			t.AgentID = agentID
		}
		infos[i] = t
	}
	return protocol.Operation{Type: protocol.OpLaunch, Launch: &protocol.Launch{TaskInfos: infos}}
}

// Refuse is a decline filter: do not offer these resources again for d.
func Refuse(d time.Duration) *protocol.Filters {
	s := d.Seconds()
	return &protocol.Filters{RefuseSeconds: &s}
}

// OfferPool packs tasks into offers, first fit, tracking what remains of
// each offer. Build one per OFFERS event (or add offers as they come),
// Place tasks, then send pool.Launches() with LaunchMany and decline
// pool.Unused(). Resources match reservations exactly: a task of a role
// with reserved resources must ask for them as reserved (e.g. cpus(prod):1).
// An OfferPool is not safe for concurrent use.
type OfferPool struct {
	entries []*poolEntry
	byID    map[protocol.OfferID]*poolEntry
}

type poolEntry struct {
	offer     protocol.Offer
	remaining resources.Resources
	tasks     []protocol.TaskInfo
}

// NewOfferPool returns a pool of offers.
func NewOfferPool(offers ...protocol.Offer) *OfferPool {
	p := &OfferPool{byID: make(map[protocol.OfferID]*poolEntry)}
	p.Add(offers...)
	return p
}

// Add adds offers to the pool (an offer already there is ignored).
func (p *OfferPool) Add(offers ...protocol.Offer) {
	for _, o := range offers {
		if _, ok := p.byID[o.ID]; ok {
			continue
		}
		e := &poolEntry{offer: o, remaining: o.Resources}
		p.entries = append(p.entries, e)
		p.byID[o.ID] = e
	}
}

// Remove drops an offer (e.g. on RESCIND) with the tasks placed on it,
// which it returns so they can be placed again.
func (p *OfferPool) Remove(id protocol.OfferID) []protocol.TaskInfo {
	e, ok := p.byID[id]
	if !ok {
		return nil
	}
	delete(p.byID, id)
	for i, x := range p.entries {
		if x == e {
			p.entries = append(p.entries[:i], p.entries[i+1:]...)
			break
		}
	}
	return e.tasks
}

// Place puts task on the first offer with room for its resources, sets the
// task's AgentID, and returns that offer. ok is false when none fits.
func (p *OfferPool) Place(task protocol.TaskInfo) (offer protocol.Offer, ok bool) {
	return p.PlaceIf(task, nil)
}

// PlaceIf is Place restricted to offers accepted by fits (nil: any), e.g.
// a constraint on the offer's hostname or attributes.
func (p *OfferPool) PlaceIf(task protocol.TaskInfo, fits func(protocol.Offer) bool) (offer protocol.Offer, ok bool) {
	for _, e := range p.entries {
		if fits != nil && !fits(e.offer) {
			continue
		}
		if !e.remaining.Contains(task.Resources) {
			continue
		}
		e.remaining = e.remaining.Minus(task.Resources)
		task.AgentID = e.offer.AgentID
		e.tasks = append(e.tasks, task)
		return e.offer, true
	}
	return protocol.Offer{}, false
}

// Remaining is what is left of an offer after the tasks placed on it
// (nil for an offer not in the pool).
func (p *OfferPool) Remaining(id protocol.OfferID) resources.Resources {
	if e, ok := p.byID[id]; ok {
		return e.remaining
	}
	return nil
}

// Launches returns the offers that got tasks, with their tasks, in the
// order the offers were added; pass them to LaunchMany.
func (p *OfferPool) Launches() []OfferLaunch {
	var out []OfferLaunch
	for _, e := range p.entries {
		if len(e.tasks) > 0 {
			out = append(out, OfferLaunch{Offer: e.offer, Tasks: e.tasks})
		}
	}
	return out
}

// Unused returns the IDs of the offers that got no task; Decline them.
func (p *OfferPool) Unused() []protocol.OfferID {
	var out []protocol.OfferID
	for _, e := range p.entries {
		if len(e.tasks) == 0 {
			out = append(out, e.offer.ID)
		}
	}
	return out
}
