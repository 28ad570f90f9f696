// Package config is "cairn config": the named clusters of the CLI's config
// file (config.json in the user config directory, e.g.
// ~/.config/cairn/config.json) and which of them commands use.
package config

import (
	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/config/configfile"
)

// NewCmdConfig returns "cairn config" and its verbs.
func NewCmdConfig(f *cmdutil.Factory) *cobra.Command {
	cmd := cmdutil.NewNounCmd("config", "Manage named clusters (the CLI's config file)",
		"Name the masters you use and switch between them. The clusters live in\n"+
			"config.json in the user config directory ($XDG_CONFIG_HOME/cairn or\n"+
			"~/.config/cairn on Linux; $"+cmdutil.EnvConfigDir+" overrides it), readable only by you.\n\n"+
			"Commands find their master in this order, first found first:\n"+
			"  1. --url and --token\n"+
			"  2. $"+cmdutil.EnvURL+" and $"+cmdutil.EnvToken+"\n"+
			"  3. --cluster NAME or $"+cmdutil.EnvCluster+": a cluster of the config file\n"+
			"  4. the config file's current cluster (cairn config use NAME)\n"+
			"  5. "+cmdutil.DefaultURL+" (a cairn up on this machine)")
	cmd.Example = "  cairn config set-cluster prod --url http://10.0.0.1:5050 --token-stdin < token.txt\n" +
		"  cairn config use prod\n" +
		"  cairn config list\n" +
		"  cairn --cluster local agent list"
	cmd.AddCommand(
		NewCmdSetCluster(f, nil),
		NewCmdUse(f, nil),
		NewCmdList(f, nil),
		NewCmdCurrent(f, nil),
		NewCmdRemove(f, nil),
		NewCmdPath(f, nil),
	)
	return cmd
}

// Store reads and writes the config file; the Factory provides it.
type Store struct {
	Load func() (*configfile.File, string, error)
}

func newStore(f *cmdutil.Factory) Store { return Store{Load: f.LoadConfig} }

// ClusterInfo is a cluster as "cairn config list --json" and "current
// --json" print it (never its token).
type ClusterInfo struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	HasToken bool   `json:"has_token"`
	Current  bool   `json:"current"`
}

func info(cfg *configfile.File, name string) ClusterInfo {
	c := cfg.Clusters[name]
	return ClusterInfo{Name: name, URL: c.URL, HasToken: c.Token != "", Current: cfg.Current == name}
}

// completeClusters completes a cluster name from the config file.
func completeClusters(f *cmdutil.Factory) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cfg, _, err := f.LoadConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, n := range cfg.Names() {
			out = append(out, cobra.CompletionWithDesc(n, cfg.Clusters[n].URL))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// CompleteClusterFlag completes --cluster with the config file's
// clusters.
func CompleteClusterFlag(f *cmdutil.Factory) cobra.CompletionFunc {
	complete := completeClusters(f)
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return complete(cmd, nil, toComplete)
	}
}
