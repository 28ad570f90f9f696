package master

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// snapshot is an immutable view of the state for the operator API. The loop
// only collects pointers to cached views (cheap); sorting happens once, on
// first read, outside the loop.
type snapshot struct {
	master     protocol.MasterInfo
	at         time.Time
	agents     []*protocol.Agent
	frameworks []*protocol.Framework
	tasks      []*protocol.Task

	sortOnce sync.Once
}

func (s *snapshot) sorted() *snapshot {
	s.sortOnce.Do(func() {
		slices.SortFunc(s.agents, func(a, b *protocol.Agent) int { return cmp.Compare(a.ID, b.ID) })
		slices.SortFunc(s.frameworks, func(a, b *protocol.Framework) int { return cmp.Compare(a.ID, b.ID) })
		slices.SortFunc(s.tasks, func(a, b *protocol.Task) int {
			if c := cmp.Compare(a.FrameworkID, b.FrameworkID); c != 0 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		})
	})
	return s
}

func (m *Master) publishSnapshot(now time.Time) {
	s := &snapshot{master: m.info(), at: now,
		agents:     make([]*protocol.Agent, 0, len(m.agents)),
		frameworks: make([]*protocol.Framework, 0, len(m.frameworks)),
	}
	n := 0
	for _, f := range m.frameworks {
		n += len(f.tasks)
	}
	s.tasks = make([]*protocol.Task, 0, n)
	for _, a := range m.agents {
		if a.status != protocol.AgentRemoved {
			s.agents = append(s.agents, a.buildView())
		}
	}
	for _, f := range m.frameworks {
		if f.removed {
			continue
		}
		s.frameworks = append(s.frameworks, f.buildView(&m.cfg))
		for _, t := range f.tasks {
			s.tasks = append(s.tasks, t.buildView())
		}
	}
	m.snap.Store(s)
	m.changed = false
	m.lastSnapshot = now
}

// freshState is the state as the loop has it now (a snapshot rebuilt by
// the loop if anything changed since the last one); when the loop does not
// answer before ctx ends, it is the latest snapshot.
func (m *Master) freshState(ctx context.Context) protocol.State {
	m.freshSnapshot(ctx)
	return m.State()
}

// freshSnapshot is the snapshot as the loop has it now (rebuilt by the loop
// if anything changed since the last one); when the loop does not answer
// before ctx ends, it is the latest snapshot.
func (m *Master) freshSnapshot(ctx context.Context) *snapshot {
	done := make(chan struct{})
	select {
	case m.inbox <- func() {
		if m.changed {
			m.publishSnapshot(time.Now())
		}
		close(done)
	}:
		select {
		case <-done:
		case <-ctx.Done():
		}
	case <-ctx.Done():
	}
	return m.snap.Load()
}

// State returns the latest snapshot of the cluster (at most
// SnapshotInterval old). Callers must not modify it.
func (m *Master) State() protocol.State {
	s := m.snap.Load().sorted()
	st := protocol.State{Master: s.master, Timestamp: protocol.Timestamp(s.at),
		Agents: make([]protocol.Agent, len(s.agents)), Frameworks: make([]protocol.Framework, len(s.frameworks)),
		Tasks: make([]protocol.Task, len(s.tasks))}
	for i, a := range s.agents {
		st.Agents[i] = *a
	}
	for i, f := range s.frameworks {
		st.Frameworks[i] = *f
	}
	for i, t := range s.tasks {
		st.Tasks[i] = *t
	}
	return st
}
