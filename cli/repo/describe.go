package repo

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
		Example: "  cairn repo describe builtin\n  cairn repo describe builtin --json | jq -r .uri",
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the repository as JSON (an item of the package API's repository list)")
	return cmdutil.OneArg(cmd, cmdutil.CompleteArgs(f, 1, Candidates),
		cmdutil.NonBlank(&opts.Name, "give a repository name (see cairn repo list)"), cmdutil.RunOrTest(opts, runF, describeRun))
}

func describeRun(ctx context.Context, opts *DescribeOptions) error {
	repos, err := listRepos(ctx, opts.APIClient)
	if err != nil {
		return err
	}
	var r *packageapi.Repository
	var names []string
	for i := range repos {
		names = append(names, repos[i].Name)
		if repos[i].Name == opts.Name {
			r = &repos[i]
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
	fs := output.NewFields(opts.IO.Out)
	fs.Field("Name", r.Name)
	fs.Field("URI", r.URI)
	fs.Field("Priority", strconv.Itoa(r.Priority))
	fs.Field("Credentials", credentials(*r))
	fs.Field("Plain HTTP", output.YesNo(r.PlainHTTP))
	fs.Field("Built-in", output.YesNo(r.BuiltIn))
	return fs.Flush()
}
