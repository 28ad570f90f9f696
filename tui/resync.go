package tui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// resyncDelay is the quiet time before agents' and frameworks' used
// resources are fetched again after tasks started or ended: a burst of
// task events costs one pair of requests.
const resyncDelay = 500 * time.Millisecond

type (
	resyncTick struct{}
	resyncDone struct {
		agents     []protocol.Agent
		frameworks []protocol.Framework
		err        error
	}
)

// fetchUsage gets the agents and frameworks (for their used resources and
// task counts, which events do not carry).
func fetchUsage(ctx context.Context, client *apiclient.Client) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		as, err := client.Agents(ctx)
		if err != nil {
			return resyncDone{err: err}
		}
		fs, err := client.Frameworks(ctx)
		return resyncDone{agents: as, frameworks: fs, err: err}
	}
}
