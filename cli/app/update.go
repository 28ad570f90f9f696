package app

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
)

// UpdateOptions are the inputs of "cairn app update".
type UpdateOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	ChangeOptions

	ID string
	// File is the update's path; "-" reads the standard input.
	File string
}

// NewCmdUpdate returns "cairn app update". runF replaces the run function
// in tests (nil runs updateRun).
func NewCmdUpdate(f *cmdutil.Factory, runF func(context.Context, *UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{IO: f.IOStreams, APIClient: f.APIClient}
	opts.ErrIsTerminal = output.IsTerminal(f.IOStreams.ErrOut)
	cmd := &cobra.Command{
		Use:   "update APP FILE",
		Short: "Change some fields of an app",
		Long: "Change an app with a partial Marathon app definition (a JSON file, or - for\n" +
			"the standard input): only the fields given change. A change of instances\n" +
			"only is a scale; any other change replaces every instance, in a rolling\n" +
			"restart bounded by the app's upgradeStrategy.\n\n" +
			"An app that a deployment is changing is locked: --force overrides that\n" +
			"deployment.",
		Example: "  cairn app update web web-v2.json --wait\n" +
			"  echo '{\"env\": {\"LOG_LEVEL\": \"debug\"}}' | cairn app update /web -\n" +
			"  cairn app update web web.json --force   # override a stuck deployment",
		Args:              cmdutil.ExactArgs(2),
		ValidArgsFunction: cmdutil.CompleteArgs(f, 1, Candidates),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseAppID(args[0])
			if err != nil {
				return err
			}
			opts.ID, opts.File = id, args[1]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return updateRun(cmd.Context(), opts)
		},
	}
	opts.addFlags(cmd, true)
	return cmd
}

func updateRun(ctx context.Context, opts *UpdateOptions) error {
	def, err := readDefinition(opts.File, opts.IO.In)
	if err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	return change(ctx, opts.IO, client, opts.ChangeOptions, opts.ID, "updating app "+opts.ID, false,
		func() (apiclient.DeploymentResult, error) { return client.UpdateApp(ctx, opts.ID, def, opts.Force) },
		func(r apiclient.DeploymentResult) string {
			return fmt.Sprintf("Updated app %s to version %s: deployment %s", opts.ID, r.Version, r.DeploymentID)
		})
}
