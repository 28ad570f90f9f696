package config

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/cmdutil"
)

// UseOptions are the inputs of "cairn config use".
type UseOptions struct {
	IO    cmdutil.IOStreams
	Store Store

	Name string
}

// NewCmdUse returns "cairn config use". runF replaces the run function in
// tests (nil runs useRun).
func NewCmdUse(f *cmdutil.Factory, runF func(context.Context, *UseOptions) error) *cobra.Command {
	opts := &UseOptions{IO: f.IOStreams, Store: newStore(f)}
	cmd := &cobra.Command{
		Use:     "use NAME",
		Aliases: []string{"use-cluster", "switch"},
		Short:   "Make a named cluster the current one",
		Long: "Make a named cluster the current one: commands use it when neither\n" +
			"--url, $" + cmdutil.EnvURL + ", --cluster nor $" + cmdutil.EnvCluster + " says otherwise.",
		Example: "  cairn config use prod",
	}
	return cmdutil.OneArg(cmd, completeClusters(f), func(arg string) error {
		opts.Name = strings.TrimSpace(arg)
		return nil
	}, cmdutil.RunOrTest(opts, runF, useRun))
}

func useRun(_ context.Context, opts *UseOptions) error {
	cfg, path, err := opts.Store.Load()
	if err != nil {
		return err
	}
	c, ok := cfg.Clusters[opts.Name]
	if !ok {
		if len(cfg.Clusters) == 0 {
			return fmt.Errorf("no cluster %q: the config names none yet; add it with cairn config set-cluster %s --url URL", opts.Name, opts.Name)
		}
		return fmt.Errorf("no cluster %q: the config has %s (add it with cairn config set-cluster %s --url URL)",
			opts.Name, strings.Join(cfg.Names(), ", "), opts.Name)
	}
	cfg.Current = opts.Name
	if err := cfg.Save(path); err != nil {
		return err
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Switched to cluster %q (%s).\n", opts.Name, c.URL)
	return err
}
