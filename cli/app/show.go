package app

import (
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
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
)

// ShowOptions are the inputs of "cairn app show".
type ShowOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for "5m ago" (time.Now when nil).
	Now func() time.Time

	ID   string
	JSON bool
}

// NewCmdShow returns "cairn app show". runF replaces the run function in
// tests (nil runs showRun).
func NewCmdShow(f *cmdutil.Factory, runF func(context.Context, *ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "show APP",
		Aliases: []string{"describe"},
		Short:   "Show an app's details and tasks",
		Long: "Show an app: its command, instances, resources, ports, health checks,\n" +
			"constraints, deployments in progress and last task failure, and its tasks\n" +
			"(host, ports, state, health, start).",
		Example: "  cairn app show web\n" +
			"  cairn app show /web --json | jq -r '.tasks[].host'",
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the app as JSON (Marathon's GET /v2/apps/<id> \"app\", with its tasks)")
	return cmdutil.OneArg(cmd, cmdutil.CompleteArgs(f, 1, Candidates), func(arg string) error {
		id, err := parseAppID(arg)
		if err != nil {
			return err
		}
		opts.ID = id
		return nil
	}, cmdutil.RunOrTest(opts, runF, showRun))
}

func showRun(ctx context.Context, opts *ShowOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	a, err := client.App(ctx, opts.ID)
	if err != nil {
		return appError(err, opts.ID, "reading app "+opts.ID)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, a)
	}
	steps := map[string]string{}
	if len(a.Deployments) > 0 {
		deps, err := client.Deployments(ctx)
		if err != nil {
			return appError(err, opts.ID, "reading the deployments of app "+opts.ID)
		}
		for _, d := range deps {
			steps[d.ID] = fmt.Sprintf("step %d/%d %s", d.CurrentStep, d.TotalSteps, action(d))
		}
	}
	return printApp(opts.IO.Out, a, steps, output.Now(opts.Now))
}

// action is the action of a deployment's current step.
func action(d marathon.Deployment) string {
	var acts []string
	for _, a := range d.CurrentActions {
		if !slices.Contains(acts, a.Action) {
			acts = append(acts, a.Action)
		}
	}
	return strings.Join(acts, ",")
}

func printApp(w io.Writer, a marathon.AppStatus, steps map[string]string, now time.Time) error {
	fs := output.NewFields(w)
	fs.Field("ID", a.ID)
	fs.Field("Command", Command(a.App))
	n := InstancesOf(a.App)
	inst := fmt.Sprintf("%d/%d running", a.TasksRunning, n)
	if a.TasksStaged > 0 {
		inst += fmt.Sprintf(", %d staged", a.TasksStaged)
	}
	if len(a.HealthChecks) > 0 {
		inst += fmt.Sprintf(", %d healthy, %d unhealthy", a.TasksHealthy, a.TasksUnhealthy)
	}
	fs.Field("Instances", inst)
	fs.Field("Resources", Resources(a.App))
	fs.Field("Version", when(a.Version, now))
	fs.Field("Ports", ports(a.PortDefinitions))
	fs.Field("Health checks", healthChecks(a.HealthChecks))
	if len(a.Constraints) > 0 {
		cs := make([]string, len(a.Constraints))
		for i, c := range a.Constraints {
			cs[i] = strings.Join(c, ":")
		}
		fs.Field("Constraints", strings.Join(cs, ", "))
	}
	if len(a.Labels) > 0 {
		fs.Field("Labels", keyValues(a.Labels))
	}
	if a.Role != "" {
		fs.Field("Role", a.Role)
	}
	if len(a.Dependencies) > 0 {
		fs.Field("Dependencies", strings.Join(a.Dependencies, ", "))
	}
	var deps []string
	for _, d := range a.Deployments {
		if s := steps[d.ID]; s != "" {
			deps = append(deps, d.ID+" ("+strings.TrimSpace(s)+")")
		} else {
			deps = append(deps, d.ID)
		}
	}
	fs.Field("Deployments", strings.Join(deps, ", "))
	if f := a.LastTaskFailure; f != nil {
		msg := fmt.Sprintf("%s %s on %s, task %s", f.State, when(f.Timestamp, now), f.Host, f.TaskID)
		if f.Message != "" {
			msg += ": " + f.Message
		}
		fs.Field("Last task failure", msg)
	}
	if err := fs.Flush(); err != nil {
		return fmt.Errorf("writing app: %w", err)
	}

	fmt.Fprintln(w)
	if len(a.Tasks) == 0 {
		_, err := fmt.Fprintln(w, "No tasks.")
		return err
	}
	t := output.NewTable(w, "ID", "HOST", "PORTS", "STATE", "HEALTHY", "STARTED")
	for _, tk := range a.Tasks {
		started := ""
		if s := Age(tk.StartedAt, now); s != "" {
			started = s + " ago"
		}
		t.Row(tk.ID, tk.Host, output.Ints(tk.Ports), tk.State, taskHealth(tk), started)
	}
	return t.Flush()
}

// Resources prints an instance's resources: "cpus 0.5 · mem 128 MiB".
func Resources(a marathon.App) string {
	var parts []string
	if a.CPUs != nil {
		parts = append(parts, "cpus "+output.OptionalFloat(a.CPUs))
	}
	if a.GPUs != nil && *a.GPUs > 0 {
		parts = append(parts, "gpus "+strconv.Itoa(*a.GPUs))
	}
	if a.Mem != nil {
		parts = append(parts, "mem "+output.OptionalMem(a.Mem))
	}
	if a.Disk != nil && *a.Disk > 0 {
		parts = append(parts, "disk "+output.OptionalMem(a.Disk))
	}
	return strings.Join(parts, " · ")
}

// ports prints port definitions: "0/tcp (http), 8080/udp" (0 is dynamic).
func ports(pds []marathon.PortDefinition) string {
	var parts []string
	for _, p := range pds {
		s := strconv.Itoa(p.Port)
		if p.Port == 0 {
			s = "dynamic"
		}
		if p.Protocol != "" {
			s += "/" + p.Protocol
		}
		if p.Name != "" {
			s += " (" + p.Name + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// healthChecks prints health checks: "HTTP /health on port index 0".
func healthChecks(hcs []marathon.HealthCheck) string {
	var parts []string
	for _, h := range hcs {
		s := h.Protocol
		switch {
		case h.Command != nil:
			s += " " + strconv.Quote(h.Command.Value)
		case h.Path != "":
			s += " " + h.Path
		}
		switch {
		case h.Port != nil:
			s += " on port " + strconv.Itoa(*h.Port)
		case h.PortIndex != nil && h.Command == nil:
			s += " on port index " + strconv.Itoa(*h.PortIndex)
		}
		if h.IntervalSeconds != nil {
			s += " every " + strconv.FormatFloat(*h.IntervalSeconds, 'f', -1, 64) + "s"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func keyValues(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		keys[i] = k + "=" + m[k]
	}
	return strings.Join(keys, ", ")
}

// taskHealth is yes when every health check passes, no when one fails, -
// without results.
func taskHealth(t marathon.Task) string {
	if len(t.HealthCheckResults) == 0 {
		return ""
	}
	for _, r := range t.HealthCheckResults {
		if !r.Alive {
			return "no"
		}
	}
	return "yes"
}

// parseTime reads a Marathon timestamp.
func parseTime(ts string) (time.Time, bool) {
	for _, layout := range []string{marathon.TimestampLayout, time.RFC3339Nano} {
		if t, err := time.Parse(layout, ts); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// Age prints how old a Marathon timestamp is: "5m" ("" when it is not one).
func Age(ts string, now time.Time) string {
	t, ok := parseTime(ts)
	if !ok {
		return ""
	}
	return output.Age(now.Sub(t))
}

// when prints a Marathon timestamp with its age: "2025-03-01T12:00:00.000Z
// (5m ago)".
func when(ts string, now time.Time) string {
	if a := Age(ts, now); a != "" {
		return ts + " (" + a + " ago)"
	}
	return ts
}
