package allocator

import (
	"time"

	"github.com/cairn-dc/cairn/kernel/resources"
)

// cycle is the per-agent state of the allocation loop (scratch reused
// across agents and cycles).
type cycle struct {
	ag  *agent
	now int64
	// What the agent has left: with ps (an agent with reservations), the
	// parts in mask; otherwise remaining. remVec is its scalar vector.
	ps         *partSet
	mask       uint64
	remaining  resources.Resources
	remVec     vector
	key        uint64 // identifies what is left: ag.availKey, then a fresh key after each offer
	offVec     vector
	pending    []pending
	sawExpired bool
}

type pending struct {
	fr  *fwRole
	res resources.Resources
	vec vector
}

// Allocate runs one allocation cycle at time now and returns the offers to
// make; the returned resources count as allocated until Recover.
//
// For each active agent, in a seeded shuffled order, the roles are walked in
// increasing weighted dominant share (depth first through the role tree);
// in each role the first eligible framework (by increasing dominant share
// within the role) that no decline filter stops gets all the agent's
// resources allocatable to that role. Shares are then updated, so the next
// agent sees the new order.
func (a *Allocator) Allocate(now time.Time) []Allocation {
	a.dirty = false
	a.refresh()
	if a.orderStale {
		a.order = a.order[:0]
		for i, ag := range a.agents {
			if ag != nil {
				a.order = append(a.order, int32(i))
			}
		}
		a.orderStale = false
	}
	if a.root.eligible == 0 || len(a.order) == 0 {
		return nil
	}
	order := a.order
	a.rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })

	c := &a.cyc
	c.now = now.UnixNano()
	out := a.outBuf[:0]
	var touch uint64
	for k, ai := range order {
		// Agents are visited in random order, so each is a cache miss;
		// loading one a few places ahead lets the memory system fetch it
		// while this one is processed.
		if k+prefetchAhead < len(order) {
			touch += a.agents[order[k+prefetchAhead]].availKey
		}
		ag := a.agents[ai]
		if !ag.active {
			continue
		}
		if a.root.eligible == 0 {
			break
		}
		a.refreshAvail(ag)
		if !a.minOK(ag.availVec, ag.avail) {
			continue
		}
		c.ag = ag
		c.ps = nil
		if ag.hasReserved {
			if c.ps = a.partsOf(ag); c.ps != nil {
				c.mask = c.ps.full()
			}
		}
		c.remaining = ag.avail
		c.remVec = append(c.remVec[:0], ag.availVec...)
		c.key = ag.availKey
		c.pending = c.pending[:0]
		a.walk(a.root, c)
		if len(c.pending) > 0 {
			out = a.commit(c, out)
		}
		if len(ag.filters) > 0 {
			a.finishFilters(c)
		}
	}
	c.ag = nil
	c.ps = nil
	c.remaining = nil
	for i := range c.pending {
		c.pending[i].res = nil
		c.pending[i].fr = nil
	}
	a.touch = touch
	// the offers are built in a buffer kept across cycles and returned in
	// a slice of exactly their size
	var res []Allocation
	if len(out) > 0 {
		res = make([]Allocation, len(out))
		copy(res, out)
		clear(out)
	}
	a.outBuf = out[:0]
	return res
}

// prefetchAhead is how far ahead in the agent order the loop touches.
const prefetchAhead = 16

// refreshAvail recomputes an agent's available resources if they changed.
func (a *Allocator) refreshAvail(ag *agent) {
	if !ag.availStale {
		return
	}
	ag.availStale = false
	if len(ag.allocs) == 0 {
		ag.allocated, ag.allocatedStale = nil, false
		clear(ag.allocVec)
		ag.avail = ag.total
		ag.availVec = append(ag.availVec[:0], ag.totalVec...)
		ag.availKey = ag.totalKey
		return
	}
	ag.avail = ag.total.Minus(ag.allocatedRes())
	ag.availVec = a.vecInto(ag.availVec, ag.avail)
	ag.availKey = a.nextKey()
}

// walk visits the roles under n in order; it returns true when the agent
// has nothing left to offer.
func (a *Allocator) walk(n *node, c *cycle) bool {
	for i := range n.children {
		ch := n.children[i].n
		if ch.eligible == 0 {
			continue
		}
		if ch.leaf {
			if a.offerLeaf(ch, c) {
				return true
			}
		} else if a.walk(ch, c) {
			return true
		}
	}
	return false
}

// offered is what the agent has left that may be offered to role leaf,
// and whether that is all it has left.
func (a *Allocator) offered(c *cycle, leaf *node) (res resources.Resources, vec vector, sel uint64, whole bool) {
	switch {
	case c.ps != nil:
		sel = c.mask & c.ps.allocatable(leaf.path)
		if sel == 0 {
			return nil, nil, 0, false
		}
		res, vec = a.union(c.ps, sel)
		return res, vec, sel, sel == c.mask
	case c.ag.hasReserved: // too many reservation roles for masks
		res = c.remaining.AllocatableTo(leaf.path)
		if len(res) == len(c.remaining) { // AllocatableTo keeps a subset of entries
			return c.remaining, c.remVec, 0, true
		}
		c.offVec = a.vecInto(c.offVec, res)
		return res, c.offVec, 0, false
	default:
		return c.remaining, c.remVec, 0, true
	}
}

// offeredRes is the resources part of offered, without touching scratch
// vectors (for filter verdicts computed while an offer is being made).
func (a *Allocator) offeredRes(c *cycle, leaf *node) resources.Resources {
	switch {
	case c.ps != nil:
		if sel := c.mask & c.ps.allocatable(leaf.path); sel != 0 {
			res, _ := a.union(c.ps, sel)
			return res
		}
		return nil
	case c.ag.hasReserved:
		return c.remaining.AllocatableTo(leaf.path)
	default:
		return c.remaining
	}
}

// left is what the agent has left (computed for an agent with parts).
func (a *Allocator) left(c *cycle) resources.Resources {
	if c.ps == nil {
		return c.remaining
	}
	if c.mask == 0 {
		return nil
	}
	res, _ := a.union(c.ps, c.mask)
	return res
}

// offerLeaf offers what the agent has left for role leaf to the role's first
// eligible framework. It returns true when the agent has nothing left.
func (a *Allocator) offerLeaf(leaf *node, c *cycle) bool {
	offered, vec, sel, whole := a.offered(c, leaf)
	if len(offered) == 0 || (!whole && !a.minOK(vec, offered)) {
		return false
	}
	filters := len(c.ag.filters) > 0
	for _, e := range leaf.fws {
		if filters && a.filtered(c, e.slot) {
			continue
		}
		// allocate offered to the membership in slot e.slot
		n := len(c.pending)
		if n < cap(c.pending) {
			c.pending = c.pending[:n+1]
		} else {
			c.pending = append(c.pending, pending{})
		}
		p := &c.pending[n]
		p.fr, p.res = a.frs[e.slot], offered
		p.vec = append(p.vec[:0], vec...)
		if whole {
			c.mask = 0
			c.remaining = nil
			clear(c.remVec)
			return true
		}
		if c.ps != nil {
			c.mask &^= sel
		} else {
			c.remaining = c.remaining.Minus(offered)
		}
		c.remVec.sub(p.vec)
		c.key = a.nextKey()
		return !a.minOK(c.remVec, a.left(c))
	}
	return false
}

// commit applies the agent's pending allocations: agent bookkeeping, then
// the framework and role shares (each moved to its new place).
func (a *Allocator) commit(c *cycle, out []Allocation) []Allocation {
	ag := c.ag
	for i := range c.pending {
		p := &c.pending[i]
		fr := p.fr
		a.allocate(ag, fr.fw, fr, p.res, p.vec)
		res := p.res[:len(p.res):len(p.res)]
		out = append(out, Allocation{FrameworkID: fr.fw.id, AgentID: ag.id, Role: fr.leaf.path, Resources: res})
	}
	ag.avail = a.left(c)
	if len(ag.avail) == 0 {
		ag.avail = nil
	}
	ag.availVec = append(ag.availVec[:0], c.remVec...)
	ag.availKey = a.nextKey()
	ag.availStale = false
	if c.ps != nil && c.mask != 0 {
		a.keepParts(ag, c.ps, c.mask)
	}
	return out
}
