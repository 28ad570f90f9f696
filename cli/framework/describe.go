package framework

import (
	"cmp"
	"context"
	"fmt"
	"io"
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

// DescribeOptions are the inputs of "cairn framework describe".
type DescribeOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for "registered 3h ago" (time.Now when nil).
	Now func() time.Time

	// Framework is a framework ID, an ID prefix of at least MinIDPrefix
	// characters, or a name.
	Framework string
	JSON      bool
}

// MinIDPrefix is the shortest framework ID prefix describe accepts.
const MinIDPrefix = 6

// NewCmdDescribe returns "cairn framework describe". runF replaces the run
// function in tests (nil runs describeRun).
func NewCmdDescribe(f *cmdutil.Factory, runF func(context.Context, *DescribeOptions) error) *cobra.Command {
	opts := &DescribeOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "describe FRAMEWORK",
		Aliases: []string{"show"},
		Short:   "Show a framework's details and tasks",
		Long: "Show a framework: its roles, connection, failover timeout, the resources\n" +
			"its tasks use, and its tasks. Name it by ID, by an ID prefix of at least\n" +
			"6 characters, or by name.",
		Example: "  cairn framework describe services\n" +
			"  cairn framework describe 01JB8X\n" +
			"  cairn framework describe cron --json | jq '.tasks | length'",
		Args:              cmdutil.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompleteArgs(f, 1, Candidates),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Framework = strings.TrimSpace(args[0])
			if opts.Framework == "" {
				return cmdutil.UsageErrorf("give a framework ID, ID prefix or name")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return describeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, `print {"framework": ..., "tasks": [...]} as JSON`)
	return cmd
}

// Description is what describe --json prints.
type Description struct {
	Framework protocol.Framework `json:"framework"`
	Tasks     []protocol.Task    `json:"tasks"`
}

// Candidates completes framework IDs and names.
func Candidates(ctx context.Context, c *apiclient.Client) ([]cobra.Completion, error) {
	fws, err := c.Frameworks(ctx)
	if err != nil {
		return nil, err
	}
	var out []cobra.Completion
	for _, fw := range fws {
		out = append(out, cobra.CompletionWithDesc(string(fw.ID), fw.Name))
		if fw.Name != "" {
			out = append(out, cobra.CompletionWithDesc(fw.Name, string(fw.ID)))
		}
	}
	return out, nil
}

func describeRun(ctx context.Context, opts *DescribeOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	frameworks, err := client.Frameworks(ctx)
	if err != nil {
		return fmt.Errorf("listing frameworks: %w", err)
	}
	fw, err := matchFramework(frameworks, opts.Framework)
	if err != nil {
		return err
	}
	tasks, err := client.Tasks(ctx, apiclient.TaskFilter{FrameworkID: fw.ID})
	if err != nil {
		return fmt.Errorf("listing the tasks of framework %s: %w", fw.ID, err)
	}
	slices.SortStableFunc(tasks, func(x, y protocol.Task) int {
		return cmp.Or(cmpBool(x.State.Terminal(), y.State.Terminal()), cmp.Compare(x.ID, y.ID))
	})
	if opts.JSON {
		return output.JSON(opts.IO.Out, Description{Framework: fw, Tasks: tasks})
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	return printDescription(opts.IO.Out, fw, tasks, now())
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

// matchFramework finds one framework by ID, name or ID prefix. A name used
// by several frameworks (one failed over, say) means the connected one
// when there is only one.
func matchFramework(frameworks []protocol.Framework, q string) (protocol.Framework, error) {
	var byName, byPrefix []protocol.Framework
	for _, fw := range frameworks {
		switch {
		case string(fw.ID) == q:
			return fw, nil
		case fw.Name == q:
			byName = append(byName, fw)
		case len(q) >= MinIDPrefix && strings.HasPrefix(strings.ToUpper(string(fw.ID)), strings.ToUpper(q)):
			byPrefix = append(byPrefix, fw)
		}
	}
	if len(byName) > 1 {
		connected := slices.DeleteFunc(slices.Clone(byName), func(fw protocol.Framework) bool { return !fw.Connected })
		if len(connected) == 1 {
			byName = connected
		}
	}
	for _, found := range [][]protocol.Framework{byName, byPrefix} {
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		}
		ids := make([]string, len(found))
		for i, fw := range found {
			ids[i] = fmt.Sprintf("%s (%s)", fw.ID, fw.Name)
		}
		slices.Sort(ids)
		return protocol.Framework{}, fmt.Errorf("%q matches %d frameworks: %s; give a full framework ID", q, len(found), strings.Join(ids, ", "))
	}
	if len(q) < MinIDPrefix {
		return protocol.Framework{}, fmt.Errorf("no framework has the ID or name %q (an ID prefix needs at least %d characters; see cairn framework list)", q, MinIDPrefix)
	}
	return protocol.Framework{}, fmt.Errorf("no framework has the ID, ID prefix or name %q (see cairn framework list)", q)
}

func printDescription(w io.Writer, fw protocol.Framework, tasks []protocol.Task, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	field := func(name, value string) {
		value = output.Clean(value)
		if value == "" {
			value = "-"
		}
		fmt.Fprintf(tw, "%s:\t%s\n", name, value)
	}
	field("ID", string(fw.ID))
	field("Name", fw.Name)
	field("Roles", strings.Join(fw.Roles, ","))
	field("Principal", fw.Principal)
	field("Hostname", fw.Hostname)
	field("Web UI", fw.WebuiURL)
	field("Connected", output.YesNo(fw.Connected))
	field("Registered", output.Time(output.WireTime(fw.RegisteredTime), now))
	if !fw.Connected && fw.DisconnectedTime > 0 {
		field("Disconnected", output.Time(output.WireTime(fw.DisconnectedTime), now))
	}
	failover := ""
	if fw.FailoverTimeout > 0 {
		failover = (time.Duration(fw.FailoverTimeout * float64(time.Second))).Round(time.Second).String()
	}
	field("Failover timeout", failover)
	field("Resources used", output.Summary(fw.UsedResources))
	active := 0
	for _, t := range tasks {
		if !t.State.Terminal() {
			active++
		}
	}
	field("Tasks", fmt.Sprintf("%d active, %d ended", active, len(tasks)-active))
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing framework: %w", err)
	}
	fmt.Fprintln(w)
	if len(tasks) == 0 {
		_, err := fmt.Fprintln(w, "No tasks.")
		return err
	}
	t := output.NewTable(w, "TASK", "NAME", "AGENT", "STATE", "HEALTHY", "CPUS", "MEM")
	for _, tk := range tasks {
		t.Row(string(tk.ID), tk.Name, string(tk.AgentID), string(tk.State), output.OptionalYesNo(tk.Healthy),
			tk.Resources.ScalarTotal("cpus").String(), output.Mem(tk.Resources.ScalarTotal("mem")))
	}
	return t.Flush()
}
