package repo

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

// RemoveOptions are the inputs of "cairn repo remove".
type RemoveOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)

	Name string
	JSON bool
}

// NewCmdRemove returns "cairn repo remove". runF replaces the run function
// in tests (nil runs removeRun).
func NewCmdRemove(f *cmdutil.Factory, runF func(context.Context, *RemoveOptions) error) *cobra.Command {
	opts := &RemoveOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm", "delete"},
		Short:   "Remove a package repository",
		Long: "Remove a package repository from the list the master searches. Packages\n" +
			"installed from it keep running (their apps pin their artifacts by digest),\n" +
			"but cannot be upgraded from it any more.",
		Example: "  cairn repo remove community",
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the repositories left as a JSON array")
	return cmdutil.OneArg(cmd, cmdutil.CompleteArgs(f, 1, Candidates),
		cmdutil.NonBlank(&opts.Name, "give the name of a repository, as cairn repo list shows it"), cmdutil.RunOrTest(opts, runF, removeRun))
}

func removeRun(ctx context.Context, opts *RemoveOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	res, err := client.RepositoryDelete(ctx, packageapi.RepositoryDeleteRequest{Name: opts.Name})
	if err != nil {
		if apiclient.PackageErrorType(err) == packageapi.ErrRepositoryNotFound {
			return cmdutil.Hintf(err, "there is no repository named %s: see cairn repo list", opts.Name)
		}
		return apiError(err, "removing repository "+opts.Name)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, res.Repositories)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Removed repository %s\n", opts.Name)
	return err
}
