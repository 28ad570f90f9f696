package config

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/cmdutil"
)

// PathOptions are the inputs of "cairn config path".
type PathOptions struct {
	IO         cmdutil.IOStreams
	ConfigPath func() (string, error)
}

// NewCmdPath returns "cairn config path". runF replaces the run function
// in tests (nil runs pathRun).
func NewCmdPath(f *cmdutil.Factory, runF func(context.Context, *PathOptions) error) *cobra.Command {
	opts := &PathOptions{IO: f.IOStreams, ConfigPath: f.ConfigPath}
	return &cobra.Command{
		Use:   "path",
		Short: "Print the config file's path",
		Long:  "Print the path of the config file (it may not exist yet).",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			p, err := opts.ConfigPath()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(opts.IO.Out, p)
			return err
		},
	}
}
