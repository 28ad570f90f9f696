package allocator

import (
	"strings"

	"github.com/cairn-dc/cairn/kernel/resources"
)

// An agent with reservations offers, to each role, its unreserved resources
// plus those reserved for the role or an ancestor. Rather than filtering and
// subtracting Resources for every role on every cycle, the allocation loop
// works on the agent's available resources split once by reservation role
// (a partSet): what a role may be offered is a bitmask of parts, and what is
// left after an offer is the mask minus the parts offered. Unions of several
// parts are computed once and cached with the split. Splits are cached per
// agent for its total (an idle agent offers its total every time) and for
// its current available resources.

// maxParts bounds the reservation roles handled by masks; an agent with more
// falls back to Resources arithmetic.
const maxParts = 64

// maxCombos bounds the cached unions per split.
const maxCombos = 8

type partSet struct {
	key    uint64 // the agent's availKey this split is for; 0 = none
	parts  []part
	combos []combo
}

type part struct {
	role string // reservation role, "*" for unreserved
	res  resources.Resources
	vec  vector
}

type combo struct {
	mask uint64
	res  resources.Resources
	vec  vector
}

// allocatableRole reports whether resources reserved for resRole may be
// offered to a framework in role (unreserved, the role, or an ancestor).
func allocatableRole(resRole, role string) bool {
	return resRole == resources.DefaultRole || resRole == role ||
		(len(role) > len(resRole) && role[len(resRole)] == '/' && strings.HasPrefix(role, resRole))
}

// partsOf returns the split of ag's available resources (which must be
// fresh), or nil if there are too many reservation roles.
func (a *Allocator) partsOf(ag *agent) *partSet {
	ps := &ag.aparts
	if ag.availKey == ag.totalKey {
		ps = &ag.tparts
	}
	if ps.key == ag.availKey {
		return ps
	}
	var roles []string
	for i := range ag.avail {
		r := ag.avail[i].Role()
		found := false
		for _, x := range roles {
			if x == r {
				found = true
				break
			}
		}
		if !found {
			if len(roles) == maxParts {
				return nil
			}
			roles = append(roles, r)
		}
	}
	clear(ps.parts)
	ps.parts = ps.parts[:0]
	clear(ps.combos)
	ps.combos = ps.combos[:0]
	for _, r := range roles {
		res := ag.avail.Filter(func(x resources.Resource) bool { return x.Role() == r })
		ps.parts = append(ps.parts, part{role: r, res: res, vec: a.vecOf(res)})
	}
	ps.key = ag.availKey
	return ps
}

// full is the mask of all parts.
func (ps *partSet) full() uint64 {
	if len(ps.parts) == 64 {
		return ^uint64(0)
	}
	return 1<<len(ps.parts) - 1
}

// allocatable is the mask of parts that may be offered to role.
func (ps *partSet) allocatable(role string) uint64 {
	var m uint64
	for i := range ps.parts {
		if allocatableRole(ps.parts[i].role, role) {
			m |= 1 << i
		}
	}
	return m
}

// union returns the resources and vector of the parts in mask (non-zero).
func (a *Allocator) union(ps *partSet, mask uint64) (resources.Resources, vector) {
	if mask&(mask-1) == 0 { // one part
		for i := range ps.parts {
			if mask == 1<<i {
				return ps.parts[i].res, ps.parts[i].vec
			}
		}
	}
	for i := range ps.combos {
		if ps.combos[i].mask == mask {
			return ps.combos[i].res, ps.combos[i].vec
		}
	}
	var res resources.Resources
	var vec vector
	for i := range ps.parts {
		if mask&(1<<i) != 0 {
			if res == nil {
				res = ps.parts[i].res
			} else {
				res = res.Plus(ps.parts[i].res)
			}
			vec.add(ps.parts[i].vec)
		}
	}
	if len(ps.combos) < maxCombos {
		ps.combos = append(ps.combos, combo{mask, res, vec})
	}
	return res, vec
}

// keepParts makes ag.aparts the split of the parts in mask of ps, for the
// agent's new availKey (after the loop offered the other parts).
func (a *Allocator) keepParts(ag *agent, ps *partSet, mask uint64) {
	dst := &ag.aparts
	if ps != dst {
		clear(dst.parts)
		dst.parts = dst.parts[:0]
		for i := range ps.parts {
			if mask&(1<<i) != 0 {
				dst.parts = append(dst.parts, ps.parts[i])
			}
		}
	} else {
		n := 0
		for i := range ps.parts {
			if mask&(1<<i) != 0 {
				ps.parts[n] = ps.parts[i]
				n++
			}
		}
		clear(ps.parts[n:])
		ps.parts = ps.parts[:n]
	}
	clear(dst.combos)
	dst.combos = dst.combos[:0]
	dst.key = ag.availKey
}
