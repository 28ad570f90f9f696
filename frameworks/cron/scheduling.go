package cron

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// maxCatchUp bounds how many missed instants of one schedule are walked
// one by one after a long absence; past it the schedule jumps ahead.
const maxCatchUp = 10000

// tick fires the schedules that are due and enforces the runs' deadlines.
func (f *Framework) tick(ctx context.Context) {
	now := f.clock.Now()
	changed := map[*job]bool{}
	for f.heap.Len() > 0 && !f.heap[0].next.After(now) {
		s := f.heap[0]
		f.fireDue(ctx, s, now)
		changed[s.job] = true
	}
	for j := range changed {
		f.write(stateKey(j.spec.ID), j.state)
	}
	f.deadlines(ctx, now)
	if now.Sub(f.lastRecon) > f.cfg.ReconcileInterval {
		f.reconcileAll(ctx)
	}
}

// fireDue handles every instant of s up to now: instants whose starting
// deadline has passed (the framework was not running then) are recorded
// as skipped, together; the latest one still in time starts a run.
func (f *Framework) fireDue(ctx context.Context, s *sched, now time.Time) {
	j := s.job
	deadline := time.Duration(s.spec.StartingDeadlineSeconds) * time.Second
	var missed int
	var firstMissed, lastMissed time.Time
	for !s.next.IsZero() && !s.next.After(now) {
		instant := s.next
		if now.Sub(instant) > deadline {
			if missed == 0 {
				firstMissed = instant
			}
			missed++
			lastMissed = instant
			if missed >= maxCatchUp {
				// Jump: whatever lies between is missed too.
				j.state.Cursors[s.spec.ID] = now.Add(-deadline)
				f.advance(s, now.Add(-deadline))
				continue
			}
		} else {
			if missed > 0 {
				f.recordMissed(j, s, missed, firstMissed, lastMissed, now)
				missed = 0
			}
			f.fire(ctx, s, instant, now)
		}
		j.state.Cursors[s.spec.ID] = instant
		f.advance(s, instant)
	}
	if missed > 0 {
		f.recordMissed(j, s, missed, firstMissed, lastMissed, now)
	}
}

// advance moves s to its first instant after t.
func (f *Framework) advance(s *sched, t time.Time) {
	next, ok := s.calc.Next(t)
	if !ok {
		f.disarm(s)
		return
	}
	s.next = next
	if s.index >= 0 {
		heap.Fix(&f.heap, s.index)
	} else {
		heap.Push(&f.heap, s)
	}
}

func (f *Framework) recordMissed(j *job, s *sched, n int, first, last time.Time, now time.Time) {
	reason := fmt.Sprintf("missed: the cron framework was not running at %s, and the starting deadline (%d s) had passed when it came back",
		first.UTC().Format(time.RFC3339), s.spec.StartingDeadlineSeconds)
	if n > 1 {
		reason = fmt.Sprintf("%d instants missed, %s to %s: the cron framework was not running, and their starting deadline (%d s) had passed when it came back",
			n, first.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339), s.spec.StartingDeadlineSeconds)
	}
	f.log.Warn("schedule instants missed", "job", j.spec.ID, "schedule", s.spec.ID, "count", n, "first", first, "last", last)
	f.skip(j, s.spec.ID, first, now, reason)
}

// skip records an instant that started no run.
func (f *Framework) skip(j *job, scheduleID string, instant, now time.Time, reason string) {
	h := &j.hist
	h.SkippedCount++
	h.SkippedRuns = append(h.SkippedRuns, cronapi.SkippedRun{ScheduleID: scheduleID, ScheduledAt: instant.UTC(), RecordedAt: now.UTC(), Reason: reason})
	if over := len(h.SkippedRuns) - f.cfg.HistoryLimit; over > 0 {
		h.SkippedRuns = append(h.SkippedRuns[:0:0], h.SkippedRuns[over:]...)
	}
	f.write(historyKey(j.spec.ID), h)
}

// scheduledRunID is the run id of a schedule's instant: one instant never
// makes two runs, whatever restarts happen in between.
func scheduledRunID(scheduleID string, instant time.Time) string {
	return scheduleID + "-" + instant.UTC().Format("20060102T150405Z")
}

// fire starts the run of one instant, as the schedule's concurrency policy
// allows.
func (f *Framework) fire(ctx context.Context, s *sched, instant, now time.Time) {
	j := s.job
	id := scheduledRunID(s.spec.ID, instant)
	if _, ok := j.runs[id]; ok || f.inHistory(j, id) {
		return // made before a restart
	}
	if active := j.activeRuns(); len(active) > 0 {
		switch s.spec.ConcurrencyPolicy {
		case cronapi.ConcurrencyForbid:
			f.skip(j, s.spec.ID, instant, now, fmt.Sprintf("concurrencyPolicy FORBID: run %s is still %s", active[0].ID, active[0].Status))
			return
		case cronapi.ConcurrencyReplace:
			for _, a := range active {
				f.stopRun(ctx, j.runs[a.ID], fmt.Sprintf("replaced by the run due at %s (concurrencyPolicy REPLACE)", instant.UTC().Format(time.RFC3339)))
			}
		}
	}
	startBy := instant.Add(time.Duration(s.spec.StartingDeadlineSeconds) * time.Second)
	at := instant
	f.newRun(j, id, cronapi.TriggerSchedule+s.spec.ID, &at, startBy, now)
}

// inHistory says whether a finished run of that id is remembered.
func (f *Framework) inHistory(j *job, id string) bool {
	for _, l := range [][]cronapi.FinishedRun{j.hist.SuccessfulFinishedRuns, j.hist.FailedFinishedRuns} {
		for _, r := range l {
			if r.ID == id {
				return true
			}
		}
	}
	return false
}

// newRun creates a run waiting for an offer (stored before anything else
// of the batch that made it).
func (f *Framework) newRun(j *job, id, trigger string, scheduledAt *time.Time, startBy, now time.Time) *run {
	if limit := now.Add(time.Duration(j.spec.Run.MaxLaunchDelay) * time.Second); startBy.IsZero() || limit.Before(startBy) {
		startBy = limit
	}
	r := &run{job: j, rec: runRecord{
		Run: cronapi.Run{ID: id, JobID: j.spec.ID, Status: cronapi.RunInitial, Trigger: trigger,
			ScheduledAt: scheduledAt, CreatedAt: now.UTC(), Tasks: []cronapi.RunTask{}},
		StartBy: startBy.UTC(),
	}}
	f.addRun(j, r)
	f.write(runKey(j.spec.ID, id), &r.rec)
	f.log.Info("run created", "job", j.spec.ID, "run", id, "trigger", trigger)
	return r
}

// manualRunID is a run started by hand: time-ordered and unique.
func manualRunID(now time.Time) string {
	return now.UTC().Format("20060102T150405Z") + "-" + string(protocol.NewID()[20:])
}

// dependencyRunID is the run a parent's successful run starts: derived
// from it, so finishing the parent's run again (after a restart) does
// not start a second one.
func dependencyRunID(parentJob, parentRun string) string {
	sum := sha256.Sum256([]byte(parentJob + "/" + parentRun))
	return "after-" + hex.EncodeToString(sum[:6])
}

// deadlines fails runs that could not start in time, stops runs past
// their active deadline.
func (f *Framework) deadlines(ctx context.Context, now time.Time) {
	for r := range f.active {
		j := r.job
		rec := &r.rec
		switch {
		case rec.Status == cronapi.RunInitial && !rec.StartBy.IsZero() && now.After(rec.StartBy) && len(rec.Tasks) == 0:
			why := "no offer fitted it"
			if rec.Waiting != "" {
				why = rec.Waiting
			}
			if rec.ScheduledAt != nil && rec.Trigger != cronapi.TriggerManual {
				sid := rec.Trigger[len(cronapi.TriggerSchedule):]
				f.skip(j, sid, *rec.ScheduledAt, now, fmt.Sprintf("not started within its starting deadline (by %s): %s",
					rec.StartBy.UTC().Format(time.RFC3339), why))
				f.dropRun(r)
				f.remove(runKey(j.spec.ID, rec.ID))
				continue
			}
			f.finishRun(ctx, r, cronapi.RunFailed, fmt.Sprintf("not started within maxLaunchDelay (%d s): %s", j.spec.Run.MaxLaunchDelay, why), now)
		case rec.Status != cronapi.RunInitial && !rec.StopRequested && !rec.FirstLaunchAt.IsZero():
			if d := j.spec.Run.Restart.ActiveDeadlineSeconds; d > 0 && now.Sub(rec.FirstLaunchAt) > time.Duration(d)*time.Second {
				f.stopRun(ctx, r, fmt.Sprintf("activeDeadlineSeconds (%d s) passed", d))
			}
		case rec.Status == cronapi.RunInitial && len(rec.Tasks) > 0 && !rec.FirstLaunchAt.IsZero():
			// Waiting to retry: the deadline ends the retries too.
			if d := j.spec.Run.Restart.ActiveDeadlineSeconds; d > 0 && now.Sub(rec.FirstLaunchAt) > time.Duration(d)*time.Second {
				f.finishRun(ctx, r, cronapi.RunFailed, fmt.Sprintf("activeDeadlineSeconds (%d s) passed while waiting to retry: %s", d, rec.Message), now)
			}
		}
	}
}
