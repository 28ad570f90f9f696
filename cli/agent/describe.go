package agent

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// DescribeOptions are the inputs of "cairn agent describe".
type DescribeOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for "registered 3h ago" (time.Now when nil).
	Now func() time.Time

	// Agent is an agent ID, an ID prefix of at least MinIDPrefix
	// characters, or a hostname.
	Agent string
	JSON  bool
}

// MinIDPrefix is the shortest agent ID prefix describe accepts.
const MinIDPrefix = apiclient.MinIDPrefix

// NewCmdDescribe returns "cairn agent describe". runF replaces the run
// function in tests (nil runs describeRun).
func NewCmdDescribe(f *cmdutil.Factory, runF func(context.Context, *DescribeOptions) error) *cobra.Command {
	opts := &DescribeOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "describe AGENT",
		Aliases: []string{"show"},
		Short:   "Show an agent's details and tasks",
		Long: "Show an agent: its address, status, resources (used, offered, total),\n" +
			"attributes, and its tasks with their resource usage. Name the agent by ID,\n" +
			"by an ID prefix of at least 6 characters, or by hostname.",
		Example: "  cairn agent describe agent-1\n" +
			"  cairn agent describe 01JB8X\n" +
			"  cairn agent describe agent-1 --json | jq '.tasks[].id'",
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, `print {"agent": ..., "tasks": [...]} as JSON`)
	return cmdutil.OneArg(cmd, cmdutil.CompleteArgs(f, 1, Candidates),
		cmdutil.NonBlank(&opts.Agent, "give an agent ID, ID prefix or hostname"), cmdutil.RunOrTest(opts, runF, describeRun))
}

// description is what --json prints.
type description struct {
	Agent protocol.Agent  `json:"agent"`
	Tasks []protocol.Task `json:"tasks"`
}

func describeRun(ctx context.Context, opts *DescribeOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	agents, err := client.Agents(ctx)
	if err != nil {
		return fmt.Errorf("listing agents: %w", err)
	}
	a, err := apiclient.MatchAgent(agents, opts.Agent, "cairn agent list")
	if err != nil {
		return err
	}
	tasks, err := client.Tasks(ctx, apiclient.TaskFilter{AgentID: a.ID})
	if err != nil {
		return fmt.Errorf("listing the tasks of agent %s: %w", a.ID, err)
	}
	apiclient.SortTasks(tasks)
	if opts.JSON {
		return output.JSON(opts.IO.Out, description{Agent: a, Tasks: tasks})
	}
	return printDescription(opts.IO.Out, a, tasks, output.Now(opts.Now))
}

func printDescription(w io.Writer, a protocol.Agent, tasks []protocol.Task, now time.Time) error {
	fs := output.NewFields(w)
	fs.Field("ID", string(a.ID))
	fs.Field("Hostname", a.Hostname)
	fs.Field("Address", a.Address)
	fs.Field("Status", string(a.Status))
	fs.Field("Registered", when(a.RegisteredTime, now))
	if a.UnreachableTime > 0 {
		fs.Field("Unreachable since", when(a.UnreachableTime, now))
	}
	fs.Field("URL", a.URL)
	fs.Field("Version", a.Version)
	fs.Field("Attributes", a.Attributes.String())
	active := apiclient.CountActive(tasks)
	fs.Field("Tasks", fmt.Sprintf("%d active, %d ended", active, len(tasks)-active))
	if err := fs.Flush(); err != nil {
		return fmt.Errorf("writing agent: %w", err)
	}

	fmt.Fprintln(w)
	rt := output.NewTable(w, "RESOURCE", "USED", "OFFERED", "TOTAL")
	names := slices.Concat(a.Resources.Names(), a.UsedResources.Names(), a.OfferedResources.Names())
	slices.SortFunc(names, func(x, y string) int { return cmp.Or(cmp.Compare(resourceRank(x), resourceRank(y)), cmp.Compare(x, y)) })
	for _, n := range slices.Compact(names) {
		scalar := isScalar(a.Resources, n) && isScalar(a.UsedResources, n) && isScalar(a.OfferedResources, n)
		rt.Row(n, resourceValue(a.UsedResources, n, scalar), resourceValue(a.OfferedResources, n, scalar), resourceValue(a.Resources, n, scalar))
	}
	if err := rt.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	if len(tasks) == 0 {
		_, err := fmt.Fprintln(w, "No tasks on this agent.")
		return err
	}
	tt := output.NewTable(w, "TASK", "NAME", "FRAMEWORK", "STATE", "CPUS", "MEM", "CPU TIME", "MEM USED")
	for _, t := range tasks {
		cpuTime, memUsed := "", ""
		if s := t.Statistics; s != nil {
			cpuTime = cpuSeconds(s.CPUsUserTimeSecs + s.CPUsSystemTimeSecs)
			memUsed = bytesIEC(s.MemRSSBytes)
			if s.MemLimitBytes > 0 {
				memUsed = output.UsedOf(memUsed, bytesIEC(s.MemLimitBytes))
			}
		}
		tt.Row(
			string(t.ID),
			t.Name,
			string(t.FrameworkID),
			string(t.State),
			t.Resources.ScalarTotal("cpus").String(),
			output.Mem(t.Resources.ScalarTotal("mem")),
			cpuTime,
			memUsed,
		)
	}
	return tt.Flush()
}

// resourceRank orders the usual resources first.
func resourceRank(name string) int {
	if i := slices.Index([]string{"cpus", "gpus", "mem", "disk", "ports"}, name); i >= 0 {
		return i
	}
	return 99
}

// isScalar reports whether every resource called name in rs is a scalar.
func isScalar(rs resources.Resources, name string) bool {
	for _, r := range rs.Named(name) {
		if r.Type != resources.Scalar {
			return false
		}
	}
	return true
}

// resourceValue prints the named resource of rs: a scalar's total (mem
// and disk in binary units; 0 when absent), ranges and sets as text ("-"
// when absent).
func resourceValue(rs resources.Resources, name string, scalar bool) string {
	if scalar {
		v := rs.ScalarTotal(name)
		if name == "mem" || name == "disk" {
			return output.Mem(v)
		}
		return v.String()
	}
	var parts []string
	for _, r := range rs.Named(name) {
		parts = append(parts, strings.TrimPrefix(resources.Resources{r}.String(), name+":"))
	}
	return strings.Join(parts, " ")
}

// when prints a wire timestamp with how long ago it was.
func when(ts float64, now time.Time) string {
	return output.Time(output.WireTime(ts), now)
}

// cpuSeconds prints CPU time: "0.42s", "12.3s", "1h2m3s".
func cpuSeconds(s float64) string {
	if s < 60 {
		return strconv.FormatFloat(float64(int64(s*100+0.5))/100, 'f', -1, 64) + "s"
	}
	return (time.Duration(s) * time.Second).Round(time.Second).String()
}

// bytesIEC prints a byte count with a binary unit: "512 B", "12.3 MiB".
func bytesIEC(b uint64) string {
	const unit = 1024
	if b < unit {
		return strconv.FormatUint(b, 10) + " B"
	}
	v, exp := float64(b)/unit, 0
	for v >= unit && exp < 4 {
		v /= unit
		exp++
	}
	return strconv.FormatFloat(float64(int64(v*10+0.5))/10, 'f', -1, 64) + " " + string("KMGTP"[exp]) + "iB"
}
