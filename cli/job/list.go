package job

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

// ListOptions are the inputs of "cairn job list".
type ListOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for "3m ago" and "in 42s" (time.Now when
	// nil).
	Now func() time.Time

	JSON bool
}

// maxSchedulesWidth bounds the SCHEDULES column.
const maxSchedulesWidth = 60

// NewCmdList returns "cairn job list". runF replaces the run function in
// tests (nil runs listRun).
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List jobs",
		Long: "List the jobs of the cron framework: their schedules (or the parents they run\n" +
			"after), how many runs are active, how the last run ended and when the next\n" +
			"one is due.",
		Example: "  cairn job list\n" +
			"  cairn job list --json | jq -r '.[] | select(.activeRuns | length > 0) | .id'",
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the jobs as a JSON array (GET /v1/jobs?embed=activeRuns,schedules,historySummary)")
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	jobs, err := client.Jobs(ctx, cronapi.EmbedActiveRuns, cronapi.EmbedSchedules, cronapi.EmbedHistorySummary)
	if err != nil {
		return apiError(err, "listing jobs")
	}
	slices.SortFunc(jobs, func(a, b cronapi.Job) int { return strings.Compare(a.ID, b.ID) })
	if opts.JSON {
		return output.JSON(opts.IO.Out, jobs)
	}
	if len(jobs) == 0 {
		_, err := fmt.Fprintln(opts.IO.Out, "No jobs (add one with cairn job add FILE).")
		return err
	}
	now := nowOf(opts.Now)
	t := output.NewTable(opts.IO.Out, "ID", "SCHEDULES", "STATUS", "LAST RUN", "NEXT RUN")
	for _, j := range jobs {
		next := ""
		if n := NextRun(j.Schedules); n != nil {
			next = relative(*n, now)
		}
		t.Row(j.ID, output.Truncate(output.Clean(Schedules(j, true)), maxSchedulesWidth), activeStatus(j.ActiveRuns), lastRun(j.HistorySummary, now), next)
	}
	return t.Flush()
}

// activeStatus prints how many runs of a job are active: "idle", "1 active".
func activeStatus(runs []cronapi.Run) string {
	if len(runs) == 0 {
		return "idle"
	}
	return fmt.Sprintf("%d active", len(runs))
}

// lastRun prints how a job's last finished run ended: "SUCCESS 3m ago"
// ("" when none has).
func lastRun(h *cronapi.HistorySummary, now time.Time) string {
	if h == nil {
		return ""
	}
	s, f := h.LastSuccessAt, h.LastFailureAt
	switch {
	case s != nil && (f == nil || !f.After(*s)):
		return cronapi.RunSuccess + " " + relative(*s, now)
	case f != nil:
		return cronapi.RunFailed + " " + relative(*f, now)
	}
	return ""
}
