package services

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-dc/cairn/frameworks/services/constraints"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/kernel/scheduler"
)

// offers places the apps' wanted instances on offers (first fit, apps in
// the order they started waiting), launches them once their records are
// stored, and declines the rest.
func (f *Framework) offers(ctx context.Context, offers []protocol.Offer) {
	now := time.Now()
	type want struct {
		a      *app
		n      int
		placed []constraints.Agent
	}
	var wants []*want
	for _, a := range f.apps {
		n, _ := f.wanted(a, now)
		if n <= 0 {
			a.queuedSince = time.Time{}
			continue
		}
		if a.queuedSince.IsZero() {
			a.queuedSince = now
		}
		a.offers.processed, a.offers.reasons = 0, nil // the summary is of the latest offers
		w := &want{a: a, n: n}
		for _, i := range a.instances {
			if i.active() {
				w.placed = append(w.placed, i.agent())
			}
		}
		wants = append(wants, w)
	}
	sort.Slice(wants, func(x, y int) bool {
		if !wants[x].a.queuedSince.Equal(wants[y].a.queuedSince) {
			return wants[x].a.queuedSince.Before(wants[y].a.queuedSince)
		}
		return wants[x].a.spec.ID < wants[y].a.spec.ID
	})
	// Place instance by instance, apps in queue order; each instance goes
	// to the first offer that fits (for GROUP_BY apps, the offer that
	// spreads best).
	rems := make([]resources.Resources, len(offers))
	cands := make([]constraints.Agent, len(offers))
	tasks := make([][]protocol.TaskInfo, len(offers))
	for k, o := range offers {
		rems[k] = o.Resources
		cands[k] = constraints.Agent{Hostname: o.Hostname, Attributes: o.Attributes}
	}
	for _, w := range wants {
		stats := &w.a.offers
		stats.processed += len(offers)
		stats.lastAt = now
		spread := hasGroupBy(w.a.cs)
		for w.n > 0 {
			order := make([]int, 0, len(offers))
			if spread {
				order = constraints.Rank(w.a.cs, cands, w.placed)
			} else {
				for k := range offers {
					order = append(order, k)
				}
			}
			best, reasons := -1, map[int]string{}
			var res resources.Resources
			var ports []uint64
			for _, k := range order {
				r, p, reason := fit(w.a, offers[k], rems[k], cands[k], w.placed)
				if reason == "" {
					best, res, ports = k, r, p
					break
				}
				reasons[k] = reason
			}
			if best < 0 {
				for k := range offers {
					if why, ok := reasons[k]; ok {
						stats.refuse(why)
					} else if _, _, why := fit(w.a, offers[k], rems[k], cands[k], w.placed); why != "" {
						stats.refuse(why)
					}
				}
				break
			}
			o := offers[best]
			i := &instance{TaskID: string(marathon.NewTaskID(w.a.spec.ID)), AppID: w.a.spec.ID, Version: w.a.configVersion(),
				AgentID: o.AgentID, Host: hostOf(o), Hostname: o.Hostname, Attributes: o.Attributes, Ports: ports,
				State: protocol.TaskStaging, StagedAt: now, ready: len(w.a.spec.ReadinessChecks) == 0}
			ti, err := buildTask(w.a, i, res)
			if err != nil {
				f.log.Error("cannot build a task for an app", "app", w.a.spec.ID, "err", err)
				stats.refuse("InvalidTask: " + err.Error())
				break
			}
			rems[best] = rems[best].Minus(res)
			w.a.instances[i.TaskID] = i
			f.byTask[i.TaskID] = i
			f.write(instanceKey(i.TaskID), i)
			tasks[best] = append(tasks[best], ti)
			w.placed = append(w.placed, cands[best])
			w.n--
			stats.lastUsed = now
			f.dirty[w.a.spec.ID] = true
		}
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
				if rej, err := f.sched.LaunchMany(lctx, launches...); err != nil || len(rej) > 0 {
					// Refused tasks come back as TASK_ERROR/DROPPED updates and are replaced.
					f.log.Warn("some launches were refused", "err", err, "rejected", len(rej))
				}
			}()
		})
	}
	if len(declines) > 0 {
		// Suppression stops offers when nothing is wanted; the filter only
		// keeps the same agents from coming straight back.
		refuse := 5 * time.Second
		f.later(func() {
			go func() {
				dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				_ = f.sched.Decline(dctx, declines, scheduler.Refuse(refuse))
			}()
		})
	}
}

func hasGroupBy(cs []constraints.Constraint) bool {
	for _, c := range cs {
		if c.Operator == constraints.GroupBy {
			return true
		}
	}
	return false
}

func hostOf(o protocol.Offer) string {
	if o.Address != "" {
		return o.Address
	}
	return o.Hostname
}

// fit checks whether one instance of a fits the remaining offer; it returns
// the instance's resources and host ports, or why not.
func fit(a *app, o protocol.Offer, rem resources.Resources, candidate constraints.Agent, placed []constraints.Agent) (resources.Resources, []uint64, string) {
	spec := a.spec
	if ok, why := constraints.Check(a.cs, candidate, placed); !ok {
		return nil, nil, "UnfulfilledConstraint: " + why
	}
	need := resources.Resources{
		{Name: "cpus", Type: resources.Scalar, Scalar: resources.FromFloat(*spec.CPUs)},
		{Name: "mem", Type: resources.Scalar, Scalar: resources.FromFloat(*spec.Mem)},
	}
	if *spec.Disk > 0 {
		need = append(need, resources.Resource{Name: "disk", Type: resources.Scalar, Scalar: resources.FromFloat(*spec.Disk)})
	}
	need = resources.Resources(nil).Plus(need)
	for _, r := range []struct{ name, reason string }{{"cpus", "InsufficientCpus"}, {"mem", "InsufficientMemory"}, {"disk", "InsufficientDisk"}} {
		if need.ScalarTotal(r.name) > rem.ScalarTotal(r.name) {
			return nil, nil, r.reason
		}
	}
	var ports []uint64
	if len(spec.PortDefinitions) > 0 {
		free := freePorts(rem)
		if spec.RequirePorts != nil && *spec.RequirePorts {
			for _, pd := range spec.PortDefinitions {
				p := uint64(pd.Port)
				if !free.Has(p) {
					return nil, nil, fmt.Sprintf("InsufficientPorts: port %d is not free on %s", p, o.Hostname)
				}
				ports = append(ports, p)
			}
		} else {
			ports = firstFree(free, len(spec.PortDefinitions))
			if len(ports) < len(spec.PortDefinitions) {
				return nil, nil, "InsufficientPorts"
			}
		}
		var rs resources.RangeSet
		for _, p := range ports {
			rs = append(rs, resources.Range{Begin: p, End: p})
		}
		norm, err := resources.NewRangeSet(rs...)
		if err != nil {
			return nil, nil, "InsufficientPorts"
		}
		need = need.Plus(resources.Resources{{Name: "ports", Type: resources.Ranges, Ranges: norm}})
	}
	// The role's and unreserved resources together: take exactly what the
	// offer holds (reservations included) by subtraction.
	if !rem.Contains(need) {
		return nil, nil, "UnfulfilledRole"
	}
	return need, ports, ""
}

func freePorts(r resources.Resources) resources.RangeSet {
	var out resources.RangeSet
	for _, x := range r {
		if x.Name == "ports" && x.Type == resources.Ranges {
			out = out.Union(x.Ranges)
		}
	}
	return out
}

func firstFree(rs resources.RangeSet, n int) []uint64 {
	var out []uint64
	for _, r := range rs {
		for p := r.Begin; p <= r.End && len(out) < n; p++ {
			out = append(out, p)
			if p == r.End {
				break
			}
		}
		if len(out) == n {
			break
		}
	}
	return out
}

// buildTask makes the TaskInfo of an instance.
func buildTask(a *app, i *instance, res resources.Resources) (protocol.TaskInfo, error) {
	spec := a.spec
	ti := protocol.TaskInfo{Name: taskName(spec.ID), TaskID: protocol.TaskID(i.TaskID), AgentID: i.AgentID, Resources: res,
		Labels: spec.Labels}
	env := marathon.TaskEnv(spec, i.Ports, i.Host)
	vars := make([]protocol.Variable, 0, len(env))
	for k, v := range env {
		vars = append(vars, protocol.Variable{Name: k, Value: v})
	}
	sort.Slice(vars, func(x, y int) bool { return vars[x].Name < vars[y].Name })
	cmd := &protocol.CommandInfo{Environment: &protocol.Environment{Variables: vars}, User: spec.User}
	switch {
	case spec.Cmd != nil && *spec.Cmd != "":
		cmd.Value = *spec.Cmd
	case len(spec.Args) > 0:
		no := false
		cmd.Shell, cmd.Value, cmd.Arguments = &no, spec.Args[0], spec.Args
	default:
		return ti, fmt.Errorf("the app has neither cmd nor args")
	}
	for _, fe := range spec.Fetch {
		cmd.URIs = append(cmd.URIs, protocol.CommandURI{Value: fe.URI, Executable: fe.Executable, Extract: fe.Extract,
			Cache: fe.Cache, OutputFile: fe.DestPath})
	}
	ti.Command = cmd
	if len(spec.HealthChecks) > 0 {
		hc, err := spec.HealthChecks[0].ToMesos(i.Ports)
		if err != nil {
			return ti, fmt.Errorf("healthChecks(0): %w", err)
		}
		ti.HealthCheck = hc
	}
	if ct := spec.Container; ct != nil && len(ct.Volumes) > 0 {
		ti.Container = &protocol.ContainerInfo{Type: "MESOS"}
		for _, v := range ct.Volumes {
			mode := v.Mode
			if mode == "" {
				mode = "RW"
			}
			ti.Container.Volumes = append(ti.Container.Volumes, protocol.VolumeMount{ContainerPath: v.ContainerPath, HostPath: v.HostPath, Mode: mode})
		}
	}
	if g := spec.TaskKillGracePeriodSeconds; g != nil {
		ti.KillPolicy = &protocol.KillPolicy{GracePeriod: &protocol.DurationInfo{Nanoseconds: int64(*g * 1e9)}}
	}
	return ti, nil
}

// taskName is the app id as a task name ("/prod/web" → "web.prod").
func taskName(id string) string {
	parts := strings.Split(strings.Trim(id, "/"), "/")
	for l, r := 0, len(parts)-1; l < r; l, r = l+1, r-1 {
		parts[l], parts[r] = parts[r], parts[l]
	}
	return strings.Join(parts, ".")
}

// describe summarises why offers did not fit ("2 offers: InsufficientCpus; 1: UNIQUE hostname ...").
func (s *offerStats) describe() string {
	type kv struct {
		reason string
		n      int
	}
	var list []kv
	for r, n := range s.reasons {
		list = append(list, kv{r, n})
	}
	sort.Slice(list, func(x, y int) bool {
		return list[x].n > list[y].n || list[x].n == list[y].n && list[x].reason < list[y].reason
	})
	var parts []string
	for _, e := range list {
		parts = append(parts, strconv.Itoa(e.n)+" offers refused by "+e.reason)
	}
	return strings.Join(parts, "; ")
}
