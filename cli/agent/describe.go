package agent

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
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
const MinIDPrefix = 6

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
		Args:              cmdutil.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompleteArgs(f, 1, Candidates),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Agent = strings.TrimSpace(args[0])
			if opts.Agent == "" {
				return cmdutil.UsageErrorf("give an agent ID, ID prefix or hostname")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return describeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, `print {"agent": ..., "tasks": [...]} as JSON`)
	return cmd
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
	a, err := matchAgent(agents, opts.Agent)
	if err != nil {
		return err
	}
	tasks, err := client.Tasks(ctx, apiclient.TaskFilter{AgentID: a.ID})
	if err != nil {
		return fmt.Errorf("listing the tasks of agent %s: %w", a.ID, err)
	}
	slices.SortStableFunc(tasks, func(x, y protocol.Task) int {
		return cmp.Or(cmpBool(x.State.Terminal(), y.State.Terminal()), cmp.Compare(x.ID, y.ID))
	})
	if opts.JSON {
		return output.JSON(opts.IO.Out, description{Agent: a, Tasks: tasks})
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	return printDescription(opts.IO.Out, a, tasks, now())
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

// matchAgent finds one agent by ID, hostname or ID prefix.
func matchAgent(agents []protocol.Agent, q string) (protocol.Agent, error) {
	var byHost, byPrefix []protocol.Agent
	for _, a := range agents {
		switch {
		case string(a.ID) == q:
			return a, nil
		case a.Hostname == q:
			byHost = append(byHost, a)
		case len(q) >= MinIDPrefix && strings.HasPrefix(strings.ToUpper(string(a.ID)), strings.ToUpper(q)):
			byPrefix = append(byPrefix, a)
		}
	}
	// A hostname used twice (an agent gone, its machine back): prefer the
	// one that is not gone.
	if len(byHost) > 1 {
		live := slices.DeleteFunc(slices.Clone(byHost), func(a protocol.Agent) bool { return a.Status == protocol.AgentRemoved })
		if len(live) == 1 {
			byHost = live
		}
	}
	for _, found := range [][]protocol.Agent{byHost, byPrefix} {
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		}
		ids := make([]string, len(found))
		for i, a := range found {
			ids[i] = fmt.Sprintf("%s (%s)", a.ID, a.Hostname)
		}
		slices.Sort(ids)
		return protocol.Agent{}, fmt.Errorf("%q matches %d agents: %s; give a full agent ID", q, len(found), strings.Join(ids, ", "))
	}
	if len(q) < MinIDPrefix {
		return protocol.Agent{}, fmt.Errorf("no agent has the ID or hostname %q (an ID prefix needs at least %d characters; see cairn agent list)", q, MinIDPrefix)
	}
	return protocol.Agent{}, fmt.Errorf("no agent has the ID, ID prefix or hostname %q (see cairn agent list)", q)
}

func printDescription(w io.Writer, a protocol.Agent, tasks []protocol.Task, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	field := func(name, value string) {
		value = output.Clean(value)
		if value == "" {
			value = "-"
		}
		fmt.Fprintf(tw, "%s:\t%s\n", name, value)
	}
	field("ID", string(a.ID))
	field("Hostname", a.Hostname)
	field("Address", a.Address)
	field("Status", string(a.Status))
	field("Registered", when(a.RegisteredTime, now))
	if a.UnreachableTime > 0 {
		field("Unreachable since", when(a.UnreachableTime, now))
	}
	field("URL", a.URL)
	field("Version", a.Version)
	field("Attributes", a.Attributes.String())
	active := 0
	for _, t := range tasks {
		if !t.State.Terminal() {
			active++
		}
	}
	field("Tasks", fmt.Sprintf("%d active, %d ended", active, len(tasks)-active))
	if err := tw.Flush(); err != nil {
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
