package agent

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// Candidates completes agent IDs and hostnames (for describe), agents
// that are gone left out.
func Candidates(ctx context.Context, c *apiclient.Client) ([]cobra.Completion, error) {
	agents, err := c.Agents(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]cobra.Completion, 0, 2*len(agents))
	for _, a := range agents {
		if a.Status == protocol.AgentRemoved {
			continue
		}
		out = append(out, cobra.CompletionWithDesc(string(a.ID), a.Hostname))
		if a.Hostname != "" {
			out = append(out, cobra.CompletionWithDesc(a.Hostname, string(a.ID)))
		}
	}
	return out, nil
}
