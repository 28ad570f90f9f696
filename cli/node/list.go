package node

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// ListOptions are the inputs of "cairn node list".
type ListOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for the MAINTENANCE column (time.Now when nil).
	Now func() time.Time

	// Maintenance lists only the agents marked for maintenance.
	Maintenance bool
	JSON        bool
}

// Node is a row of "cairn node list --json": an agent and its maintenance
// state. Drain is null unless the agent is draining or drained.
type Node struct {
	ID          protocol.AgentID     `json:"id"`
	Hostname    string               `json:"hostname"`
	Status      protocol.AgentStatus `json:"status"`
	ActiveTasks int                  `json:"active_tasks"`
	Drain       *protocol.DrainInfo  `json:"drain"`
}

// NewCmdList returns "cairn node list". runF replaces the run function in
// tests (nil runs listRun).
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the agents with their maintenance state",
		Long: "List the agents with their status (ACTIVE, DRAINING, DRAINED,\n" +
			"UNREACHABLE), active tasks, and for those under maintenance since when\n" +
			"and why.",
		Example: "  cairn node list\n  cairn node list --maintenance\n" +
			"  cairn node list --json | jq -r '.[] | select(.drain != null) | .hostname'",
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Maintenance, "maintenance", false, "list only the agents that are draining or drained")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, `print a JSON array of {"id", "hostname", "status", "active_tasks", "drain"}`)
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	var agents []protocol.Agent
	if opts.Maintenance {
		m, err := client.Maintenance(ctx)
		if err != nil {
			return fmt.Errorf("listing agents under maintenance: %w", err)
		}
		agents = m.Agents
	} else if agents, err = client.Agents(ctx); err != nil {
		return fmt.Errorf("listing agents: %w", err)
	}
	slices.SortStableFunc(agents, func(a, b protocol.Agent) int {
		return cmp.Or(cmp.Compare(a.Hostname, b.Hostname), cmp.Compare(a.ID, b.ID))
	})
	nodes := make([]Node, len(agents))
	for i, a := range agents {
		nodes[i] = nodeOf(a)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, nodes)
	}
	if len(nodes) == 0 {
		msg := "No agents are registered with the master."
		if opts.Maintenance {
			msg = "No agent is draining or drained."
		}
		_, err := fmt.Fprintln(opts.IO.Out, msg)
		return err
	}
	now := output.Now(opts.Now)
	t := output.NewTable(opts.IO.Out, "ID", "HOSTNAME", "STATUS", "TASKS", "MAINTENANCE", "REASON")
	for _, n := range nodes {
		maint, reason := "", ""
		if d := n.Drain; d != nil {
			maint = string(d.State) + " " + output.Age(now.Sub(fromTimestamp(d.Since)))
			reason = d.Reason
		}
		t.Row(string(n.ID), n.Hostname, string(n.Status), strconv.Itoa(n.ActiveTasks), maint, output.Truncate(reason, 60))
	}
	return t.Flush()
}

// fromTimestamp converts the wire's float seconds to a time.
func fromTimestamp(ts float64) time.Time { return time.Unix(0, int64(ts*1e9)) }
