package module

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/modules/host/moduleapi"
)

// DescribeOptions are the inputs of "cairn module describe".
type DescribeOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for "started 3h ago" (time.Now when nil).
	Now func() time.Time

	Name string
	JSON bool
}

// NewCmdDescribe returns "cairn module describe". runF replaces the run
// function in tests (nil runs describeRun).
func NewCmdDescribe(f *cmdutil.Factory, runF func(context.Context, *DescribeOptions) error) *cobra.Command {
	opts := &DescribeOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "describe NAME",
		Aliases: []string{"show"},
		Short:   "Show a module's details",
		Long: "Show a module: kind, where it is configured, its binary and SHA-256, its\n" +
			"state and process, how often it was restarted and why it last stopped.",
		Example:           "  cairn module describe dns\n  cairn module describe dns --json | jq .last_error",
		Args:              cmdutil.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompleteArgs(f, 1, Candidates),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := parseName(args[0])
			if err != nil {
				return err
			}
			opts.Name = name
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return describeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the module's status as JSON")
	return cmd
}

func describeRun(ctx context.Context, opts *DescribeOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	st, err := client.Module(ctx, opts.Name)
	if err != nil {
		return moduleError(err, opts.Name, "describing module "+opts.Name)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, st)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	return printStatus(opts.IO.Out, st, now())
}

func printStatus(w io.Writer, st moduleapi.Status, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	field := func(name, value string) {
		value = output.Clean(value)
		if value == "" {
			value = "-"
		}
		fmt.Fprintf(tw, "%s:\t%s\n", name, value)
	}
	field("Name", st.Name)
	field("Kind", st.Kind)
	field("Source", st.Source)
	field("State", string(st.State))
	pid := ""
	if st.PID > 0 {
		pid = strconv.Itoa(st.PID)
	}
	field("PID", pid)
	started := ""
	if st.StartedAt != nil {
		started = output.Time(*st.StartedAt, now)
	}
	field("Started", started)
	field("Restarts", strconv.Itoa(st.Restarts))
	if st.NextStart != nil {
		field("Next start", "in "+output.Age(st.NextStart.Sub(now)))
	}
	field("Path", st.Path)
	field("SHA-256", st.SHA256)
	field("SDK", st.SDKVersion)
	field("Last error", st.LastError)
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing module: %w", err)
	}
	return nil
}
