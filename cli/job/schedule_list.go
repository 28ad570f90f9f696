package job

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
)

// ScheduleListOptions are the inputs of "cairn job schedule list".
type ScheduleListOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for "in 42s" (time.Now when nil).
	Now func() time.Time

	JobID string
	JSON  bool
}

// NewCmdScheduleList returns "cairn job schedule list". runF replaces the
// run function in tests (nil runs scheduleListRun).
func NewCmdScheduleList(f *cmdutil.Factory, runF func(context.Context, *ScheduleListOptions) error) *cobra.Command {
	opts := &ScheduleListOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "list ID",
		Aliases: []string{"ls"},
		Short:   "List a job's schedules",
		Long: "List a job's schedules: when each fires (cron expression or interval, time\n" +
			"zone), its concurrency policy and starting deadline, and when it fires next.",
		Example: "  cairn job schedule list prod.reports.daily\n" +
			"  cairn job schedule list prod.reports.daily --json | jq -r '.[].nextRunAt'",
		Args:              cmdutil.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompleteArgs(f, 1, Candidates),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseJobID(args[0])
			if err != nil {
				return err
			}
			opts.JobID = id
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return scheduleListRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the schedules as a JSON array (GET /v1/jobs/<id>/schedules)")
	return cmd
}

func scheduleListRun(ctx context.Context, opts *ScheduleListOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	id := opts.JobID
	ss, err := client.JobSchedules(ctx, id)
	if err != nil {
		return jobError(err, id, "listing the schedules of job "+id)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, ss)
	}
	if len(ss) == 0 {
		_, err := fmt.Fprintf(opts.IO.Out, "Job %s has no schedules (add one with cairn job schedule add %s --cron '...').\n", id, id)
		return err
	}
	now := nowOf(opts.Now)
	return scheduleTable(opts.IO.Out, ss, func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return relative(*t, now)
	})
}
