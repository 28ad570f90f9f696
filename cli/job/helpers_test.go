package job

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

const testPoll = 5 * time.Millisecond

// result is what a command printed, and its error.
type result struct {
	out, errOut string
	err         error
}

// newJobCmd is "cairn job" with a fixed clock, fast polls, and terminal
// saying whether stdin and stderr are terminals.
func newJobCmd(f *cmdutil.Factory, terminal bool) *cobra.Command {
	now := func() time.Time { return testNow }
	cmd := cmdutil.NewNounCmd("job", "", "")
	sched := cmdutil.NewNounCmd("schedule", "", "")
	sched.AddCommand(
		NewCmdScheduleList(f, func(ctx context.Context, o *ScheduleListOptions) error {
			o.Now = now
			return scheduleListRun(ctx, o)
		}),
		NewCmdScheduleAdd(f, func(ctx context.Context, o *ScheduleAddOptions) error {
			o.Now = now
			return scheduleAddRun(ctx, o)
		}),
		NewCmdScheduleRemove(f, nil),
		NewCmdScheduleEnable(f, true, func(ctx context.Context, o *ScheduleEnableOptions) error {
			o.Now = now
			return scheduleEnableRun(ctx, o)
		}),
		NewCmdScheduleEnable(f, false, func(ctx context.Context, o *ScheduleEnableOptions) error {
			o.Now = now
			return scheduleEnableRun(ctx, o)
		}),
	)
	cmd.AddCommand(
		NewCmdList(f, func(ctx context.Context, o *ListOptions) error {
			o.Now = now
			return listRun(ctx, o)
		}),
		NewCmdShow(f, func(ctx context.Context, o *ShowOptions) error {
			o.Now = now
			return showRun(ctx, o)
		}),
		NewCmdAdd(f, func(ctx context.Context, o *AddOptions) error {
			o.Now = now
			return addRun(ctx, o)
		}),
		NewCmdUpdate(f, func(ctx context.Context, o *UpdateOptions) error {
			o.Now = now
			return updateRun(ctx, o)
		}),
		NewCmdRemove(f, func(ctx context.Context, o *RemoveOptions) error {
			o.InIsTerminal = terminal
			return removeRun(ctx, o)
		}),
		NewCmdRun(f, func(ctx context.Context, o *RunOptions) error {
			o.ErrIsTerminal, o.PollInterval = terminal, testPoll
			return runRun(ctx, o)
		}),
		NewCmdStop(f, func(ctx context.Context, o *StopOptions) error {
			o.InIsTerminal = terminal
			return stopRun(ctx, o)
		}),
		NewCmdHistory(f, func(ctx context.Context, o *HistoryOptions) error {
			o.Now = now
			return historyRun(ctx, o)
		}),
		sched,
		NewCmdGraph(f, nil),
	)
	return cmd
}

// run runs "cairn job ARGS" against the master at url, stdin as its
// standard input; terminal says whether stdin and stderr are terminals.
func run(t *testing.T, url, stdin string, terminal bool, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	f := cmdutil.NewFactory(cmdutil.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}, func(k string) string {
		if k == cmdutil.EnvURL {
			return url
		}
		return ""
	})
	cmd := newJobCmd(f, terminal)
	cmd.SetArgs(args)
	cmd.SetIn(f.IOStreams.In)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetFlagErrorFunc(cmdutil.FlagErrorFunc)
	err := cmd.ExecuteContext(context.Background())
	return result{out: out.String(), errOut: errOut.String(), err: err}
}

// writeFile writes content to a file in a temporary dir.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func at(d time.Duration) *time.Time {
	t := testNow.Add(d)
	return &t
}

// reportJob is a scheduled job with two schedules.
func reportJob() cronapi.Job {
	no := false
	return cronapi.Job{ID: "prod.reports.daily", Description: "Daily sales report", Labels: map[string]string{"tier": "batch", "owner": "data"},
		Run: cronapi.JobRun{Cmd: "./report.sh --day yesterday", CPUs: 0.5, Mem: 256, Disk: 1024,
			Env:       map[string]string{"TOKEN": "s3cret", "REGION": "eu"},
			Artifacts: []cronapi.Artifact{{URI: "https://example.com/report.tgz", Cache: true}},
			Placement: &cronapi.Placement{Constraints: []cronapi.Constraint{{Attribute: "hostname", Operator: "UNIQUE"}}},
			Restart:   &cronapi.Restart{Policy: cronapi.RestartOnFailure, MaxRetries: 3, ActiveDeadlineSeconds: 3600}},
		Schedules: []cronapi.Schedule{
			{ID: "nightly", Cron: "0 2 * * *", TimeZone: "Europe/Paris", ConcurrencyPolicy: cronapi.ConcurrencyForbid, StartingDeadlineSeconds: 900},
			{ID: "paused", Interval: "R/2026-01-01T00:00:00Z/PT6H", Enabled: &no},
		}}
}

// reportHistory is reportJob's history: 2 successes, 1 failure, 1 skip.
func reportHistory() cronapi.History {
	return cronapi.History{
		HistorySummary: cronapi.HistorySummary{SuccessCount: 12, FailureCount: 1, SkippedCount: 1,
			LastSuccessAt: at(-10*time.Hour + 5*time.Minute), LastFailureAt: at(-34*time.Hour + 90*time.Second)},
		SuccessfulFinishedRuns: []cronapi.FinishedRun{
			{ID: "20260301T010000Z-nightly", Trigger: "schedule:nightly", CreatedAt: *at(-11 * time.Hour), FinishedAt: *at(-10*time.Hour + 5*time.Minute), ExitCode: intp(0)},
			{ID: "20260228T010000Z-nightly", Trigger: "schedule:nightly", CreatedAt: *at(-35 * time.Hour), FinishedAt: *at(-35*time.Hour + 62*time.Second), ExitCode: intp(0)},
		},
		FailedFinishedRuns: []cronapi.FinishedRun{
			{ID: "manual-0", Trigger: "manual", CreatedAt: *at(-34 * time.Hour), FinishedAt: *at(-34*time.Hour + 90*time.Second), ExitCode: intp(2), Message: "task failed"},
		},
		SkippedRuns: []cronapi.SkippedRun{
			{ScheduleID: "nightly", ScheduledAt: *at(-59 * time.Hour), RecordedAt: *at(-58 * time.Hour), Reason: "the starting deadline passed while the framework was down"},
		},
	}
}

// activeRun is an active run of reportJob.
func activeRun() cronapi.Run {
	return cronapi.Run{ID: "manual-9", JobID: "prod.reports.daily", Status: cronapi.RunActive, Trigger: "manual", CreatedAt: *at(-3 * time.Minute),
		Tasks: []cronapi.RunTask{{ID: "manual-9.task-1", Status: "TASK_RUNNING", AgentID: "agent-1"}}}
}
