package deployment

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
)

// ErrNoServices is what the app and deployment commands say when no
// services framework serves Marathon's API behind the master.
var ErrNoServices = errors.New("the services framework is not running: it starts with cairn up")

// ServiceError reports a failed call to the services framework: its
// absence in ErrNoServices' words, other errors after what was being done
// ("listing deployments: ...").
func ServiceError(what string, err error) error {
	var nse *apiclient.NoServiceError
	if errors.As(err, &nse) {
		return ErrNoServices
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// IsNotFound reports whether err is the services framework's 404 (an app
// or deployment it does not know), not the master's (no services
// framework: a *apiclient.NoServiceError).
func IsNotFound(err error) bool {
	var ae *apiclient.APIError
	var nse *apiclient.NoServiceError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound && !errors.As(err, &nse)
}

// Target is the deployment a Watcher waits for, and what its success
// looks like. Fields left empty are learned from the deployment.
type Target struct {
	DeploymentID string
	// AppID is the (canonical) id of the app the deployment changes.
	AppID string
	// Version is the app's version once the deployment is done.
	Version string
	// Removal says the deployment removes the app.
	Removal bool
}

// Config says how a Watcher shows progress.
type Config struct {
	// Status, when not nil, shows the progress live (a terminal's status
	// line); it is cleared when Wait returns.
	Status *output.Status
	// Lines, when not nil, gets a plain line each time the progress
	// changes (for logs).
	Lines io.Writer
	// PollInterval is how often the deployment is looked at (default 1s);
	// events about it make the next look come sooner.
	PollInterval time.Duration
}

const (
	defaultPollInterval = time.Second
	// attachTimeout bounds the wait for the event stream before a change.
	attachTimeout = 5 * time.Second
	// eventGrace is how long a deployment that left /v2/deployments may
	// take to announce its end on the event stream, before Wait decides
	// from the app's state.
	eventGrace = 2 * time.Second
	// maxLookFailures is how many looks in a row may fail (a framework
	// restarting) before Wait gives up.
	maxLookFailures = 5
)

// watchedEvents are the event types a Watcher reads (the framework sends
// event_stream_attached in any case).
var watchedEvents = []string{
	"deployment_info", "deployment_step_success", "deployment_success", "deployment_failed",
	"status_update_event", "health_status_changed_event", "instance_changed_event",
}

// Watcher follows deployments of the services framework: through its
// /v2/events stream when it can, and by looking at /v2/deployments, the
// app and /v2/queue.
type Watcher struct {
	client  *apiclient.Client
	cfg     Config
	events  <-chan marathon.Event
	errc    <-chan error
	pending []marathon.Event
	cancel  context.CancelFunc
}

// NewWatcher subscribes to the services framework's events and returns
// once the subscription is live (or has failed: the Watcher then polls),
// so that a change made after it returns is seen from its start. Close it
// when done.
func NewWatcher(ctx context.Context, client *apiclient.Client, cfg Config) *Watcher {
	sctx, cancel := context.WithCancel(ctx)
	w := &Watcher{client: client, cfg: cfg, cancel: cancel}
	w.events, w.errc = client.MarathonEvents(sctx, watchedEvents...)
	timer := time.NewTimer(attachTimeout)
	defer timer.Stop()
	select {
	case ev, ok := <-w.events:
		if !ok {
			w.streamEnded()
		} else if ev.Type != "event_stream_attached" {
			w.pending = append(w.pending, ev)
		}
	case <-timer.C:
		slog.DebugContext(ctx, "the services framework's event stream is slow to attach; polling meanwhile")
	case <-ctx.Done():
	}
	return w
}

// Close ends the event subscription.
func (w *Watcher) Close() { w.cancel() }

func (w *Watcher) streamEnded() {
	w.events = nil
	if err := <-w.errc; err != nil {
		slog.Debug("the services framework's event stream ended; polling", "err", err)
	}
}

// next returns a pending event, or the event channel to receive from.
func (w *Watcher) next() (*marathon.Event, <-chan marathon.Event) {
	if len(w.pending) > 0 {
		ev := w.pending[0]
		w.pending = w.pending[1:]
		return &ev, nil
	}
	return nil, w.events
}

// snapshot is one look at a deployment and its app.
type snapshot struct {
	found   bool
	dep     marathon.Deployment
	app     *marathon.AppStatus // nil: the app does not exist (or is being removed)
	waiting string              // why the deployment does not progress (its own word, or the queue's)
}

// Wait follows t's deployment until it ends. It returns a line saying how
// it succeeded, or an error saying how it failed (deployment_failed, a
// rollback, a cancellation, the app not at the deployment's version).
// A deployment that is not in progress and whose app is not known is an
// error.
func (w *Watcher) Wait(ctx context.Context, t Target) (string, error) {
	if w.cfg.Status != nil {
		defer w.cfg.Status.Clear()
	}
	poll := cmp.Or(w.cfg.PollInterval, defaultPollInterval)
	// Events make the next look come sooner, but not more often than
	// minGap: a big app sends many.
	minGap := min(poll, 100*time.Millisecond)
	ticker := time.NewTicker(min(poll, 250*time.Millisecond))
	defer ticker.Stop()
	var (
		lastLook  time.Time
		dirty     = true
		failures  int
		goneSince time.Time
		lastLine  string
		snap      snapshot
		looked    bool // a look succeeded: later failures may be passing
	)
	for {
		if since := time.Since(lastLook); dirty && since >= minGap || since >= poll {
			s, err := w.look(ctx, &t)
			lastLook, dirty = time.Now(), false
			switch {
			case err != nil && ctx.Err() != nil:
				return "", ctx.Err()
			case err != nil:
				failures++
				if !looked || failures >= maxLookFailures {
					return "", ServiceError("following deployment "+t.DeploymentID, err)
				}
				if w.cfg.Status != nil {
					w.cfg.Status.Set(fmt.Sprintf("retrying: %s", strings.Join(strings.Fields(err.Error()), " ")))
				}
			case s.found:
				looked, failures, goneSince, snap = true, 0, time.Time{}, s
				if line := progress(t, s); line != lastLine {
					lastLine = line
					if w.cfg.Status != nil {
						w.cfg.Status.Set(line)
					}
					if w.cfg.Lines != nil {
						fmt.Fprintln(w.cfg.Lines, line)
					}
				}
			case t.AppID == "":
				return "", notInProgress(t.DeploymentID)
			default:
				// Gone from /v2/deployments: its end event may be on its way.
				looked, failures, snap = true, 0, s
				if goneSince.IsZero() {
					goneSince = time.Now()
				}
				if len(w.pending) == 0 && (w.events == nil || time.Since(goneSince) >= eventGrace) {
					return w.decide(t, snap)
				}
			}
		}
		ev, events := w.next()
		if ev == nil {
			select {
			case e, ok := <-events:
				if !ok {
					w.streamEnded()
					continue
				}
				ev = &e
			case <-ticker.C:
				if w.cfg.Status != nil {
					w.cfg.Status.Tick()
				}
				continue
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		switch ev.Type {
		case "deployment_success":
			if str(ev.Body["id"]) == t.DeploymentID {
				return w.succeeded(ctx, t), nil
			}
		case "deployment_failed":
			if str(ev.Body["id"]) == t.DeploymentID {
				reason := cmp.Or(str(ev.Body["reason"]), "no reason given")
				return "", fmt.Errorf("deployment %s of app %s failed: %s", t.DeploymentID, cmp.Or(t.AppID, "?"), reason)
			}
		case "deployment_info", "deployment_step_success":
			if plan, ok := ev.Body["plan"].(map[string]any); ok && str(plan["id"]) == t.DeploymentID {
				dirty = true
			}
		case "status_update_event", "health_status_changed_event", "instance_changed_event":
			if id := cmp.Or(str(ev.Body["appId"]), str(ev.Body["runSpecId"])); id != "" && id == t.AppID {
				dirty = true
			}
		}
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// look reads the deployment, its app and the app's queue entry; it fills
// what t lacks from the deployment.
func (w *Watcher) look(ctx context.Context, t *Target) (snapshot, error) {
	var s snapshot
	deps, err := w.client.Deployments(ctx)
	if err != nil {
		return s, err
	}
	for _, d := range deps {
		if d.ID == t.DeploymentID {
			s.found, s.dep = true, d
		}
	}
	if s.found && t.AppID == "" {
		if len(s.dep.AffectedApps) > 0 {
			t.AppID = s.dep.AffectedApps[0]
		}
		t.Version = s.dep.Version
		t.Removal = removes(s.dep)
		if t.Removal {
			t.Version = ""
		}
	}
	if t.AppID == "" {
		return s, nil
	}
	apps, err := w.client.Apps(ctx, t.AppID)
	if err != nil {
		return s, err
	}
	for i := range apps {
		if apps[i].ID == t.AppID {
			s.app = &apps[i]
		}
	}
	s.waiting = s.dep.Waiting
	if s.found && s.waiting == "" && s.app != nil && s.app.TasksRunning < instances(s.app) {
		queue, err := w.client.Queue(ctx)
		if err != nil {
			return s, err
		}
		for _, q := range queue {
			if q.App.ID == t.AppID {
				s.waiting = q.Waiting
			}
		}
	}
	return s, nil
}

// removes reports whether a deployment removes its app.
func removes(d marathon.Deployment) bool {
	if len(d.Steps) == 0 {
		return false
	}
	for _, st := range d.Steps {
		for _, a := range st.Actions {
			if a.Action != "StopApplication" {
				return false
			}
		}
	}
	return true
}

func instances(a *marathon.AppStatus) int {
	if a.Instances == nil {
		return 1 // Marathon's default
	}
	return *a.Instances
}

// counts prints an app's tasks: "2/3 tasks running, 2 healthy".
func counts(a *marathon.AppStatus) string {
	s := fmt.Sprintf("%d/%d tasks running", a.TasksRunning, instances(a))
	if len(a.HealthChecks) > 0 {
		s += fmt.Sprintf(", %d healthy", a.TasksHealthy)
	}
	return s
}

// progress is one line about a deployment in progress: "step 2/2
// ScaleApplication /web · 1/3 tasks running · waiting: ...".
func progress(t Target, s snapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "step %d/%d", s.dep.CurrentStep, s.dep.TotalSteps)
	if act := currentAction(s.dep); act != "" {
		b.WriteString(" " + act)
	}
	b.WriteString(" " + cmp.Or(t.AppID, strings.Join(s.dep.AffectedApps, ",")))
	if s.app != nil && !t.Removal {
		b.WriteString(" · " + counts(s.app))
	}
	if s.waiting != "" {
		b.WriteString(" · waiting: " + s.waiting)
	}
	return b.String()
}

// currentAction is the action of a deployment's current step.
func currentAction(d marathon.Deployment) string {
	var acts []string
	for _, a := range d.CurrentActions {
		acts = append(acts, a.Action)
	}
	if len(acts) == 0 && d.CurrentStep >= 1 && d.CurrentStep <= len(d.Steps) {
		for _, a := range d.Steps[d.CurrentStep-1].Actions {
			acts = append(acts, a.Action)
		}
	}
	return strings.Join(compact(acts), ",")
}

func compact(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// succeeded is the line for a deployment that announced its success.
func (w *Watcher) succeeded(ctx context.Context, t Target) string {
	if t.Removal {
		return fmt.Sprintf("Deployment %s succeeded: app %s is removed", t.DeploymentID, t.AppID)
	}
	if apps, err := w.client.Apps(ctx, t.AppID); err == nil {
		for i := range apps {
			if apps[i].ID == t.AppID {
				return fmt.Sprintf("Deployment %s succeeded: app %s has %s", t.DeploymentID, t.AppID, counts(&apps[i]))
			}
		}
	}
	return fmt.Sprintf("Deployment %s succeeded", t.DeploymentID)
}

// decide tells how a deployment that left /v2/deployments without a word
// on the event stream ended, from the state of its app.
func (w *Watcher) decide(t Target, s snapshot) (string, error) {
	id, a := t.DeploymentID, s.app
	switch {
	case t.Removal && a == nil:
		return fmt.Sprintf("Deployment %s succeeded: app %s is removed", id, t.AppID), nil
	case t.Removal:
		return "", fmt.Errorf("deployment %s ended but app %s still exists: its removal was rolled back or cancelled", id, t.AppID)
	case a == nil:
		return "", fmt.Errorf("deployment %s ended and app %s no longer exists (removed, or its creation rolled back)", id, t.AppID)
	case t.Version != "" && a.Version != t.Version:
		by := ""
		if len(a.Deployments) > 0 {
			by = " by deployment " + a.Deployments[0].ID
		}
		return "", fmt.Errorf("deployment %s did not finish: app %s is now at version %s, not %s (rolled back or replaced%s)", id, t.AppID, a.Version, t.Version, by)
	case len(a.Deployments) > 0:
		return "", fmt.Errorf("deployment %s did not finish: app %s is now changed by deployment %s", id, t.AppID, a.Deployments[0].ID)
	case a.TasksRunning < instances(a) || len(a.HealthChecks) > 0 && a.TasksHealthy < instances(a):
		return "", fmt.Errorf("deployment %s ended before app %s converged (%s): it was cancelled", id, t.AppID, counts(a))
	}
	return fmt.Sprintf("Deployment %s succeeded: app %s has %s", id, t.AppID, counts(a)), nil
}
