package job

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

// ScheduleAddOptions are the inputs of "cairn job schedule add".
type ScheduleAddOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for "in 4m" (time.Now when nil).
	Now func() time.Time

	JobID string
	// File is the schedule's path ("-" reads the standard input); ""
	// means the flags give Schedule.
	File     string
	Schedule cronapi.Schedule
	JSON     bool
}

// defaultScheduleID is --id's default.
const defaultScheduleID = "default"

// scheduleFlags are the flags that give a schedule without a file.
var scheduleFlags = []string{"cron", "interval", "id", "timezone", "concurrency", "starting-deadline"}

// NewCmdScheduleAdd returns "cairn job schedule add". runF replaces the run
// function in tests (nil runs scheduleAddRun).
func NewCmdScheduleAdd(f *cmdutil.Factory, runF func(context.Context, *ScheduleAddOptions) error) *cobra.Command {
	opts := &ScheduleAddOptions{IO: f.IOStreams, APIClient: f.APIClient}
	var (
		concurrency string
		deadline    time.Duration
	)
	cmd := &cobra.Command{
		Use:     "add ID [FILE] [--cron EXPR | --interval R/START/PERIOD] [flags]",
		Aliases: []string{"create"},
		Short:   "Add a schedule to a job",
		Long: "Add a schedule to a job: from a JSON file (or - for the standard input), such as\n" +
			"  " + exampleSchedule + "\n" +
			"or from flags: --cron or --interval, with --id (default \"" + defaultScheduleID + "\"), --timezone\n" +
			"(an IANA zone, default UTC), --concurrency and --starting-deadline.\n" +
			"It prints when the schedule starts the job next. A job that runs after parents\n" +
			"cannot have schedules.",
		Example: "  cairn job schedule add prod.reports.daily --cron '*/5 * * * *'\n" +
			"  cairn job schedule add prod.reports.daily --id nightly --cron '0 2 * * *' --timezone Europe/Paris --concurrency forbid\n" +
			"  cairn job schedule add prod.sync --id six-hourly --interval R/2026-12-01T00:00:00Z/PT6H --starting-deadline 5m\n" +
			"  cairn job schedule add prod.reports.daily nightly.json",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return cmdutil.UsageErrorf("give the job's id, and a schedule FILE or --cron/--interval: %s ID [FILE]", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseJobID(args[0])
			if err != nil {
				return err
			}
			opts.JobID = id
			fl := cmd.Flags()
			changed := slices.DeleteFunc(slices.Clone(scheduleFlags), func(name string) bool { return !fl.Changed(name) })
			s := &opts.Schedule
			switch {
			case len(args) == 2 && len(changed) > 0:
				return cmdutil.UsageErrorf("the schedule is in %s: give it there, without --%s", args[1], strings.Join(changed, ", --"))
			case len(args) == 2:
				opts.File = args[1]
			case s.Cron == "" && s.Interval == "":
				return cmdutil.UsageErrorf("say when the job runs: --cron '*/5 * * * *' or --interval R/2026-12-01T00:00:00Z/PT6H (or give a schedule FILE)")
			case s.Cron != "" && s.Interval != "":
				return cmdutil.UsageErrorf("--cron and --interval are two kinds of schedule: give only one of them")
			}
			if opts.File == "" {
				if s.ID, err = parseSegment("--id", s.ID); err != nil {
					return err
				}
				s.TimeZone = strings.TrimSpace(s.TimeZone)
				if concurrency != "" {
					s.ConcurrencyPolicy = strings.ToUpper(strings.TrimSpace(concurrency))
					switch s.ConcurrencyPolicy {
					case cronapi.ConcurrencyAllow, cronapi.ConcurrencyForbid, cronapi.ConcurrencyReplace:
					default:
						return cmdutil.UsageErrorf("--concurrency %q: use ALLOW, FORBID or REPLACE", concurrency)
					}
				}
				if fl.Changed("starting-deadline") {
					if deadline < time.Second || deadline%time.Second != 0 {
						return cmdutil.UsageErrorf("--starting-deadline %s: give whole seconds, at least 1s (e.g. 60s, 15m)", deadline)
					}
					s.StartingDeadlineSeconds = int(deadline / time.Second)
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return scheduleAddRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Schedule.Cron, "cron", "", "a 5-field cron `expression` (minute hour day-of-month month day-of-week), or @hourly, @daily ...")
	fl.StringVar(&opts.Schedule.Interval, "interval", "", "an ISO 8601 repeating `interval` R[n]/start/period, e.g. R/2026-12-01T00:00:00Z/PT6H")
	fl.StringVar(&opts.Schedule.ID, "id", defaultScheduleID, "the schedule's `id` in the job")
	fl.StringVar(&opts.Schedule.TimeZone, "timezone", "", "the IANA time `zone` the cron expression is read in, e.g. Europe/Paris (default UTC)")
	fl.StringVar(&concurrency, "concurrency", "", "`policy` when the previous run is still active: ALLOW (default), FORBID (skip) or REPLACE (stop it)")
	fl.DurationVar(&deadline, "starting-deadline", 0, "skip an instant whose run has not started within this `duration` of it, e.g. 60s (default 15m)")
	fl.BoolVar(&opts.JSON, "json", false, "print the cron framework's answer (the schedule as added) as JSON")
	return cmd
}

func scheduleAddRun(ctx context.Context, opts *ScheduleAddOptions) error {
	s, subject := opts.Schedule, "the schedule"
	fix := "correct it and add it again"
	if opts.File != "" {
		var source string
		var err error
		if s, source, err = readSchedule(opts.File, opts.IO.In); err != nil {
			return err
		}
		subject, fix = "the schedule in "+source, "correct the schedule in "+source+" and add it again"
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	id := opts.JobID
	added, err := client.AddSchedule(ctx, id, s)
	if err != nil {
		if ierr := invalid(opts.IO.ErrOut, err, subject, "schedule "+s.ID+" of job "+id, fix); ierr != nil {
			return ierr
		}
		if apiclient.JobErrorStatus(err) == http.StatusConflict {
			return cmdutil.Hintf(err, "schedule %s cannot be added to job %s: %s (see cairn job schedule list %s)", s.ID, id, frameworkMessage(err), id)
		}
		return jobError(err, id, "adding schedule "+s.ID+" to job "+id)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, added)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Added schedule %s (%s) to job %s: %s\n", output.Clean(added.ID), output.Clean(ScheduleSpec(added)), id, nextRunText(added, nowOf(opts.Now)))
	return err
}
