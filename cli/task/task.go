// Package task is "cairn task": the tasks frameworks have launched.
package task

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/kernel/protocol"
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

// taskVerb makes cmd a verb of one task: it takes TASK (completed with
// the master's tasks) and --framework, for a task id several frameworks
// use, checked into *id and *fw; then check, when set, checks the verb's
// other flags, and run runs.
func taskVerb(f *cmdutil.Factory, cmd *cobra.Command, id *protocol.TaskID, fw *protocol.FrameworkID, check func() error, run func(context.Context) error) *cobra.Command {
	var frameworkID string
	cmd.Flags().StringVar(&frameworkID, "framework", "", "the task's framework `id`, when several frameworks use the task id")
	return cmdutil.OneArg(cmd, cmdutil.CompleteArgs(f, 1, Candidates), func(arg string) error {
		*id = protocol.TaskID(arg)
		if err := protocol.ValidateTaskID("task id", *id); err != nil {
			return cmdutil.AsUsageError(err)
		}
		if frameworkID != "" {
			if err := protocol.ValidateToken("--framework", frameworkID); err != nil {
				return cmdutil.AsUsageError(err)
			}
			*fw = protocol.FrameworkID(frameworkID)
		}
		if check != nil {
			return check()
		}
		return nil
	}, run)
}
