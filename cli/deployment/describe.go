package deployment

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
)

// DescribeOptions are the inputs of "cairn deployment describe".
type DescribeOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for "5m ago" (time.Now when nil).
	Now func() time.Time

	ID   string
	JSON bool
}

// NewCmdDescribe returns "cairn deployment describe". runF replaces the
// run function in tests (nil runs describeRun).
func NewCmdDescribe(f *cmdutil.Factory, runF func(context.Context, *DescribeOptions) error) *cobra.Command {
	opts := &DescribeOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "describe DEPLOYMENT",
		Aliases: []string{"show"},
		Short:   "Show a deployment in progress, step by step",
		Long: "Show a deployment the services framework is carrying out: the apps it\n" +
			"changes, every step with its actions (the current one marked), the\n" +
			"readiness of the current actions' tasks, and why it waits, when it does.",
		Example: "  cairn deployment describe 01m8as42-5x1n-s0gr-hzzr-dedp35\n" +
			"  cairn deployment describe 01m8as42-5x1n-s0gr-hzzr-dedp35 --json | jq .currentStep",
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the deployment as JSON (an item of Marathon's /v2/deployments)")
	return cmdutil.OneArg(cmd, cmdutil.CompleteArgs(f, 1, Candidates), func(arg string) error {
		id, err := parseID(arg)
		if err != nil {
			return err
		}
		opts.ID = id
		return nil
	}, cmdutil.RunOrTest(opts, runF, describeRun))
}

// Candidates completes the ids of the deployments in progress.
func Candidates(ctx context.Context, c *apiclient.Client) ([]cobra.Completion, error) {
	deps, err := c.Deployments(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]cobra.Completion, 0, len(deps))
	for _, d := range deps {
		out = append(out, cobra.CompletionWithDesc(d.ID, strings.Join(d.AffectedApps, ",")))
	}
	return out, nil
}

func describeRun(ctx context.Context, opts *DescribeOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	deps, err := client.Deployments(ctx)
	if err != nil {
		return ServiceError("listing deployments", err)
	}
	var d *marathon.Deployment
	for i := range deps {
		if deps[i].ID == opts.ID {
			d = &deps[i]
		}
	}
	if d == nil {
		return notInProgress(opts.ID)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, d)
	}
	if d.Waiting == "" {
		// A framework older than Deployment.Waiting: ask the launch queue.
		if waiting, err := queueWaiting(ctx, client, []marathon.Deployment{*d}); err == nil {
			var why []string
			for _, app := range d.AffectedApps {
				if w := waiting[app]; w != "" {
					why = append(why, w)
				}
			}
			d.Waiting = strings.Join(why, "; ")
		}
	}
	return printDeployment(opts.IO.Out, *d, output.Now(opts.Now))
}

func printDeployment(w io.Writer, d marathon.Deployment, now time.Time) error {
	fs := output.NewFields(w)
	fs.Field("ID", d.ID)
	fs.Field("Apps", strings.Join(d.AffectedApps, ", "))
	started := d.Version
	if t, ok := parseTimestamp(d.Version); ok {
		started = output.Time(t, now)
	}
	fs.Field("Started", started)
	fs.Field("Step", strconv.Itoa(d.CurrentStep)+"/"+strconv.Itoa(d.TotalSteps))
	fs.Field("Action", currentAction(d))
	fs.Field("Waiting", d.Waiting)
	if err := fs.Flush(); err != nil {
		return fmt.Errorf("writing deployment: %w", err)
	}
	if len(d.Steps) > 0 {
		fmt.Fprintln(w)
		t := output.NewTable(w, "STEP", "ACTION", "APP", "STATUS")
		for i, s := range d.Steps {
			status := "pending"
			switch {
			case i+1 < d.CurrentStep:
				status = "done"
			case i+1 == d.CurrentStep:
				status = "current"
			}
			for _, a := range s.Actions {
				t.Row(strconv.Itoa(i+1), a.Action, a.App, status)
			}
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	var checks [][]string
	for _, a := range d.CurrentActions {
		for _, r := range a.ReadinessCheckResults {
			checks = append(checks, []string{a.App, r.TaskID, r.Name, output.YesNo(r.Ready)})
		}
	}
	if len(checks) > 0 {
		fmt.Fprintln(w)
		t := output.NewTable(w, "APP", "TASK", "READINESS CHECK", "READY")
		for _, c := range checks {
			t.Row(c...)
		}
		return t.Flush()
	}
	return nil
}

// parseTimestamp reads a Marathon timestamp.
func parseTimestamp(ts string) (time.Time, bool) {
	for _, layout := range []string{marathon.TimestampLayout, time.RFC3339Nano} {
		if t, err := time.Parse(layout, ts); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
