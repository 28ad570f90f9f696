package config

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
)

// ListOptions are the inputs of "cairn config list".
type ListOptions struct {
	IO    cmdutil.IOStreams
	Store Store

	JSON bool
}

// NewCmdList returns "cairn config list". runF replaces the run function
// in tests (nil runs listRun).
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Store: newStore(f)}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls", "get-clusters"},
		Short:   "List the named clusters",
		Long: "List the config file's clusters by name, with their URL, whether a token\n" +
			"is stored (tokens are never printed) and which one is current.",
		Example: "  cairn config list\n" +
			"  cairn config list --json | jq -r '.[] | select(.current) | .url'",
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, `print the clusters as a JSON array of {"name", "url", "has_token", "current"}`)
	return cmd
}

func listRun(opts *ListOptions) error {
	cfg, _, err := opts.Store.Load()
	if err != nil {
		return err
	}
	names := cfg.Names()
	if opts.JSON {
		out := make([]ClusterInfo, 0, len(names))
		for _, n := range names {
			out = append(out, info(cfg, n))
		}
		return output.JSON(opts.IO.Out, out)
	}
	if len(names) == 0 {
		_, err := fmt.Fprintln(opts.IO.Out, "No clusters are configured: add one with cairn config set-cluster NAME --url URL.")
		return err
	}
	t := output.NewTable(opts.IO.Out, "NAME", "URL", "TOKEN", "CURRENT")
	for _, n := range names {
		ci := info(cfg, n)
		current := ""
		if ci.Current {
			current = "*"
		}
		t.Row(ci.Name, ci.URL, output.YesNo(ci.HasToken), current)
	}
	return t.Flush()
}
