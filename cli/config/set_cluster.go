package config

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/config/configfile"
)

// SetClusterOptions are the inputs of "cairn config set-cluster".
type SetClusterOptions struct {
	IO    cmdutil.IOStreams
	Store Store

	Name string
	URL  string // "" keeps an existing cluster's URL
	// Token is set when TokenSet (an empty token removes it).
	Token    string
	TokenSet bool
	Use      bool
}

// NewCmdSetCluster returns "cairn config set-cluster". runF replaces the
// run function in tests (nil runs setClusterRun).
func NewCmdSetCluster(f *cmdutil.Factory, runF func(context.Context, *SetClusterOptions) error) *cobra.Command {
	opts := &SetClusterOptions{IO: f.IOStreams, Store: newStore(f)}
	var tokenStdin bool
	cmd := &cobra.Command{
		Use:     "set-cluster NAME [--url URL] [--token TOKEN | --token-stdin]",
		Aliases: []string{"add-cluster"},
		Short:   "Add a named cluster, or change one",
		Long: "Add a named cluster to the config file, or change its URL or token. A new\n" +
			"cluster needs --url; for one already there, what is not given is kept\n" +
			"(--token \"\" removes its token). The token is stored in the file, which\n" +
			"only you can read; --token-stdin keeps it out of your shell's history.",
		Example: "  cairn config set-cluster local --url http://127.0.0.1:5050 --use\n" +
			"  cairn config set-cluster prod --url https://master.example.com:5050 --token-stdin < token.txt\n" +
			"  cairn config set-cluster prod --token \"\"",
		Args: cmdutil.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = strings.TrimSpace(args[0])
			if err := configfile.ValidateName(opts.Name); err != nil {
				return cmdutil.AsUsageError(err)
			}
			opts.URL = strings.TrimSpace(opts.URL)
			if cmd.Flags().Changed("url") {
				if _, err := apiclient.New(opts.URL, "", nil); err != nil {
					return cmdutil.AsUsageError(fmt.Errorf("--url: %w", err))
				}
			}
			opts.TokenSet = cmd.Flags().Changed("token")
			if tokenStdin {
				if opts.TokenSet {
					return cmdutil.UsageErrorf("give --token or --token-stdin, not both")
				}
				t, err := cmdutil.ReadSecret(opts.IO.In, "token")
				if err != nil {
					return err
				}
				opts.Token, opts.TokenSet = strings.TrimSpace(t), true
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return setClusterRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.URL, "url", "", "operator API `URL` of the cluster's master, e.g. http://10.0.0.1:5050")
	fl.StringVar(&opts.Token, "token", "", "bearer `token` for the cluster's HTTP APIs (\"\" removes it)")
	fl.BoolVar(&tokenStdin, "token-stdin", false, "read the token from the standard input")
	fl.BoolVar(&opts.Use, "use", false, "also make it the current cluster")
	return cmd
}

func setClusterRun(opts *SetClusterOptions) error {
	cfg, path, err := opts.Store.Load()
	if err != nil {
		return err
	}
	c, exists := cfg.Clusters[opts.Name]
	if !exists && opts.URL == "" {
		return cmdutil.UsageErrorf("cluster %q is new: give its master's --url", opts.Name)
	}
	if opts.URL != "" {
		c.URL = opts.URL
	}
	if opts.TokenSet {
		c.Token = opts.Token
	}
	cfg.Clusters[opts.Name] = c
	if opts.Use {
		cfg.Current = opts.Name
	}
	if err := cfg.Save(path); err != nil {
		return err
	}
	verb := "Added"
	if exists {
		verb = "Updated"
	}
	msg := fmt.Sprintf("%s cluster %q (%s)", verb, opts.Name, c.URL)
	switch {
	case cfg.Current == opts.Name:
		msg += "; it is the current cluster."
	default:
		msg += fmt.Sprintf("; use it with cairn config use %s or --cluster %s.", opts.Name, opts.Name)
	}
	_, err = fmt.Fprintln(opts.IO.Out, msg)
	return err
}
