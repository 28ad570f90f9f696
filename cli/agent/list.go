package agent

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// ListOptions are the inputs of "cairn agent list".
type ListOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)

	JSON bool
}

// NewCmdList returns "cairn agent list". runF replaces the run function in
// tests (nil runs listRun).
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the agents registered with the master",
		Long: "List the agents registered with the master, with their resources\n" +
			"(used/total) and number of active tasks.",
		Example: "  cairn agent list\n  cairn agent list --json | jq -r '.[].hostname'",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the agents as a JSON array")
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	agents, err := client.Agents(ctx)
	if err != nil {
		return fmt.Errorf("listing agents: %w", err)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, agents)
	}
	if len(agents) == 0 {
		_, err := fmt.Fprintln(opts.IO.Out, "No agents are registered with the master.")
		return err
	}
	return printTable(opts, agents)
}

func printTable(opts *ListOptions, agents []protocol.Agent) error {
	slices.SortStableFunc(agents, func(a, b protocol.Agent) int {
		return cmp.Or(cmp.Compare(a.Hostname, b.Hostname), cmp.Compare(a.ID, b.ID))
	})
	t := output.NewTable(opts.IO.Out, "ID", "HOSTNAME", "STATUS", "CPUS", "MEM", "TASKS", "ATTRIBUTES")
	for _, a := range agents {
		t.Row(
			string(a.ID),
			a.Hostname,
			string(a.Status),
			output.UsedOf(a.UsedResources.ScalarTotal("cpus").String(), a.Resources.ScalarTotal("cpus").String()),
			output.UsedOf(output.Mem(a.UsedResources.ScalarTotal("mem")), output.Mem(a.Resources.ScalarTotal("mem"))),
			strconv.Itoa(a.ActiveTasks),
			a.Attributes.String(),
		)
	}
	return t.Flush()
}
