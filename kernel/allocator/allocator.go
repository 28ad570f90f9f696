// Package allocator decides which framework is offered which agent's
// resources: hierarchical DRF (roles, then frameworks within a role), role
// weights, offer filters (refuse_seconds), suppress/revive, and a minimum
// allocatable size. It is pure code — no I/O, no goroutines, no clock of its
// own (time is passed in) — and deterministic for a given Config.Seed, so the
// master can drive it from its event loop and tests can replay it.
//
// Roles are hierarchical ("eng/web"): a role's share includes its
// sub-roles'. Shares are dominant shares of scalar resources over the
// cluster total of all agents.
//
// An Allocator is not safe for concurrent use: one owner calls it.
//
// See README.md for the algorithm, its cost and its limitations.
package allocator

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/cairn-dc/cairn/kernel/resources"
)

// Config tunes an Allocator.
type Config struct {
	// MinAllocatable lists alternatives: an agent's available resources are
	// offered only if they contain at least one of these quantities (Mesos'
	// --min_allocatable_resources). Nil means the default cpus:0.01 | mem:32.
	// Quantities are compared ignoring reservations. A non-nil empty list
	// means any non-empty resources may be offered.
	MinAllocatable []resources.Resources
	// Seed orders agents within a cycle (Mesos shuffles them so no agent is
	// always first); the same seed gives the same allocations.
	Seed int64
}

// Allocation is one offer to make: all of one agent's allocatable resources
// for one role, to one framework. Resources may share memory with the
// allocator's state: treat it as immutable (as every resources.Resources).
type Allocation struct {
	FrameworkID string
	AgentID     string
	Role        string
	Resources   resources.Resources
}

// AgentInfo is what placement needs to know of an agent.
type AgentInfo struct {
	Hostname   string
	Attributes resources.Attributes
}

// Allocator holds the cluster's resources and who holds them.
type Allocator struct {
	minAlts []minAlt
	rng     *rand.Rand

	// scalar kinds, interned; cluster totals over all agents by kind
	kinds    []string
	total    vector
	invTotal []float64
	// sharesStale means the cluster total changed: every share must be
	// recomputed (refresh) before it is used. While stale, lists are not
	// kept sorted.
	sharesStale bool

	agents     []*agent // by slot; nil once removed (slots are not reused)
	agentIdx   map[string]int32
	order      []int32 // live agent slots, shuffled each cycle
	orderStale bool

	fws   []*framework // by slot; an inert tombstone once removed
	fwIdx map[string]int32
	byID  []int32 // live framework slots in ID order (ranks)

	// frs holds every framework-role membership by slot (reused); role
	// lists and decline-filter bitsets refer to memberships by slot.
	// slotEpoch changes whenever a slot is taken or freed.
	frs       []*fwRole
	freeSlots []int32
	slotEpoch uint64

	root    *node
	roles   map[string]*node
	weights map[string]float64

	dirty  bool
	keySeq uint64

	// scratch for the allocation loop
	cyc    cycle
	touch  uint64 // sink for the loop's prefetching loads
	outBuf []Allocation
}

type framework struct {
	id          string
	idx         int32
	rank        uint32 // order of id among frameworks (ties in role lists)
	active      bool
	placeholder bool // known only from allocations reported by agents
	roles       []*fwRole
	entries     int // agent allocation entries held
	filterBits  []uint64
}

// fwRole is a framework's membership of one role: subscribed, or holding
// resources allocated under it (or both).
type fwRole struct {
	fw         *framework
	slot       int32
	leaf       *node
	alloc      vector
	share      float64 // dominant(alloc); the key in leaf.fws while listed
	subscribed bool
	suppressed bool
	listed     bool // in leaf.fws: active && subscribed && !suppressed
	entries    int  // agent allocation entries under this role
}

func (fw *framework) roleFor(leaf *node) *fwRole {
	for _, fr := range fw.roles {
		if fr.leaf == leaf {
			return fr
		}
	}
	return nil
}

type agent struct {
	// Fields the allocation loop touches come first, with the inline
	// storage of the vectors and of the usual single allocation entry, so
	// that an agent visited (in random order) costs few cache lines.
	active         bool
	availStale     bool // avail must be recomputed (refreshAvail)
	allocatedStale bool // allocated must be re-summed (allocatedRes)
	hasReserved    bool

	// avail = total - allocated
	avail    resources.Resources
	availVec vector
	availKey uint64 // identifies avail's content for filter caches

	total    resources.Resources
	totalVec vector
	totalKey uint64

	allocs    []allocEntry
	allocated resources.Resources // sum of allocs, when !allocatedStale
	allocVec  vector
	filters   []agentFilter
	id        string

	vbuf   [3][inlineKinds]resources.Value
	entBuf [1]allocEntry

	// vbits caches which memberships (by slot) a decline filter stops on
	// this agent, computed for the available resources identified by vKey,
	// valid until vExpiry and while vEpoch is the slot epoch.
	vbits   []uint64
	vKey    uint64
	vExpiry int64
	vEpoch  uint64

	// the split of total and of avail by reservation role (parts.go)
	tparts, aparts partSet

	idx  int32
	info AgentInfo
}

// inlineKinds is how many scalar kinds an agent's vectors hold inline
// (cpus, mem, disk, gpus); more spill to the heap.
const inlineKinds = 4

// allocEntry is what one framework holds on an agent under one role.
type allocEntry struct {
	fw  int32
	fr  *fwRole
	res resources.Resources
}

// New makes an empty allocator.
func New(cfg Config) *Allocator {
	a := &Allocator{
		rng:      rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15)),
		agentIdx: map[string]int32{},
		fwIdx:    map[string]int32{},
		roles:    map[string]*node{},
		weights:  map[string]float64{},
		root:     &node{weight: 1},
	}
	a.compileMin(cfg.MinAllocatable)
	return a
}

func (a *Allocator) nextKey() uint64 {
	a.keySeq++
	return a.keySeq
}

func normRoles(roles []string) []string {
	if len(roles) == 0 {
		return []string{resources.DefaultRole}
	}
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		if r == "" {
			r = resources.DefaultRole
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (a *Allocator) framework(id string) *framework {
	if i, ok := a.fwIdx[id]; ok {
		return a.fws[i]
	}
	return nil
}

func (a *Allocator) agent(id string) *agent {
	if i, ok := a.agentIdx[id]; ok {
		return a.agents[i]
	}
	return nil
}

func (a *Allocator) newFramework(id string) *framework {
	fw := &framework{id: id, idx: int32(len(a.fws))}
	a.fws = append(a.fws, fw)
	a.fwIdx[id] = fw.idx
	a.rankNew(fw)
	return fw
}

// fwRoleFor returns fw's membership of role, creating it.
func (a *Allocator) fwRoleFor(fw *framework, role string) *fwRole {
	leaf := a.leafOf(role)
	if fr := fw.roleFor(leaf); fr != nil {
		return fr
	}
	fr := &fwRole{fw: fw, leaf: leaf}
	if n := len(a.freeSlots); n > 0 {
		fr.slot = a.freeSlots[n-1]
		a.freeSlots = a.freeSlots[:n-1]
		a.frs[fr.slot] = fr
	} else {
		fr.slot = int32(len(a.frs))
		a.frs = append(a.frs, fr)
	}
	a.slotEpoch++
	fw.roles = append(fw.roles, fr)
	return fr
}

// dropRoleIfUnused forgets a membership that is neither subscribed nor
// holding anything, and prunes the role if nobody uses it any more.
func (a *Allocator) dropRoleIfUnused(fw *framework, fr *fwRole) {
	if fr.subscribed || fr.entries > 0 {
		return
	}
	a.unlist(fw, fr)
	if i := slices.Index(fw.roles, fr); i >= 0 {
		fw.roles = slices.Delete(fw.roles, i, i+1)
	}
	a.frs[fr.slot] = nil
	a.freeSlots = append(a.freeSlots, fr.slot)
	a.slotEpoch++
	a.prune(fr.leaf)
}

func (a *Allocator) subscribe(fw *framework, fr *fwRole) {
	if !fr.subscribed {
		fr.subscribed = true
		fr.leaf.subscribers++
	}
	a.relist(fw, fr)
}

func (a *Allocator) unsubscribe(fw *framework, fr *fwRole) {
	if fr.subscribed {
		fr.subscribed = false
		fr.suppressed = false
		fr.leaf.subscribers--
	}
	a.unlist(fw, fr)
	a.dropRoleIfUnused(fw, fr)
}

// AddFramework registers a framework subscribed with roles (empty means "*").
// used is what it already holds per agent, per role (after a master failover
// or re-subscription): map[agentID]map[role]Resources. active=false adds it
// without offering it anything until ActivateFramework.
//
// Entries of used for unknown agents are ignored (the agent reports them
// when it is added), and so are entries for an (agent, role) the allocator
// already tracks for this framework (reported earlier by AddAgent). Adding a
// framework that is already registered updates its roles and activity.
func (a *Allocator) AddFramework(id string, roles []string, used map[string]map[string]resources.Resources, active bool) {
	fw := a.framework(id)
	if fw == nil {
		fw = a.newFramework(id)
	}
	fw.placeholder = false
	for _, aid := range sortedKeys(used) {
		ag := a.agent(aid)
		if ag == nil {
			continue
		}
		byRole := used[aid]
		for _, role := range sortedKeys(byRole) {
			fr := a.fwRoleFor(fw, role)
			if ag.entryIndex(fr) >= 0 {
				continue
			}
			a.allocate(ag, fw, fr, byRole[role], nil)
		}
	}
	fw.active = active
	a.setRoles(fw, normRoles(roles))
	if active {
		a.dirty = true
	}
}

// UpdateFramework changes a framework's roles (re-subscription). What it
// holds under roles it leaves stays allocated (and counted in those roles'
// shares) until recovered.
func (a *Allocator) UpdateFramework(id string, roles []string) {
	fw := a.framework(id)
	if fw == nil {
		return
	}
	a.setRoles(fw, normRoles(roles))
	a.dirty = true
}

func (a *Allocator) setRoles(fw *framework, roles []string) {
	for _, fr := range slices.Clone(fw.roles) {
		if fr.subscribed && !slices.Contains(roles, fr.leaf.path) {
			a.unsubscribe(fw, fr)
		}
	}
	for _, r := range roles {
		fr := a.fwRoleFor(fw, r)
		a.subscribe(fw, fr)
	}
}

// RemoveFramework forgets a framework and returns all it held to the pool.
func (a *Allocator) RemoveFramework(id string) {
	fw := a.framework(id)
	if fw == nil {
		return
	}
	for _, ag := range a.agents {
		if fw.entries == 0 {
			break
		}
		if ag == nil {
			continue
		}
		for j := 0; j < len(ag.allocs); {
			if ag.allocs[j].fw == fw.idx {
				a.release(ag, j, nil) // removes entry j
				continue
			}
			j++
		}
	}
	a.clearFilters(fw)
	for _, fr := range slices.Clone(fw.roles) {
		a.unsubscribe(fw, fr)
	}
	delete(a.fwIdx, id)
	a.unrank(fw)
	a.fws[fw.idx] = &framework{id: fw.id, idx: fw.idx} // inert tombstone for stale indices
	a.dirty = true
}

// ActivateFramework resumes offers to a framework.
func (a *Allocator) ActivateFramework(id string) {
	fw := a.framework(id)
	if fw == nil {
		return
	}
	fw.active = true
	for _, fr := range fw.roles {
		a.relist(fw, fr)
	}
	a.dirty = true
}

// DeactivateFramework stops offers to a framework (it disconnected) without
// taking back what it holds.
func (a *Allocator) DeactivateFramework(id string) {
	fw := a.framework(id)
	if fw == nil {
		return
	}
	fw.active = false
	for _, fr := range fw.roles {
		a.unlist(fw, fr)
	}
}

// AddAgent adds an agent with its total resources; used is what frameworks
// already hold on it (agent re-registration after a master failover):
// map[frameworkID]map[role]Resources. Frameworks not yet known are tracked
// (inactive, subscribed to nothing) until AddFramework. Adding an agent that
// is already known replaces it.
func (a *Allocator) AddAgent(id string, info AgentInfo, total resources.Resources, used map[string]map[string]resources.Resources) {
	if a.agent(id) != nil {
		a.RemoveAgent(id)
	}
	ag := &agent{id: id, idx: int32(len(a.agents)), info: info, active: true, availStale: true}
	ag.totalVec = ag.vbuf[0][:0]
	ag.allocVec = ag.vbuf[1][:0]
	ag.availVec = ag.vbuf[2][:0]
	ag.allocs = ag.entBuf[:0]
	a.agents = append(a.agents, ag)
	a.agentIdx[id] = ag.idx
	a.order = append(a.order, ag.idx)
	a.setTotal(ag, total)
	for _, fid := range sortedKeys(used) {
		fw := a.framework(fid)
		if fw == nil {
			fw = a.newFramework(fid)
			fw.placeholder = true
		}
		byRole := used[fid]
		for _, role := range sortedKeys(byRole) {
			a.allocate(ag, fw, a.fwRoleFor(fw, role), byRole[role], nil)
		}
	}
	a.dirty = true
}

func (a *Allocator) setTotal(ag *agent, total resources.Resources) {
	var oldBuf [inlineKinds]resources.Value
	old := append(vector(oldBuf[:0]), ag.totalVec...)
	a.total.sub(old)
	ag.total = total
	ag.totalVec = a.vecInto(ag.totalVec, total)
	a.total.add(ag.totalVec)
	for len(a.total) < len(a.kinds) {
		a.total = append(a.total, 0)
	}
	ag.hasReserved = len(total.Unreserved()) != len(total)
	ag.totalKey = a.nextKey()
	ag.availStale = true
	if !slices.Equal(trimZeros(old), trimZeros(ag.totalVec)) {
		a.sharesStale = true
	}
}

func trimZeros(v vector) vector {
	for len(v) > 0 && v[len(v)-1] == 0 {
		v = v[:len(v)-1]
	}
	return v
}

// UpdateAgentTotal replaces an agent's total (e.g. after RESERVE changed its shape).
func (a *Allocator) UpdateAgentTotal(id string, total resources.Resources) {
	ag := a.agent(id)
	if ag == nil {
		return
	}
	a.setTotal(ag, total)
	a.dirty = true
}

// RemoveAgent forgets an agent and everything allocated on it.
func (a *Allocator) RemoveAgent(id string) {
	ag := a.agent(id)
	if ag == nil {
		return
	}
	for len(ag.allocs) > 0 {
		a.release(ag, len(ag.allocs)-1, nil)
	}
	a.total.sub(ag.totalVec)
	a.sharesStale = true
	delete(a.agentIdx, id)
	a.agents[ag.idx] = nil
	a.orderStale = true
}

// ActivateAgent / DeactivateAgent: a deactivated agent (unreachable, draining)
// is offered to nobody, but what frameworks hold there stays allocated.
func (a *Allocator) ActivateAgent(id string) {
	if ag := a.agent(id); ag != nil {
		ag.active = true
		a.dirty = true
	}
}

func (a *Allocator) DeactivateAgent(id string) {
	if ag := a.agent(id); ag != nil {
		ag.active = false
	}
}

// allocatedRes is everything allocated on the agent.
func (ag *agent) allocatedRes() resources.Resources {
	if ag.allocatedStale {
		var sum resources.Resources
		for i := range ag.allocs {
			if sum == nil {
				sum = ag.allocs[i].res
			} else {
				sum = sum.Plus(ag.allocs[i].res)
			}
		}
		ag.allocated, ag.allocatedStale = sum, false
	}
	return ag.allocated
}

func (ag *agent) entryIndex(fr *fwRole) int {
	for j := range ag.allocs {
		if ag.allocs[j].fr == fr {
			return j
		}
	}
	return -1
}

// allocate records res as held by fw under fr on ag. vec is res' scalar
// vector if the caller has it.
func (a *Allocator) allocate(ag *agent, fw *framework, fr *fwRole, res resources.Resources, vec vector) {
	if len(res) == 0 {
		return
	}
	if vec == nil {
		vec = a.vecOf(res)
	}
	if len(ag.allocs) == 0 {
		ag.allocated, ag.allocatedStale = res, false
	} else {
		ag.allocatedStale = true // summed when needed (allocatedRes)
	}
	if j := ag.entryIndex(fr); j >= 0 {
		ag.allocs[j].res = ag.allocs[j].res.Plus(res)
	} else {
		ag.allocs = append(ag.allocs, allocEntry{fw: fw.idx, fr: fr, res: res})
		fr.entries++
		fw.entries++
		fr.leaf.holders++
	}
	ag.allocVec.add(vec)
	a.changeFwAlloc(fw, fr, vec, +1)
	a.changeNodeAlloc(fr.leaf, vec, +1)
}

// release returns res (all of the entry if res is nil) from allocation
// entry j of ag, removing the entry if it becomes empty.
func (a *Allocator) release(ag *agent, j int, res resources.Resources) {
	e := &ag.allocs[j]
	var rest, removed resources.Resources
	if res == nil || sameSlice(res, e.res) {
		removed = e.res
	} else {
		rest = e.res.Minus(res)
		if len(rest) == 0 {
			removed = e.res
		} else {
			removed = e.res.Minus(rest)
		}
	}
	if len(removed) == 0 {
		return
	}
	fw, fr := a.fws[e.fw], e.fr
	vec := a.vecOf(removed)
	if len(rest) == 0 {
		last := len(ag.allocs) - 1
		ag.allocs[j] = ag.allocs[last]
		ag.allocs[last] = allocEntry{}
		ag.allocs = ag.allocs[:last]
		fr.entries--
		fw.entries--
		fr.leaf.holders--
	} else {
		e.res = rest
	}
	if len(ag.allocs) == 0 {
		ag.allocated, ag.allocatedStale = nil, false
		clear(ag.allocVec)
	} else {
		ag.allocatedStale = true
		ag.allocVec.sub(vec)
	}
	ag.availStale = true
	a.changeFwAlloc(fw, fr, vec, -1)
	a.changeNodeAlloc(fr.leaf, vec, -1)
	a.dropRoleIfUnused(fw, fr)
}

// Recover returns resources a framework held on an agent under role (a
// declined or expired offer, the unused rest of an accepted offer, a finished
// task). If refuse > 0 the framework is not offered a subset of these
// resources on this agent again until now+refuse (a decline filter; refuse
// is capped at a year). Resources not held are ignored.
func (a *Allocator) Recover(frameworkID, agentID, role string, res resources.Resources, refuse time.Duration, now time.Time) {
	fw, ag := a.framework(frameworkID), a.agent(agentID)
	if fw == nil || ag == nil || len(res) == 0 {
		return
	}
	n := a.role(role, false)
	if n == nil {
		return
	}
	leaf := n.self
	if fr := fw.roleFor(leaf); fr != nil {
		if j := ag.entryIndex(fr); j >= 0 {
			a.release(ag, j, res)
			a.dirty = true
		}
	}
	if refuse > 0 {
		a.installFilter(fw, ag, leaf, res, refuse, now)
	}
}

// UpdateAllocation replaces resources a framework holds on an agent (RESERVE,
// UNRESERVE, CREATE, DESTROY turn some of them into a new shape); the agent's
// total changes the same way. It fails, changing nothing, if from is not held.
func (a *Allocator) UpdateAllocation(frameworkID, agentID, role string, from, to resources.Resources) error {
	fw := a.framework(frameworkID)
	if fw == nil {
		return fmt.Errorf("allocator: update allocation: unknown framework %q", frameworkID)
	}
	ag := a.agent(agentID)
	if ag == nil {
		return fmt.Errorf("allocator: update allocation: unknown agent %q", agentID)
	}
	var fr *fwRole
	j := -1
	if n := a.role(role, false); n != nil {
		if fr = fw.roleFor(n.self); fr != nil {
			j = ag.entryIndex(fr)
		}
	}
	if j < 0 || !ag.allocs[j].res.Contains(from) {
		return fmt.Errorf("allocator: update allocation: framework %s does not hold %s on agent %s under role %q: %w",
			frameworkID, from, agentID, role, ErrNotHeld)
	}
	e := &ag.allocs[j]
	e.res = e.res.Minus(from).Plus(to)
	ag.allocatedStale = true
	fromVec, toVec := a.vecOf(from), a.vecOf(to)
	ag.allocVec.sub(fromVec)
	ag.allocVec.add(toVec)
	a.changeFwAlloc(fw, fr, fromVec, -1)
	a.changeFwAlloc(fw, fr, toVec, +1)
	a.changeNodeAlloc(fr.leaf, fromVec, -1)
	a.changeNodeAlloc(fr.leaf, toVec, +1)
	a.setTotal(ag, ag.total.Minus(from).Plus(to))
	if len(e.res) == 0 {
		// everything turned into nothing (unusual): drop the entry
		last := len(ag.allocs) - 1
		ag.allocs[j] = ag.allocs[last]
		ag.allocs = ag.allocs[:last]
		fr.entries--
		fw.entries--
		fr.leaf.holders--
		a.dropRoleIfUnused(fw, fr)
	}
	return nil
}

// ErrNotHeld is wrapped by UpdateAllocation's error when the framework does
// not hold the resources to change.
var ErrNotHeld = errors.New("resources not held")

// Suppress stops offers to a framework for the given roles (all its roles if
// none are given). Revive undoes Suppress for those roles and clears the
// framework's decline filters (all of them, as Mesos does).
func (a *Allocator) Suppress(frameworkID string, roles ...string) {
	fw := a.framework(frameworkID)
	if fw == nil {
		return
	}
	for _, fr := range fw.roles {
		if fr.subscribed && (len(roles) == 0 || slices.Contains(roles, fr.leaf.path)) {
			fr.suppressed = true
			a.unlist(fw, fr)
		}
	}
}

func (a *Allocator) Revive(frameworkID string, roles ...string) {
	fw := a.framework(frameworkID)
	if fw == nil {
		return
	}
	for _, fr := range fw.roles {
		if fr.subscribed && (len(roles) == 0 || slices.Contains(roles, fr.leaf.path)) {
			fr.suppressed = false
			a.relist(fw, fr)
		}
	}
	a.clearFilters(fw)
	a.dirty = true
}

// SetWeight sets a role's weight (default 1): a role with weight 2 is entitled
// to twice the share of a role with weight 1. Weights that are not positive
// finite numbers are ignored.
func (a *Allocator) SetWeight(role string, weight float64) {
	if !(weight > 0) || math.IsInf(weight, 0) {
		return
	}
	a.weights[role] = weight
	if n := a.roles[role]; n != nil {
		n.weight = weight
		n.self.weight = weight
		if !a.sharesStale {
			a.setNodeShare(n.self, a.dominant(n.self.alloc)/weight)
			a.setNodeShare(n, a.dominant(n.alloc)/weight)
		}
	}
	a.dirty = true
}

// Dirty reports whether anything changed since the last Allocate that could
// produce new offers (the master allocates on change as well as on its
// interval, batching the changes between cycles).
func (a *Allocator) Dirty() bool { return a.dirty }

// FrameworkShare is a framework's dominant share (0..1) of everything it
// holds, over all its roles.
func (a *Allocator) FrameworkShare(frameworkID string) float64 {
	fw := a.framework(frameworkID)
	if fw == nil {
		return 0
	}
	a.refresh()
	var sum vector
	for _, fr := range fw.roles {
		sum.add(fr.alloc)
	}
	return a.dominant(sum)
}

// RoleShare is a role's dominant share, including its sub-roles, divided by
// its weight.
func (a *Allocator) RoleShare(role string) float64 {
	n := a.roles[role]
	if n == nil {
		return 0
	}
	a.refresh()
	return n.share
}
