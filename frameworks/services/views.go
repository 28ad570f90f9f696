package services

import (
	"sort"
	"strings"
	"time"

	"github.com/cairn-dc/cairn/frameworks/services/marathon"
)

// Views are built on the loop and handed to the HTTP layer.

func (f *Framework) taskView(a *app, i *instance) marathon.Task {
	t := marathon.Task{ID: i.TaskID, AppID: i.AppID, Host: i.Host, IPAddresses: ipAddresses(i.Host), Ports: intPorts(i.Ports),
		ServicePorts: []int{}, SlaveID: string(i.AgentID), Version: i.Version, State: string(i.State)}
	if !i.StagedAt.IsZero() {
		t.StagedAt = marathon.Timestamp(i.StagedAt)
	}
	if !i.StartedAt.IsZero() {
		t.StartedAt = marathon.Timestamp(i.StartedAt)
	}
	if a != nil {
		for _, pd := range a.spec.PortDefinitions {
			t.ServicePorts = append(t.ServicePorts, pd.Port)
		}
		if a.hasHealthChecks() && i.healthy != nil {
			r := marathon.HealthCheckResult{Alive: *i.healthy, ConsecutiveFailures: i.failures, TaskID: i.TaskID}
			if !i.firstOK.IsZero() {
				r.FirstSuccess = marathon.Timestamp(i.firstOK)
			}
			if !i.lastHealthy.IsZero() {
				r.LastSuccess = marathon.Timestamp(i.lastHealthy)
			}
			if !i.lastFailure.IsZero() {
				r.LastFailure = marathon.Timestamp(i.lastFailure)
				r.LastFailureCause = i.Message
			}
			t.HealthCheckResults = []marathon.HealthCheckResult{r}
		}
	}
	return t
}

// embed says what GET /v2/apps includes.
type embed struct{ tasks, deployments, counts, lastFailure, readiness bool }

func parseEmbed(values []string, single bool) embed {
	// Tasks are embedded by default in lists too: scripts that read
	// .apps[].tasks (as pre-1.4 Marathon gave) keep working; ask for
	// embed=apps.counts alone to leave them out.
	e := embed{counts: true, deployments: true, tasks: len(values) == 0}
	if single {
		e.tasks, e.lastFailure = true, true
	}
	for _, v := range values {
		for _, x := range strings.Split(v, ",") {
			switch strings.TrimPrefix(strings.TrimPrefix(x, "apps."), "app.") {
			case "tasks":
				e.tasks = true
			case "deployments":
				e.deployments = true
			case "counts":
				e.counts = true
			case "lastTaskFailure":
				e.lastFailure = true
			case "readiness":
				e.readiness = true
			}
		}
	}
	return e
}

func (f *Framework) appStatus(a *app, e embed) marathon.AppStatus {
	s := marathon.AppStatus{App: a.spec, Deployments: []marathon.DeploymentRef{}}
	c := a.count()
	s.TasksStaged, s.TasksRunning, s.TasksHealthy, s.TasksUnhealthy = c.staged, c.running, c.healthy, c.unhealthy
	if !a.hasHealthChecks() {
		s.TasksHealthy = 0
	}
	if a.deployment != nil {
		s.Deployments = append(s.Deployments, marathon.DeploymentRef{ID: a.deployment.ID})
	}
	if e.tasks {
		s.Tasks = []marathon.Task{}
		for _, i := range a.sortedInstances() {
			if !i.State.Terminal() {
				s.Tasks = append(s.Tasks, f.taskView(a, i))
			}
		}
	}
	if e.lastFailure {
		s.LastTaskFailure = a.lastFailure
	}
	return s
}

func (f *Framework) sortedApps() []*app {
	out := make([]*app, 0, len(f.apps))
	for _, a := range f.apps {
		if !a.deleting {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(x, y int) bool { return out[x].spec.ID < out[y].spec.ID })
	return out
}

func (f *Framework) deployments() []marathon.Deployment {
	out := []marathon.Deployment{}
	for _, a := range f.apps {
		if a.deployment != nil {
			out = append(out, a.deployment.view(a))
		}
	}
	sort.Slice(out, func(x, y int) bool { return out[x].Version < out[y].Version })
	return out
}

// queue is GET /v2/queue: apps waiting for instances to launch.
func (f *Framework) queue(now time.Time) []map[string]any {
	out := []map[string]any{}
	for _, a := range f.sortedApps() {
		n := a.instancesN() - len(a.count().current)
		if n <= 0 {
			continue
		}
		delay := marathon.Delay{Overdue: !now.Before(a.delayUntil)}
		if now.Before(a.delayUntil) {
			delay.TimeLeftSeconds = a.delayUntil.Sub(now).Seconds()
		}
		summary := &marathon.Summary{ProcessedOffersCount: a.offers.processed, RejectSummaryLastOffers: []marathon.RejectReason{}}
		unused := 0
		for r, k := range a.offers.reasons {
			summary.RejectSummaryLastOffers = append(summary.RejectSummaryLastOffers, marathon.RejectReason{Reason: r, Declined: k, Processed: a.offers.processed})
			unused += k
		}
		sort.Slice(summary.RejectSummaryLastOffers, func(x, y int) bool {
			return summary.RejectSummaryLastOffers[x].Reason < summary.RejectSummaryLastOffers[y].Reason
		})
		summary.UnusedOffersCount = unused
		if !a.offers.lastAt.IsZero() {
			summary.LastUnusedOfferAt = marathon.Timestamp(a.offers.lastAt)
		}
		if !a.offers.lastUsed.IsZero() {
			summary.LastUsedOfferAt = marathon.Timestamp(a.offers.lastUsed)
		}
		item := map[string]any{"app": a.spec, "count": n, "delay": delay, "processedOffersSummary": summary,
			"since": marathon.Timestamp(coalesce(a.queuedSince, now))}
		if _, why := f.wanted(a, now); why != "" {
			item["waiting"] = why
		} else if len(a.offers.reasons) > 0 {
			item["waiting"] = "no matching offers: " + a.offers.describe()
		}
		out = append(out, item)
	}
	return out
}

func coalesce(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

// groups builds Marathon's group tree from the app ids.
func (f *Framework) groups(root string) map[string]any {
	type group struct {
		id     string
		apps   []marathon.AppStatus
		groups map[string]*group
	}
	top := &group{id: "/", groups: map[string]*group{}}
	for _, a := range f.sortedApps() {
		parts := strings.Split(strings.Trim(a.spec.ID, "/"), "/")
		g := top
		path := ""
		for _, p := range parts[:len(parts)-1] {
			path += "/" + p
			next := g.groups[path]
			if next == nil {
				next = &group{id: path, groups: map[string]*group{}}
				g.groups[path] = next
			}
			g = next
		}
		g.apps = append(g.apps, f.appStatus(a, embed{counts: true, deployments: true}))
	}
	var render func(g *group) map[string]any
	render = func(g *group) map[string]any {
		apps := g.apps
		if apps == nil {
			apps = []marathon.AppStatus{}
		}
		subs := []map[string]any{}
		keys := make([]string, 0, len(g.groups))
		for k := range g.groups {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			subs = append(subs, render(g.groups[k]))
		}
		return map[string]any{"id": g.id, "apps": apps, "groups": subs, "dependencies": []string{}}
	}
	// Find the requested subtree.
	var find func(g *group) *group
	find = func(g *group) *group {
		if g.id == root {
			return g
		}
		for _, s := range g.groups {
			if r := find(s); r != nil {
				return r
			}
		}
		return nil
	}
	g := find(top)
	if g == nil {
		return nil
	}
	return render(g)
}
