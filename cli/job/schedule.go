package job

import (
	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/cmdutil"
)

// NewCmdSchedule returns "cairn job schedule" and its verbs.
func NewCmdSchedule(f *cmdutil.Factory) *cobra.Command {
	cmd := cmdutil.NewNounCmd("schedule", "Add, remove, enable, disable and list a job's schedules",
		"A job's schedules start its runs: each is a 5-field cron expression (minute hour\n"+
			"day-of-month month day-of-week, read in its time zone; @hourly, @daily ...) or an\n"+
			"ISO 8601 repeating interval (R[n]/start/period, e.g. R/2026-12-01T00:00:00Z/PT6H).\n"+
			"Its concurrency policy says what happens when the previous run is still active\n"+
			"(ALLOW another, FORBID: skip the instant, REPLACE: stop it first), its starting\n"+
			"deadline how late a run may start before the instant is skipped.")
	cmd.Aliases = []string{"schedules"}
	cmd.AddCommand(
		NewCmdScheduleList(f, nil),
		NewCmdScheduleAdd(f, nil),
		NewCmdScheduleRemove(f, nil),
		NewCmdScheduleEnable(f, true, nil),
		NewCmdScheduleEnable(f, false, nil),
	)
	return cmd
}
