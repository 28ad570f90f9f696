package records

import (
	"errors"
	"fmt"
	"hash/maphash"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Store holds the records of a cluster. Writers (Replace, the Upsert and
// Remove methods, Update) are serialised and publish a new immutable
// Snapshot when they return; readers (Snapshot, Lookup) never block and
// never see a half-applied change. The zero Store is not usable: use
// NewStore.
type Store struct {
	mu  sync.Mutex // serialises writers; guards st
	st  state
	cur atomic.Pointer[Snapshot]
}

// NewStore returns an empty store.
func NewStore() *Store {
	s := &Store{st: newState()}
	s.cur.Store(&Snapshot{seed: maphash.MakeSeed()})
	return s
}

// Snapshot returns the current records. Keep it for as long as one
// answer needs a consistent view; load a new one for the next.
func (s *Store) Snapshot() *Snapshot { return s.cur.Load() }

// Lookup is Snapshot().Lookup(name).
func (s *Store) Lookup(name string) (*Entry, bool) { return s.cur.Load().Lookup(name) }

// Replace replaces everything the store knows with c. It fails, changing
// nothing, when an agent, framework or task has no ID or an ID appears
// twice.
func (s *Store) Replace(c Cluster) error {
	seen := map[string]bool{}
	check := func(kind string, i int, id string) error {
		if id == "" {
			return fmt.Errorf("records: %s[%d]: empty id", kind, i)
		}
		if seen[kind+"\x00"+id] {
			return fmt.Errorf("records: %s[%d]: duplicate id %q", kind, i, id)
		}
		seen[kind+"\x00"+id] = true
		return nil
	}
	for i, a := range c.Agents {
		if err := check("agents", i, a.ID); err != nil {
			return err
		}
	}
	for i, f := range c.Frameworks {
		if err := check("frameworks", i, f.ID); err != nil {
			return err
		}
	}
	for i, t := range c.Tasks {
		if err := check("tasks", i, t.ID); err != nil {
			return err
		}
	}
	st := newState()
	st.leader, st.masters = c.Leader, append([]string(nil), c.Masters...)
	for _, a := range c.Agents {
		st.agents[a.ID] = a
	}
	for _, f := range c.Frameworks {
		st.frameworks[f.ID] = f
	}
	for _, t := range c.Tasks {
		st.putTask(t.clone())
	}
	st.setSource(srcMasters, st.masterRecords())
	for id := range st.agents {
		st.setSource(srcAgent+id, st.agentRecords(id))
	}
	for id := range st.tasks {
		st.setSource(srcTask+id, st.taskRecords(id))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st = st
	s.cur.Store(s.cur.Load().with(st.commit(), true))
	return nil
}

// Update applies the changes fn makes to a Batch at once, as one new
// snapshot. When fn returns an error (or a Batch method did), nothing is
// applied and the error is returned.
func (s *Store) Update(fn func(*Batch) error) error {
	b := &Batch{}
	if err := fn(b); err != nil {
		return err
	}
	if b.err != nil {
		return b.err
	}
	if len(b.ops) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range b.ops {
		op(&s.st)
	}
	if ch := s.st.commit(); len(ch) > 0 {
		s.cur.Store(s.cur.Load().with(ch, false))
	}
	return nil
}

// UpsertTask adds or replaces the task with t's ID.
func (s *Store) UpsertTask(t Task) error {
	return s.Update(func(b *Batch) error { return b.UpsertTask(t) })
}

// RemoveTask forgets the task id (no error when unknown).
func (s *Store) RemoveTask(id string) error {
	return s.Update(func(b *Batch) error { return b.RemoveTask(id) })
}

// UpsertAgent adds or replaces the agent with a's ID; its tasks' records follow.
func (s *Store) UpsertAgent(a Agent) error {
	return s.Update(func(b *Batch) error { return b.UpsertAgent(a) })
}

// RemoveAgent forgets the agent id; its tasks stay, reached at the
// address they carry themselves, if any.
func (s *Store) RemoveAgent(id string) error {
	return s.Update(func(b *Batch) error { return b.RemoveAgent(id) })
}

// UpsertFramework adds or replaces the framework with f's ID (a rename
// renames its tasks' records).
func (s *Store) UpsertFramework(f Framework) error {
	return s.Update(func(b *Batch) error { return b.UpsertFramework(f) })
}

// RemoveFramework forgets the framework id; its tasks keep the
// FrameworkName they carry, if any.
func (s *Store) RemoveFramework(id string) error {
	return s.Update(func(b *Batch) error { return b.RemoveFramework(id) })
}

// SetLeader sets the leading master (see Cluster.Leader).
func (s *Store) SetLeader(leader string) error {
	return s.Update(func(b *Batch) error { b.SetLeader(leader); return nil })
}

// SetMasters sets the list of masters (see Cluster.Masters).
func (s *Store) SetMasters(masters []string) error {
	return s.Update(func(b *Batch) error { b.SetMasters(masters); return nil })
}

// Batch collects changes for Store.Update. Its methods validate their
// input at once and return an error naming the bad field.
type Batch struct {
	ops []func(*state)
	err error
}

var errEmptyID = errors.New("empty id")

func (b *Batch) fail(what string, err error) error {
	err = fmt.Errorf("records: %s: %w", what, err)
	if b.err == nil {
		b.err = err
	}
	return err
}

// UpsertTask adds or replaces the task with t's ID.
func (b *Batch) UpsertTask(t Task) error {
	if t.ID == "" {
		return b.fail("task "+strconv.Quote(t.Name)+": id", errEmptyID)
	}
	t = t.clone()
	b.ops = append(b.ops, func(st *state) {
		st.putTask(t)
		st.setSource(srcTask+t.ID, st.taskRecords(t.ID))
	})
	return nil
}

// RemoveTask forgets the task id.
func (b *Batch) RemoveTask(id string) error {
	if id == "" {
		return b.fail("remove task", errEmptyID)
	}
	b.ops = append(b.ops, func(st *state) {
		st.dropTask(id)
		st.setSource(srcTask+id, nil)
	})
	return nil
}

// UpsertAgent adds or replaces the agent with a's ID.
func (b *Batch) UpsertAgent(a Agent) error {
	if a.ID == "" {
		return b.fail("agent "+strconv.Quote(a.Hostname)+": id", errEmptyID)
	}
	b.ops = append(b.ops, func(st *state) {
		st.agents[a.ID] = a
		st.setSource(srcAgent+a.ID, st.agentRecords(a.ID))
		st.refreshTasks(st.byAgent[a.ID])
	})
	return nil
}

// RemoveAgent forgets the agent id.
func (b *Batch) RemoveAgent(id string) error {
	if id == "" {
		return b.fail("remove agent", errEmptyID)
	}
	b.ops = append(b.ops, func(st *state) {
		delete(st.agents, id)
		st.setSource(srcAgent+id, nil)
		st.refreshTasks(st.byAgent[id])
	})
	return nil
}

// UpsertFramework adds or replaces the framework with f's ID.
func (b *Batch) UpsertFramework(f Framework) error {
	if f.ID == "" {
		return b.fail("framework "+strconv.Quote(f.Name)+": id", errEmptyID)
	}
	b.ops = append(b.ops, func(st *state) {
		st.frameworks[f.ID] = f
		st.refreshTasks(st.byFramework[f.ID])
	})
	return nil
}

// RemoveFramework forgets the framework id.
func (b *Batch) RemoveFramework(id string) error {
	if id == "" {
		return b.fail("remove framework", errEmptyID)
	}
	b.ops = append(b.ops, func(st *state) {
		delete(st.frameworks, id)
		st.refreshTasks(st.byFramework[id])
	})
	return nil
}

// SetLeader sets the leading master.
func (b *Batch) SetLeader(leader string) {
	b.ops = append(b.ops, func(st *state) {
		st.leader = leader
		st.setSource(srcMasters, st.masterRecords())
	})
}

// SetMasters sets the list of masters.
func (b *Batch) SetMasters(masters []string) {
	masters = append([]string(nil), masters...)
	b.ops = append(b.ops, func(st *state) {
		st.masters = masters
		st.setSource(srcMasters, st.masterRecords())
	})
}

// Source keys: every record comes from one source (a task, an agent, or
// the masters) so that a change replaces exactly that source's records.
const (
	srcMasters = "m"
	srcAgent   = "a/"
	srcTask    = "t/"
)

// rec is one record of a source: an address (A or AAAA) or, when addr is
// not valid, an SRV record.
type rec struct {
	name   string
	addr   netip.Addr
	target string
	port   uint16
}

// nameState is the writer's view of one name.
type nameState struct {
	srcs  map[string]struct{} // sources with records at this name
	below int                 // names with records strictly below this one
}

// state is the source of truth the snapshots are computed from; only
// writers touch it, under Store.mu.
type state struct {
	leader      string
	masters     []string
	agents      map[string]Agent
	frameworks  map[string]Framework
	tasks       map[string]Task
	byAgent     map[string]map[string]struct{} // agent id → task ids
	byFramework map[string]map[string]struct{} // framework id → task ids

	recs  map[string][]rec // source → records
	names map[string]*nameState
	dirty map[string]struct{} // names changed since the last commit
}

func newState() state {
	return state{
		agents: map[string]Agent{}, frameworks: map[string]Framework{}, tasks: map[string]Task{},
		byAgent: map[string]map[string]struct{}{}, byFramework: map[string]map[string]struct{}{},
		recs: map[string][]rec{}, names: map[string]*nameState{}, dirty: map[string]struct{}{},
	}
}

func addTo(m map[string]map[string]struct{}, k, v string) {
	s := m[k]
	if s == nil {
		s = map[string]struct{}{}
		m[k] = s
	}
	s[v] = struct{}{}
}

func delFrom(m map[string]map[string]struct{}, k, v string) {
	if s := m[k]; s != nil {
		delete(s, v)
		if len(s) == 0 {
			delete(m, k)
		}
	}
}

func (st *state) putTask(t Task) {
	st.dropTask(t.ID)
	st.tasks[t.ID] = t
	addTo(st.byAgent, t.AgentID, t.ID)
	addTo(st.byFramework, t.FrameworkID, t.ID)
}

func (st *state) dropTask(id string) {
	if old, ok := st.tasks[id]; ok {
		delFrom(st.byAgent, old.AgentID, id)
		delFrom(st.byFramework, old.FrameworkID, id)
		delete(st.tasks, id)
	}
}

func (st *state) refreshTasks(ids map[string]struct{}) {
	for id := range ids {
		st.setSource(srcTask+id, st.taskRecords(id))
	}
}

// setSource replaces the records of source key with recs.
func (st *state) setSource(key string, recs []rec) {
	old := st.recs[key]
	if len(old) == 0 && len(recs) == 0 {
		return
	}
	if len(recs) == 0 {
		delete(st.recs, key)
	} else {
		st.recs[key] = recs
	}
	for _, r := range recs {
		st.dirty[r.name] = struct{}{}
		ns := st.names[r.name]
		if ns == nil {
			ns = &nameState{}
			st.names[r.name] = ns
		}
		if ns.srcs == nil {
			ns.srcs = map[string]struct{}{}
		}
		if _, ok := ns.srcs[key]; !ok {
			ns.srcs[key] = struct{}{}
			if len(ns.srcs) == 1 {
				st.ancestors(r.name, +1)
			}
		}
	}
	for _, r := range old {
		if hasName(recs, r.name) {
			continue
		}
		st.dirty[r.name] = struct{}{}
		ns := st.names[r.name]
		if ns == nil {
			continue
		}
		if _, ok := ns.srcs[key]; ok {
			delete(ns.srcs, key)
			if len(ns.srcs) == 0 {
				st.ancestors(r.name, -1)
				if ns.below == 0 {
					delete(st.names, r.name)
				}
			}
		}
	}
}

func hasName(recs []rec, name string) bool {
	for _, r := range recs {
		if r.name == name {
			return true
		}
	}
	return false
}

// ancestors adds d to the count of populated names below each ancestor
// of name ("a.b.c" → "b.c", "c"); an ancestor that appears or disappears
// is dirty.
func (st *state) ancestors(name string, d int) {
	for i := strings.IndexByte(name, '.'); i >= 0; {
		a := name[i+1:]
		ns := st.names[a]
		if ns == nil {
			ns = &nameState{}
			st.names[a] = ns
		}
		ns.below += d
		if ns.below == 0 || ns.below == d {
			st.dirty[a] = struct{}{}
		}
		if ns.below == 0 && len(ns.srcs) == 0 {
			delete(st.names, a)
		}
		j := strings.IndexByte(a, '.')
		if j < 0 {
			break
		}
		i += 1 + j
	}
}

// commit computes the entries of the dirty names (nil: the name is gone)
// and clears the dirty set.
func (st *state) commit() map[string]*Entry {
	out := make(map[string]*Entry, len(st.dirty))
	for name := range st.dirty {
		out[name] = st.entry(name)
	}
	clear(st.dirty)
	return out
}

// entry builds the entry of name from its sources, in source order, with
// duplicates dropped (RFC 2181 §5: a record set has no duplicates).
func (st *state) entry(name string) *Entry {
	ns := st.names[name]
	if ns == nil {
		return nil
	}
	if len(ns.srcs) == 0 {
		return emptyEntry
	}
	keys := make([]string, 0, len(ns.srcs))
	for k := range ns.srcs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e := &Entry{}
	seenIP := map[netip.Addr]bool{}
	seenSRV := map[SRV]bool{}
	for _, k := range keys {
		for _, r := range st.recs[k] {
			if r.name != name {
				continue
			}
			switch {
			case r.addr.IsValid():
				if seenIP[r.addr] {
					continue
				}
				seenIP[r.addr] = true
				if r.addr.Is4() {
					a := r.addr.As4()
					e.A = append(e.A, net.IP(a[:]))
				} else {
					a := r.addr.As16()
					e.AAAA = append(e.AAAA, net.IP(a[:]))
				}
			default:
				s := SRV{Target: r.target, Port: r.port}
				if seenSRV[s] {
					continue
				}
				seenSRV[s] = true
				e.SRV = append(e.SRV, s)
			}
		}
	}
	return e
}
