package services

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// wanted is how many new instances of a's current version to launch now,
// and why it is fewer than it could be (back-off, dependencies).
func (f *Framework) wanted(a *app, now time.Time) (int, string) {
	if a.deleting {
		return 0, ""
	}
	n := a.instancesN()
	c := a.count()
	want := n - len(c.current)
	if len(c.old) > 0 {
		_, maxTotal := strategy(a.spec)
		want = min(want, maxTotal-len(c.current)-len(c.old))
	}
	if want <= 0 {
		return 0, ""
	}
	if now.Before(a.delayUntil) {
		return 0, fmt.Sprintf("back-off after failed tasks: next launch in %s", a.delayUntil.Sub(now).Round(time.Second))
	}
	if why := f.dependenciesWaiting(a); why != "" {
		return 0, why
	}
	return want, ""
}

// dependenciesWaiting says which dependency is not healthy yet.
func (f *Framework) dependenciesWaiting(a *app) string {
	for _, dep := range a.spec.Dependencies {
		d := f.apps[dep]
		if d == nil || d.deleting {
			return "waiting for dependency " + dep + " (it does not exist)"
		}
		c := d.count()
		if c.currentHealthy < d.instancesN() || len(c.old) > 0 {
			return fmt.Sprintf("waiting for dependency %s to be healthy (%d of %d)", dep, c.currentHealthy, d.instancesN())
		}
	}
	return ""
}

// dependentsStopping names a dependent app also being deleted that still
// has instances.
func (f *Framework) dependentsStopping(a *app) string {
	for _, other := range f.apps {
		if other == a || !other.deleting {
			continue
		}
		for _, dep := range other.spec.Dependencies {
			if dep != a.spec.ID {
				continue
			}
			for _, i := range other.instances {
				if !i.State.Terminal() {
					return "waiting for dependent " + other.spec.ID + " to stop"
				}
			}
		}
	}
	return ""
}

// converge kills what must go now, and completes deployments that are done.
// Launches happen when offers come (see offers).
func (f *Framework) converge(ctx context.Context, a *app, now time.Time) {
	c := a.count()
	if a.deleting {
		// Dependencies order stops too: an app waits for the apps that
		// depend on it and are being deleted with it to stop first.
		if why := f.dependentsStopping(a); why != "" {
			if a.deployment != nil {
				a.deployment.waiting = why
			}
			return
		}
		alive := 0
		for _, i := range a.instances {
			if !i.State.Terminal() {
				alive++
				if !i.Killing {
					f.kill(ctx, a, i, "app deleted")
				}
			}
		}
		if alive == 0 {
			f.finishDelete(a)
		}
		return
	}
	n := a.instancesN()
	minHealthy, maxTotal := strategy(a.spec)
	// Too many of the current version (scale down): by killSelection.
	if extra := len(c.current) - n; extra > 0 {
		for _, i := range pickKills(a, c.current, extra) {
			f.kill(ctx, a, i, "scale down")
		}
		c = a.count()
	}
	// Old versions go as fast as the upgrade strategy allows: unhealthy
	// ones first, healthy ones while enough stay healthy.
	if len(c.old) > 0 {
		healthy := c.currentHealthy + c.oldHealthy
		checks := a.hasHealthChecks()
		killed := 0
		for _, i := range orderOld(a, c.old) {
			if !i.isHealthy(checks) {
				f.kill(ctx, a, i, "upgrade")
				killed++
				continue
			}
			if healthy-1 >= minHealthy {
				f.kill(ctx, a, i, "upgrade")
				healthy--
				killed++
			}
		}
		// No room to start new ones, none starting, and none could go: let
		// one old one go so the change can progress (minimumHealthCapacity
		// 1 with maximumOverCapacity 0 allows nothing else).
		if killed == 0 && len(c.current) < n && len(c.current) == c.currentHealthy && len(c.current)+len(c.old) >= maxTotal {
			f.kill(ctx, a, orderOld(a, c.old)[0], "upgrade (no spare capacity)")
		}
		c = a.count()
	}
	// The deployment is done when every instance runs the new version,
	// healthy and ready, and those it killed have ended (as Marathon's:
	// after a restart or a scale down, only the new ones run).
	if d := a.deployment; d != nil {
		want, why := f.wanted(a, now)
		switch {
		case len(c.old) == 0 && len(c.current) == n && c.currentHealthy == n && c.stopping == 0:
			f.finishDeployment(a, true, "")
		case len(c.old) == 0 && len(c.current) == n && c.currentHealthy == n:
			d.waiting = fmt.Sprintf("waiting for %d killed instance(s) to end", c.stopping)
		case why != "":
			d.waiting = why
		case want > 0 && a.offers.processed > 0 && len(a.offers.reasons) > 0:
			d.waiting = "no matching offers: " + a.offers.describe()
		default:
			d.waiting = ""
		}
	}
}

// pickKills chooses n instances to kill by the app's killSelection,
// unhealthy and not yet running ones first.
func pickKills(a *app, from []*instance, n int) []*instance {
	sorted := append([]*instance(nil), from...)
	checks := a.hasHealthChecks()
	oldest := a.spec.KillSelection == "OLDEST_FIRST"
	sort.SliceStable(sorted, func(x, y int) bool {
		hx, hy := sorted[x].isHealthy(checks), sorted[y].isHealthy(checks)
		if hx != hy {
			return !hx
		}
		if oldest {
			return sorted[x].StagedAt.Before(sorted[y].StagedAt)
		}
		return sorted[x].StagedAt.After(sorted[y].StagedAt)
	})
	return sorted[:min(n, len(sorted))]
}

// orderOld orders old-version instances for killing: unhealthy first, then
// by killSelection.
func orderOld(a *app, old []*instance) []*instance {
	return pickKills(a, old, len(old))
}

// update applies a task status update.
func (f *Framework) update(st protocol.TaskStatus) {
	now := time.Now()
	i := f.byTask[string(st.TaskID)]
	if i == nil {
		// Not ours (or forgotten): a live one is an orphan to kill.
		if !st.State.Terminal() && st.State != protocol.TaskUnknown {
			if appID, ok := marathon.AppIDOf(st.TaskID); ok {
				f.log.Warn("killing an instance the framework does not know", "task", st.TaskID, "app", appID)
			}
			tid, aid := st.TaskID, st.AgentID
			f.later(func() {
				go func() {
					c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					_ = f.sched.Kill(c, tid, aid)
				}()
			})
		}
		return
	}
	a := f.apps[i.AppID]
	prev, prevHealthy := i.State, i.healthy
	// A task the master does not know is gone.
	if st.State == protocol.TaskUnknown {
		st.State = protocol.TaskGone
	}
	i.State = st.State
	i.updatedAt = now
	if st.Message != "" {
		i.Message = st.Message
	}
	if st.Healthy != nil {
		i.healthy = st.Healthy
		if *st.Healthy {
			i.lastHealthy = now
			i.failures = 0
			if i.firstOK.IsZero() {
				i.firstOK = now
			}
		} else {
			i.lastFailure = now
			i.failures++
		}
	}
	if a != nil {
		f.dirty[a.spec.ID] = true
	}
	switch {
	case st.State == protocol.TaskRunning:
		if i.StartedAt.IsZero() {
			i.StartedAt = now
		}
		i.UnreachableSince, i.inactive = time.Time{}, false
		if a != nil && prev != protocol.TaskRunning {
			f.startReadiness(a, i)
		}
		if a != nil && i.isHealthy(a.hasHealthChecks()) {
			a.delay = 0 // a healthy instance resets the back-off
		}
	case st.State == protocol.TaskUnreachable:
		if i.UnreachableSince.IsZero() {
			i.UnreachableSince = now
		}
	case st.State.Terminal():
		if a != nil && !i.Killing && !a.deleting {
			f.failed(a, i, st, now)
		}
	}
	if a != nil && (st.Healthy != nil && (prevHealthy == nil || *prevHealthy != *st.Healthy)) {
		f.emit("health_status_changed_event", map[string]any{"appId": i.AppID, "taskId": i.TaskID, "instanceId": i.TaskID,
			"version": i.Version, "alive": *st.Healthy})
		if !*st.Healthy {
			f.emit("failed_health_check_event", map[string]any{"appId": i.AppID, "taskId": i.TaskID, "instanceId": i.TaskID,
				"healthCheck": firstHealthCheck(a)})
		}
	}
	f.emit("status_update_event", map[string]any{"slaveId": string(i.AgentID), "taskId": i.TaskID, "taskStatus": string(st.State),
		"message": st.Message, "appId": i.AppID, "host": i.Host, "ports": intPorts(i.Ports), "ipAddresses": ipAddresses(i.Host),
		"version": i.Version})
	if prev != st.State {
		f.emit("instance_changed_event", map[string]any{"instanceId": i.TaskID, "condition": condition(st.State),
			"runSpecId": i.AppID, "agentId": string(i.AgentID), "host": i.Host, "runSpecVersion": i.Version})
	}
	if st.State.Terminal() {
		if a != nil {
			f.forget(a, i)
		} else {
			delete(f.byTask, i.TaskID)
			f.remove(instanceKey(i.TaskID))
		}
		return
	}
	if prev != st.State {
		f.write(instanceKey(i.TaskID), i)
	}
}

func firstHealthCheck(a *app) any {
	if len(a.spec.HealthChecks) > 0 {
		return a.spec.HealthChecks[0]
	}
	return nil
}

// condition is Marathon's instance condition for a task state.
func condition(s protocol.TaskState) string {
	switch s {
	case protocol.TaskStaging:
		return "Staging"
	case protocol.TaskStarting:
		return "Starting"
	case protocol.TaskRunning:
		return "Running"
	case protocol.TaskKilling:
		return "Killing"
	case protocol.TaskFinished:
		return "Finished"
	case protocol.TaskFailed:
		return "Failed"
	case protocol.TaskKilled:
		return "Killed"
	case protocol.TaskError:
		return "Error"
	case protocol.TaskDropped:
		return "Dropped"
	case protocol.TaskUnreachable:
		return "Unreachable"
	case protocol.TaskGone, protocol.TaskGoneByOperator:
		return "Gone"
	}
	return "Unknown"
}

// failed records an unexpected end and backs the app off before replacing it.
func (f *Framework) failed(a *app, i *instance, st protocol.TaskStatus, now time.Time) {
	if i.userKilled {
		return // replaced at once
	}
	if st.Reason == protocol.ReasonAgentDraining {
		// Not the app's failure: an operator is draining the agent for
		// maintenance (it gets no more offers). Replace it elsewhere at
		// once, without backing the app off.
		f.log.Info("instance killed by an agent drain; replacing it on another agent", "app", a.spec.ID, "task", i.TaskID,
			"agent", i.AgentID, "message", st.Message)
		return
	}
	a.lastFailure = &marathon.LastTaskFailure{AppID: a.spec.ID, Host: i.Host, Message: st.Message, State: string(st.State),
		TaskID: i.TaskID, Timestamp: marathon.Timestamp(now), Version: i.Version, SlaveID: string(i.AgentID)}
	backoff := time.Duration(*a.spec.BackoffSeconds * float64(time.Second))
	if a.delay == 0 {
		a.delay = backoff
	} else {
		a.delay = time.Duration(float64(a.delay) * *a.spec.BackoffFactor)
	}
	if maxD := time.Duration(*a.spec.MaxLaunchDelaySeconds * float64(time.Second)); a.delay > maxD {
		a.delay = maxD
	}
	a.delayUntil = now.Add(a.delay)
	f.log.Info("instance ended; replacing it after back-off", "app", a.spec.ID, "task", i.TaskID, "state", st.State,
		"message", st.Message, "backoff", a.delay)
	if st.Healthy != nil && !*st.Healthy {
		f.emit("unhealthy_instance_kill_event", map[string]any{"appId": a.spec.ID, "taskId": i.TaskID, "instanceId": i.TaskID,
			"version": i.Version, "reason": st.Message, "host": i.Host, "slaveId": string(i.AgentID)})
	}
}

func intPorts(ps []uint64) []int {
	out := make([]int, len(ps))
	for k, p := range ps {
		out[k] = int(p)
	}
	return out
}

func ipAddresses(host string) []marathon.IPAddress {
	if host == "" {
		return []marathon.IPAddress{}
	}
	return []marathon.IPAddress{{IPAddress: host, Protocol: "IPv4"}}
}

// Deployments.

// deploymentSteps is Marathon's plan for one app change.
func deploymentSteps(prev, next *marathon.App, restart bool) []marathon.Step {
	step := func(action, id string) marathon.Step {
		return marathon.Step{Actions: []marathon.Action{{Action: action, App: id}}}
	}
	switch {
	case next == nil:
		return []marathon.Step{step("StopApplication", prev.ID)}
	case prev == nil:
		return []marathon.Step{step("StartApplication", next.ID), step("ScaleApplication", next.ID)}
	case restart:
		return []marathon.Step{step("RestartApplication", next.ID)}
	default:
		return []marathon.Step{step("ScaleApplication", next.ID)}
	}
}

// startDeployment begins a change of one app.
func (f *Framework) startDeployment(a *app, prev, next *marathon.App, restart bool, now time.Time) *deployment {
	id := next
	if id == nil {
		id = prev
	}
	d := &deployment{ID: newDeploymentID(), Version: marathon.Timestamp(now), AppID: id.ID,
		Steps: deploymentSteps(prev, next, restart), Step: 1, Previous: prev, Target: next, Started: now}
	if prev == nil && len(d.Steps) > 1 {
		d.Step = 2 // the app exists now: StartApplication is done
	}
	a.deployment = d
	f.write(deploymentKey(d.ID), d)
	f.emit("deployment_info", map[string]any{"plan": f.planJSON(d), "currentStep": d.Steps[d.Step-1]})
	f.dirty[d.AppID] = true
	return d
}

// finishDeployment ends an app's deployment.
func (f *Framework) finishDeployment(a *app, ok bool, why string) {
	d := a.deployment
	if d == nil {
		return
	}
	a.deployment = nil
	f.remove(deploymentKey(d.ID))
	if ok {
		f.emit("deployment_step_success", map[string]any{"plan": f.planJSON(d), "currentStep": d.Steps[len(d.Steps)-1]})
		f.emit("deployment_success", map[string]any{"id": d.ID, "plan": f.planJSON(d)})
		f.log.Info("deployment finished", "deployment", d.ID, "app", d.AppID, "took", time.Since(d.Started).Round(time.Millisecond))
	} else {
		f.emit("deployment_failed", map[string]any{"id": d.ID, "plan": f.planJSON(d), "reason": why})
		f.log.Info("deployment cancelled", "deployment", d.ID, "app", d.AppID, "why", why)
	}
}

func (f *Framework) planJSON(d *deployment) map[string]any {
	return map[string]any{"id": d.ID, "version": d.Version, "steps": d.Steps}
}

// finishDelete removes an app whose instances are all gone.
func (f *Framework) finishDelete(a *app) {
	id := a.spec.ID
	f.finishDeployment(a, true, "")
	for _, i := range a.instances {
		delete(f.byTask, i.TaskID)
		f.remove(instanceKey(i.TaskID))
	}
	delete(f.apps, id)
	for _, v := range f.versions[id] {
		f.remove(versionKey(id, v))
	}
	delete(f.versions, id)
	for p, owner := range f.servicePorts {
		if owner == id {
			delete(f.servicePorts, p)
		}
	}
	f.emit("app_terminated_event", map[string]any{"appId": id})
	f.log.Info("app removed", "app", id)
}

func newDeploymentID() string {
	id := strings.ToLower(protocol.NewID())
	return id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
}
