package health

import (
	"context"
	"fmt"
	"time"
)

// Run checks until ctx ends or the task must be killed, and sends events
// (transitions only: see Event). It waits the delay, then runs a check,
// then waits the interval after each check ends. It closes events when it
// returns (a nil events drops them). A send waits for the reader or for ctx
// to end: give a small buffer (a few events) and read it, events are rare.
// Each call of Run has its own state (the grace period counts from its
// start). The Checker's clock (WithClock) drives the delay, the interval
// and the grace period.
func (c *Checker) Run(ctx context.Context, events chan<- Event) {
	if events != nil {
		defer close(events)
	}
	tr := newTracker(c.settings, c.clock.Now())
	wait := c.settings.Delay
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.clock.After(wait):
		}
		if ctx.Err() != nil {
			return
		}
		r := c.CheckOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		ev, kill := tr.observe(r)
		if ev != nil && events != nil {
			select {
			case events <- *ev:
			case <-ctx.Done():
				return
			}
		}
		if kill {
			return
		}
		wait = c.settings.Interval
	}
}

// reported is the health last sent to the agent.
type reported int

const (
	reportedNone reported = iota
	reportedHealthy
	reportedUnhealthy
)

// tracker turns results into events, as Mesos' health checker.
type tracker struct {
	limit       int
	graceEnd    time.Time
	graceOver   bool // a success ends the grace period early
	consecutive int  // failures in a row, outside the grace period
	reported    reported
}

func newTracker(s Settings, start time.Time) *tracker {
	return &tracker{limit: s.ConsecutiveFailures, graceEnd: start.Add(s.GracePeriod)}
}

// observe takes one result and returns the event to send (nil: none) and
// whether the task must be killed (then the event is the Kill event).
func (t *tracker) observe(r Result) (*Event, bool) {
	if r.Healthy {
		t.graceOver = true
		t.consecutive = 0
		if t.reported == reportedHealthy {
			return nil, false
		}
		t.reported = reportedHealthy
		return &Event{Healthy: true, Message: r.Message}, false
	}
	if !t.graceOver && r.At.Before(t.graceEnd) {
		return nil, false // starting up: ignored, not counted
	}
	t.consecutive++
	if t.consecutive >= t.limit {
		t.reported = reportedUnhealthy
		return &Event{Kill: true, Message: fmt.Sprintf("health check failed %d times in a row: %s", t.consecutive, r.Message)}, true
	}
	if t.reported == reportedUnhealthy {
		return nil, false
	}
	t.reported = reportedUnhealthy
	return &Event{Message: r.Message}, false
}
