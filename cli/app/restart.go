package app

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
)

// RestartOptions are the inputs of "cairn app restart".
type RestartOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	ChangeOptions

	ID string
}

// NewCmdRestart returns "cairn app restart". runF replaces the run function
// in tests (nil runs restartRun).
func NewCmdRestart(f *cmdutil.Factory, runF func(context.Context, *RestartOptions) error) *cobra.Command {
	opts := &RestartOptions{IO: f.IOStreams, APIClient: f.APIClient}
	opts.ErrIsTerminal = output.IsTerminal(f.IOStreams.ErrOut)
	cmd := &cobra.Command{
		Use:   "restart APP",
		Short: "Replace every instance of an app",
		Long: "Replace every instance of an app with a new one, in a rolling restart\n" +
			"bounded by the app's upgradeStrategy (by default, a new instance is up and\n" +
			"healthy before an old one is killed).",
		Example: "  cairn app restart web --wait\n" +
			"  cairn app restart /web --force",
		Args:              cmdutil.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompleteArgs(f, 1, Candidates),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseAppID(args[0])
			if err != nil {
				return err
			}
			opts.ID = id
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return restartRun(cmd.Context(), opts)
		},
	}
	opts.addFlags(cmd, true)
	return cmd
}

func restartRun(ctx context.Context, opts *RestartOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	return change(ctx, opts.IO, client, opts.ChangeOptions, opts.ID, "restarting app "+opts.ID, false,
		func() (apiclient.DeploymentResult, error) { return client.RestartApp(ctx, opts.ID, opts.Force) },
		func(r apiclient.DeploymentResult) string {
			return fmt.Sprintf("Restarting app %s: deployment %s", opts.ID, r.DeploymentID)
		})
}
