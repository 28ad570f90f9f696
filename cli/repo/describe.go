package repo

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

// DescribeOptions are the inputs of "cairn repo describe".
type DescribeOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)

	Name string
	JSON bool
}

// NewCmdDescribe returns "cairn repo describe". runF replaces the run
// function in tests (nil runs describeRun).
func NewCmdDescribe(f *cmdutil.Factory, runF func(context.Context, *DescribeOptions) error) *cobra.Command {
	opts := &DescribeOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "describe NAME",
		Aliases: []string{"show"},
		Short:   "Show a package repository",
		Long: "Show a package repository: its URI, priority (0 is searched first), how\n" +
			"the master logs in to it (passwords are never shown) and whether it is\n" +
			"the embedded registry's.",
		Example:           "  cairn repo describe builtin\n  cairn repo describe builtin --json | jq -r .uri",
		Args:              cmdutil.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompleteArgs(f, 1, Candidates),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = strings.TrimSpace(args[0])
			if opts.Name == "" {
				return cmdutil.UsageErrorf("give a repository name (see cairn repo list)")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return describeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the repository as JSON (an item of the package API's repository list)")
	return cmd
}

func describeRun(ctx context.Context, opts *DescribeOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	res, err := client.RepositoryList(ctx)
	if err != nil {
		return apiError(err, "listing package repositories")
	}
	var r *packageapi.Repository
	var names []string
	for i := range res.Repositories {
		names = append(names, res.Repositories[i].Name)
		if res.Repositories[i].Name == opts.Name {
			r = &res.Repositories[i]
		}
	}
	if r == nil {
		if len(names) == 0 {
			return fmt.Errorf("no package repository %q: there are none (add one with cairn repo add NAME URI)", opts.Name)
		}
		return fmt.Errorf("no package repository %q: there are %s (see cairn repo list)", opts.Name, strings.Join(names, ", "))
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, r)
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 0, 3, ' ', 0)
	field := func(name, value string) {
		value = output.Clean(value)
		if value == "" {
			value = "-"
		}
		fmt.Fprintf(tw, "%s:\t%s\n", name, value)
	}
	field("Name", r.Name)
	field("URI", r.URI)
	field("Priority", strconv.Itoa(r.Priority))
	field("Credentials", credentials(*r))
	field("Plain HTTP", output.YesNo(r.PlainHTTP))
	field("Built-in", output.YesNo(r.BuiltIn))
	return tw.Flush()
}
