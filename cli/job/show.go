package job

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

// ShowOptions are the inputs of "cairn job show".
type ShowOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for "(in 5h)" (time.Now when nil).
	Now func() time.Time

	ID   string
	JSON bool
}

// showRecentRuns is how many finished runs show lists.
const showRecentRuns = 5

// NewCmdShow returns "cairn job show". runF replaces the run function in
// tests (nil runs showRun).
func NewCmdShow(f *cmdutil.Factory, runF func(context.Context, *ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "show ID",
		Aliases: []string{"describe"},
		Short:   "Show a job's definition, schedules and runs",
		Long: "Show a job: its description, labels, command, resources, restart policy, its\n" +
			"schedules and their next runs (or the parents it runs after), the jobs that\n" +
			"run after it, its active runs, its last runs and how many succeeded, failed\n" +
			"or were skipped. Times are RFC 3339, in UTC.",
		Example: "  cairn job show prod.reports.daily\n" +
			"  cairn job show prod.reports.daily --json > job.json  # edit, then cairn job update job.json",
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the job as JSON (GET /v1/jobs/<id>?embed=activeRuns,schedules,historySummary,history)")
	return cmdutil.OneArg(cmd, cmdutil.CompleteArgs(f, 1, Candidates), func(arg string) error {
		id, err := parseJobID(arg)
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
	j, err := client.Job(ctx, opts.ID, cronapi.EmbedActiveRuns, cronapi.EmbedSchedules, cronapi.EmbedHistorySummary, cronapi.EmbedHistory)
	if err != nil {
		return jobError(err, opts.ID, "reading job "+opts.ID)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, j)
	}
	deps, err := client.JobDependencies(ctx, opts.ID)
	if err != nil {
		return jobError(err, opts.ID, "reading the dependencies of job "+opts.ID)
	}
	return printJob(opts.IO.Out, j, deps, nowOf(opts.Now))
}

func printJob(w io.Writer, j cronapi.Job, deps cronapi.Dependencies, now time.Time) error {
	fs := output.NewFields(w)
	r := j.Run
	fs.Field("ID", j.ID)
	fs.Field("Description", j.Description)
	if len(j.Labels) > 0 {
		fs.Field("Labels", keyValues(j.Labels))
	}
	fs.Field("Command", Command(r))
	fs.Field("Resources", RunResources(r))
	if len(r.Env) > 0 {
		fs.Field("Environment", strings.Join(sortedKeys(r.Env), ", ")+" (values with --json)")
	}
	if len(r.Artifacts) > 0 {
		fs.Field("Artifacts", artifacts(r.Artifacts))
	}
	if r.Placement != nil && len(r.Placement.Constraints) > 0 {
		fs.Field("Constraints", constraints(r.Placement.Constraints))
	}
	if r.User != "" {
		fs.Field("User", r.User)
	}
	fs.Field("Restart", restartPolicy(r.Restart))
	if r.MaxLaunchDelay > 0 {
		fs.Field("Max launch delay", seconds(r.MaxLaunchDelay))
	}
	if r.TaskKillGracePeriodSeconds > 0 {
		fs.Field("Kill grace period", duration(time.Duration(r.TaskKillGracePeriodSeconds*float64(time.Second))))
	}
	parents := deps.Parents
	if len(parents) == 0 {
		parents = j.Parents
	}
	if len(parents) > 0 {
		fs.Field("Runs after", strings.Join(parents, ", "))
	}
	if len(deps.Children) > 0 {
		fs.Field("Runs before", strings.Join(deps.Children, ", "))
	}
	summary := j.HistorySummary
	if summary == nil && j.History != nil {
		summary = &j.History.HistorySummary
	}
	if summary != nil {
		fs.Field("Runs", fmt.Sprintf("%d succeeded, %d failed, %d skipped", summary.SuccessCount, summary.FailureCount, summary.SkippedCount))
		fs.Field("Last success", optTimestamp(summary.LastSuccessAt, now))
		fs.Field("Last failure", optTimestamp(summary.LastFailureAt, now))
	}
	if err := fs.Flush(); err != nil {
		return fmt.Errorf("writing job: %w", err)
	}

	if len(parents) == 0 {
		fmt.Fprintln(w)
		if len(j.Schedules) == 0 {
			fmt.Fprintf(w, "No schedules (add one with cairn job schedule add %s --cron '...').\n", j.ID)
		} else {
			fmt.Fprintln(w, "Schedules:")
			if err := scheduleTable(w, j.Schedules, func(t *time.Time) string { return optTimestamp(t, now) }); err != nil {
				return err
			}
		}
	}

	fmt.Fprintln(w)
	if len(j.ActiveRuns) == 0 {
		fmt.Fprintln(w, "No active runs.")
	} else {
		fmt.Fprintln(w, "Active runs:")
		t := output.NewTable(w, "ID", "TRIGGER", "STATUS", "CREATED", "TASK", "MESSAGE")
		for _, run := range j.ActiveRuns {
			task := ""
			if tk, ok := lastTask(run); ok {
				task = tk.ID + " " + tk.Status
			}
			t.Row(run.ID, run.Trigger, run.Status, timestamp(run.CreatedAt, now), task, run.Message)
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}

	if j.History != nil {
		rows := historyRows(j.History, nil)
		if len(rows) > 0 {
			fmt.Fprintln(w)
			fmt.Fprintln(w, "Last runs:")
			if len(rows) > showRecentRuns {
				rows = rows[:showRecentRuns]
			}
			t := output.NewTable(w, "ID", "TRIGGER", "STATUS", "STARTED", "DURATION", "EXIT")
			for _, row := range rows {
				t.Row(row.id, row.trigger, row.status, timestamp(row.created, now), row.duration(), row.exit)
			}
			if err := t.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(w, "(all of them with cairn job history %s)\n", j.ID)
		}
	}
	return nil
}

// scheduleTable prints schedules, their next runs as next says.
func scheduleTable(w io.Writer, ss []cronapi.Schedule, next func(*time.Time) string) error {
	t := output.NewTable(w, "ID", "SCHEDULE", "TIMEZONE", "CONCURRENCY", "DEADLINE", "ENABLED", "NEXT RUN")
	for _, s := range ss {
		spec := s.Cron
		if spec == "" {
			spec = s.Interval
		}
		deadline := seconds(s.StartingDeadlineSeconds)
		if deadline == "" {
			deadline = s.Epsilon
		}
		nextRun := ""
		if s.IsEnabled() {
			nextRun = next(s.NextRunAt)
		}
		t.Row(s.ID, spec, timeZone(s), s.ConcurrencyPolicy, deadline, output.YesNo(s.IsEnabled()), nextRun)
	}
	return t.Flush()
}

// artifacts prints artifacts: "https://x/a.tgz (executable, cached)".
func artifacts(as []cronapi.Artifact) string {
	parts := make([]string, 0, len(as))
	for _, a := range as {
		var flags []string
		if a.Executable {
			flags = append(flags, "executable")
		}
		if a.Extract != nil && !*a.Extract {
			flags = append(flags, "not extracted")
		}
		if a.Cache {
			flags = append(flags, "cached")
		}
		s := a.URI
		if len(flags) > 0 {
			s += " (" + strings.Join(flags, ", ") + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// constraints prints placement constraints: "hostname:UNIQUE, rack:LIKE:r1".
func constraints(cs []cronapi.Constraint) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		s := c.Attribute + ":" + c.Operator
		if c.Value != "" {
			s += ":" + c.Value
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}
