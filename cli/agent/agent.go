// Package agent is "cairn agent": the machines of the cluster.
package agent

import (
	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/cmdutil"
)

// NewCmdAgent returns "cairn agent" and its verbs.
func NewCmdAgent(f *cmdutil.Factory) *cobra.Command {
	cmd := cmdutil.NewNounCmd("agent", "Inspect the cluster's agents",
		"Agents run on every machine of the cluster: they advertise its resources\nto the master and run tasks.")
	cmd.AddCommand(
		NewCmdList(f, nil),
		NewCmdDescribe(f, nil),
	)
	return cmd
}
