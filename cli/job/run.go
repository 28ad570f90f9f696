package job

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

// RunOptions are the inputs of "cairn job run".
type RunOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// ErrIsTerminal says whether IO.ErrOut is a terminal: --wait shows its
	// progress there only then.
	ErrIsTerminal bool
	// PollInterval is how often --wait looks at the run (default 1s).
	PollInterval time.Duration

	ID   string
	Wait bool
}

// defaultPollInterval is how often --wait looks at the run.
const defaultPollInterval = time.Second

// NewCmdRun returns "cairn job run". runF replaces the run function in
// tests (nil runs runRun).
func NewCmdRun(f *cmdutil.Factory, runF func(context.Context, *RunOptions) error) *cobra.Command {
	opts := &RunOptions{IO: f.IOStreams, APIClient: f.APIClient, ErrIsTerminal: output.IsTerminal(f.IOStreams.ErrOut)}
	cmd := &cobra.Command{
		Use:     "run ID",
		Aliases: []string{"start"},
		Short:   "Run a job now",
		Long: "Start a run of a job now, beside its schedules, and print the run's id.\n\n" +
			"With --wait, follow the run until it ends (progress on stderr, when it is a\n" +
			"terminal): exit 0 when it succeeds, 1 when it fails, with why.",
		Example: "  cairn job run prod.reports.daily\n" +
			"  cairn job run prod.reports.daily --wait && echo done\n" +
			"  rid=$(cairn job run prod.reports.daily) && cairn job stop prod.reports.daily \"$rid\"",
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
			return runRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Wait, "wait", "w", false, "wait for the run to end: exit 0 when it succeeds, 1 when it fails")
	return cmd
}

func runRun(ctx context.Context, opts *RunOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	r, err := client.StartRun(ctx, opts.ID)
	if err != nil {
		if apiclient.JobErrorStatus(err) == http.StatusConflict {
			return cmdutil.Hintf(err, "job %s cannot run now: %s", opts.ID, frameworkMessage(err))
		}
		return jobError(err, opts.ID, "starting a run of job "+opts.ID)
	}
	if _, err := fmt.Fprintln(opts.IO.Out, r.ID); err != nil {
		return err
	}
	if !opts.Wait {
		return nil
	}
	return waitRun(ctx, opts, client, r)
}

// waitRun follows run r until it ends and returns its outcome: nil when it
// succeeded, exit code 1 with why when it failed.
func waitRun(ctx context.Context, opts *RunOptions, client *apiclient.Client, r cronapi.Run) error {
	var status *output.Status
	if opts.ErrIsTerminal {
		status = output.NewStatus(opts.IO.ErrOut, output.TerminalWidth(opts.IO.ErrOut))
		defer status.Clear()
	}
	poll := cmp.Or(opts.PollInterval, defaultPollInterval)
	jobID, runID := opts.ID, r.ID
	for !r.Done() {
		if status != nil {
			status.Set(progress(r))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
		if status != nil {
			status.Tick()
		}
		next, err := client.JobRun(ctx, jobID, runID)
		if err != nil {
			var nse *apiclient.NoServiceError
			if errors.As(err, &nse) {
				return cmdutil.Hintf(err, "following run %s of job %s: %s", runID, jobID, noCron)
			}
			return apiError(err, "following run "+runID+" of job "+jobID)
		}
		r = next
	}
	if status != nil {
		status.Clear()
	}
	took := ""
	if r.CompletedAt != nil {
		took = " after " + duration(r.CompletedAt.Sub(r.CreatedAt))
	}
	if r.Status == cronapi.RunSuccess {
		_, err := fmt.Fprintf(opts.IO.Out, "Run %s of job %s succeeded%s\n", runID, jobID, took)
		return err
	}
	msg := fmt.Sprintf("run %s of job %s failed%s", runID, jobID, took)
	if why := runFailure(r); why != "" {
		msg += ": " + why
	}
	return &cmdutil.ExitCodeError{Code: 1, Err: errors.New(msg + " (see cairn job history " + jobID + ")")}
}

// progress is --wait's status line: "run R: ACTIVE, task TASK_RUNNING on
// agent A (attempt 2)".
func progress(r cronapi.Run) string {
	s := fmt.Sprintf("run %s: %s", r.ID, r.Status)
	if tk, ok := lastTask(r); ok {
		s += ", task " + tk.Status
		if tk.AgentID != "" {
			s += " on " + tk.AgentID
		}
		if len(r.Tasks) > 1 {
			s += " (attempt " + strconv.Itoa(len(r.Tasks)) + ")"
		}
	}
	if r.Message != "" {
		s += " — " + r.Message
	}
	return s
}

// runFailure says why a run failed: its message, and its last task's exit
// code and message.
func runFailure(r cronapi.Run) string {
	var parts []string
	if r.Message != "" {
		parts = append(parts, r.Message)
	}
	if tk, ok := lastTask(r); ok {
		if tk.ExitCode != nil {
			parts = append(parts, "exit code "+strconv.Itoa(*tk.ExitCode))
		}
		if tk.Message != "" && tk.Message != r.Message {
			parts = append(parts, tk.Message)
		}
	}
	return strings.Join(parts, "; ")
}
