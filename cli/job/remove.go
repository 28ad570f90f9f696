package job

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

// RemoveOptions are the inputs of "cairn job remove".
type RemoveOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	promptOptions

	ID       string
	StopRuns bool
}

// NewCmdRemove returns "cairn job remove". runF replaces the run function
// in tests (nil runs removeRun).
func NewCmdRemove(f *cmdutil.Factory, runF func(context.Context, *RemoveOptions) error) *cobra.Command {
	opts := &RemoveOptions{IO: f.IOStreams, APIClient: f.APIClient}
	opts.InIsTerminal = cmdutil.IsTerminalInput(f.IOStreams.In)
	cmd := &cobra.Command{
		Use:     "remove ID",
		Aliases: []string{"rm", "delete"},
		Short:   "Remove a job, its schedules and its history",
		Long: "Remove a job with its schedules and history. A job with active runs is kept\n" +
			"unless --stop-runs stops them first.\n\n" +
			"You are asked to confirm; pass --yes to skip the question (required when the\n" +
			"standard input is not a terminal).",
		Example: "  cairn job remove prod.reports.daily\n" +
			"  cairn job rm prod.reports.daily --stop-runs --yes",
		Args:              cmdutil.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompleteArgs(f, 1, Candidates),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseJobID(args[0])
			if err != nil {
				return err
			}
			opts.ID = id
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return removeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.StopRuns, "stop-runs", false, "stop the job's active runs, then remove it")
	opts.promptOptions.addFlags(cmd)
	return cmd
}

func removeRun(ctx context.Context, opts *RemoveOptions) error {
	id := opts.ID
	if err := opts.check("removing job " + id); err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	// What goes (and whether it exists, and runs) before asking.
	j, err := client.Job(ctx, id, cronapi.EmbedActiveRuns, cronapi.EmbedSchedules)
	if err != nil {
		return jobError(err, id, "reading job "+id)
	}
	if len(j.ActiveRuns) > 0 && !opts.StopRuns {
		return activeRunsError(nil, id, j.ActiveRuns)
	}
	if !opts.Yes {
		what := []string{plural(len(j.Schedules), "schedule")}
		if len(j.Parents) > 0 {
			what = []string{"runs after " + strings.Join(j.Parents, ", ")}
		}
		if len(j.ActiveRuns) > 0 {
			what = append(what, plural(len(j.ActiveRuns), "active run")+" to stop")
		}
		fmt.Fprintf(opts.IO.ErrOut, "Job %s (%s) will be removed, with its history.\n", id, strings.Join(what, ", "))
	}
	if err := opts.confirm(opts.IO.In, opts.IO.ErrOut, "Remove job "+id+"?", "job "+id+" not removed"); err != nil {
		return err
	}
	if _, err := client.RemoveJob(ctx, id, opts.StopRuns); err != nil {
		if apiclient.JobErrorStatus(err) == http.StatusConflict {
			// Runs started since (--stop-runs stops them), or jobs that
			// run after this one (their parents must change first)?
			if runs, rerr := client.JobRuns(ctx, id); rerr == nil && len(runs) > 0 && !opts.StopRuns {
				return activeRunsError(err, id, runs)
			}
			return cmdutil.Hintf(err, "job %s cannot be removed: %s", id, frameworkMessage(err))
		}
		return jobError(err, id, "removing job "+id)
	}
	msg := "Removed job " + id
	if opts.StopRuns && len(j.ActiveRuns) > 0 {
		msg += " (its active runs are stopped)"
	}
	_, err = fmt.Fprintln(opts.IO.Out, msg)
	return err
}

// runIDs lists runs' ids: "r1, r2".
func runIDs(runs []cronapi.Run) string {
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	return strings.Join(ids, ", ")
}

// activeRunsError says job id cannot be removed while runs are active,
// and what to do (err, when not nil, is the framework's 409).
func activeRunsError(err error, id string, runs []cronapi.Run) error {
	msg := fmt.Sprintf("job %s has %s (%s): pass --stop-runs to stop them and remove the job, or wait for them to end",
		id, plural(len(runs), "active run"), runIDs(runs))
	if err == nil {
		return errors.New(msg)
	}
	return cmdutil.Hintf(err, "%s", msg)
}
