package module

import (
	"context"
	"fmt"
	"io"
	"strconv"
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
		Example: "  cairn module describe dns\n  cairn module describe dns --json | jq .last_error",
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the module's status as JSON")
	return cmdutil.OneArg(cmd, cmdutil.CompleteArgs(f, 1, Candidates), func(arg string) error {
		name, err := parseName(arg)
		if err != nil {
			return err
		}
		opts.Name = name
		return nil
	}, cmdutil.RunOrTest(opts, runF, describeRun))
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
	return printStatus(opts.IO.Out, st, output.Now(opts.Now))
}

func printStatus(w io.Writer, st moduleapi.Status, now time.Time) error {
	fs := output.NewFields(w)
	fs.Field("Name", st.Name)
	fs.Field("Kind", st.Kind)
	fs.Field("Source", st.Source)
	fs.Field("State", string(st.State))
	pid := ""
	if st.PID > 0 {
		pid = strconv.Itoa(st.PID)
	}
	fs.Field("PID", pid)
	started := ""
	if st.StartedAt != nil {
		started = output.Time(*st.StartedAt, now)
	}
	fs.Field("Started", started)
	fs.Field("Restarts", strconv.Itoa(st.Restarts))
	if st.NextStart != nil {
		fs.Field("Next start", "in "+output.Age(st.NextStart.Sub(now)))
	}
	fs.Field("Path", st.Path)
	fs.Field("SHA-256", st.SHA256)
	fs.Field("SDK", st.SDKVersion)
	fs.Field("Last error", st.LastError)
	if err := fs.Flush(); err != nil {
		return fmt.Errorf("writing module: %w", err)
	}
	return nil
}
