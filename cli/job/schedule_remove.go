package job

import (
	"context"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
)

// ScheduleRemoveOptions are the inputs of "cairn job schedule remove".
type ScheduleRemoveOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)

	JobID      string
	ScheduleID string
}

// NewCmdScheduleRemove returns "cairn job schedule remove". runF replaces
// the run function in tests (nil runs scheduleRemoveRun).
func NewCmdScheduleRemove(f *cmdutil.Factory, runF func(context.Context, *ScheduleRemoveOptions) error) *cobra.Command {
	opts := &ScheduleRemoveOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "remove ID SCHEDULE-ID",
		Aliases: []string{"rm", "delete"},
		Short:   "Remove a schedule from a job",
		Long: "Remove a schedule from a job: it starts no more runs (runs it started go on).\n" +
			"The job stays, and can still be run with cairn job run.",
		Example: "  cairn job schedule remove prod.reports.daily nightly",
		Args:    cmdutil.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseJobID(args[0])
			if err != nil {
				return err
			}
			opts.JobID = id
			if opts.ScheduleID, err = parseSegment("schedule id", args[1]); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return scheduleRemoveRun(cmd.Context(), opts)
		},
	}
	return cmd
}

func scheduleRemoveRun(ctx context.Context, opts *ScheduleRemoveOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	id, sid := opts.JobID, opts.ScheduleID
	if err := client.RemoveSchedule(ctx, id, sid); err != nil {
		if apiclient.JobErrorStatus(err) == http.StatusNotFound {
			return missing(ctx, client, err, id, "schedule "+sid, "see its schedules with cairn job schedule list "+id)
		}
		return jobError(err, id, "removing schedule "+sid+" from job "+id)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Removed schedule %s from job %s\n", sid, id)
	return err
}
