package services

import (
	"math"
	"sort"
	"time"

	"github.com/cairn-dc/cairn/frameworks/services/constraints"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// instance is one task of an app. Exported fields are its stored record.
type instance struct {
	TaskID     string               `json:"task_id"`
	AppID      string               `json:"app_id"`
	Version    string               `json:"version"` // the app's config version it runs
	AgentID    protocol.AgentID     `json:"agent_id"`
	Host       string               `json:"host"`     // where it is reached (agent address)
	Hostname   string               `json:"hostname"` // the agent's name (constraints)
	Attributes resources.Attributes `json:"attributes,omitempty"`
	Ports      []uint64             `json:"ports,omitempty"`
	State      protocol.TaskState   `json:"state"`
	StagedAt   time.Time            `json:"staged_at"`
	StartedAt  time.Time            `json:"started_at,omitempty"`
	// Killing: the framework asked it dead (scale down, upgrade, delete):
	// it is not replaced.
	Killing          bool      `json:"killing,omitempty"`
	UnreachableSince time.Time `json:"unreachable_since,omitempty"`
	Message          string    `json:"message,omitempty"`

	// Not stored (the master re-tells them on reconciliation).
	healthy     *bool
	ready       bool // readiness checks passed (or none)
	readiness   []marathon.ReadinessCheckResult
	stopReady   func()
	inactive    bool // unreachable beyond inactiveAfterSeconds: replaced
	lastHealthy time.Time
	lastFailure time.Time
	failures    int
	userKilled  bool      // killed by a user without scaling: replaced at once
	killSentAt  time.Time // when the framework last sent its kill
	firstOK     time.Time
	updatedAt   time.Time
}

// active: counts towards the app's instances.
func (i *instance) active() bool {
	return !i.State.Terminal() && !i.Killing && !i.inactive
}

// healthy: running, and healthy if the app has health checks.
func (i *instance) isHealthy(hasChecks bool) bool {
	if i.State != protocol.TaskRunning {
		return false
	}
	return !hasChecks || (i.healthy != nil && *i.healthy)
}

func (i *instance) agent() constraints.Agent {
	return constraints.Agent{Hostname: i.Hostname, Attributes: i.Attributes}
}

// app is an app with its instances and supervision state.
type app struct {
	spec        marathon.App
	cs          []constraints.Constraint
	instances   map[string]*instance
	deployment  *deployment
	delay       time.Duration // current launch back-off
	delayUntil  time.Time
	lastFailure *marathon.LastTaskFailure
	queuedSince time.Time
	offers      offerStats // why the last offers did not fit
	deleting    bool
}

func (a *app) instancesN() int { return *a.spec.Instances }

func (a *app) configVersion() string { return a.spec.VersionInfo.LastConfigChangeAt }

func (a *app) hasHealthChecks() bool { return len(a.spec.HealthChecks) > 0 }

// sortedInstances returns the instances ordered by staging time.
func (a *app) sortedInstances() []*instance {
	out := make([]*instance, 0, len(a.instances))
	for _, i := range a.instances {
		out = append(out, i)
	}
	sort.Slice(out, func(x, y int) bool {
		if !out[x].StagedAt.Equal(out[y].StagedAt) {
			return out[x].StagedAt.Before(out[y].StagedAt)
		}
		return out[x].TaskID < out[y].TaskID
	})
	return out
}

// counts are an app's instances by kind.
type counts struct {
	current, old       []*instance // active, by config version
	currentHealthy     int         // current, healthy and ready
	oldHealthy         int
	staged, running    int
	healthy, unhealthy int
	// stopping: killed by the framework and not ended yet (an unreachable
	// one aside: it ends when its agent comes back or is gone).
	stopping int
}

func (a *app) count() counts {
	var c counts
	checks := a.hasHealthChecks()
	for _, i := range a.sortedInstances() {
		if i.State.Terminal() {
			continue
		}
		switch i.State {
		case protocol.TaskStaging, protocol.TaskStarting:
			c.staged++
		case protocol.TaskRunning:
			c.running++
			if checks && i.healthy != nil {
				if *i.healthy {
					c.healthy++
				} else {
					c.unhealthy++
				}
			}
		}
		if i.Killing && i.State != protocol.TaskUnreachable {
			c.stopping++
		}
		if !i.active() {
			continue
		}
		ok := i.isHealthy(checks)
		if i.Version == a.configVersion() {
			c.current = append(c.current, i)
			if ok && i.ready {
				c.currentHealthy++
			}
		} else {
			c.old = append(c.old, i)
			if ok {
				c.oldHealthy++
			}
		}
	}
	return c
}

// strategy bounds of a rolling change with n instances: never fewer than
// minHealthy healthy, never more than maxTotal at once.
func strategy(spec marathon.App) (minHealthy, maxTotal int) {
	n := *spec.Instances
	minH, maxO := 1.0, 1.0
	if us := spec.UpgradeStrategy; us != nil {
		if us.MinimumHealthCapacity != nil {
			minH = *us.MinimumHealthCapacity
		}
		if us.MaximumOverCapacity != nil {
			maxO = *us.MaximumOverCapacity
		}
	}
	return int(math.Ceil(float64(n) * minH)), n + int(math.Floor(float64(n)*maxO))
}

// offerStats counts why offers were not used for an app.
type offerStats struct {
	processed int
	reasons   map[string]int
	lastAt    time.Time
	lastUsed  time.Time
}

func (s *offerStats) refuse(reason string) {
	if s.reasons == nil {
		s.reasons = map[string]int{}
	}
	s.reasons[reason]++
}

// deployment is a change being carried out on one app. Exported fields
// are its stored record.
type deployment struct {
	ID      string          `json:"id"`
	Version string          `json:"version"`
	AppID   string          `json:"app_id"`
	Steps   []marathon.Step `json:"steps"`
	Step    int             `json:"step"` // 1-based current step
	// Previous is the app before the change (nil: it did not exist), for
	// rollback; Target nil means the app is being deleted.
	Previous *marathon.App `json:"previous,omitempty"`
	Target   *marathon.App `json:"target,omitempty"`
	Started  time.Time     `json:"started"`

	waiting string // why it does not progress, when it does not
}

func (d *deployment) action() string {
	if d.Step < 1 || d.Step > len(d.Steps) || len(d.Steps[d.Step-1].Actions) == 0 {
		return ""
	}
	return d.Steps[d.Step-1].Actions[0].Action
}

func (d *deployment) view(a *app) marathon.Deployment {
	v := marathon.Deployment{ID: d.ID, Version: d.Version, AffectedApps: []string{d.AppID}, Steps: d.Steps,
		CurrentStep: d.Step, TotalSteps: len(d.Steps), CurrentActions: []marathon.CurrentAction{}, Waiting: d.waiting}
	if act := d.action(); act != "" {
		ca := marathon.CurrentAction{Action: act, App: d.AppID, ReadinessCheckResults: []marathon.ReadinessCheckResult{}}
		if a != nil {
			for _, i := range a.sortedInstances() {
				ca.ReadinessCheckResults = append(ca.ReadinessCheckResults, i.readiness...)
			}
		}
		v.CurrentActions = append(v.CurrentActions, ca)
	}
	return v
}
