package framework

import (
	"context"
	"fmt"
	"io"
	"strings"
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
const MinIDPrefix = apiclient.MinIDPrefix

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
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, `print {"framework": ..., "tasks": [...]} as JSON`)
	return cmdutil.OneArg(cmd, cmdutil.CompleteArgs(f, 1, Candidates),
		cmdutil.NonBlank(&opts.Framework, "give a framework ID, ID prefix or name"), cmdutil.RunOrTest(opts, runF, describeRun))
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
	client, frameworks, err := listFrameworks(ctx, opts.APIClient)
	if err != nil {
		return err
	}
	fw, err := matchFramework(frameworks, opts.Framework)
	if err != nil {
		return err
	}
	tasks, err := client.Tasks(ctx, apiclient.TaskFilter{FrameworkID: fw.ID})
	if err != nil {
		return fmt.Errorf("listing the tasks of framework %s: %w", fw.ID, err)
	}
	apiclient.SortTasks(tasks)
	if opts.JSON {
		return output.JSON(opts.IO.Out, Description{Framework: fw, Tasks: tasks})
	}
	return printDescription(opts.IO.Out, fw, tasks, output.Now(opts.Now))
}

// frameworkRef names frameworks by ID, name or ID prefix. A name used by
// several frameworks (one failed over, say) means the connected one when
// there is only one.
var frameworkRef = apiclient.Ref[protocol.Framework]{
	Kind:   "framework",
	NameIs: "name",
	List:   "cairn framework list",
	ID:     func(fw protocol.Framework) string { return string(fw.ID) },
	Name:   func(fw protocol.Framework) string { return fw.Name },
	Prefer: func(fw protocol.Framework) bool { return fw.Connected },
}

// matchFramework finds one framework by ID, name or ID prefix.
func matchFramework(frameworks []protocol.Framework, q string) (protocol.Framework, error) {
	return apiclient.Match(frameworks, q, frameworkRef)
}

func printDescription(w io.Writer, fw protocol.Framework, tasks []protocol.Task, now time.Time) error {
	fs := output.NewFields(w)
	fs.Field("ID", string(fw.ID))
	fs.Field("Name", fw.Name)
	fs.Field("Roles", strings.Join(fw.Roles, ","))
	fs.Field("Principal", fw.Principal)
	fs.Field("Hostname", fw.Hostname)
	fs.Field("Web UI", fw.WebuiURL)
	fs.Field("Connected", output.YesNo(fw.Connected))
	fs.Field("Registered", output.Time(output.WireTime(fw.RegisteredTime), now))
	if !fw.Connected && fw.DisconnectedTime > 0 {
		fs.Field("Disconnected", output.Time(output.WireTime(fw.DisconnectedTime), now))
	}
	failover := ""
	if fw.FailoverTimeout > 0 {
		failover = (time.Duration(fw.FailoverTimeout * float64(time.Second))).Round(time.Second).String()
	}
	fs.Field("Failover timeout", failover)
	fs.Field("Resources used", output.Summary(fw.UsedResources))
	active := apiclient.CountActive(tasks)
	fs.Field("Tasks", fmt.Sprintf("%d active, %d ended", active, len(tasks)-active))
	if err := fs.Flush(); err != nil {
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
