package config

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
)

// CurrentOptions are the inputs of "cairn config current".
type CurrentOptions struct {
	IO    cmdutil.IOStreams
	Store Store
	// Named is the cluster --cluster or $CAIRN_CLUSTER names ("" for none).
	Named func() string
	// Overridden says which of --url and $CAIRN_URL is given ("" for
	// none): it beats any cluster.
	Overridden func() string

	JSON bool
}

// NewCmdCurrent returns "cairn config current". runF replaces the run
// function in tests (nil runs currentRun).
func NewCmdCurrent(f *cmdutil.Factory, runF func(context.Context, *CurrentOptions) error) *cobra.Command {
	opts := &CurrentOptions{IO: f.IOStreams, Store: newStore(f), Named: f.ClusterName, Overridden: func() string {
		ep, err := f.Endpoint()
		if err != nil || (ep.Source != "--url" && ep.Source != "$"+cmdutil.EnvURL) {
			return ""
		}
		return ep.Source
	}}
	cmd := &cobra.Command{
		Use:     "current",
		Aliases: []string{"current-cluster"},
		Short:   "Print the name of the cluster commands use",
		Long: "Print the name of the cluster commands use: the one --cluster or\n" +
			"$" + cmdutil.EnvCluster + " names, else the config file's current cluster. It fails when\n" +
			"there is none (commands then use $" + cmdutil.EnvURL + " or " + cmdutil.DefaultURL + ").",
		Example: "  cairn config current\n  cairn config current --json",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return currentRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, `print {"name", "url", "has_token", "current"} as JSON`)
	return cmd
}

func currentRun(opts *CurrentOptions) error {
	cfg, path, err := opts.Store.Load()
	if err != nil {
		return err
	}
	name := cfg.Current
	if opts.Named != nil && opts.Named() != "" {
		name = opts.Named()
	}
	if name == "" {
		return errors.New("no current cluster: commands use $" + cmdutil.EnvURL + " or " + cmdutil.DefaultURL + "; pick one with cairn config use NAME")
	}
	if _, ok := cfg.Clusters[name]; !ok {
		return fmt.Errorf("no cluster %q in the cairn config file %s (see cairn config list)", name, path)
	}
	if opts.Overridden != nil {
		if o := opts.Overridden(); o != "" {
			fmt.Fprintf(opts.IO.ErrOut, "Note: %s is given: commands use its URL, not cluster %q's.\n", o, name)
		}
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, info(cfg, name))
	}
	_, err = fmt.Fprintln(opts.IO.Out, name)
	return err
}
