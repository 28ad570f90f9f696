package pkg

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

// ListOptions are the inputs of "cairn package list".
type ListOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)

	// Name, when not empty, lists only the installs of that package.
	Name string
	JSON bool
}

// NewCmdList returns "cairn package list". runF replaces the run function
// in tests (nil runs listRun).
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "list [NAME]",
		Aliases: []string{"ls"},
		Short:   "List installed packages",
		Long: "List the packages installed as apps (all of them, or those of package NAME):\n" +
			"the app, the package's name and version, the app's instances wanted and\n" +
			"running, the artifact's digest and the repository it came from. What is\n" +
			"installed is read from the apps' labels: an app removed with cairn app\n" +
			"remove is no longer listed.",
		Example: "  cairn package list\n" +
			"  cairn package list hello\n" +
			"  cairn package list --json | jq -r '.[] | select(.tasksRunning < .instances) | .appId'",
		Args: func(cmd *cobra.Command, args []string) error {
			return cmdutil.AsUsageError(cobra.MaximumNArgs(1)(cmd, args))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				name, err := parsePackageName(args[0])
				if err != nil {
					return err
				}
				opts.Name = name
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the installed packages as a JSON array")
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	res, err := client.PackageList(ctx, packageapi.ListRequest{PackageName: opts.Name})
	if err != nil {
		return apiError(err, "listing installed packages", opts.Name, "")
	}
	pkgs := res.Packages
	slices.SortFunc(pkgs, func(a, b packageapi.Installed) int { return strings.Compare(a.AppID, b.AppID) })
	if opts.JSON {
		return output.JSON(opts.IO.Out, pkgs)
	}
	if len(pkgs) == 0 {
		if opts.Name != "" {
			_, err = fmt.Fprintf(opts.IO.Out, "Package %s is not installed (install it with cairn package install %s).\n", opts.Name, opts.Name)
		} else {
			_, err = fmt.Fprintln(opts.IO.Out, "No packages installed (find some with cairn package search).")
		}
		return err
	}
	t := output.NewTable(opts.IO.Out, "APP", "NAME", "VERSION", "INSTANCES", "RUNNING", "DIGEST", "SOURCE")
	for _, p := range pkgs {
		t.Row(p.AppID, p.PackageName, p.PackageVersion, strconv.Itoa(p.Instances), strconv.Itoa(p.TasksRunning),
			shortDigest(p.Digest), p.Source)
	}
	return t.Flush()
}
