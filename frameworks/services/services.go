// Package services is Cairn's init for the datacenter: a Marathon-compatible
// framework that keeps long-running apps running. It is written only
// against kernel/scheduler and kernel/protocol, like any third-party
// framework, and keeps its state (apps, versions, deployments, instances)
// in a JetStream KV bucket of its own, so a restart loses nothing.
//
// One loop goroutine owns the state. Scheduler events, API requests and
// timers become closures on it; every batch ends by converging the apps
// that changed, writing what changed, waiting for the writes, and only then
// launching, killing and answering.
package services

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairn-dc/cairn/frameworks/internal/fwloop"
	"github.com/cairn-dc/cairn/frameworks/internal/kvstate"
	"github.com/cairn-dc/cairn/frameworks/internal/offerswitch"
	"github.com/cairn-dc/cairn/frameworks/services/constraints"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/scheduler"
)

// DefaultName is the framework's name; the master exposes its API at
// /service/services/.
const DefaultName = "services"

// Config configures the services framework.
type Config struct {
	// Conn is the NATS connection (JetStream enabled); never closed by the framework.
	Conn *nats.Conn
	// Name of the framework (default "services"); its state bucket is
	// "cairn-fw-<name>".
	Name string
	// Role to subscribe with (default "*").
	Role string
	// HTTPAddr is where the Marathon API listens (default 127.0.0.1:0);
	// it is advertised as the framework's webui_url.
	HTTPAddr string
	// Token, when set, is required as a bearer token by the API.
	Token string
	// StagingTimeout replaces an instance stuck staging this long (5 min).
	StagingTimeout time.Duration
	// ReconcileInterval is how often every instance is reconciled (10 min).
	ReconcileInterval time.Duration
	// KillRetryInterval is how long a killed instance may go on before
	// the kill is sent again (10 s, Marathon's kill_retry_timeout): a kill
	// lost on the way (the master away) would otherwise leave the task
	// running and its deployment waiting for it. A kill sent again never
	// postpones the SIGKILL of the first.
	KillRetryInterval time.Duration
	Logger            *slog.Logger
}

// Framework is a running services framework.
type Framework struct {
	cfg   Config
	log   *slog.Logger
	sched *scheduler.Framework
	st    *kvstate.Store
	url   string
	life  *fwloop.Life

	started time.Time

	// Loop-owned.
	apps         map[string]*app
	byTask       map[string]*instance
	versions     map[string][]string // app id → stored versions, oldest first
	after        []func()
	dirty        map[string]bool // apps to converge at the end of the batch
	offersOn     *offerswitch.Switch
	lastRecon    time.Time
	subscribers  map[chan marathon.Event]struct{}
	servicePorts map[int]string // service port → app
	fatal        error
}

// Start opens the framework's state, subscribes (failing over to its saved
// framework ID), serves its API and runs until Stop. ctx bounds the start.
func Start(ctx context.Context, cfg Config) (*Framework, error) {
	if cfg.Conn == nil {
		return nil, errors.New("services: Config.Conn is required")
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if cfg.Role == "" {
		cfg.Role = "*"
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	if cfg.StagingTimeout <= 0 {
		cfg.StagingTimeout = 5 * time.Minute
	}
	if cfg.KillRetryInterval <= 0 {
		cfg.KillRetryInterval = 10 * time.Second
	}
	if cfg.ReconcileInterval <= 0 {
		cfg.ReconcileInterval = 10 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	f := &Framework{cfg: cfg, log: cfg.Logger.With("framework", cfg.Name), life: fwloop.New(),
		apps: map[string]*app{}, byTask: map[string]*instance{}, versions: map[string][]string{},
		dirty: map[string]bool{}, subscribers: map[chan marathon.Event]struct{}{}, servicePorts: map[int]string{},
		started: time.Now()}
	js, err := jetstream.New(cfg.Conn, jetstream.WithPublishAsyncMaxPending(1<<15))
	if err != nil {
		return nil, err
	}
	if f.st, err = kvstate.Open(ctx, js, "cairn-fw-"+cfg.Name, "Cairn services framework: apps, versions, deployments, instances", "services state"); err != nil {
		return nil, err
	}
	fid, err := f.load(ctx)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("services: listen on %s: %w", cfg.HTTPAddr, err)
	}
	f.url = "http://" + ln.Addr().String()
	info := protocol.FrameworkInfo{ID: fid, Name: cfg.Name, Roles: []string{cfg.Role}, WebuiURL: f.url,
		FailoverTimeout: (7 * 24 * time.Hour).Seconds(), Labels: map[string]string{"cairn.system": "true"}}
	sched, err := scheduler.Subscribe(ctx, scheduler.Config{Conn: cfg.Conn, Framework: info, Logger: f.log})
	if err != nil && fid != "" && errors.Is(err, scheduler.ErrRemoved) {
		f.log.Warn("the master removed this framework's id; subscribing as a new framework (its old tasks are gone)", "old_id", fid)
		info.ID = ""
		sched, err = scheduler.Subscribe(ctx, scheduler.Config{Conn: cfg.Conn, Framework: info, Logger: f.log})
	}
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("services: subscribe: %w", err)
	}
	f.sched = sched
	if err := f.st.Put("framework-id", string(sched.ID())); err == nil {
		err = f.st.Sync(ctx)
		if err != nil {
			f.log.Warn("cannot save the framework id", "err", err)
		}
	}
	// ctx bounds the start only; the framework runs until Stop.
	lctx := f.life.Begin()
	f.offersOn = offerswitch.New(lctx, sched, false, f.log) // subscribed with offers
	f.life.Serve(ln, f.handler())
	// Logged before the loop owns the state.
	f.log.Info("services framework started", "framework_id", sched.ID(), "url", f.url, "apps", len(f.apps), "instances", len(f.byTask))
	f.life.Run(lctx, fwloop.Config{Name: "services", Sched: sched, Log: f.log, Tick: 250 * time.Millisecond,
		Start:    f.reconcileAll,
		Event:    f.event,
		OnTick:   f.housekeeping,
		EndBatch: func(ctx context.Context) error { f.endBatch(ctx); return f.fatal },
	})
	return f, nil
}

// ID is the framework's ID.
func (f *Framework) ID() protocol.FrameworkID { return f.sched.ID() }

// URL is where its Marathon API is served.
func (f *Framework) URL() string { return f.url }

// Handler is the Marathon API (also served at URL).
func (f *Framework) Handler() http.Handler { return f.life.Handler() }

// Done is closed when the framework stops.
func (f *Framework) Done() <-chan struct{} { return f.life.Done() }

// Err says why it stopped.
func (f *Framework) Err() error { return f.life.Err() }

// Stop stops the framework without tearing it down: its tasks keep running
// and a new Start fails over to them.
func (f *Framework) Stop() { f.life.Stop() }

// load reads the stored state; it returns the saved framework ID.
func (f *Framework) load(ctx context.Context) (protocol.FrameworkID, error) {
	all, err := f.st.LoadAll(ctx)
	if err != nil {
		return "", err
	}
	var fid protocol.FrameworkID
	deps := map[string]*deployment{}
	for key, val := range all {
		kind, rest := keyKind(key)
		switch kind {
		case "framework-id":
			var s string
			if json.Unmarshal(val, &s) == nil {
				fid = protocol.FrameworkID(s)
			}
		case "app":
			var spec marathon.App
			if err := json.Unmarshal(val, &spec); err != nil {
				f.log.Error("skipping an unreadable app record", "key", key, "err", err)
				continue
			}
			spec.Normalize()
			cs, _ := constraints.Parse(spec.Constraints)
			f.apps[spec.ID] = &app{spec: spec, cs: cs, instances: map[string]*instance{}}
			for _, pd := range spec.PortDefinitions {
				if pd.Port != 0 {
					f.servicePorts[pd.Port] = spec.ID
				}
			}
		case "version":
			// The key holds a KV-safe form of the version; the record the real one.
			var spec marathon.App
			if err := json.Unmarshal(val, &spec); err == nil && spec.ID != "" && spec.Version != "" {
				f.versions[spec.ID] = append(f.versions[spec.ID], spec.Version)
			} else if id, version, ok := cutLast(rest, "."); ok {
				f.versions[id] = append(f.versions[id], version)
			}
		case "deployment":
			var d deployment
			if err := json.Unmarshal(val, &d); err != nil {
				f.log.Error("skipping an unreadable deployment record", "key", key, "err", err)
				continue
			}
			deps[d.AppID] = &d
		case "instance":
			var i instance
			if err := json.Unmarshal(val, &i); err != nil {
				f.log.Error("skipping an unreadable instance record", "key", key, "err", err)
				continue
			}
			i.ready = true // re-checked only for new deployments
			f.byTask[i.TaskID] = &i
		}
	}
	for _, i := range f.byTask {
		if a := f.apps[i.AppID]; a != nil {
			a.instances[i.TaskID] = i
		} else if d := deps[i.AppID]; d != nil && d.Target == nil {
			// The app is being deleted; its record went first.
			f.log.Warn("instance of a deleted app: it will be killed", "task", i.TaskID)
		}
	}
	for id, d := range deps {
		a := f.apps[id]
		if a == nil && d.Target == nil {
			// Deleted: finish by killing what is left.
			spec := d.Previous
			if spec == nil {
				continue
			}
			a = &app{spec: *spec, instances: map[string]*instance{}, deleting: true}
			f.apps[id] = a
			for _, i := range f.byTask {
				if i.AppID == id {
					a.instances[i.TaskID] = i
				}
			}
		}
		if a != nil {
			a.deployment = d
			a.deleting = d.Target == nil
		}
	}
	for id, vs := range f.versions {
		slices.Sort(vs)
		f.versions[id] = vs
	}
	for id := range f.apps {
		f.dirty[id] = true
	}
	return fid, nil
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+len(sep):], true
}

// push runs fn on the loop.
func (f *Framework) push(ctx context.Context, fn func()) bool { return f.life.Push(ctx, fn) }

// later runs fn once the batch is durable.
func (f *Framework) later(fn func()) { f.after = append(f.after, fn) }

// endBatch converges what changed, makes it durable, then acts.
func (f *Framework) endBatch(ctx context.Context) {
	now := time.Now()
	for id := range f.dirty {
		if a := f.apps[id]; a != nil {
			f.converge(ctx, a, now)
		}
	}
	clear(f.dirty)
	f.syncSuppression(ctx)
	if err := f.st.Sync(ctx); err != nil && f.fatal == nil {
		f.fatal = err
	}
	if f.fatal != nil {
		// A write of this batch failed: nothing it did is durable, so
		// nothing is answered (the loop stops; a restart recovers).
		return
	}
	for _, fn := range f.after {
		fn()
	}
	clear(f.after)
	f.after = f.after[:0]
}

func (f *Framework) write(key string, v any) {
	if err := f.st.Put(key, v); err != nil && f.fatal == nil {
		f.fatal = err
	}
}

func (f *Framework) remove(key string) {
	if err := f.st.Delete(key); err != nil && f.fatal == nil {
		f.fatal = err
	}
}

// event handles one scheduler event.
func (f *Framework) event(ctx context.Context, ev protocol.Event) {
	switch ev.Type {
	case protocol.EventSubscribed:
		// Subscribed again (failover): offers are not suppressed.
		f.offersOn.Reset(false)
		f.reconcileAll(ctx)
	case protocol.EventOffers:
		f.offers(ctx, ev.Offers.Offers)
	case protocol.EventUpdate:
		f.update(ev.Update.Status)
	case protocol.EventFailure:
		if ev.Failure != nil {
			f.log.Info("agent lost", "agent", ev.Failure.AgentID)
		}
	case protocol.EventError:
		f.log.Error("the master removed this framework", "err", ev.Error.Message)
	}
}

// reconcileAll asks the master for the state of every instance.
func (f *Framework) reconcileAll(ctx context.Context) {
	f.lastRecon = time.Now()
	var tasks []protocol.ReconcileTask
	for id, i := range f.byTask {
		tasks = append(tasks, protocol.ReconcileTask{TaskID: protocol.TaskID(id), AgentID: i.AgentID})
	}
	f.later(func() {
		go func() {
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := f.sched.Reconcile(rctx, tasks...); err != nil && len(tasks) > 0 {
				f.log.Warn("reconciliation request failed", "err", err)
			}
		}()
	})
}

// housekeeping runs timers: back-off expiries, unreachable strategies,
// staging timeouts, periodic reconciliation.
func (f *Framework) housekeeping(ctx context.Context, now time.Time) {
	for id, a := range f.apps {
		if !a.delayUntil.IsZero() && !now.Before(a.delayUntil) {
			a.delayUntil = time.Time{}
			f.dirty[id] = true
		}
		for _, i := range a.instances {
			switch {
			case i.State == protocol.TaskUnreachable && !i.UnreachableSince.IsZero():
				f.unreachable(a, i, now)
			case (i.State == protocol.TaskStaging || i.State == protocol.TaskStarting) && now.Sub(i.StagedAt) > f.cfg.StagingTimeout && !i.Killing:
				f.log.Warn("instance stuck staging; killing and replacing it", "task", i.TaskID, "staged", i.StagedAt)
				f.kill(ctx, a, i, "staging timeout")
			case i.Killing && !i.State.Terminal() && i.State != protocol.TaskUnreachable && now.Sub(i.killSentAt) > f.cfg.KillRetryInterval:
				// Also right after a restart of the framework (killSentAt
				// is not stored): a kill may have been lost with it.
				f.log.Info("killed instance still alive; killing it again", "task", i.TaskID, "state", i.State,
					"asked", i.killSentAt)
				f.kill(ctx, a, i, "kill retry")
			}
		}
		if a.deployment != nil {
			f.dirty[id] = true // re-check progress (readiness, dependencies)
		}
	}
	if now.Sub(f.lastRecon) > f.cfg.ReconcileInterval {
		f.reconcileAll(ctx)
	}
}

// unreachable applies the app's unreachable strategy to an instance.
func (f *Framework) unreachable(a *app, i *instance, now time.Time) {
	us := a.spec.UnreachableStrategy
	if us == nil || us.Disabled {
		return
	}
	inactive, expunge := 0.0, 0.0
	if us.InactiveAfterSeconds != nil {
		inactive = *us.InactiveAfterSeconds
	}
	if us.ExpungeAfterSeconds != nil {
		expunge = *us.ExpungeAfterSeconds
	}
	since := now.Sub(i.UnreachableSince).Seconds()
	if !i.inactive && since >= inactive {
		i.inactive = true
		f.log.Info("unreachable instance is inactive; replacing it", "task", i.TaskID, "unreachable_for", since)
		f.dirty[a.spec.ID] = true
	}
	if since >= expunge {
		f.log.Info("unreachable instance expunged", "task", i.TaskID)
		f.forget(a, i)
		f.dirty[a.spec.ID] = true
	}
}

// forget drops an instance (its record too).
func (f *Framework) forget(a *app, i *instance) {
	if i.stopReady != nil {
		i.stopReady()
	}
	delete(a.instances, i.TaskID)
	delete(f.byTask, i.TaskID)
	f.remove(instanceKey(i.TaskID))
}

// kill asks an instance dead (it will not be replaced).
func (f *Framework) kill(ctx context.Context, a *app, i *instance, why string) {
	if i.State.Terminal() {
		return
	}
	first := !i.Killing
	i.Killing, i.killSentAt = true, time.Now()
	if first {
		f.write(instanceKey(i.TaskID), i)
	}
	tid, aid := protocol.TaskID(i.TaskID), i.AgentID
	f.log.Debug("killing instance", "task", i.TaskID, "why", why)
	f.later(func() {
		go func() {
			// Not the caller's context: an API request ends before the kill.
			kctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := f.sched.Kill(kctx, tid, aid); err != nil {
				f.log.Warn("kill failed (it is retried on reconciliation)", "task", tid, "err", err)
			}
		}()
	})
}

// syncSuppression suppresses offers when no app wants anything, revives
// when one does (once the batch is stored).
func (f *Framework) syncSuppression(ctx context.Context) {
	want := false
	for _, a := range f.apps {
		if n, _ := f.wanted(a, time.Now()); n > 0 {
			want = true
			break
		}
	}
	f.later(func() { f.offersOn.Set(want) })
}
