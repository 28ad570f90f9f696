package app

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
)

// ScaleOptions are the inputs of "cairn app scale".
type ScaleOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	ChangeOptions

	ID        string
	Instances int
}

// NewCmdScale returns "cairn app scale". runF replaces the run function in
// tests (nil runs scaleRun).
func NewCmdScale(f *cmdutil.Factory, runF func(context.Context, *ScaleOptions) error) *cobra.Command {
	opts := &ScaleOptions{IO: f.IOStreams, APIClient: f.APIClient}
	opts.ErrIsTerminal = output.IsTerminal(f.IOStreams.ErrOut)
	cmd := &cobra.Command{
		Use:   "scale APP INSTANCES",
		Short: "Set an app's number of instances",
		Long: "Set how many instances of an app run. Scaling up launches new instances,\n" +
			"scaling down kills some (the app's killSelection says which); the others\n" +
			"keep running. 0 stops every instance and keeps the app.",
		Example: "  cairn app scale web 5 --wait\n" +
			"  cairn app scale /web 0",
		Args:              cmdutil.ExactArgs(2),
		ValidArgsFunction: cmdutil.CompleteArgs(f, 1, Candidates),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseAppID(args[0])
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(args[1])
			if err != nil || n < 0 {
				return cmdutil.UsageErrorf("instances %q: give a whole number, 0 or more", args[1])
			}
			opts.ID, opts.Instances = id, n
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return scaleRun(cmd.Context(), opts)
		},
	}
	opts.addFlags(cmd, true)
	return cmd
}

func scaleRun(ctx context.Context, opts *ScaleOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	return change(ctx, opts.IO, client, opts.ChangeOptions, opts.ID, "scaling app "+opts.ID, false,
		func() (apiclient.DeploymentResult, error) {
			return client.ScaleApp(ctx, opts.ID, opts.Instances, opts.Force)
		},
		func(r apiclient.DeploymentResult) string {
			return fmt.Sprintf("Scaling app %s to %d %s: deployment %s", opts.ID, opts.Instances, plural(opts.Instances, "instance"), r.DeploymentID)
		})
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
