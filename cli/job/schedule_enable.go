package job

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
)

// ScheduleEnableOptions are the inputs of "cairn job schedule enable" and
// "disable".
type ScheduleEnableOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for "in 4m" (time.Now when nil).
	Now func() time.Time

	JobID      string
	ScheduleID string
	Enable     bool
}

// NewCmdScheduleEnable returns "cairn job schedule enable" (enable true)
// or "disable". runF replaces the run function in tests (nil runs
// scheduleEnableRun).
func NewCmdScheduleEnable(f *cmdutil.Factory, enable bool, runF func(context.Context, *ScheduleEnableOptions) error) *cobra.Command {
	opts := &ScheduleEnableOptions{IO: f.IOStreams, APIClient: f.APIClient, Enable: enable}
	verb, short, long := "enable", "Let a schedule start runs again",
		"Enable a schedule: it starts runs again, from its next instant on (the\ninstants it missed while disabled start nothing)."
	if !enable {
		verb, short, long = "disable", "Stop a schedule from starting runs, keeping it",
			"Disable a schedule: it starts no runs until enabled again (runs it started go\non). The job can still be run with cairn job run."
	}
	cmd := &cobra.Command{
		Use:     verb + " ID SCHEDULE-ID",
		Short:   short,
		Long:    long,
		Example: "  cairn job schedule " + verb + " prod.reports.daily nightly",
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
			return scheduleEnableRun(cmd.Context(), opts)
		},
	}
	return cmd
}

func scheduleEnableRun(ctx context.Context, opts *ScheduleEnableOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	id, sid := opts.JobID, opts.ScheduleID
	verb := "enabling"
	if !opts.Enable {
		verb = "disabling"
	}
	s, err := client.JobSchedule(ctx, id, sid)
	if err == nil {
		enabled := opts.Enable
		s.Enabled, s.NextRunAt = &enabled, nil
		s, err = client.UpdateSchedule(ctx, id, s)
	}
	if err != nil {
		if apiclient.JobErrorStatus(err) == http.StatusNotFound {
			return missing(ctx, client, err, id, "schedule "+sid, "see its schedules with cairn job schedule list "+id)
		}
		return jobError(err, id, verb+" schedule "+sid+" of job "+id)
	}
	if !opts.Enable {
		_, err = fmt.Fprintf(opts.IO.Out, "Disabled schedule %s of job %s\n", output.Clean(sid), id)
		return err
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Enabled schedule %s of job %s: %s\n", output.Clean(sid), id, nextRunText(s, nowOf(opts.Now)))
	return err
}
