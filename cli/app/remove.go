package app

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
)

// RemoveOptions are the inputs of "cairn app remove".
type RemoveOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	ChangeOptions

	ID string
}

// NewCmdRemove returns "cairn app remove". runF replaces the run function
// in tests (nil runs removeRun).
func NewCmdRemove(f *cmdutil.Factory, runF func(context.Context, *RemoveOptions) error) *cobra.Command {
	opts := &RemoveOptions{IO: f.IOStreams, APIClient: f.APIClient}
	opts.ErrIsTerminal = output.IsTerminal(f.IOStreams.ErrOut)
	cmd := &cobra.Command{
		Use:     "remove APP",
		Aliases: []string{"rm", "delete"},
		Short:   "Kill every instance of an app and remove it",
		Long: "Kill every instance of an app and remove the app and its versions. The app\n" +
			"is gone from cairn app list at once; its deployment ends when its last\n" +
			"instance has ended (--wait waits for that).",
		Example: "  cairn app remove web --wait\n" +
			"  cairn app rm /web --force",
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
			return removeRun(cmd.Context(), opts)
		},
	}
	opts.addFlags(cmd, true)
	return cmd
}

func removeRun(ctx context.Context, opts *RemoveOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	return change(ctx, opts.IO, client, opts.ChangeOptions, opts.ID, "removing app "+opts.ID, true,
		func() (apiclient.DeploymentResult, error) { return client.DeleteApp(ctx, opts.ID, opts.Force) },
		func(r apiclient.DeploymentResult) string {
			return fmt.Sprintf("Removing app %s: deployment %s", opts.ID, r.DeploymentID)
		})
}
