package allocator

import (
	"github.com/cairn-dc/cairn/kernel/resources"
)

// AgentAllocated is what frameworks hold on an agent (nil if unknown).
func (a *Allocator) AgentAllocated(agentID string) resources.Resources {
	ag := a.agent(agentID)
	if ag == nil {
		return nil
	}
	return ag.allocatedRes()
}

// AgentAvailable is an agent's total minus what is allocated there (nil if
// unknown). A deactivated agent still reports what it has available.
func (a *Allocator) AgentAvailable(agentID string) resources.Resources {
	ag := a.agent(agentID)
	if ag == nil {
		return nil
	}
	a.refreshAvail(ag)
	return ag.avail
}

// FrameworkAllocated is what a framework holds: map[agentID]map[role]Resources.
// It scans the agents (O(agents)); it is meant for the operator API and
// tests, not for a hot path.
func (a *Allocator) FrameworkAllocated(frameworkID string) map[string]map[string]resources.Resources {
	fw := a.framework(frameworkID)
	if fw == nil {
		return nil
	}
	out := map[string]map[string]resources.Resources{}
	left := fw.entries
	for _, ag := range a.agents {
		if left == 0 {
			break
		}
		if ag == nil {
			continue
		}
		for _, e := range ag.allocs {
			if e.fw != fw.idx {
				continue
			}
			left--
			m := out[ag.id]
			if m == nil {
				m = map[string]resources.Resources{}
				out[ag.id] = m
			}
			m[e.fr.leaf.path] = e.res
		}
	}
	return out
}

// Stats counts what the allocator tracks.
type Stats struct {
	Agents           int `json:"agents"`
	ActiveAgents     int `json:"active_agents"`
	Frameworks       int `json:"frameworks"`
	ActiveFrameworks int `json:"active_frameworks"`
	Roles            int `json:"roles"`
	Filters          int `json:"filters"` // decline filters, including expired ones not yet dropped
}

// Stats reports counts for the operator API and metrics (O(agents + frameworks)).
func (a *Allocator) Stats() Stats {
	var s Stats
	for _, ag := range a.agents {
		if ag == nil {
			continue
		}
		s.Agents++
		if ag.active {
			s.ActiveAgents++
		}
		s.Filters += len(ag.filters)
	}
	for id, i := range a.fwIdx {
		fw := a.fws[i]
		if fw.placeholder || fw.id != id {
			continue
		}
		s.Frameworks++
		if fw.active {
			s.ActiveFrameworks++
		}
	}
	s.Roles = len(a.roles)
	return s
}
