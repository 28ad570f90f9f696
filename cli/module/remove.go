package module

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
)

// RemoveOptions are the inputs of "cairn module remove".
type RemoveOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)

	Name string
	JSON bool
}

// NewCmdRemove returns "cairn module remove". runF replaces the run
// function in tests (nil runs removeRun).
func NewCmdRemove(f *cmdutil.Factory, runF func(context.Context, *RemoveOptions) error) *cobra.Command {
	opts := &RemoveOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm", "uninstall"},
		Short:   "Stop a module and remove it from the module host",
		Long: "Stop a module added with cairn module install and remove it from the\n" +
			"module host's store. Modules from the host's own configuration are removed\n" +
			"there. The binary stays on disk.",
		Example:           "  cairn module remove echo",
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
			return removeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the module's last status as JSON")
	return cmd
}

func removeRun(ctx context.Context, opts *RemoveOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	st, err := client.ModuleRemove(ctx, opts.Name)
	if err != nil {
		return moduleError(err, opts.Name, "removing module "+opts.Name)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, st)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Removed module %s\n", opts.Name)
	return err
}
