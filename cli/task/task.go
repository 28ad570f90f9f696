// Package task is "cairn task": the tasks frameworks have launched.
package task

import (
	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/cmdutil"
)

// NewCmdTask returns "cairn task" and its verbs.
func NewCmdTask(f *cmdutil.Factory) *cobra.Command {
	cmd := cmdutil.NewNounCmd("task", "Run and inspect the cluster's tasks",
		"Tasks are the commands frameworks launch on agents, each with its own\nresources and sandbox. \"cairn task run\" runs one-off tasks through the\nrun framework.")
	cmd.AddCommand(
		NewCmdList(f, nil),
		NewCmdDescribe(f, nil),
		NewCmdRun(f, nil),
		NewCmdLog(f, nil),
		NewCmdKill(f, nil),
	)
	return cmd
}
