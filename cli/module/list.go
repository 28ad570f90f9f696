package module

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
)

// ListOptions are the inputs of "cairn module list".
type ListOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for uptimes (time.Now when nil).
	Now func() time.Time

	JSON bool
}

// NewCmdList returns "cairn module list". runF replaces the run function
// in tests (nil runs listRun).
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the modules and their state",
		Long: "List the modules the master's module host runs: kind, state (running,\n" +
			"starting, backoff, failed), process id, restarts, uptime and last error.",
		Example: "  cairn module list\n  cairn module list --json | jq -r '.[] | select(.state != \"running\") | .name'",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the modules' status as a JSON array")
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	mods, err := client.Modules(ctx)
	if err != nil {
		return apiError(err, "listing modules")
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, mods)
	}
	if len(mods) == 0 {
		_, err := fmt.Fprintln(opts.IO.Out, "No modules are configured. Add one with cairn module install (see docs/modules.md).")
		return err
	}
	now := output.Now(opts.Now)
	t := output.NewTable(opts.IO.Out, "NAME", "KIND", "STATE", "PID", "RESTARTS", "UPTIME", "LAST ERROR")
	for _, m := range mods {
		pid := ""
		if m.PID > 0 {
			pid = strconv.Itoa(m.PID)
		}
		t.Row(m.Name, m.Kind, string(m.State), pid, strconv.Itoa(m.Restarts), uptime(m, now), output.Truncate(m.LastError, 60))
	}
	return t.Flush()
}
