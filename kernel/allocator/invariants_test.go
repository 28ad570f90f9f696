package allocator

import (
	"fmt"
	"math"
	"slices"

	"github.com/cairn-dc/cairn/kernel/resources"
)

// checkInvariants verifies the allocator's internal bookkeeping against a
// from-scratch recomputation: nothing over-allocated, every incremental sum
// equal to the real sum, every sorted list sorted with current shares, every
// eligibility count right.
func (a *Allocator) checkInvariants() error {
	vecEq := func(x, y vector) bool { return slices.Equal(trimZeros(x), trimZeros(y)) }
	var cluster vector
	frSum := map[*fwRole]vector{}
	frEntries := map[*fwRole]int{}
	fwEntries := map[int32]int{}
	leafHolders := map[*node]int{}
	for i, ag := range a.agents {
		if ag == nil {
			continue
		}
		if ag.idx != int32(i) || a.agentIdx[ag.id] != ag.idx {
			return fmt.Errorf("agent %s: bad index", ag.id)
		}
		if !vecEq(ag.totalVec, a.vecOf(ag.total)) {
			return fmt.Errorf("agent %s: totalVec %v != %v", ag.id, ag.totalVec, a.vecOf(ag.total))
		}
		cluster.add(ag.totalVec)
		var sum resources.Resources
		seen := map[*fwRole]bool{}
		for _, e := range ag.allocs {
			if len(e.res) == 0 {
				return fmt.Errorf("agent %s: empty allocation entry", ag.id)
			}
			if seen[e.fr] {
				return fmt.Errorf("agent %s: duplicate entry for framework %d role %s", ag.id, e.fw, e.fr.leaf.path)
			}
			seen[e.fr] = true
			fw := a.fws[e.fw]
			if fw == nil || fw.roleFor(e.fr.leaf) != e.fr {
				return fmt.Errorf("agent %s: entry for framework %d has a stale role", ag.id, e.fw)
			}
			sum = sum.Plus(e.res)
			v := frSum[e.fr]
			v.add(a.vecOf(e.res))
			frSum[e.fr] = v
			frEntries[e.fr]++
			fwEntries[e.fw]++
			leafHolders[e.fr.leaf]++
		}
		if !sum.Equal(ag.allocatedRes()) {
			return fmt.Errorf("agent %s: allocated %s != sum of entries %s", ag.id, ag.allocatedRes(), sum)
		}
		if !ag.total.Contains(sum) {
			return fmt.Errorf("agent %s: over-allocated: total %s, allocated %s", ag.id, ag.total, sum)
		}
		if !vecEq(ag.allocVec, a.vecOf(sum)) {
			return fmt.Errorf("agent %s: allocVec %v != %v", ag.id, ag.allocVec, a.vecOf(sum))
		}
		if !ag.availStale {
			want := ag.total.Minus(sum)
			if !ag.avail.Equal(want) {
				return fmt.Errorf("agent %s: avail %s != %s", ag.id, ag.avail, want)
			}
			if !vecEq(ag.availVec, a.vecOf(want)) {
				return fmt.Errorf("agent %s: availVec %v != %v", ag.id, ag.availVec, a.vecOf(want))
			}
		}
	}
	if !vecEq(cluster, a.total) {
		return fmt.Errorf("cluster total %v != %v", a.total, cluster)
	}
	nodeSum := map[*node]vector{}
	leafListed := map[*node]int{}
	leafSubs := map[*node]int{}
	for i, fw := range a.fws {
		if fw == nil || fw.idx != int32(i) {
			return fmt.Errorf("framework slot %d: bad index", i)
		}
		if j, ok := a.fwIdx[fw.id]; ok && j == fw.idx {
			// live
		} else if len(fw.roles) > 0 || fw.entries > 0 {
			return fmt.Errorf("removed framework %s still has roles/entries", fw.id)
		}
		if fw.entries != fwEntries[fw.idx] {
			return fmt.Errorf("framework %s: entries %d != %d", fw.id, fw.entries, fwEntries[fw.idx])
		}
		leaves := map[*node]bool{}
		for _, fr := range fw.roles {
			if leaves[fr.leaf] {
				return fmt.Errorf("framework %s: role %s twice", fw.id, fr.leaf.path)
			}
			leaves[fr.leaf] = true
			if a.roles[fr.leaf.path] == nil || a.roles[fr.leaf.path].self != fr.leaf {
				return fmt.Errorf("framework %s: role %s pruned while in use", fw.id, fr.leaf.path)
			}
			if !vecEq(fr.alloc, frSum[fr]) {
				return fmt.Errorf("framework %s role %s: alloc %v != %v", fw.id, fr.leaf.path, fr.alloc, frSum[fr])
			}
			if fr.entries != frEntries[fr] {
				return fmt.Errorf("framework %s role %s: entries %d != %d", fw.id, fr.leaf.path, fr.entries, frEntries[fr])
			}
			if !fr.subscribed && fr.entries == 0 {
				return fmt.Errorf("framework %s role %s: unused membership kept", fw.id, fr.leaf.path)
			}
			if want := fw.active && fr.subscribed && !fr.suppressed; fr.listed != want {
				return fmt.Errorf("framework %s role %s: listed=%v, want %v", fw.id, fr.leaf.path, fr.listed, want)
			}
			n := 0
			for _, e := range fr.leaf.fws {
				if e.slot == fr.slot {
					n++
				}
			}
			if (n == 1) != fr.listed || n > 1 {
				return fmt.Errorf("framework %s role %s: in list %d times, listed=%v", fw.id, fr.leaf.path, n, fr.listed)
			}
			if fr.listed {
				leafListed[fr.leaf]++
			}
			if fr.subscribed {
				leafSubs[fr.leaf]++
			}
			v := nodeSum[fr.leaf]
			v.add(fr.alloc)
			nodeSum[fr.leaf] = v
			if !a.sharesStale && fr.share != a.dominant(fr.alloc) {
				return fmt.Errorf("framework %s role %s: share %v != %v", fw.id, fr.leaf.path, fr.share, a.dominant(fr.alloc))
			}
		}
	}
	for i := 1; i < len(a.byID); i++ {
		p, q := a.fws[a.byID[i-1]], a.fws[a.byID[i]]
		if p.id >= q.id || p.rank >= q.rank {
			return fmt.Errorf("ID order broken at %s, %s", p.id, q.id)
		}
	}
	if len(a.byID) != len(a.fwIdx) {
		return fmt.Errorf("%d ranked frameworks, %d registered", len(a.byID), len(a.fwIdx))
	}
	var walk func(n *node) (vector, int, error)
	walk = func(n *node) (vector, int, error) {
		if n.leaf {
			if !vecEq(n.alloc, nodeSum[n]) {
				return nil, 0, fmt.Errorf("role %s leaf: alloc %v != %v", n.path, n.alloc, nodeSum[n])
			}
			if len(n.fws) != leafListed[n] || n.eligible != len(n.fws) {
				return nil, 0, fmt.Errorf("role %s leaf: %d listed, %d eligible, want %d", n.path, len(n.fws), n.eligible, leafListed[n])
			}
			if n.subscribers != leafSubs[n] || n.holders != leafHolders[n] {
				return nil, 0, fmt.Errorf("role %s leaf: subscribers %d holders %d, want %d %d", n.path, n.subscribers, n.holders, leafSubs[n], leafHolders[n])
			}
			if !a.sharesStale {
				for i, e := range n.fws {
					if fr := a.frs[e.slot]; fr == nil || fr.leaf != n || fr.share != e.share {
						return nil, 0, fmt.Errorf("role %s: list entry share stale", n.path)
					}
					if e.rank != a.frs[e.slot].fw.rank {
						return nil, 0, fmt.Errorf("role %s: stale rank", n.path)
					}
					if i > 0 && !fwLess(n.fws[i-1].share, n.fws[i-1].rank, e.share, e.rank) {
						return nil, 0, fmt.Errorf("role %s: frameworks not sorted", n.path)
					}
				}
			}
			return n.alloc, len(n.fws), nil
		}
		var sum vector
		elig := 0
		for i, c := range n.children {
			if c.n.parent != n {
				return nil, 0, fmt.Errorf("role %q: child %q has wrong parent", n.path, c.n.path)
			}
			v, e, err := walk(c.n)
			if err != nil {
				return nil, 0, err
			}
			sum.add(v)
			elig += e
			if !a.sharesStale {
				if c.share != c.n.share || math.Abs(c.share-a.dominant(c.n.alloc)/c.n.weight) > 0 {
					return nil, 0, fmt.Errorf("role %q: child %q share %v/%v != %v", n.path, c.n.path, c.share, c.n.share, a.dominant(c.n.alloc)/c.n.weight)
				}
				if i > 0 && !childLess(n.children[i-1].share, n.children[i-1].n, c.share, c.n) {
					return nil, 0, fmt.Errorf("role %q: children not sorted", n.path)
				}
			}
		}
		if n != a.root && !vecEq(n.alloc, sum) {
			return nil, 0, fmt.Errorf("role %q: alloc %v != children sum %v", n.path, n.alloc, sum)
		}
		if n.eligible != elig {
			return nil, 0, fmt.Errorf("role %q: eligible %d != %d", n.path, n.eligible, elig)
		}
		if n != a.root && a.roles[n.path] != n {
			return nil, 0, fmt.Errorf("role %q: not registered", n.path)
		}
		return sum, elig, nil
	}
	if _, _, err := walk(a.root); err != nil {
		return err
	}
	for path, n := range a.roles {
		if n.path != path || n.self == nil {
			return fmt.Errorf("role %q: bad registry entry", path)
		}
		found := false
		for _, c := range n.parent.children {
			if c.n == n {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("role %q: registered but not in the tree", path)
		}
	}
	for _, ag := range a.agents {
		if ag == nil {
			continue
		}
		for _, f := range ag.filters {
			fw := a.fws[f.fw]
			w := int(ag.idx >> 6)
			if w >= len(fw.filterBits) || fw.filterBits[w]&(1<<(uint(ag.idx)&63)) == 0 {
				return fmt.Errorf("agent %s: filter of framework %s not in its bitset", ag.id, fw.id)
			}
		}
	}
	for i, fr := range a.frs {
		if fr != nil && (fr.slot != int32(i) || fr.fw.roleFor(fr.leaf) != fr) {
			return fmt.Errorf("membership slot %d: stale", i)
		}
	}
	for _, i := range a.freeSlots {
		if a.frs[i] != nil {
			return fmt.Errorf("membership slot %d: free but used", i)
		}
	}
	return nil
}
