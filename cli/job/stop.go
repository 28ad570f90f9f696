package job

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

// StopOptions are the inputs of "cairn job stop".
type StopOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	promptOptions

	ID string
	// RunID is the run to stop; "" stops every active run of the job.
	RunID string
}

// NewCmdStop returns "cairn job stop". runF replaces the run function in
// tests (nil runs stopRun).
func NewCmdStop(f *cmdutil.Factory, runF func(context.Context, *StopOptions) error) *cobra.Command {
	opts := &StopOptions{IO: f.IOStreams, APIClient: f.APIClient}
	opts.InIsTerminal = cmdutil.IsTerminalInput(f.IOStreams.In)
	cmd := &cobra.Command{
		Use:   "stop ID [RUN-ID]",
		Short: "Stop a run of a job, or all its active runs",
		Long: "Stop a run of a job (its task is killed and the run ends FAILED), or, without\n" +
			"RUN-ID, every active run of the job. The job and its schedules stay: the next\n" +
			"scheduled instant starts a run as usual.\n\n" +
			"Stopping every run asks for confirmation first; pass --yes to skip the question\n" +
			"(required when the standard input is not a terminal).",
		Example: "  cairn job stop prod.reports.daily 20260301T020000Z-nightly\n" +
			"  cairn job stop prod.reports.daily --yes",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return cmdutil.UsageErrorf("give the job's id, and the run's to stop only that one: %s ID [RUN-ID]", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseJobID(args[0])
			if err != nil {
				return err
			}
			opts.ID = id
			if len(args) == 2 {
				if opts.RunID, err = parseSegment("run id", args[1]); err != nil {
					return err
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return stopRun(cmd.Context(), opts)
		},
	}
	opts.promptOptions.addFlags(cmd)
	return cmd
}

func stopRun(ctx context.Context, opts *StopOptions) error {
	id := opts.ID
	if opts.RunID == "" {
		if err := opts.check("stopping every active run of job " + id); err != nil {
			return err
		}
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	if opts.RunID != "" {
		return stopOne(ctx, opts, client, opts.RunID)
	}
	runs, err := client.JobRuns(ctx, id)
	if err != nil {
		return jobError(err, id, "listing the active runs of job "+id)
	}
	if len(runs) == 0 {
		_, err := fmt.Fprintf(opts.IO.Out, "Job %s has no active runs.\n", id)
		return err
	}
	if !opts.Yes {
		for _, r := range runs {
			fmt.Fprintf(opts.IO.ErrOut, "Run %s (%s, %s) will be stopped.\n", r.ID, r.Trigger, r.Status)
		}
	}
	if err := opts.confirm(opts.IO.In, opts.IO.ErrOut, "Stop "+plural(len(runs), "run")+" of job "+id+"?", "no run of job "+id+" stopped"); err != nil {
		return err
	}
	var failed []error
	for _, r := range runs {
		if err := stopOne(ctx, opts, client, r.ID); err != nil {
			var nse *apiclient.NoServiceError
			if errors.As(err, &nse) || errors.Is(err, context.Canceled) {
				return err
			}
			fmt.Fprintf(opts.IO.ErrOut, "Warning: %s\n", output.Clean(err.Error()))
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of the %s of job %s could not be stopped (see above)", len(failed), plural(len(runs), "run"), id)
	}
	return nil
}

// stopOne stops run runID of the job and says so.
func stopOne(ctx context.Context, opts *StopOptions, client *apiclient.Client, runID string) error {
	id := opts.ID
	r, err := client.StopRun(ctx, id, runID)
	if err != nil {
		switch apiclient.JobErrorStatus(err) {
		case http.StatusNotFound:
			return missing(ctx, client, err, id, "run "+runID, "see its active runs with cairn job show "+id)
		case http.StatusConflict:
			return cmdutil.Hintf(err, "run %s of job %s cannot be stopped: %s (see cairn job history %s)", runID, id, frameworkMessage(err), id)
		}
		return jobError(err, id, "stopping run "+runID+" of job "+id)
	}
	verb := "Stopping"
	if r.Done() {
		verb = "Stopped"
	}
	_, err = fmt.Fprintf(opts.IO.Out, "%s run %s of job %s (%s)\n", verb, runID, id, runStatus(r))
	return err
}

// runStatus is a run's status, with its message if any.
func runStatus(r cronapi.Run) string {
	if r.Message != "" {
		return r.Status + ": " + output.Clean(r.Message)
	}
	return r.Status
}
