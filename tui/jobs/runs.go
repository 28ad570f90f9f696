package jobs

import (
	"slices"
	"strconv"
	"time"

	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

// runRow is one row of an open job's runs: an active run, or one of its
// history.
type runRow struct {
	id      string
	status  string
	trigger string
	started time.Time
	ended   *time.Time
	message string
	// tasks are a finished run's task ids, oldest first.
	tasks []string
	// active is the run itself while it is active (nil in the history).
	active *cronapi.Run
}

// runsOf lists a job's active runs, newest first, then its finished runs,
// newest first.
func runsOf(j cronapi.Job) []runRow {
	var active, done []runRow
	for i := range j.ActiveRuns {
		r := &j.ActiveRuns[i]
		row := runRow{id: r.ID, status: r.Status, trigger: r.Trigger, started: r.CreatedAt, message: r.Message, active: r}
		if t := lastTask(*r); t != nil && row.message == "" {
			row.message = t.Message
		}
		active = append(active, row)
	}
	if h := j.History; h != nil {
		for _, r := range h.SuccessfulFinishedRuns {
			done = append(done, finished(r, cronapi.RunSuccess))
		}
		for _, r := range h.FailedFinishedRuns {
			done = append(done, finished(r, cronapi.RunFailed))
		}
	}
	newest := func(a, b runRow) int {
		ta, tb := a.started, b.started
		if a.ended != nil && b.ended != nil {
			ta, tb = *a.ended, *b.ended
		}
		return tb.Compare(ta)
	}
	slices.SortStableFunc(active, newest)
	slices.SortStableFunc(done, newest)
	return append(active, done...)
}

func finished(r cronapi.FinishedRun, status string) runRow {
	end := r.FinishedAt
	msg := r.Message
	if r.ExitCode != nil && *r.ExitCode != 0 && msg == "" {
		msg = "exit code " + strconv.Itoa(*r.ExitCode)
	}
	return runRow{id: r.ID, status: status, trigger: r.Trigger, started: r.CreatedAt, ended: &end, message: msg, tasks: r.Tasks}
}

// lastTask is a run's latest attempt (nil before its first launch).
func lastTask(r cronapi.Run) *cronapi.RunTask {
	if len(r.Tasks) == 0 {
		return nil
	}
	return &r.Tasks[len(r.Tasks)-1]
}
