package cron

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
	"github.com/cairn-dc/cairn/frameworks/services/constraints"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/kernel/scheduler"
)

// anyLaunchable says whether some run waits for an offer now.
func (f *Framework) anyLaunchable(now time.Time) bool {
	for r := range f.active {
		if r.launchable(now) {
			return true
		}
	}
	return false
}

// launchQueue is the runs waiting for an offer now, oldest first.
func (f *Framework) launchQueue(now time.Time) []*run {
	var q []*run
	for r := range f.active {
		if r.launchable(now) {
			q = append(q, r)
		}
	}
	sort.Slice(q, func(a, b int) bool {
		if !q[a].rec.CreatedAt.Equal(q[b].rec.CreatedAt) {
			return q[a].rec.CreatedAt.Before(q[b].rec.CreatedAt)
		}
		if q[a].rec.JobID != q[b].rec.JobID {
			return q[a].rec.JobID < q[b].rec.JobID
		}
		return q[a].rec.ID < q[b].rec.ID
	})
	return q
}

// offers places waiting runs on offers (first fit, oldest run first),
// launches them once their records are stored, and declines the rest.
func (f *Framework) offers(ctx context.Context, offers []protocol.Offer) {
	now := f.clock.Now()
	queue := f.launchQueue(now)
	rems := make([]resources.Resources, len(offers))
	cands := make([]constraints.Agent, len(offers))
	tasks := make([][]protocol.TaskInfo, len(offers))
	for k, o := range offers {
		rems[k] = o.Resources
		cands[k] = constraints.Agent{Hostname: o.Hostname, Attributes: o.Attributes}
	}
	for _, r := range queue {
		need := runResources(r.job.spec.Run)
		placed := f.placedOf(r.job)
		reasons := map[string]int{}
		best := -1
		for k := range offers {
			if ok, why := constraints.Check(r.job.cs, cands[k], placed); !ok {
				reasons["UnfulfilledConstraint: "+why]++
				continue
			}
			if why := lacks(rems[k], need); why != "" {
				reasons[why]++
				continue
			}
			best = k
			break
		}
		if best < 0 {
			r.rec.Waiting = describeReasons(len(offers), reasons)
			continue
		}
		o := offers[best]
		attempt := len(r.rec.Tasks)
		tid := taskIDFor(r.job.spec.ID, r.rec.ID, attempt)
		ti := buildTask(r, tid, o.AgentID, need)
		rems[best] = rems[best].Minus(need)
		tasks[best] = append(tasks[best], ti)
		r.rec.Tasks = append(r.rec.Tasks, cronapi.RunTask{ID: string(tid), Status: string(protocol.TaskStaging), AgentID: string(o.AgentID)})
		r.rec.Status = cronapi.RunStarting
		r.rec.Hostname = o.Hostname
		r.rec.Waiting, r.rec.RetryAt = "", time.Time{}
		if r.rec.FirstLaunchAt.IsZero() {
			r.rec.FirstLaunchAt = now.UTC()
		}
		f.byTask[tid] = r
		f.write(runKey(r.job.spec.ID, r.rec.ID), &r.rec)
		f.stats.launched++
	}
	var launches []scheduler.OfferLaunch
	var declines []protocol.OfferID
	for k, o := range offers {
		if len(tasks[k]) > 0 {
			launches = append(launches, scheduler.OfferLaunch{Offer: o, Tasks: tasks[k], Filters: scheduler.Refuse(time.Second)})
		} else {
			declines = append(declines, o.ID)
		}
	}
	if len(launches) > 0 {
		f.later(func() {
			go func() {
				lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				rej, err := f.sched.LaunchMany(lctx, launches...)
				if err != nil || len(rej) > 0 {
					// Refused tasks come back as TASK_ERROR/DROPPED updates;
					// a call whose outcome is unknown is reconciled.
					f.log.Warn("some launches were refused", "err", err, "rejected", len(rej))
					if err != nil {
						f.push(ctx, func() { f.reconcileAll(ctx) })
					}
				}
			}()
		})
	}
	if len(declines) > 0 {
		refuse := 5 * time.Second
		if len(queue) == 0 {
			refuse = 30 * time.Second
		}
		f.later(func() {
			go func() {
				dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				_ = f.sched.Decline(dctx, declines, scheduler.Refuse(refuse))
			}()
		})
	}
}

// placedOf is where the job's active runs are, for placement constraints
// (UNIQUE hostname keeps two runs of a job apart).
func (f *Framework) placedOf(j *job) []constraints.Agent {
	if len(j.cs) == 0 {
		return nil
	}
	var out []constraints.Agent
	for _, r := range j.runs {
		if t := r.currentTask(); t != nil && !protocol.TaskState(t.Status).Terminal() {
			out = append(out, constraints.Agent{Hostname: r.rec.Hostname})
		}
	}
	return out
}

func runResources(r cronapi.JobRun) resources.Resources {
	need := resources.Resources{
		{Name: "cpus", Type: resources.Scalar, Scalar: resources.FromFloat(r.CPUs)},
		{Name: "mem", Type: resources.Scalar, Scalar: resources.FromFloat(r.Mem)},
	}
	if r.Disk > 0 {
		need = append(need, resources.Resource{Name: "disk", Type: resources.Scalar, Scalar: resources.FromFloat(r.Disk)})
	}
	return resources.Resources(nil).Plus(need)
}

// lacks says what an offer's remainder lacks for need ("" when it fits).
func lacks(rem, need resources.Resources) string {
	for _, r := range []struct{ name, reason string }{{"cpus", "InsufficientCpus"}, {"mem", "InsufficientMemory"}, {"disk", "InsufficientDisk"}} {
		if need.ScalarTotal(r.name) > rem.ScalarTotal(r.name) {
			return r.reason
		}
	}
	if !rem.Contains(need) {
		return "UnfulfilledRole"
	}
	return ""
}

// describeReasons summarises why no offer fitted.
func describeReasons(n int, reasons map[string]int) string {
	if n == 0 {
		return "no offers yet"
	}
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if reasons[keys[a]] != reasons[keys[b]] {
			return reasons[keys[a]] > reasons[keys[b]]
		}
		return keys[a] < keys[b]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d: %s", reasons[k], k)
	}
	return fmt.Sprintf("%d offers refused (%s)", n, strings.Join(parts, "; "))
}

// buildTask is one attempt of a run.
func buildTask(r *run, id protocol.TaskID, agent protocol.AgentID, res resources.Resources) protocol.TaskInfo {
	spec := r.job.spec.Run
	env := map[string]string{}
	for k, v := range spec.Env {
		env[k] = v
	}
	env["CAIRN_JOB_ID"] = r.job.spec.ID
	env["CAIRN_JOB_RUN_ID"] = r.rec.ID
	if r.rec.ScheduledAt != nil {
		env["CAIRN_JOB_SCHEDULED_AT"] = r.rec.ScheduledAt.UTC().Format(time.RFC3339)
	}
	vars := make([]protocol.Variable, 0, len(env))
	for k, v := range env {
		vars = append(vars, protocol.Variable{Name: k, Value: v})
	}
	slices.SortFunc(vars, func(a, b protocol.Variable) int { return strings.Compare(a.Name, b.Name) })
	cmd := &protocol.CommandInfo{Environment: &protocol.Environment{Variables: vars}, User: spec.User}
	if spec.Cmd != "" {
		cmd.Value = spec.Cmd
	} else {
		no := false
		cmd.Shell, cmd.Value, cmd.Arguments = &no, spec.Args[0], spec.Args
	}
	for _, a := range spec.Artifacts {
		extract := a.Extract == nil || *a.Extract
		cmd.URIs = append(cmd.URIs, protocol.CommandURI{Value: a.URI, Executable: a.Executable, Extract: &extract, Cache: a.Cache})
	}
	labels := map[string]string{"CAIRN_JOB_ID": r.job.spec.ID, "CAIRN_JOB_RUN_ID": r.rec.ID}
	for k, v := range r.job.spec.Labels {
		labels[k] = v
	}
	ti := protocol.TaskInfo{Name: r.job.spec.ID, TaskID: id, AgentID: agent, Resources: res, Command: cmd, Labels: labels}
	if g := spec.TaskKillGracePeriodSeconds; g > 0 {
		ti.KillPolicy = &protocol.KillPolicy{GracePeriod: &protocol.DurationInfo{Nanoseconds: int64(g * 1e9)}}
	}
	return ti
}

// update applies a task's status to its run.
func (f *Framework) update(ctx context.Context, st protocol.TaskStatus) {
	r := f.byTask[st.TaskID]
	if r == nil {
		if !st.State.Terminal() && st.Reason != protocol.ReasonReconciliation {
			// A task of no active run (its run was removed meanwhile): it has no business running.
			f.log.Warn("killing a task of no active run", "task", st.TaskID)
			f.later(func() { go f.kill(ctx, st.TaskID, st.AgentID) })
		}
		return
	}
	t := r.currentTask()
	if t == nil || t.ID != string(st.TaskID) {
		return
	}
	now := f.clock.Now()
	ts := now.UTC()
	if st.Timestamp > 0 {
		ts = st.Time().UTC()
	}
	t.Status = string(st.State)
	if st.AgentID != "" {
		t.AgentID = string(st.AgentID)
	}
	if st.Message != "" {
		t.Message = st.Message
	}
	if st.ExitCode != nil {
		c := *st.ExitCode
		t.ExitCode = &c
	}
	rec := &r.rec
	if rec.StopRequested && !st.State.Terminal() && st.State != protocol.TaskKilling {
		// Still alive after a stop: ask again.
		tid, aid := st.TaskID, st.AgentID
		f.later(func() { go f.kill(ctx, tid, aid) })
	}
	switch {
	case st.State == protocol.TaskRunning:
		if t.StartedAt == nil {
			t.StartedAt = &ts
		}
		if !rec.StopRequested {
			rec.Status = cronapi.RunActive
		}
	case st.State == protocol.TaskStaging || st.State == protocol.TaskStarting:
		rec.Status = cronapi.RunStarting
	case st.State == protocol.TaskFinished:
		delete(f.byTask, st.TaskID)
		t.CompletedAt = &ts
		if rec.StopRequested {
			f.finishRun(ctx, r, cronapi.RunFailed, "stopped: "+rec.StopReason, now)
			return
		}
		f.finishRun(ctx, r, cronapi.RunSuccess, "", now)
		return
	case st.State.Terminal():
		delete(f.byTask, st.TaskID)
		t.CompletedAt = &ts
		f.attemptFailed(ctx, r, st, now)
		return
	}
	f.write(runKey(rec.JobID, rec.ID), rec)
}

// neverLaunched says whether a failed attempt never reached its agent (a
// refused or lost launch): launched again without counting as a failure.
func neverLaunched(t *cronapi.RunTask, st protocol.TaskStatus) bool {
	if t.StartedAt != nil {
		return false
	}
	switch st.State {
	case protocol.TaskDropped:
		return true
	case protocol.TaskUnknown, protocol.TaskGone:
		return st.Reason == protocol.ReasonReconciliation
	}
	return false
}

// attemptFailed decides what a failed attempt means for its run: launched
// again, retried after a back-off, or the run fails.
func (f *Framework) attemptFailed(ctx context.Context, r *run, st protocol.TaskStatus, now time.Time) {
	rec := &r.rec
	t := r.currentTask()
	what := fmt.Sprintf("task %s %s", t.ID, strings.TrimPrefix(string(st.State), "TASK_"))
	if st.ExitCode != nil {
		what += fmt.Sprintf(" (exit code %d)", *st.ExitCode)
	}
	if st.Message != "" {
		what += ": " + st.Message
	}
	switch {
	case rec.StopRequested:
		f.finishRun(ctx, r, cronapi.RunFailed, "stopped: "+rec.StopReason, now)
		return
	case neverLaunched(t, st):
		rec.Status = cronapi.RunInitial
		rec.Message = what + "; launching again"
		f.log.Info("a launch did not reach its agent; launching again", "job", rec.JobID, "run", rec.ID, "task", t.ID, "state", st.State)
		f.write(runKey(rec.JobID, rec.ID), rec)
		return
	}
	rs := r.job.spec.Run.Restart
	if rs.Policy == cronapi.RestartOnFailure && (rs.MaxRetries == 0 || rec.Retries < rs.MaxRetries) {
		deadline := time.Duration(rs.ActiveDeadlineSeconds) * time.Second
		if rs.ActiveDeadlineSeconds == 0 || now.Sub(rec.FirstLaunchAt) < deadline {
			rec.Retries++
			wait := backoff(rs.BackoffSeconds, rec.Retries)
			rec.RetryAt = now.Add(wait).UTC()
			rec.Status = cronapi.RunInitial
			rec.Message = fmt.Sprintf("%s; retry %d in %s", what, rec.Retries, wait)
			f.log.Info("run attempt failed; retrying", "job", rec.JobID, "run", rec.ID, "retry", rec.Retries, "in", wait)
			f.write(runKey(rec.JobID, rec.ID), rec)
			return
		}
		what += fmt.Sprintf("; activeDeadlineSeconds (%d s) passed", rs.ActiveDeadlineSeconds)
	} else if rs.Policy == cronapi.RestartOnFailure {
		what += fmt.Sprintf("; %d retries spent", rec.Retries)
	}
	f.finishRun(ctx, r, cronapi.RunFailed, what, now)
}

// backoff is the delay before retry n (1, 2, 4 ... × base, at most MaxBackoff).
func backoff(baseSeconds float64, n int) time.Duration {
	base := DefaultBackoff
	if baseSeconds > 0 {
		base = time.Duration(baseSeconds * float64(time.Second))
	}
	d := base
	for i := 1; i < n && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}

// finishRun ends a run: it leaves the active runs for the history, and a
// success counts for the job's children.
func (f *Framework) finishRun(ctx context.Context, r *run, status, msg string, now time.Time) {
	j := r.job
	rec := &r.rec
	rec.Status = status
	if msg != "" {
		rec.Message = msg
	} else if status == cronapi.RunSuccess {
		rec.Message = ""
	}
	done := now.UTC()
	rec.CompletedAt = &done
	f.dropRun(r)
	fr := cronapi.FinishedRun{ID: rec.ID, Trigger: rec.Trigger, ScheduledAt: rec.ScheduledAt, CreatedAt: rec.CreatedAt,
		FinishedAt: done, Message: rec.Message}
	for _, t := range rec.Tasks {
		fr.Tasks = append(fr.Tasks, t.ID)
	}
	if t := r.currentTask(); t != nil && t.ExitCode != nil {
		c := *t.ExitCode
		fr.ExitCode = &c
	}
	h := &j.hist
	if status == cronapi.RunSuccess {
		h.SuccessCount++
		h.LastSuccessAt = &done
		h.SuccessfulFinishedRuns = appendBounded(h.SuccessfulFinishedRuns, fr, f.cfg.HistoryLimit)
		// The children first: a run they start is stored before this
		// run's end is (a restart that sees this run again finds it).
		for _, c := range j.children {
			f.parentSucceeded(f.jobs[c], j.spec.ID, rec.ID, now)
		}
	} else {
		h.FailureCount++
		h.LastFailureAt = &done
		h.FailedFinishedRuns = appendBounded(h.FailedFinishedRuns, fr, f.cfg.HistoryLimit)
	}
	f.write(historyKey(j.spec.ID), h)
	f.remove(runKey(j.spec.ID, rec.ID))
	f.stats.finished++
	f.log.Info("run finished", "job", j.spec.ID, "run", rec.ID, "status", status, "message", rec.Message)
}

func appendBounded(l []cronapi.FinishedRun, fr cronapi.FinishedRun, limit int) []cronapi.FinishedRun {
	l = append(l, fr)
	if over := len(l) - limit; over > 0 {
		l = append(l[:0:0], l[over:]...)
	}
	return l
}

// parentSucceeded notes a parent's success; once every parent has
// succeeded since the child's last run, the child runs.
func (f *Framework) parentSucceeded(c *job, parent, parentRun string, now time.Time) {
	if c == nil {
		return
	}
	c.state.ParentsDone[parent] = now.UTC()
	for _, p := range c.spec.Parents {
		if _, ok := c.state.ParentsDone[p]; !ok {
			f.write(stateKey(c.spec.ID), c.state)
			return
		}
	}
	id := dependencyRunID(parent, parentRun)
	if _, ok := c.runs[id]; !ok && !f.inHistory(c, id) {
		f.newRun(c, id, cronapi.TriggerDependency, nil, time.Time{}, now)
	}
	clear(c.state.ParentsDone)
	f.write(stateKey(c.spec.ID), c.state)
}

// stopRun stops a run: one waiting for an offer ends at once; one with a
// task ends when the task is dead.
func (f *Framework) stopRun(ctx context.Context, r *run, reason string) {
	if r == nil {
		return
	}
	rec := &r.rec
	t := r.currentTask()
	if rec.Status == cronapi.RunInitial || t == nil || protocol.TaskState(t.Status).Terminal() {
		f.finishRun(ctx, r, cronapi.RunFailed, "stopped: "+reason, f.clock.Now())
		return
	}
	if !rec.StopRequested {
		rec.StopRequested, rec.StopReason = true, reason
		f.write(runKey(rec.JobID, rec.ID), rec)
	}
	tid, aid := protocol.TaskID(t.ID), protocol.AgentID(t.AgentID)
	f.later(func() { go f.kill(ctx, tid, aid) })
}

// kill asks the master to kill a task (retried by reconciliation).
func (f *Framework) kill(ctx context.Context, tid protocol.TaskID, aid protocol.AgentID) {
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := f.sched.Kill(kctx, tid, aid); err != nil {
		f.log.Warn("kill failed (it is retried on reconciliation)", "task", tid, "err", err)
	}
}
