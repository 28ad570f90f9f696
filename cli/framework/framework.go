// Package framework is "cairn framework": the schedulers subscribed to the
// master.
package framework

import (
	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/cmdutil"
)

// NewCmdFramework returns "cairn framework" and its verbs.
func NewCmdFramework(f *cmdutil.Factory) *cobra.Command {
	cmd := cmdutil.NewNounCmd("framework", "Inspect the frameworks subscribed to the master",
		"Frameworks are schedulers: they receive resource offers from the master\nand launch tasks on the agents.")
	cmd.AddCommand(
		NewCmdList(f, nil),
		NewCmdDescribe(f, nil),
	)
	return cmd
}
