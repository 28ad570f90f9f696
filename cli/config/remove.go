package config

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/cmdutil"
)

// RemoveOptions are the inputs of "cairn config remove".
type RemoveOptions struct {
	IO    cmdutil.IOStreams
	Store Store

	Name string
}

// NewCmdRemove returns "cairn config remove". runF replaces the run
// function in tests (nil runs removeRun).
func NewCmdRemove(f *cmdutil.Factory, runF func(context.Context, *RemoveOptions) error) *cobra.Command {
	opts := &RemoveOptions{IO: f.IOStreams, Store: newStore(f)}
	cmd := &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm", "delete", "delete-cluster"},
		Short:   "Remove a named cluster",
		Long: "Remove a cluster (and its token) from the config file. Removing the\n" +
			"current cluster leaves none current.",
		Example: "  cairn config remove staging",
	}
	return cmdutil.OneArg(cmd, completeClusters(f), func(arg string) error {
		opts.Name = strings.TrimSpace(arg)
		return nil
	}, cmdutil.RunOrTest(opts, runF, removeRun))
}

func removeRun(_ context.Context, opts *RemoveOptions) error {
	cfg, path, err := opts.Store.Load()
	if err != nil {
		return err
	}
	if _, ok := cfg.Clusters[opts.Name]; !ok {
		return fmt.Errorf("no cluster %q in the cairn config file %s (see cairn config list)", opts.Name, path)
	}
	delete(cfg.Clusters, opts.Name)
	wasCurrent := cfg.Current == opts.Name
	if wasCurrent {
		cfg.Current = ""
	}
	if err := cfg.Save(path); err != nil {
		return err
	}
	msg := fmt.Sprintf("Removed cluster %q.", opts.Name)
	if wasCurrent {
		msg += " It was the current cluster: none is current now (pick one with cairn config use NAME)."
	}
	_, err = fmt.Fprintln(opts.IO.Out, msg)
	return err
}
