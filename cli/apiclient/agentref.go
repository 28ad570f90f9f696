package apiclient

import (
	"context"
	"fmt"
	"strings"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// MinAgentIDPrefix is the shortest agent ID prefix FindAgent accepts.
const MinAgentIDPrefix = MinIDPrefix

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
	return MatchAgent(agents, q, "cairn node list")
}

// MatchAgent is FindAgent for a q already trimmed and not empty, its
// errors pointing to list, the command that lists the agents.
func MatchAgent(agents []protocol.Agent, q, list string) (protocol.Agent, error) {
	return Match(agents, q, Ref[protocol.Agent]{
		Kind:   "agent",
		NameIs: "hostname",
		List:   list,
		ID:     func(a protocol.Agent) string { return string(a.ID) },
		Name:   func(a protocol.Agent) string { return a.Hostname },
		// A hostname used twice (an agent gone, its machine back): the
		// one that is not gone.
		Prefer: func(a protocol.Agent) bool { return a.Status != protocol.AgentRemoved },
	})
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
