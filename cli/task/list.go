package task

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// ListOptions are the inputs of "cairn task list".
type ListOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)

	Filter apiclient.TaskFilter
	JSON   bool
}

// NewCmdList returns "cairn task list". runF replaces the run function in
// tests (nil runs listRun).
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, APIClient: f.APIClient}
	var frameworkID, agentID, state string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List tasks",
		Long: "List the tasks the master knows: active ones and recently completed ones.\n" +
			"Narrow the list with --framework, --agent and --state.",
		Example: "  cairn task list\n" +
			"  cairn task list --state running\n" +
			"  cairn task list --framework 01JB8X5Q2M3N4P5R6S7T8V9W0X --json",
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if frameworkID != "" {
				if err := protocol.ValidateToken("--framework", frameworkID); err != nil {
					return cmdutil.AsUsageError(err)
				}
				opts.Filter.FrameworkID = protocol.FrameworkID(frameworkID)
			}
			if agentID != "" {
				if err := protocol.ValidateToken("--agent", agentID); err != nil {
					return cmdutil.AsUsageError(err)
				}
				opts.Filter.AgentID = protocol.AgentID(agentID)
			}
			if state != "" {
				s, err := ParseState(state)
				if err != nil {
					return cmdutil.AsUsageError(err)
				}
				opts.Filter.State = s
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&frameworkID, "framework", "", "only tasks of the framework with this `id`")
	cmd.Flags().StringVar(&agentID, "agent", "", "only tasks on the agent with this `id`")
	cmd.Flags().StringVar(&state, "state", "", "only tasks in this `state`, e.g. running, failed (TASK_ prefix optional)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the tasks as a JSON array")
	return cmd
}

// states are the task states --state accepts, in life-cycle order.
var states = []protocol.TaskState{
	protocol.TaskStaging, protocol.TaskStarting, protocol.TaskRunning, protocol.TaskKilling,
	protocol.TaskFinished, protocol.TaskFailed, protocol.TaskKilled, protocol.TaskError,
	protocol.TaskLost, protocol.TaskDropped, protocol.TaskUnreachable, protocol.TaskGone,
	protocol.TaskGoneByOperator, protocol.TaskUnknown,
}

// ParseState reads a task state given by a person: "running", "RUNNING" and
// "TASK_RUNNING" all mean protocol.TaskRunning.
func ParseState(s string) (protocol.TaskState, error) {
	st := protocol.TaskState(strings.ToUpper(strings.TrimSpace(s)))
	if !strings.HasPrefix(string(st), "TASK_") {
		st = "TASK_" + st
	}
	if st.Valid() {
		return st, nil
	}
	names := make([]string, len(states))
	for i, v := range states {
		names[i] = strings.ToLower(strings.TrimPrefix(string(v), "TASK_"))
	}
	return "", fmt.Errorf("--state %q is not a task state: use one of %s", s, strings.Join(names, ", "))
}

func listRun(ctx context.Context, opts *ListOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	tasks, err := client.Tasks(ctx, opts.Filter)
	if err != nil {
		return fmt.Errorf("listing tasks: %w", err)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, tasks)
	}
	if len(tasks) == 0 {
		msg := "No tasks."
		if opts.Filter != (apiclient.TaskFilter{}) {
			msg = "No tasks match."
		}
		_, err := fmt.Fprintln(opts.IO.Out, msg)
		return err
	}
	return printTable(opts, tasks)
}

func printTable(opts *ListOptions, tasks []protocol.Task) error {
	slices.SortStableFunc(tasks, func(a, b protocol.Task) int {
		return cmp.Compare(a.ID, b.ID)
	})
	t := output.NewTable(opts.IO.Out, "ID", "NAME", "FRAMEWORK", "AGENT", "STATE", "HEALTHY")
	for _, tk := range tasks {
		t.Row(
			string(tk.ID),
			tk.Name,
			string(tk.FrameworkID),
			string(tk.AgentID),
			string(tk.State),
			output.OptionalYesNo(tk.Healthy),
		)
	}
	return t.Flush()
}
