package pkg

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

// SearchOptions are the inputs of "cairn package search".
type SearchOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)

	Query string
	JSON  bool
}

// maxDescriptionWidth bounds the DESCRIPTION column.
const maxDescriptionWidth = 60

// NewCmdSearch returns "cairn package search". runF replaces the run
// function in tests (nil runs searchRun).
func NewCmdSearch(f *cmdutil.Factory, runF func(context.Context, *SearchOptions) error) *cobra.Command {
	opts := &SearchOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:   "search [QUERY]",
		Short: "Search the package repositories",
		Long: "Search the configured package repositories (see cairn repo list) for packages\n" +
			"whose name, description or tags contain QUERY (any case); without QUERY,\n" +
			"list them all. When several repositories hold a package, the first one in\n" +
			"the list wins. INSTALLED counts the apps installed from a package.",
		Example: "  cairn package search\n" +
			"  cairn package search cron\n" +
			"  cairn package search --json | jq -r '.[] | \"\\(.name) \\(.currentVersion)\"'",
		Args: func(cmd *cobra.Command, args []string) error {
			return cmdutil.AsUsageError(cobra.MaximumNArgs(1)(cmd, args))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Query = strings.TrimSpace(args[0])
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return searchRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the packages as a JSON array")
	return cmd
}

func searchRun(ctx context.Context, opts *SearchOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	res, err := client.PackageSearch(ctx, packageapi.SearchRequest{Query: opts.Query})
	if err != nil {
		return apiError(err, "searching packages", "", "")
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, res.Packages)
	}
	if len(res.Packages) == 0 {
		if opts.Query == "" || opts.Query == "*" {
			_, err = fmt.Fprintln(opts.IO.Out, "No packages: the repositories are empty (see cairn repo list; publish one with cairn package push).")
		} else {
			_, err = fmt.Fprintf(opts.IO.Out, "No packages match %q (see cairn repo list for the repositories searched).\n", opts.Query)
		}
		return err
	}
	t := output.NewTable(opts.IO.Out, "NAME", "VERSION", "KIND", "REPOSITORY", "INSTALLED", "DESCRIPTION")
	for _, p := range res.Packages {
		t.Row(p.Name, p.CurrentVersion, p.Kind, p.Repository, installed(p.Installed),
			output.Truncate(output.Clean(firstLine(p.Description)), maxDescriptionWidth))
	}
	return t.Flush()
}

// installed marks installed packages: "yes", or "yes (3)" for several
// apps; "-" when not installed.
func installed(n int) string {
	switch {
	case n <= 0:
		return ""
	case n == 1:
		return "yes"
	}
	return "yes (" + strconv.Itoa(n) + ")"
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
