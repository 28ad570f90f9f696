package job

import (
	"context"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
)

// GraphOptions are the inputs of "cairn job graph".
type GraphOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
}

// NewCmdGraph returns "cairn job graph". runF replaces the run function in
// tests (nil runs graphRun).
func NewCmdGraph(f *cmdutil.Factory, runF func(context.Context, *GraphOptions) error) *cobra.Command {
	opts := &GraphOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "graph",
		Aliases: []string{"dag"},
		Short:   "Print the jobs' dependency graph (DOT)",
		Long: "Print which jobs run after which as a Graphviz DOT graph (an edge goes from a\n" +
			"parent to the job that runs after it). Draw it with Graphviz's dot, e.g. into an\n" +
			"SVG file.",
		Example: "  cairn job graph | dot -Tsvg > jobs.svg\n" +
			"  cairn job graph | dot -Tpng | display",
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return graphRun(cmd.Context(), opts)
		},
	}
	return cmd
}

func graphRun(ctx context.Context, opts *GraphOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	dot, err := client.Graph(ctx)
	if err != nil {
		return apiError(err, "reading the jobs' graph")
	}
	if dot != "" && !strings.HasSuffix(dot, "\n") {
		dot += "\n"
	}
	_, err = io.WriteString(opts.IO.Out, dot)
	return err
}
