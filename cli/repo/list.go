package repo

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

// ListOptions are the inputs of "cairn repo list".
type ListOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)

	JSON bool
}

// NewCmdList returns "cairn repo list". runF replaces the run function in
// tests (nil runs listRun).
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List package repositories",
		Long: "List the package repositories in the order they are searched (PRIORITY 0\n" +
			"first), with their URI and credentials: the user name the master logs in\n" +
			"with (passwords are never shown), or \"-\" for none (anonymous, or the\n" +
			"Docker config of the master's machine). The embedded registry's repository\n" +
			"is marked built-in.",
		Example: "  cairn repo list\n" +
			"  cairn repo list --json | jq -r '.[].uri'",
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the repositories as a JSON array")
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	repos, err := listRepos(ctx, opts.APIClient)
	if err != nil {
		return err
	}
	return printRepos(opts.IO, repos, opts.JSON)
}

// printRepos prints repositories as a table (or JSON), by priority.
func printRepos(io cmdutil.IOStreams, repos []packageapi.Repository, asJSON bool) error {
	slices.SortStableFunc(repos, func(a, b packageapi.Repository) int { return a.Priority - b.Priority })
	if asJSON {
		return output.JSON(io.Out, repos)
	}
	if len(repos) == 0 {
		_, err := fmt.Fprintln(io.Out, "No package repositories: add one with cairn repo add NAME oci://HOST[:PORT]/NAMESPACE.")
		return err
	}
	t := output.NewTable(io.Out, "NAME", "PRIORITY", "URI", "CREDENTIALS")
	for _, r := range repos {
		name := r.Name
		if r.BuiltIn {
			name += " (built-in)"
		}
		t.Row(name, strconv.Itoa(r.Priority), r.URI+plain(r), credentials(r))
	}
	return t.Flush()
}

// plain marks a repository reached over plain http.
func plain(r packageapi.Repository) string {
	if r.PlainHTTP {
		return " (plain http)"
	}
	return ""
}

// credentials prints how the master logs in to a repository.
func credentials(r packageapi.Repository) string {
	switch {
	case r.Username != "":
		return "user " + r.Username
	case r.HasCredentials:
		return "yes"
	}
	return ""
}

// listRepos opens the API client and lists the package repositories.
func listRepos(ctx context.Context, apiClient func() (*apiclient.Client, error)) ([]packageapi.Repository, error) {
	client, err := apiClient()
	if err != nil {
		return nil, err
	}
	res, err := client.RepositoryList(ctx)
	if err != nil {
		return nil, apiError(err, "listing package repositories")
	}
	return res.Repositories, nil
}
