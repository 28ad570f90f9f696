package allocator

import (
	"math"
	"math/bits"
	"time"

	"github.com/cairn-dc/cairn/kernel/resources"
)

// maxRefuse caps a decline filter's duration (Mesos caps refuse_seconds at
// a year too); it also keeps expiries inside int64 nanoseconds.
const maxRefuse = 365 * 24 * time.Hour

// agentFilter is a decline filter (Mesos' RefusedOfferFilter): framework fw
// is not offered, for role leaf, a subset of res on this agent before expiry.
//
// Filters live on their agent (the allocation loop checks them there) in an
// unsorted slice; a framework keeps a bitset of the agents where it may have
// filters so Revive and RemoveFramework find them without scanning the
// cluster. Expired filters are dropped lazily when the loop meets them.
type agentFilter struct {
	fw     int32
	leaf   *node
	expiry int64 // unix nanoseconds
	res    resources.Resources
	// cache is key<<1|result of the last containment check, where key
	// identifies the agent's available resources at the time (see
	// agent.availKey): a filter is re-checked only after the agent changed.
	cache uint64
}

// installFilter adds a decline filter.
func (a *Allocator) installFilter(fw *framework, ag *agent, leaf *node, res resources.Resources, refuse time.Duration, now time.Time) {
	if refuse > maxRefuse {
		refuse = maxRefuse
	}
	ag.filters = append(ag.filters, agentFilter{
		fw:     fw.idx,
		leaf:   leaf,
		expiry: now.Add(refuse).UnixNano(),
		res:    res,
	})
	fw.setFilterBit(ag.idx)
	ag.vKey = 0
}

func (fw *framework) setFilterBit(ai int32) {
	w := int(ai >> 6)
	if w >= len(fw.filterBits) {
		fw.filterBits = append(fw.filterBits, make([]uint64, w+1-len(fw.filterBits))...)
	}
	fw.filterBits[w] |= 1 << (uint(ai) & 63)
}

// clearFilters removes all of fw's decline filters.
func (a *Allocator) clearFilters(fw *framework) {
	for w, word := range fw.filterBits {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			word &= word - 1
			ai := w<<6 | b
			if ai < len(a.agents) {
				if ag := a.agents[ai]; ag != nil {
					ag.dropFilters(func(f *agentFilter) bool { return f.fw == fw.idx })
				}
			}
		}
	}
	fw.filterBits = nil
}

// dropFilters removes the filters for which drop is true (order is not kept).
func (ag *agent) dropFilters(drop func(*agentFilter) bool) {
	fl := ag.filters
	for i := 0; i < len(fl); {
		if drop(&fl[i]) {
			fl[i] = fl[len(fl)-1]
			fl[len(fl)-1] = agentFilter{}
			fl = fl[:len(fl)-1]
			continue
		}
		i++
	}
	if len(fl) == 0 {
		fl = nil
		ag.vbits = nil
	}
	ag.filters = fl
	ag.vKey = 0
}

// filtered reports whether a decline filter stops offering the cycle's
// current offer for membership slot on the current agent.
//
// The verdicts of all the agent's filters are kept in a bitset over
// membership slots (agent.vbits), computed for the resources identified by
// c.key: checking a framework is then one bit test, however many filters
// the agent has, and the bitset stays valid across cycles as long as the
// agent's available resources, its filters and the memberships do not
// change and no filter that applies expires.
func (a *Allocator) filtered(c *cycle, slot int32) bool {
	ag := c.ag
	if ag.vKey != c.key || c.now >= ag.vExpiry || ag.vEpoch != a.slotEpoch {
		a.computeVerdicts(c)
	}
	w := int(slot >> 6)
	return w < len(ag.vbits) && ag.vbits[w]&(1<<(uint(slot)&63)) != 0
}

// computeVerdicts evaluates every filter of the current agent against what
// the agent would offer to the filter's role now.
func (a *Allocator) computeVerdicts(c *cycle) {
	ag := c.ag
	words := (len(a.frs) + 63) >> 6
	if cap(ag.vbits) < words {
		ag.vbits = make([]uint64, words)
	}
	ag.vbits = ag.vbits[:words]
	clear(ag.vbits)
	expiry := int64(math.MaxInt64)
	var lastLeaf *node
	var offered resources.Resources
	for i := range ag.filters {
		f := &ag.filters[i]
		if c.now >= f.expiry {
			c.sawExpired = true
			continue
		}
		fr := a.fws[f.fw].roleFor(f.leaf)
		if fr == nil {
			continue
		}
		if f.leaf != lastLeaf {
			lastLeaf = f.leaf
			offered = a.offeredRes(c, f.leaf)
		}
		if a.applies(c, f, offered) {
			ag.vbits[fr.slot>>6] |= 1 << (uint(fr.slot) & 63)
			expiry = min(expiry, f.expiry)
		}
	}
	ag.vKey = c.key
	ag.vExpiry = expiry
	ag.vEpoch = a.slotEpoch
}

// applies reports whether filter f stops offering offered (with the
// containment test cached per c.key).
func (a *Allocator) applies(c *cycle, f *agentFilter, offered resources.Resources) bool {
	key := c.key
	if f.cache>>1 == key {
		return f.cache&1 == 1
	}
	ok := len(offered) > 0 && f.res.Contains(offered)
	f.cache = key << 1
	if ok {
		f.cache |= 1
	}
	return ok
}

// finishFilters drops the expired filters the loop met.
func (a *Allocator) finishFilters(c *cycle) {
	if c.sawExpired {
		now := c.now
		c.ag.dropFilters(func(f *agentFilter) bool { return now >= f.expiry })
		c.sawExpired = false
	}
}
