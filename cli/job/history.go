package job

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

// HistoryOptions are the inputs of "cairn job history".
type HistoryOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for "3m ago" (time.Now when nil).
	Now func() time.Time

	ID   string
	JSON bool
	// Limit is how many runs (and skipped instants) to show, newest
	// first; 0 shows all. LimitSet says --limit was given (--json shows
	// everything otherwise).
	Limit    int
	LimitSet bool
}

// defaultHistoryLimit is --limit's default.
const defaultHistoryLimit = 20

// NewCmdHistory returns "cairn job history". runF replaces the run
// function in tests (nil runs historyRun).
func NewCmdHistory(f *cmdutil.Factory, runF func(context.Context, *HistoryOptions) error) *cobra.Command {
	opts := &HistoryOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:   "history ID",
		Short: "Show a job's past runs and skipped instants",
		Long: "Show a job's runs, newest first: the active ones and the finished ones the cron\n" +
			"framework keeps (what started each, how it ended, when, for how long, its\n" +
			"exit code), then the instants its schedules did not start a run at and why\n" +
			"(the starting deadline passed while the framework was down, the previous run\n" +
			"was still active under FORBID ...), then how many runs succeeded, failed and\n" +
			"were skipped in all.",
		Example: "  cairn job history prod.reports.daily\n" +
			"  cairn job history prod.reports.daily --limit 5\n" +
			"  cairn job history prod.reports.daily --json | jq '.failedFinishedRuns[0]'",
		Args:              cmdutil.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompleteArgs(f, 1, Candidates),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseJobID(args[0])
			if err != nil {
				return err
			}
			opts.ID = id
			if opts.Limit < 0 {
				return cmdutil.UsageErrorf("--limit must be 0 (all) or more, got %d", opts.Limit)
			}
			opts.LimitSet = cmd.Flags().Changed("limit")
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return historyRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the job's history (counts, finished and skipped runs) and active runs as a JSON object")
	cmd.Flags().IntVarP(&opts.Limit, "limit", "n", defaultHistoryLimit, "show at most `N` runs and N skipped instants, newest first (0: all; with --json: all unless given)")
	return cmd
}

// historyJSON is what --json prints: the job's history as the API gives
// it, and its active runs.
type historyJSON struct {
	cronapi.History
	ActiveRuns []cronapi.Run `json:"activeRuns"`
}

func historyRun(ctx context.Context, opts *HistoryOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	j, err := client.Job(ctx, opts.ID, cronapi.EmbedHistory, cronapi.EmbedActiveRuns)
	if err != nil {
		return jobError(err, opts.ID, "reading the history of job "+opts.ID)
	}
	h := cronapi.History{}
	if j.History != nil {
		h = *j.History
	}
	h.SuccessfulFinishedRuns = nonNil(h.SuccessfulFinishedRuns)
	h.FailedFinishedRuns = nonNil(h.FailedFinishedRuns)
	h.SkippedRuns = nonNil(h.SkippedRuns)
	if opts.JSON {
		if opts.LimitSet && opts.Limit > 0 {
			h.SuccessfulFinishedRuns = newestFinished(h.SuccessfulFinishedRuns, opts.Limit)
			h.FailedFinishedRuns = newestFinished(h.FailedFinishedRuns, opts.Limit)
			h.SkippedRuns = newestSkipped(h.SkippedRuns, opts.Limit)
		}
		return output.JSON(opts.IO.Out, historyJSON{History: h, ActiveRuns: nonNil(j.ActiveRuns)})
	}
	return printHistory(opts.IO.Out, j.ID, h, j.ActiveRuns, opts.Limit, nowOf(opts.Now))
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// newestFinished keeps the n newest finished runs, newest first.
func newestFinished(rs []cronapi.FinishedRun, n int) []cronapi.FinishedRun {
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(a, b cronapi.FinishedRun) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return rs[:min(n, len(rs))]
}

// newestSkipped keeps the n newest skipped instants, newest first.
func newestSkipped(ss []cronapi.SkippedRun, n int) []cronapi.SkippedRun {
	ss = slices.Clone(ss)
	slices.SortStableFunc(ss, func(a, b cronapi.SkippedRun) int { return b.ScheduledAt.Compare(a.ScheduledAt) })
	if n <= 0 {
		return ss
	}
	return ss[:min(n, len(ss))]
}

// historyRow is a run in the history table.
type historyRow struct {
	id, trigger, status, exit string
	created                   time.Time
	finished                  *time.Time
}

// duration is how long the run took ("" while it runs).
func (r historyRow) duration() string {
	if r.finished == nil {
		return ""
	}
	return duration(r.finished.Sub(r.created))
}

// historyRows merges active and finished runs, newest first.
func historyRows(h *cronapi.History, active []cronapi.Run) []historyRow {
	var rows []historyRow
	for _, r := range active {
		rows = append(rows, historyRow{id: r.ID, trigger: r.Trigger, status: r.Status, created: r.CreatedAt})
	}
	if h != nil {
		add := func(rs []cronapi.FinishedRun, status string) {
			for _, r := range rs {
				finished := r.FinishedAt
				rows = append(rows, historyRow{id: r.ID, trigger: r.Trigger, status: status, exit: exitCode(r.ExitCode),
					created: r.CreatedAt, finished: &finished})
			}
		}
		add(h.SuccessfulFinishedRuns, cronapi.RunSuccess)
		add(h.FailedFinishedRuns, cronapi.RunFailed)
	}
	slices.SortStableFunc(rows, func(a, b historyRow) int {
		return cmp.Or(b.created.Compare(a.created), strings.Compare(b.id, a.id))
	})
	return rows
}

func printHistory(w io.Writer, id string, h cronapi.History, active []cronapi.Run, limit int, now time.Time) error {
	rows := historyRows(&h, active)
	shown := len(rows)
	if limit > 0 && shown > limit {
		shown = limit
	}
	if len(rows) == 0 {
		fmt.Fprintf(w, "Job %s has not run yet (run it now with cairn job run %s).\n", id, id)
	} else {
		t := output.NewTable(w, "ID", "TRIGGER", "STATUS", "STARTED", "DURATION", "EXIT")
		for _, r := range rows[:shown] {
			t.Row(r.id, r.trigger, r.status, relative(r.created, now), r.duration(), r.exit)
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	skipped := newestSkipped(h.SkippedRuns, limit)
	if len(skipped) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Skipped:")
		t := output.NewTable(w, "SCHEDULE", "DUE", "REASON")
		for _, s := range skipped {
			t.Row(s.ScheduleID, relative(s.ScheduledAt, now), s.Reason)
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	summary := fmt.Sprintf("%d succeeded, %d failed, %d skipped", h.SuccessCount, h.FailureCount, h.SkippedCount)
	var last []string
	if h.LastSuccessAt != nil {
		last = append(last, "last success "+relative(*h.LastSuccessAt, now))
	}
	if h.LastFailureAt != nil {
		last = append(last, "last failure "+relative(*h.LastFailureAt, now))
	}
	if len(last) > 0 {
		summary += "; " + strings.Join(last, ", ")
	}
	if len(active) > 0 {
		summary += "; " + plural(len(active), "run") + " active"
	}
	fmt.Fprintln(w, summary+".")
	if shown < len(rows) || len(skipped) < len(h.SkippedRuns) {
		fmt.Fprintf(w, "Showing the %d newest (see more with --limit N, all with --limit 0).\n", limit)
	}
	return nil
}
