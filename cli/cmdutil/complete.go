package cmdutil

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
)

// CompletionTimeout bounds asking the master for completions: a shell
// waiting on a tab must not hang on a master that does not answer.
const CompletionTimeout = 2 * time.Second

// Candidates lists completion candidates of one kind (task ids, app ids
// ...) from the master.
type Candidates func(ctx context.Context, c *apiclient.Client) ([]cobra.Completion, error)

// CompleteArgs returns a ValidArgsFunction completing the first n
// arguments with what list finds on the master, filtered by the prefix
// typed so far (an argument already given is not offered again). It is
// quiet: any error (no master, a timeout, a missing framework) completes
// nothing, and files are never offered.
func CompleteArgs(f *Factory, n int, list Candidates) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) >= n {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		client, err := f.APIClient()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		ctx, cancel := context.WithTimeout(ctx, CompletionTimeout)
		defer cancel()
		all, err := list(ctx, client)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		out := make([]cobra.Completion, 0, len(all))
		for _, c := range all {
			value, _, _ := strings.Cut(c, "\t")
			if strings.HasPrefix(value, toComplete) && !containsArg(args, value) {
				out = append(out, c)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func containsArg(args []string, v string) bool {
	for _, a := range args {
		if a == v {
			return true
		}
	}
	return false
}
