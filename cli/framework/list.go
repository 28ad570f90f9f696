package framework

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// ListOptions are the inputs of "cairn framework list".
type ListOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)

	JSON bool
}

// NewCmdList returns "cairn framework list". runF replaces the run function
// in tests (nil runs listRun).
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the frameworks known to the master",
		Long: "List the frameworks known to the master (connected or within their\n" +
			"failover timeout), with the resources their tasks use.",
		Example: "  cairn framework list\n  cairn framework list --json | jq -r '.[] | select(.connected) | .name'",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the frameworks as a JSON array")
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	_, frameworks, err := listFrameworks(ctx, opts.APIClient)
	if err != nil {
		return err
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, frameworks)
	}
	if len(frameworks) == 0 {
		_, err := fmt.Fprintln(opts.IO.Out, "No frameworks are known to the master.")
		return err
	}
	return printTable(opts, frameworks)
}

func printTable(opts *ListOptions, frameworks []protocol.Framework) error {
	slices.SortStableFunc(frameworks, func(a, b protocol.Framework) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	t := output.NewTable(opts.IO.Out, "ID", "NAME", "ROLES", "CONNECTED", "TASKS", "CPUS", "MEM")
	for _, fw := range frameworks {
		t.Row(
			string(fw.ID),
			fw.Name,
			strings.Join(fw.Roles, ","),
			output.YesNo(fw.Connected),
			strconv.Itoa(fw.ActiveTasks),
			fw.UsedResources.ScalarTotal("cpus").String(),
			output.Mem(fw.UsedResources.ScalarTotal("mem")),
		)
	}
	return t.Flush()
}

// listFrameworks opens the API client and lists the frameworks.
func listFrameworks(ctx context.Context, apiClient func() (*apiclient.Client, error)) (*apiclient.Client, []protocol.Framework, error) {
	client, err := apiClient()
	if err != nil {
		return nil, nil, err
	}
	frameworks, err := client.Frameworks(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("listing frameworks: %w", err)
	}
	return client, frameworks, nil
}
