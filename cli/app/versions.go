package app

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
)

// VersionsOptions are the inputs of "cairn app versions".
type VersionsOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for AGE (time.Now when nil).
	Now func() time.Time

	ID   string
	JSON bool
}

// NewCmdVersions returns "cairn app versions". runF replaces the run
// function in tests (nil runs versionsRun).
func NewCmdVersions(f *cmdutil.Factory, runF func(context.Context, *VersionsOptions) error) *cobra.Command {
	opts := &VersionsOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:   "versions APP",
		Short: "List an app's versions, newest first",
		Long: "List the versions of an app, newest first: every change (scale, update,\n" +
			"restart) makes one. A version's definition is Marathon's\n" +
			"GET /v2/apps/<id>/versions/<version>.",
		Example: "  cairn app versions web\n" +
			"  cairn app versions web --json | jq -r '.[1]'",
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
			return versionsRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the versions as a JSON array of strings, newest first")
	return cmd
}

func versionsRun(ctx context.Context, opts *VersionsOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	versions, err := client.AppVersions(ctx, opts.ID)
	if err != nil {
		return appError(err, opts.ID, "listing the versions of app "+opts.ID)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, versions)
	}
	if len(versions) == 0 {
		_, err := fmt.Fprintf(opts.IO.Out, "App %s has no versions.\n", opts.ID)
		return err
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	t := output.NewTable(opts.IO.Out, "VERSION", "AGE")
	for _, v := range versions {
		t.Row(v, Age(v, now()))
	}
	return t.Flush()
}
