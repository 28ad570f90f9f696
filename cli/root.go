// Package cli is the cairn command tree: "cairn <noun> <verb>", one folder
// per noun (agent, framework, task ...) and one file per verb. Commands speak
// only HTTP to Cairn's public APIs (through cli/apiclient) and get their
// dependencies from a Factory, so tests run them against an httptest server.
package cli

import (
	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/agent"
	"github.com/cairn-dc/cairn/cli/app"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/completion"
	"github.com/cairn-dc/cairn/cli/config"
	"github.com/cairn-dc/cairn/cli/deployment"
	"github.com/cairn-dc/cairn/cli/framework"
	"github.com/cairn-dc/cairn/cli/job"
	"github.com/cairn-dc/cairn/cli/module"
	"github.com/cairn-dc/cairn/cli/node"
	"github.com/cairn-dc/cairn/cli/pkg"
	"github.com/cairn-dc/cairn/cli/repo"
	"github.com/cairn-dc/cairn/cli/task"
	clitui "github.com/cairn-dc/cairn/cli/tui"
	"github.com/cairn-dc/cairn/cli/version"
)

// NewRootCmd returns the "cairn" command with the CLI's nouns. The binary
// adds its daemon commands (master, agent daemon, up ...) and runs it with
// Execute.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "cairn",
		Short: "Cairn, a datacenter operating system",
		Long: "Cairn pools the machines of a cluster and shares them between frameworks\n" +
			"(services, cron, storage ...). This CLI talks to a Cairn master over HTTP:\n" +
			"point it at one with --url or CAIRN_URL, or name your clusters with\n" +
			"\"cairn config set-cluster\" and pick one with \"cairn config use\" or --cluster\n" +
			"(default " + cmdutil.DefaultURL + ").",
		Example: "  cairn agent list\n  cairn task list --state running --json\n  cairn --cluster prod app list\n  source <(cairn completion bash)",
		Args:    cmdutil.NounArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
		Version:                    version.Get().String(),
		SilenceUsage:               true,
		SilenceErrors:              true,
		SuggestionsMinimumDistance: 2,
	}
	root.SetIn(f.IOStreams.In)
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	root.SetFlagErrorFunc(cmdutil.FlagErrorFunc)
	root.SetVersionTemplate("cairn {{.Version}}\n")

	pf := root.PersistentFlags()
	pf.StringVar(&f.URL, "url", f.URL, "operator API `URL` of the master (default $"+cmdutil.EnvURL+", the config's cluster, or "+cmdutil.DefaultURL+")")
	pf.StringVar(&f.Token, "token", f.Token, "bearer `token` for Cairn's HTTP APIs (default $"+cmdutil.EnvToken+" or the config's cluster's)")
	pf.StringVar(&f.Cluster, "cluster", f.Cluster, "use the config's cluster called `name` (default $"+cmdutil.EnvCluster+", else the current one: see cairn config)")
	_ = root.RegisterFlagCompletionFunc("cluster", config.CompleteClusterFlag(f))

	root.AddCommand(
		agent.NewCmdAgent(f),
		app.NewCmdApp(f),
		deployment.NewCmdDeployment(f),
		framework.NewCmdFramework(f),
		job.NewCmdJob(f),
		module.NewCmdModule(f),
		pkg.NewCmdPackage(f),
		repo.NewCmdRepo(f),
		task.NewCmdTask(f),
		version.NewCmdVersion(f),
	)
	root.AddCommand(config.NewCmdConfig(f))
	root.AddCommand(completion.NewCmdCompletion(f, nil))
	root.AddCommand(clitui.NewCmdTUI(f, nil))
	root.AddCommand(node.NewCmdNode(f))
	return root
}
