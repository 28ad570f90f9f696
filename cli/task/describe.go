package task

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// DescribeOptions are the inputs of "cairn task describe".
type DescribeOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for "3m ago" (time.Now when nil).
	Now func() time.Time

	TaskID      protocol.TaskID
	FrameworkID protocol.FrameworkID // "" for any
	JSON        bool
}

// NewCmdDescribe returns "cairn task describe". runF replaces the run
// function in tests (nil runs describeRun).
func NewCmdDescribe(f *cmdutil.Factory, runF func(context.Context, *DescribeOptions) error) *cobra.Command {
	opts := &DescribeOptions{IO: f.IOStreams, APIClient: f.APIClient}
	var frameworkID string
	cmd := &cobra.Command{
		Use:     "describe TASK",
		Aliases: []string{"show"},
		Short:   "Show a task's details and status history",
		Long: "Show a task: its framework and agent, state and health, resources and\n" +
			"their use, labels, and its latest status updates (why it failed, how it\n" +
			"exited).",
		Example: "  cairn task describe web.1\n" +
			"  cairn task describe backup.1 --json | jq '.statuses[-1]'",
		Args:              cmdutil.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompleteArgs(f, 1, Candidates),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.TaskID = protocol.TaskID(args[0])
			if err := protocol.ValidateTaskID("task id", opts.TaskID); err != nil {
				return cmdutil.AsUsageError(err)
			}
			if frameworkID != "" {
				if err := protocol.ValidateToken("--framework", frameworkID); err != nil {
					return cmdutil.AsUsageError(err)
				}
				opts.FrameworkID = protocol.FrameworkID(frameworkID)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return describeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&frameworkID, "framework", "", "the task's framework `id`, when several frameworks use the task id")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the task as JSON (as GET /v1/tasks has it)")
	return cmd
}

// Candidates completes task IDs, active tasks first.
func Candidates(ctx context.Context, c *apiclient.Client) ([]cobra.Completion, error) {
	tasks, err := c.Tasks(ctx, apiclient.TaskFilter{})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(tasks, func(x, y protocol.Task) int {
		return cmp.Or(cmpBool(x.State.Terminal(), y.State.Terminal()), cmp.Compare(x.ID, y.ID))
	})
	out := make([]cobra.Completion, 0, len(tasks))
	seen := map[protocol.TaskID]bool{}
	for _, t := range tasks {
		if !seen[t.ID] {
			seen[t.ID] = true
			out = append(out, cobra.CompletionWithDesc(string(t.ID), strings.TrimSpace(t.Name+" "+strings.TrimPrefix(string(t.State), "TASK_"))))
		}
	}
	return out, nil
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func describeRun(ctx context.Context, opts *DescribeOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	tasks, err := client.Tasks(ctx, apiclient.TaskFilter{FrameworkID: opts.FrameworkID})
	if err != nil {
		return fmt.Errorf("listing tasks: %w", err)
	}
	var found []protocol.Task
	for _, t := range tasks {
		if t.ID == opts.TaskID {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return fmt.Errorf("no task %s is known to the master (see cairn task list; ended tasks are kept only for a while)", opts.TaskID)
	case 1:
	default:
		fws := make([]string, len(found))
		for i, t := range found {
			fws[i] = string(t.FrameworkID)
		}
		slices.Sort(fws)
		return cmdutil.UsageErrorf("task id %s is used by %d frameworks (%s): give --framework", opts.TaskID, len(found), strings.Join(fws, ", "))
	}
	t := found[0]
	if opts.JSON {
		return output.JSON(opts.IO.Out, t)
	}
	// Names for the IDs, when the master tells them (not worth failing for).
	var fwName, hostname string
	if fws, err := client.Frameworks(ctx); err == nil {
		for _, fw := range fws {
			if fw.ID == t.FrameworkID {
				fwName = fw.Name
			}
		}
	}
	if agents, err := client.Agents(ctx); err == nil {
		for _, a := range agents {
			if a.ID == t.AgentID {
				hostname = a.Hostname
			}
		}
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	return printDescription(opts.IO.Out, t, fwName, hostname, now())
}

func withName(id, name string) string {
	if name == "" || id == "" {
		return id
	}
	return id + " (" + name + ")"
}

func printDescription(w io.Writer, t protocol.Task, fwName, hostname string, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	field := func(name, value string) {
		value = output.Clean(value)
		if value == "" {
			value = "-"
		}
		fmt.Fprintf(tw, "%s:\t%s\n", name, value)
	}
	field("ID", string(t.ID))
	field("Name", t.Name)
	field("Framework", withName(string(t.FrameworkID), fwName))
	field("Agent", withName(string(t.AgentID), hostname))
	field("Role", t.Role)
	field("State", string(t.State))
	field("Healthy", output.OptionalYesNo(t.Healthy))
	if n := len(t.Statuses); n > 0 {
		last := t.Statuses[n-1]
		field("Since", output.Time(output.WireTime(last.Timestamp), now))
		if last.ExitCode != nil {
			field("Exit code", fmt.Sprint(*last.ExitCode))
		}
	}
	field("Resources", t.Resources.String())
	if s := t.Statistics; s != nil {
		field("CPU time", fmt.Sprintf("%.2fs", s.CPUsUserTimeSecs+s.CPUsSystemTimeSecs))
		mem := fmt.Sprintf("%.1f MiB", float64(s.MemRSSBytes)/(1<<20))
		if s.MemLimitBytes > 0 {
			mem += fmt.Sprintf(" of %.1f MiB", float64(s.MemLimitBytes)/(1<<20))
		}
		field("Memory used", mem)
	}
	var labels []string
	for _, k := range slices.Sorted(maps.Keys(t.Labels)) {
		labels = append(labels, k+"="+t.Labels[k])
	}
	field("Labels", strings.Join(labels, ", "))
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing task: %w", err)
	}
	if len(t.Statuses) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	st := output.NewTable(w, "TIME", "STATE", "SOURCE", "REASON", "MESSAGE")
	for _, s := range t.Statuses {
		st.Row(output.Time(output.WireTime(s.Timestamp), now), string(s.State), string(s.Source), string(s.Reason), output.Truncate(s.Message, 80))
	}
	return st.Flush()
}
