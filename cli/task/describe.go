package task

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
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
	cmd := &cobra.Command{
		Use:     "describe TASK",
		Aliases: []string{"show"},
		Short:   "Show a task's details and status history",
		Long: "Show a task: its framework and agent, state and health, resources and\n" +
			"their use, labels, and its latest status updates (why it failed, how it\n" +
			"exited).",
		Example: "  cairn task describe web.1\n" +
			"  cairn task describe backup.1 --json | jq '.statuses[-1]'",
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the task as JSON (as GET /v1/tasks has it)")
	return taskVerb(f, cmd, &opts.TaskID, &opts.FrameworkID, nil, cmdutil.RunOrTest(opts, runF, describeRun))
}

// Candidates completes task IDs, active tasks first.
func Candidates(ctx context.Context, c *apiclient.Client) ([]cobra.Completion, error) {
	tasks, err := c.Tasks(ctx, apiclient.TaskFilter{})
	if err != nil {
		return nil, err
	}
	apiclient.SortTasks(tasks)
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

func describeRun(ctx context.Context, opts *DescribeOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	tasks, err := client.Tasks(ctx, apiclient.TaskFilter{FrameworkID: opts.FrameworkID})
	if err != nil {
		return fmt.Errorf("listing tasks: %w", err)
	}
	found, fws := apiclient.TasksWithID(tasks, opts.TaskID)
	switch len(found) {
	case 0:
		return fmt.Errorf("no task %s is known to the master (see cairn task list; ended tasks are kept only for a while)", opts.TaskID)
	case 1:
	default:
		return cmdutil.UsageErrorf("task id %s is used by %d frameworks (%s): give --framework", opts.TaskID, len(found), fws)
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
	return printDescription(opts.IO.Out, t, fwName, hostname, output.Now(opts.Now))
}

func withName(id, name string) string {
	if name == "" || id == "" {
		return id
	}
	return id + " (" + name + ")"
}

func printDescription(w io.Writer, t protocol.Task, fwName, hostname string, now time.Time) error {
	fs := output.NewFields(w)
	fs.Field("ID", string(t.ID))
	fs.Field("Name", t.Name)
	fs.Field("Framework", withName(string(t.FrameworkID), fwName))
	fs.Field("Agent", withName(string(t.AgentID), hostname))
	fs.Field("Role", t.Role)
	fs.Field("State", string(t.State))
	fs.Field("Healthy", output.OptionalYesNo(t.Healthy))
	if n := len(t.Statuses); n > 0 {
		last := t.Statuses[n-1]
		fs.Field("Since", output.Time(output.WireTime(last.Timestamp), now))
		if last.ExitCode != nil {
			fs.Field("Exit code", fmt.Sprint(*last.ExitCode))
		}
	}
	fs.Field("Resources", t.Resources.String())
	if s := t.Statistics; s != nil {
		fs.Field("CPU time", fmt.Sprintf("%.2fs", s.CPUsUserTimeSecs+s.CPUsSystemTimeSecs))
		mem := fmt.Sprintf("%.1f MiB", float64(s.MemRSSBytes)/(1<<20))
		if s.MemLimitBytes > 0 {
			mem += fmt.Sprintf(" of %.1f MiB", float64(s.MemLimitBytes)/(1<<20))
		}
		fs.Field("Memory used", mem)
	}
	var labels []string
	for _, k := range slices.Sorted(maps.Keys(t.Labels)) {
		labels = append(labels, k+"="+t.Labels[k])
	}
	fs.Field("Labels", strings.Join(labels, ", "))
	if err := fs.Flush(); err != nil {
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
