package apiclient

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// MinAgentIDPrefix is the shortest agent ID prefix FindAgent accepts.
const MinAgentIDPrefix = 6

// FindAgent finds one agent by its ID, its hostname or a unique ID prefix
// of at least MinAgentIDPrefix characters (case-insensitive), as "cairn
// agent describe" does. A hostname used by several agents (one gone, its
// machine back under a new ID) means the one that is not gone. The error
// says what matched and what to give instead.
func FindAgent(agents []protocol.Agent, q string) (protocol.Agent, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return protocol.Agent{}, fmt.Errorf("give an agent ID, ID prefix or hostname (see cairn node list)")
	}
	var byHost, byPrefix []protocol.Agent
	for _, a := range agents {
		switch {
		case string(a.ID) == q:
			return a, nil
		case a.Hostname == q:
			byHost = append(byHost, a)
		case len(q) >= MinAgentIDPrefix && strings.HasPrefix(strings.ToUpper(string(a.ID)), strings.ToUpper(q)):
			byPrefix = append(byPrefix, a)
		}
	}
	if len(byHost) > 1 {
		live := slices.DeleteFunc(slices.Clone(byHost), func(a protocol.Agent) bool { return a.Status == protocol.AgentRemoved })
		if len(live) == 1 {
			byHost = live
		}
	}
	for _, found := range [][]protocol.Agent{byHost, byPrefix} {
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		}
		ids := make([]string, len(found))
		for i, a := range found {
			ids[i] = fmt.Sprintf("%s (%s)", a.ID, a.Hostname)
		}
		slices.Sort(ids)
		return protocol.Agent{}, fmt.Errorf("%q matches %d agents: %s; give a full agent ID", q, len(found), strings.Join(ids, ", "))
	}
	if len(q) < MinAgentIDPrefix {
		return protocol.Agent{}, fmt.Errorf("no agent has the ID or hostname %q (an ID prefix needs at least %d characters; see cairn node list)", q, MinAgentIDPrefix)
	}
	return protocol.Agent{}, fmt.Errorf("no agent has the ID, ID prefix or hostname %q (see cairn node list)", q)
}

// ResolveAgent lists the agents (GET /v1/agents) and finds one with
// FindAgent.
func (c *Client) ResolveAgent(ctx context.Context, q string) (protocol.Agent, error) {
	agents, err := c.Agents(ctx)
	if err != nil {
		return protocol.Agent{}, fmt.Errorf("listing agents: %w", err)
	}
	return FindAgent(agents, q)
}
