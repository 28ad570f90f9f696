// Package cron is Cairn's cron framework: jobs for the datacenter, run on
// schedules (5-field cron expressions in IANA time zones, as Metronome; ISO
// 8601 repeating intervals, as Chronos) or after their parents (a DAG), each
// run a task launched on offers. Its REST API is Metronome's (see package
// cronapi); the master proxies it at /service/<name>/. It is written only
// against kernel/scheduler, kernel/protocol and kernel/resources, as a
// third-party framework would be.
//
// One goroutine (the loop) owns all state. Every change is written to the
// framework's KV bucket (cairn-fw-<name>) and the batch is made durable
// before anything it implies is done or said: a launch, an answer, an
// acknowledgement. So a restart of the framework (or a master failover)
// never loses a run, and never doubles one: a scheduled run's id is its
// schedule and instant, its record is stored before the schedule's cursor
// moves past the instant, and its task ids are stored before they are
// launched (a launch the master never saw is found by reconciliation and
// launched again).
//
// Missed instants (the framework was down, or a FORBID overlap) are
// recorded as skipped runs, with why; a run that cannot start before its
// schedule's startingDeadlineSeconds fails, saying what the offers lacked.
package cron

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
	"github.com/cairn-dc/cairn/frameworks/internal/fwloop"
	"github.com/cairn-dc/cairn/frameworks/internal/kvstate"
	"github.com/cairn-dc/cairn/frameworks/internal/offerswitch"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/scheduler"
)

// DefaultName is the framework's default name.
const DefaultName = cronapi.DefaultName

// Clock tells the time. Tests inject one they move by hand, so that no
// test waits for real minutes.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Config configures the cron framework.
type Config struct {
	// Conn is the NATS connection (JetStream enabled); never closed by the framework.
	Conn *nats.Conn
	// Name of the framework (default "cron"); its state bucket is
	// "cairn-fw-<name>".
	Name string
	// Role to subscribe with (default "*").
	Role string
	// HTTPAddr is where the API listens (default 127.0.0.1:0); it is
	// advertised as the framework's webui_url.
	HTTPAddr string
	// Token, when set, is required as a bearer token by the API.
	Token string
	// Clock (default: the real one).
	Clock Clock
	// TickInterval is how often schedules and deadlines are looked at
	// (default 250 ms).
	TickInterval time.Duration
	// HistoryLimit is how many finished runs of each kind (successful,
	// failed) and skipped instants each job keeps (default 50).
	HistoryLimit int
	// ReconcileInterval is how often every active run's task is
	// reconciled (default 5 min).
	ReconcileInterval time.Duration
	Logger            *slog.Logger
}

// Framework is a running cron framework.
type Framework struct {
	cfg   Config
	log   *slog.Logger
	clock Clock
	sched *scheduler.Framework
	st    *kvstate.Store
	url   string
	life  *fwloop.Life

	// Loop-owned.
	jobs   map[string]*job
	active map[*run]struct{} // every job's active runs
	byTask map[protocol.TaskID]*run
	heap   schedHeap
	after  []func()
	// acks are the batch's updates, acknowledged in one call once what
	// they changed is stored.
	acks      []protocol.TaskStatus
	offersOn  *offerswitch.Switch
	lastRecon time.Time
	fatal     error
	stats     struct{ launched, finished int64 }
}

// ProfileLabel is the pprof label every goroutine of the framework
// carries (value: the framework's name), so a CPU profile tells its share.
const ProfileLabel = "cairn.framework"

// Start opens the framework's state, subscribes (failing over to its saved
// framework ID), serves its API and runs until Stop. ctx bounds the start.
func Start(ctx context.Context, cfg Config) (f *Framework, err error) {
	name := cfg.Name
	if name == "" {
		name = DefaultName
	}
	// Goroutines started from here on (loop, API, NATS subscriptions)
	// carry the label.
	pprof.Do(ctx, pprof.Labels(ProfileLabel, name), func(ctx context.Context) {
		f, err = start(ctx, cfg)
	})
	return f, err
}

func start(ctx context.Context, cfg Config) (*Framework, error) {
	if cfg.Conn == nil {
		return nil, errors.New("cron: Config.Conn is required")
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
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.TickInterval <= 0 {
		cfg.TickInterval = 250 * time.Millisecond
	}
	if cfg.HistoryLimit <= 0 {
		cfg.HistoryLimit = 50
	}
	if cfg.ReconcileInterval <= 0 {
		cfg.ReconcileInterval = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	f := &Framework{cfg: cfg, log: cfg.Logger.With("framework", cfg.Name), clock: cfg.Clock,
		life: fwloop.New(),
		jobs: map[string]*job{}, active: map[*run]struct{}{}, byTask: map[protocol.TaskID]*run{}}
	js, err := jetstream.New(cfg.Conn, jetstream.WithPublishAsyncMaxPending(1<<15))
	if err != nil {
		return nil, err
	}
	if f.st, err = kvstate.Open(ctx, js, "cairn-fw-"+cfg.Name, "Cairn cron framework: jobs, schedules, runs, history", "cron state"); err != nil {
		return nil, err
	}
	fid, err := f.load(ctx)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("cron: listen on %s: %w (choose another address or free the port)", cfg.HTTPAddr, err)
	}
	f.url = "http://" + ln.Addr().String()
	info := protocol.FrameworkInfo{ID: fid, Name: cfg.Name, Roles: []string{cfg.Role}, WebuiURL: f.url,
		FailoverTimeout: (7 * 24 * time.Hour).Seconds()}
	scfg := scheduler.Config{Conn: cfg.Conn, Framework: info, Logger: f.log, ManualAcknowledge: true,
		SuppressedRoles: []string{cfg.Role}}
	sched, err := scheduler.Subscribe(ctx, scfg)
	if err != nil && fid != "" && errors.Is(err, scheduler.ErrRemoved) {
		f.log.Warn("the master removed this framework's id; subscribing as a new framework (its old tasks are gone)", "old_id", fid)
		scfg.Framework.ID = ""
		sched, err = scheduler.Subscribe(ctx, scfg)
	}
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("cron: subscribe: %w", err)
	}
	f.sched = sched
	if err := f.st.Put(keyFrameworkID, string(sched.ID())); err == nil {
		if err := f.st.Sync(ctx); err != nil {
			f.log.Warn("cannot save the framework id", "err", err)
		}
	}
	lctx := f.life.Begin()
	f.offersOn = offerswitch.New(lctx, sched, true, f.log) // subscribed suppressed
	f.life.Serve(ln, f.handler())
	// Logged before the loop owns the state.
	f.log.Info("cron framework started", "framework_id", sched.ID(), "url", f.url, "jobs", len(f.jobs), "active_runs", len(f.active))
	f.life.Run(lctx, fwloop.Config{Name: "cron", Sched: sched, Log: f.log, Tick: f.cfg.TickInterval,
		Start: func(ctx context.Context) {
			f.reconcileAll(ctx)
			f.tick(ctx)
			f.endBatch(ctx)
		},
		Event:    f.event,
		OnTick:   func(ctx context.Context, _ time.Time) { f.tick(ctx) },
		EndBatch: func(ctx context.Context) error { f.endBatch(ctx); return f.fatal },
	})
	return f, nil
}

// ID is the framework's ID.
func (f *Framework) ID() protocol.FrameworkID { return f.sched.ID() }

// URL is where its API is served.
func (f *Framework) URL() string { return f.url }

// Handler is the REST API (also served at URL).
func (f *Framework) Handler() http.Handler { return f.life.Handler() }

// Done is closed when the framework stops.
func (f *Framework) Done() <-chan struct{} { return f.life.Done() }

// Err says why it stopped.
func (f *Framework) Err() error { return f.life.Err() }

// Stop stops the framework without tearing it down: its tasks keep running
// and a new Start fails over to them.
func (f *Framework) Stop() { f.life.Stop() }

// push runs fn on the loop.
func (f *Framework) push(ctx context.Context, fn func()) bool { return f.life.Push(ctx, fn) }

// later runs fn once the batch is durable.
func (f *Framework) later(fn func()) { f.after = append(f.after, fn) }

// query runs fn on the loop and answers once its batch is durable.
func query[T any](ctx context.Context, f *Framework, fn func() T) (T, error) {
	res := make(chan T, 1)
	var zero T
	if !f.push(ctx, func() {
		v := fn()
		f.later(func() { res <- v })
	}) {
		return zero, errors.New("the cron framework is stopping")
	}
	select {
	case v := <-res:
		return v, nil
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-f.life.Done():
		return zero, errors.New("the cron framework stopped")
	}
}

// endBatch makes the batch durable, then acts.
func (f *Framework) endBatch(ctx context.Context) {
	f.syncSuppression()
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
	// The batch's updates, acknowledged together once what they changed
	// is stored (the master sends again any left unacknowledged).
	if len(f.acks) > 0 {
		if err := f.sched.AcknowledgeAsync(f.acks...); err != nil {
			f.log.Debug("acknowledgements failed; the master sends the updates again", "updates", len(f.acks), "err", err)
		}
		clear(f.acks)
		f.acks = f.acks[:0]
	}
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
		// Subscribed again (failover), suppressed as configured.
		f.offersOn.Reset(true)
		f.reconcileAll(ctx)
	case protocol.EventOffers:
		f.offers(ctx, ev.Offers.Offers)
	case protocol.EventUpdate:
		st := ev.Update.Status
		f.update(ctx, st)
		if st.UUID != "" {
			f.acks = append(f.acks, st) // acknowledged by endBatch
		}
	case protocol.EventError:
		f.log.Error("the master removed this framework", "err", ev.Error.Message)
	}
}

// reconcileAll asks the master for the state of every active run's task.
func (f *Framework) reconcileAll(ctx context.Context) {
	f.lastRecon = f.clock.Now()
	var tasks []protocol.ReconcileTask
	for id, r := range f.byTask {
		tasks = append(tasks, protocol.ReconcileTask{TaskID: id, AgentID: protocol.AgentID(r.currentTask().AgentID)})
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

// syncSuppression suppresses offers when no run waits for one, revives
// when one does (once the batch is stored).
func (f *Framework) syncSuppression() {
	want := f.anyLaunchable(f.clock.Now())
	f.later(func() { f.offersOn.Set(want) })
}

// load reads the stored state; it returns the saved framework ID.
func (f *Framework) load(ctx context.Context) (protocol.FrameworkID, error) {
	all, err := f.st.LoadAll(ctx)
	if err != nil {
		return "", err
	}
	var fid protocol.FrameworkID
	states := map[string]jobState{}
	hists := map[string]cronapi.History{}
	var runs []*run
	for key, val := range all {
		kind, rest, _ := strings.Cut(key, ".")
		switch kind {
		case keyFrameworkID:
			var s string
			if json.Unmarshal(val, &s) == nil {
				fid = protocol.FrameworkID(s)
			}
		case "job":
			var spec cronapi.Job
			if err := json.Unmarshal(val, &spec); err != nil {
				f.log.Error("skipping an unreadable job record", "key", key, "err", err)
				continue
			}
			scheds, err := normalizeJob(&spec)
			if err != nil {
				f.log.Error("skipping a stored job that no longer validates", "job", spec.ID, "err", err)
				continue
			}
			f.jobs[spec.ID] = newJob(spec, scheds)
		case "state":
			var s jobState
			if err := json.Unmarshal(val, &s); err == nil {
				states[rest] = s
			}
		case "history":
			var h cronapi.History
			if err := json.Unmarshal(val, &h); err == nil {
				hists[rest] = h
			}
		case "run":
			var r run
			if err := json.Unmarshal(val, &r.rec); err != nil {
				f.log.Error("skipping an unreadable run record", "key", key, "err", err)
				continue
			}
			runs = append(runs, &r)
		}
	}
	now := f.clock.Now()
	for id, j := range f.jobs {
		if s, ok := states[id]; ok {
			j.state = s
		}
		if h, ok := hists[id]; ok {
			j.hist = h
		}
		j.state.init()
		for _, s := range j.scheds {
			f.arm(j, s, now)
		}
	}
	for _, r := range runs {
		j := f.jobs[r.rec.JobID]
		if j == nil {
			f.log.Warn("dropping the run of a job that no longer exists", "job", r.rec.JobID, "run", r.rec.ID)
			f.remove(runKey(r.rec.JobID, r.rec.ID))
			continue
		}
		f.addRun(j, r)
		if t := r.currentTask(); t != nil && !protocol.TaskState(t.Status).Terminal() {
			f.byTask[protocol.TaskID(t.ID)] = r
		}
	}
	f.rebuildChildren()
	return fid, nil
}

// Keys of the state bucket:
//
//	framework-id              the framework's ID (to fail over)
//	job.<job id>              a job's definition, with its schedules
//	state.<job id>            its schedules' cursors and its parents' successes
//	history.<job id>          its finished runs and skipped instants (bounded)
//	run.<job id>.<run id>     each active run
const keyFrameworkID = "framework-id"

func jobKey(id string) string           { return "job." + id }
func stateKey(id string) string         { return "state." + id }
func historyKey(id string) string       { return "history." + id }
func runKey(jobID, runID string) string { return "run." + jobID + "." + runID }
