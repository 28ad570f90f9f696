package deployment

import (
	"context"
	"fmt"
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

// ListOptions are the inputs of "cairn deployment list".
type ListOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for AGE (time.Now when nil).
	Now func() time.Time

	JSON bool
}

// maxWaitingWidth bounds the WAITING column.
const maxWaitingWidth = 60

// NewCmdList returns "cairn deployment list". runF replaces the run
// function in tests (nil runs listRun).
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the deployments in progress",
		Long: "List the deployments the services framework is carrying out: the apps they\n" +
			"change, their current step and action, and, when one cannot progress, why\n" +
			"(WAITING: no matching offers, back-off after failed tasks, a dependency not\n" +
			"healthy yet).",
		Example: "  cairn deployment list\n" +
			"  cairn deployment list --json | jq -r '.[].id'",
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the deployments as a JSON array (Marathon's /v2/deployments)")
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	deps, err := client.Deployments(ctx)
	if err != nil {
		return ServiceError("listing deployments", err)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, deps)
	}
	if len(deps) == 0 {
		_, err := fmt.Fprintln(opts.IO.Out, "No deployments in progress.")
		return err
	}
	waiting, err := queueWaiting(ctx, client, deps)
	if err != nil {
		return err
	}
	now := output.Now(opts.Now)
	t := output.NewTable(opts.IO.Out, "ID", "APPS", "ACTION", "STEP", "WAITING", "AGE")
	for _, d := range deps {
		why := []string{d.Waiting}
		if d.Waiting == "" {
			why = nil
			for _, app := range d.AffectedApps {
				if w := waiting[app]; w != "" {
					why = append(why, w)
				}
			}
		}
		t.Row(
			d.ID,
			strings.Join(d.AffectedApps, ","),
			currentAction(d),
			strconv.Itoa(d.CurrentStep)+"/"+strconv.Itoa(d.TotalSteps),
			output.Truncate(strings.Join(why, "; "), maxWaitingWidth),
			age(d.Version, now),
		)
	}
	return t.Flush()
}

// queueWaiting is the launch queue's reason why each app cannot get its
// instances, for the deployments that do not say why they wait
// themselves (a framework older than Deployment.Waiting).
func queueWaiting(ctx context.Context, client *apiclient.Client, deps []marathon.Deployment) (map[string]string, error) {
	waiting := map[string]string{}
	if !slices.ContainsFunc(deps, func(d marathon.Deployment) bool { return d.Waiting == "" }) {
		return waiting, nil
	}
	queue, err := client.Queue(ctx)
	if err != nil {
		return nil, ServiceError("reading the launch queue", err)
	}
	for _, q := range queue {
		if q.Waiting != "" {
			waiting[q.App.ID] = q.Waiting
		}
	}
	return waiting, nil
}

// age prints how old a Marathon timestamp is ("" when it is not one).
func age(ts string, now time.Time) string {
	t, err := time.Parse(marathon.TimestampLayout, ts)
	if err != nil {
		if t, err = time.Parse(time.RFC3339Nano, ts); err != nil {
			return ""
		}
	}
	return output.Age(now.Sub(t))
}
