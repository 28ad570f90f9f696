package master

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cairn-dc/cairn/kernel/allocator"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// recover resets the in-memory state and rebuilds it from the state bucket.
// Frameworks come back disconnected (they re-subscribe when they notice the
// new leader; their failover timeouts run meanwhile) and agents come back
// with a fresh ping deadline.
func (m *Master) recover(ctx context.Context) error {
	kv, updates, err := ensureJetStream(ctx, m.js, m.log)
	if err != nil {
		return err
	}
	m.updates = updates
	m.st = newStore(m.js, kv)
	m.alloc = allocator.New(allocator.Config{MinAllocatable: m.cfg.MinAllocatable, Seed: m.cfg.Seed})
	for role, w := range m.cfg.RoleWeights {
		m.alloc.SetWeight(role, w)
	}
	m.frameworks = make(map[protocol.FrameworkID]*framework)
	m.agents = make(map[protocol.AgentID]*agent)
	m.offers = make(map[protocol.OfferID]*offer)
	m.retry = make(map[*task]struct{})
	m.dirtyFrameworks = make(map[*framework]struct{})
	m.dirtyAgents = make(map[*agent]struct{})
	m.dirtyTasks = make(map[*task]dirt)
	m.lazyTasks = make(map[*task]struct{})
	m.after = nil
	m.agentAcks = map[protocol.AgentID][]protocol.AckUpdate{}
	m.fatal = nil
	m.changed = true

	entries, err := m.st.loadAll(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	infos := map[string]taskInfoRecord{}
	stats := map[string]taskStatusRecord{}
	for key, val := range entries {
		switch {
		case strings.HasPrefix(key, "fw."):
			var r frameworkRecord
			if err := json.Unmarshal(val, &r); err != nil {
				m.log.Error("skipping unreadable framework record", "key", key, "err", err)
				continue
			}
			f := &framework{info: r.Info, registered: fromTS(r.Registered), removed: r.Removed,
				offers: map[protocol.OfferID]*offer{}, tasks: map[protocol.TaskID]*task{}}
			// Every framework is disconnected until it re-subscribes; its
			// failover clock starts now unless it had already started.
			f.disconnected = fromTS(r.Disconnected)
			if f.disconnected.IsZero() {
				f.disconnected = now
			}
			m.frameworks[f.info.ID] = f
		case strings.HasPrefix(key, "agent."):
			var r agentRecord
			if err := json.Unmarshal(val, &r); err != nil {
				m.log.Error("skipping unreadable agent record", "key", key, "err", err)
				continue
			}
			a := &agent{info: r.Info, registered: fromTS(r.Registered), lastPing: now, status: r.Status,
				unreachable: fromTS(r.Unreachable), drain: r.Drain, tasks: map[taskKey]*task{}, offers: map[protocol.OfferID]*offer{}}
			m.agents[a.info.ID] = a
		case strings.HasPrefix(key, "task."):
			var r taskInfoRecord
			if err := json.Unmarshal(val, &r); err != nil {
				m.log.Error("skipping unreadable task record", "key", key, "err", err)
				continue
			}
			infos[strings.TrimPrefix(key, "task.")] = r
		case strings.HasPrefix(key, "tstat."):
			var r taskStatusRecord
			if err := json.Unmarshal(val, &r); err != nil {
				m.log.Error("skipping unreadable task status record", "key", key, "err", err)
				continue
			}
			stats[strings.TrimPrefix(key, "tstat.")] = r
		}
	}
	tasks := make([]*task, 0, len(infos))
	for k, r := range infos {
		t := &task{info: r.Info, fid: r.FrameworkID, aid: r.AgentID, role: r.Role, state: protocol.TaskStaging}
		if st, ok := stats[k]; ok {
			t.state, t.healthy, t.statuses, t.pending, t.killRequested, t.completed =
				st.State, st.Healthy, st.Statuses, st.Pending, st.KillRequested, st.Completed
		}
		// else: launched, never updated since: TASK_STAGING.
		tasks = append(tasks, t)
	}
	for k := range stats {
		if _, ok := infos[k]; !ok {
			_ = m.st.del("tstat." + k) // a status without its task: a half-done delete
		}
	}
	// Completed tasks in the order they ended, so pruning keeps the newest.
	sortTasksByLastUpdate(tasks)
	used := map[protocol.AgentID]map[string]map[string]resources.Resources{} // agent → fw → role
	for _, t := range tasks {
		f, a := m.frameworks[t.fid], m.agents[t.aid]
		if f == nil {
			m.log.Warn("dropping task of unknown framework", "task", t.info.TaskID, "framework", t.fid)
			m.dirtyTasks[t], t.deleted = dirtyStatus, true
			continue
		}
		f.tasks[t.info.TaskID] = t
		if t.completed {
			f.completed = append(f.completed, t)
		}
		if len(t.pending) > 0 {
			m.retry[t] = struct{}{}
		}
		if a != nil && a.status != protocol.AgentRemoved {
			a.tasks[t.key()] = t
		}
		if t.state.Terminal() {
			continue
		}
		f.active++
		f.used = f.used.Plus(t.info.Resources)
		if a == nil || a.status == protocol.AgentRemoved {
			continue
		}
		a.active++
		a.used = a.used.Plus(t.info.Resources)
		byFw := used[t.aid]
		if byFw == nil {
			byFw = map[string]map[string]resources.Resources{}
			used[t.aid] = byFw
		}
		byRole := byFw[string(t.fid)]
		if byRole == nil {
			byRole = map[string]resources.Resources{}
			byFw[string(t.fid)] = byRole
		}
		byRole[t.role] = byRole[t.role].Plus(t.info.Resources)
	}
	// Frameworks first, then agents with what the frameworks hold on them,
	// in ID order so the allocator's state (and its offers) are the same
	// after every recovery of the same data.
	for _, id := range slices.Sorted(maps.Keys(m.frameworks)) {
		if f := m.frameworks[id]; !f.removed {
			m.alloc.AddFramework(string(id), f.info.RolesOrDefault(), nil, false)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(m.agents)) {
		a := m.agents[id]
		if a.status == protocol.AgentRemoved {
			continue
		}
		m.alloc.AddAgent(string(id), allocator.AgentInfo{Hostname: a.info.Hostname, Attributes: a.info.Attributes}, a.info.Resources, used[id])
		if a.status != protocol.AgentActive || a.drain != nil {
			m.alloc.DeactivateAgent(string(id))
		}
		if a.drain != nil {
			// The kills of a drain may not have left before the last master
			// stopped: send them again (agents ignore a kill in progress).
			m.killForDrain(a)
			m.checkDrained(a, now)
		}
	}
	return nil
}

func sortTasksByLastUpdate(ts []*task) {
	last := func(t *task) float64 {
		if n := len(t.statuses); n > 0 {
			return t.statuses[n-1].Timestamp
		}
		return 0
	}
	// insertion order does not matter for correctness; sort for pruning order.
	slices.SortFunc(ts, func(a, b *task) int {
		la, lb := last(a), last(b)
		switch {
		case la < lb:
			return -1
		case la > lb:
			return 1
		}
		return strings.Compare(string(a.info.TaskID), string(b.info.TaskID))
	})
}
