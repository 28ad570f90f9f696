package services

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-dc/cairn/frameworks/services/constraints"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// Errors of API operations; the HTTP layer maps them to Marathon's answers.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
)

// LockedError: the app is in a deployment (409 unless force).
type LockedError struct{ Deployments []string }

func (e *LockedError) Error() string {
	return "App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'."
}

// Result of a change: the deployment carrying it and the new version.
type Result struct {
	DeploymentID string `json:"deploymentId"`
	Version      string `json:"version"`
}

// nextVersion is a version string after now, distinct from the app's last.
func (f *Framework) nextVersion(id string, now time.Time) string {
	v := marathon.Timestamp(now)
	if vs := f.versions[id]; len(vs) > 0 && vs[len(vs)-1] >= v {
		last, err := time.Parse("2006-01-02T15:04:05.000Z", vs[len(vs)-1])
		if err == nil {
			v = marathon.Timestamp(last.Add(time.Millisecond))
		}
	}
	return v
}

const maxVersions = 50

// store an app's spec and a new version of it.
func (f *Framework) saveSpec(spec marathon.App) {
	f.write(appKey(spec.ID), spec)
	f.write(versionKey(spec.ID, spec.Version), spec)
	vs := append(f.versions[spec.ID], spec.Version)
	for len(vs) > maxVersions {
		f.remove(versionKey(spec.ID, vs[0]))
		vs = vs[1:]
	}
	f.versions[spec.ID] = vs
}

// assignServicePorts gives ports 0 a free service port (10000-20000), as Marathon.
func (f *Framework) assignServicePorts(spec *marathon.App) {
	if spec.RequirePorts != nil && *spec.RequirePorts {
		return
	}
	next := 10000
	for k := range spec.PortDefinitions {
		if spec.PortDefinitions[k].Port != 0 {
			continue
		}
		for next < 20000 && f.servicePorts[next] != "" {
			next++
		}
		spec.PortDefinitions[k].Port = next
		f.servicePorts[next] = spec.ID
	}
}

func (f *Framework) locked(a *app, force bool) error {
	if a.deployment != nil && !force {
		return &LockedError{Deployments: []string{a.deployment.ID}}
	}
	if a.deployment != nil {
		f.finishDeployment(a, false, "superseded by a forced change")
	}
	return nil
}

// createApp adds a new app (spec normalised and validated).
func (f *Framework) createApp(spec marathon.App, now time.Time) (Result, error) {
	if a := f.apps[spec.ID]; a != nil {
		return Result{}, fmt.Errorf("an app with id [%s] already exists: %w", spec.ID, ErrExists)
	}
	cs, err := constraints.Parse(spec.Constraints)
	if err != nil {
		return Result{}, err
	}
	v := f.nextVersion(spec.ID, now)
	spec.Version = v
	spec.VersionInfo = &marathon.VersionInfo{LastScalingAt: v, LastConfigChangeAt: v}
	f.assignServicePorts(&spec)
	a := &app{spec: spec, cs: cs, instances: map[string]*instance{}}
	f.apps[spec.ID] = a
	f.saveSpec(spec)
	d := f.startDeployment(a, nil, &a.spec, false, now)
	return Result{DeploymentID: d.ID, Version: v}, nil
}

// updateApp replaces an app's definition (spec normalised and validated);
// only a change of instances is a scale, anything else a rolling restart.
func (f *Framework) updateApp(spec marathon.App, force bool, now time.Time) (Result, error) {
	a := f.apps[spec.ID]
	if a == nil || a.deleting {
		return f.createApp(spec, now)
	}
	if err := f.locked(a, force); err != nil {
		return Result{}, err
	}
	cs, err := constraints.Parse(spec.Constraints)
	if err != nil {
		return Result{}, err
	}
	prev := a.spec
	f.assignServicePorts(&spec)
	v := f.nextVersion(spec.ID, now)
	spec.Version = v
	restart := configChanged(prev, spec)
	spec.VersionInfo = &marathon.VersionInfo{LastScalingAt: v, LastConfigChangeAt: prev.VersionInfo.LastConfigChangeAt}
	if restart {
		spec.VersionInfo.LastConfigChangeAt = v
	}
	a.spec, a.cs = spec, cs
	f.saveSpec(spec)
	d := f.startDeployment(a, &prev, &a.spec, restart, now)
	return Result{DeploymentID: d.ID, Version: v}, nil
}

// configChanged: anything but instances (and version info) differs,
// compared in their normalised JSON form (so a stored app and a parsed one
// compare equal when they say the same).
func configChanged(a, b marathon.App) bool {
	canon := func(x marathon.App) string {
		x = x.Clone()
		x.Normalize()
		x.Instances, x.Version, x.VersionInfo = nil, "", nil
		data, _ := json.Marshal(x)
		return string(data)
	}
	return canon(a) != canon(b)
}

// restartApp rolls every instance over to a new config version.
func (f *Framework) restartApp(id string, force bool, now time.Time) (Result, error) {
	a := f.apps[id]
	if a == nil || a.deleting {
		return Result{}, fmt.Errorf("app '%s' does not exist: %w", id, ErrNotFound)
	}
	if err := f.locked(a, force); err != nil {
		return Result{}, err
	}
	prev := a.spec
	spec := a.spec
	v := f.nextVersion(id, now)
	spec.Version = v
	spec.VersionInfo = &marathon.VersionInfo{LastScalingAt: v, LastConfigChangeAt: v}
	a.spec = spec
	f.saveSpec(spec)
	d := f.startDeployment(a, &prev, &a.spec, true, now)
	return Result{DeploymentID: d.ID, Version: v}, nil
}

// deleteApp kills every instance and removes the app.
func (f *Framework) deleteApp(id string, force bool, now time.Time) (Result, error) {
	a := f.apps[id]
	if a == nil || a.deleting {
		return Result{}, fmt.Errorf("app '%s' does not exist: %w", id, ErrNotFound)
	}
	if err := f.locked(a, force); err != nil {
		return Result{}, err
	}
	prev := a.spec
	a.deleting = true
	f.remove(appKey(id))
	d := f.startDeployment(a, &prev, nil, false, now)
	return Result{DeploymentID: d.ID, Version: marathon.Timestamp(now)}, nil
}

// killTasks kills tasks by id: with scale the app shrinks by as many,
// otherwise they are replaced (without back-off).
func (f *Framework) killTasks(ctx context.Context, ids []string, scale, wipe bool, now time.Time) ([]marathon.Task, *Result, error) {
	var killed []marathon.Task
	perApp := map[string]int{}
	for _, id := range ids {
		i := f.byTask[id]
		if i == nil {
			continue
		}
		a := f.apps[i.AppID]
		if a == nil {
			continue
		}
		killed = append(killed, f.taskView(a, i))
		if scale {
			perApp[a.spec.ID]++
			f.kill(ctx, a, i, "killed with scale")
		} else {
			f.killReplace(ctx, i)
		}
		if wipe {
			f.forget(a, i)
		}
	}
	var res *Result
	for appID, n := range perApp {
		a := f.apps[appID]
		spec := a.spec
		inst := max(0, *spec.Instances-n)
		spec.Instances = &inst
		r, err := f.updateApp(spec, true, now)
		if err != nil {
			return killed, nil, err
		}
		res = &r
	}
	return killed, res, nil
}

// killReplace kills an instance that is then replaced at once.
func (f *Framework) killReplace(ctx context.Context, i *instance) {
	tid, aid := protocol.TaskID(i.TaskID), i.AgentID
	if a := f.apps[i.AppID]; a != nil {
		a.delay, a.delayUntil = 0, time.Time{}
	}
	i.userKilled = true
	f.later(func() {
		go func() {
			// Not the caller's context: an API request ends before the kill.
			kctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = f.sched.Kill(kctx, tid, aid)
		}()
	})
}

// rollback undoes a deployment (a new deployment back to the app as it
// was); with force it only stops it.
func (f *Framework) rollback(id string, force bool, now time.Time) (*Result, error) {
	var a *app
	for _, x := range f.apps {
		if x.deployment != nil && x.deployment.ID == id {
			a = x
		}
	}
	if a == nil {
		return nil, fmt.Errorf("DeploymentPlan %s does not exist: %w", id, ErrNotFound)
	}
	d := a.deployment
	if force {
		f.finishDeployment(a, false, "cancelled")
		return nil, nil
	}
	f.finishDeployment(a, false, "rolled back")
	switch {
	case d.Previous == nil: // it was a creation: delete
		r, err := f.deleteApp(a.spec.ID, true, now)
		return &r, err
	case d.Target == nil: // it was a deletion: bring it back
		a.deleting = false
		spec := *d.Previous
		delete(f.apps, spec.ID)
		spec.Version, spec.VersionInfo = "", nil
		r, err := f.createApp(spec, now)
		if err == nil {
			// Keep its running instances.
			for tid, i := range a.instances {
				if !i.State.Terminal() {
					i.Killing = false
					f.apps[spec.ID].instances[tid] = i
				}
			}
		}
		return &r, err
	default:
		spec := *d.Previous
		r, err := f.updateApp(spec, true, now)
		return &r, err
	}
}
