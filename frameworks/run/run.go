// Package run is Cairn's run framework: it runs one-off tasks submitted over
// its HTTP API ("cairn task run" uses it through the master's
// /service/run/ proxy). It is written only against kernel/scheduler,
// kernel/protocol and kernel/resources, as a third-party framework would
// be.
//
// Scheduling: runs wait in a FIFO queue; every OFFERS event places the
// queued runs first-fit (scheduler.OfferPool), launches them and declines
// what is left for 5 s. With nothing queued the framework SUPPRESSes offers;
// a new run REVIVEs them.
//
// Durability: queued runs live in this process only — a restart loses the
// runs not launched yet. Launched runs are tasks the master keeps: a
// framework started again with the same FrameworkID (within the failover
// timeout) re-attaches to them and reports them again.
package run

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/frameworks/run/runapi"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/kernel/scheduler"
)

// Defaults and limits.
const (
	// DefaultName is the framework's name (the master proxies its API at
	// /service/<name>/).
	DefaultName = runapi.DefaultName
	// DefaultHTTPAddr is where the HTTP API listens by default.
	DefaultHTTPAddr = "127.0.0.1:0"
	// FailoverTimeout is how long the master keeps the framework's tasks
	// while it is gone.
	FailoverTimeout = 7 * 24 * time.Hour
	// MaxFinished is how many ended runs are remembered.
	MaxFinished = 1000
	// MaxPending is how many runs may wait for resources at once.
	MaxPending = 10000
	// RefuseSeconds is the decline filter for unused offers.
	RefuseSeconds = 5 * time.Second
	// tickInterval re-checks suppression and unconfirmed launches.
	tickInterval = 2 * time.Second
)

// Config configures the run framework.
type Config struct {
	// Conn is the NATS connection to the cluster (required). The framework
	// never closes it.
	Conn *nats.Conn
	// Name is the framework's name (default DefaultName).
	Name string
	// FrameworkID is a saved ID to fail over to: the framework re-attaches
	// to that framework's tasks. Empty: a new ID. If the master says that
	// framework was removed, Start subscribes with a new ID; either way,
	// save Framework.ID() after Start.
	FrameworkID protocol.FrameworkID
	// HTTPAddr is where the HTTP API listens (default DefaultHTTPAddr). Its
	// URL is advertised to the master as the framework's webui_url.
	HTTPAddr string
	// Role to subscribe with (default "*"). Runs ask for unreserved
	// resources.
	Role string
	// Token, when set, is required as "Authorization: Bearer <token>" on
	// the HTTP API (the master's proxy forwards the caller's header).
	Token string
	// Logger gets the framework's logs (slog.Default() when nil).
	Logger *slog.Logger
}

// Framework is a running run framework.
type Framework struct {
	cfg   Config
	log   *slog.Logger
	sched *scheduler.Framework
	srv   *http.Server
	url   string

	mu       sync.Mutex
	runs     map[protocol.TaskID]*run
	pending  []*run // FIFO
	finished []*run // ended runs, oldest first
	err      error  // why the framework stopped

	kick       chan struct{}
	suppressed bool        // owned by the loop
	newRuns    atomic.Bool // runs were queued since the last REVIVE
	cancel     context.CancelFunc
	done       chan struct{}
	stopOnce   sync.Once
	wg         sync.WaitGroup

	stats struct {
		offers, declined, launched, suppress, revive atomic.Int64
	}
}

// run is one run and what the framework needs to launch it.
type run struct {
	view runapi.Run
	res  resources.Resources // without ports
	req  runapi.Request

	launching   bool // an ACCEPT is in flight
	unconfirmed bool // the ACCEPT's outcome is unknown: reconciling
	killAsked   bool // DELETE while launching
	ended       bool
}

// Start subscribes the framework to the master (retrying while no master
// answers, until ctx ends) and serves its HTTP API. Stop it with Stop.
func Start(ctx context.Context, cfg Config) (*Framework, error) {
	if cfg.Conn == nil {
		return nil, errors.New("run framework: Config.Conn is nil: connect to the cluster's NATS first")
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = DefaultHTTPAddr
	}
	if cfg.Role != "" {
		if err := resources.ValidateRole(cfg.Role); err != nil {
			return nil, fmt.Errorf("run framework: Config.Role: %w", err)
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	f := &Framework{
		cfg:        cfg,
		log:        log.With("component", "run-framework"),
		runs:       map[protocol.TaskID]*run{},
		kick:       make(chan struct{}, 1),
		suppressed: true,
		done:       make(chan struct{}),
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("run framework: listen on %s: %w (choose another --addr or free the port)", cfg.HTTPAddr, err)
	}
	f.url = advertisedURL(ln.Addr())

	info := protocol.FrameworkInfo{
		ID:              cfg.FrameworkID,
		Name:            cfg.Name,
		WebuiURL:        f.url,
		FailoverTimeout: FailoverTimeout.Seconds(),
	}
	if cfg.Role != "" {
		info.Roles = []string{cfg.Role}
	}
	if h, err := os.Hostname(); err == nil {
		info.Hostname = h
	}
	scfg := scheduler.Config{
		Conn:            cfg.Conn,
		Framework:       info,
		SuppressedRoles: info.RolesOrDefault(), // idle until a run arrives
		Logger:          log,
	}
	f.sched, err = scheduler.Subscribe(ctx, scfg)
	var perr *protocol.Error
	if err != nil && cfg.FrameworkID != "" && errors.As(err, &perr) && perr.Code == protocol.ErrForbidden {
		f.log.Warn("the master removed the saved framework (its failover timeout passed, or it was torn down); subscribing as a new framework",
			"framework_id", cfg.FrameworkID, "err", err)
		scfg.Framework.ID = ""
		f.sched, err = scheduler.Subscribe(ctx, scfg)
	}
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("run framework: %w", err)
	}

	f.srv = &http.Server{Handler: f.Handler(), ReadHeaderTimeout: 10 * time.Second}
	lctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.wg.Add(2)
	go func() {
		defer f.wg.Done()
		if err := f.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			f.log.Error("HTTP API stopped", "err", err)
		}
	}()
	go func() {
		defer f.wg.Done()
		defer close(f.done)
		f.loop(lctx)
	}()
	f.log.Info("run framework started", "framework_id", f.sched.ID(), "url", f.url, "name", cfg.Name)
	return f, nil
}

// advertisedURL is the HTTP URL of addr; an unspecified IP (0.0.0.0, ::)
// is replaced by this machine's hostname.
func advertisedURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		} else {
			host = "127.0.0.1"
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// ID is the framework's ID: save it and pass it back as Config.FrameworkID
// to re-attach to the running tasks after a restart.
func (f *Framework) ID() protocol.FrameworkID { return f.sched.ID() }

// URL is the HTTP API's base URL (also the framework's webui_url).
func (f *Framework) URL() string { return f.url }

// Done is closed when the framework stops working: after Stop, or when the
// master removed it (Err says why).
func (f *Framework) Done() <-chan struct{} { return f.done }

// Err is nil while the framework runs; afterwards, why it stopped.
func (f *Framework) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Stop stops the framework without tearing it down: its launched tasks keep
// running, and a framework started with the same ID re-attaches to them.
// Queued runs are lost. The HTTP API stops too. Stop is idempotent.
func (f *Framework) Stop() {
	f.stopOnce.Do(func() {
		f.cancel()
		_ = f.sched.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := f.srv.Shutdown(ctx); err != nil {
			_ = f.srv.Close()
		}
		f.wg.Wait()
	})
}

// loop handles the master's events; it owns f.suppressed and makes every
// scheduling call.
func (f *Framework) loop(ctx context.Context) {
	tick := time.NewTicker(tickInterval)
	defer tick.Stop()
	events := f.sched.Events()
	for {
		select {
		case <-ctx.Done():
			f.setErr(scheduler.ErrClosed)
			return
		case <-f.kick:
			f.syncSuppression(ctx)
		case <-tick.C:
			f.syncSuppression(ctx)
			f.reconcileUnconfirmed(ctx)
		case ev, ok := <-events:
			if !ok {
				err := f.sched.Err()
				if err == nil {
					err = scheduler.ErrClosed
				}
				if !errors.Is(err, scheduler.ErrClosed) {
					f.log.Error("the run framework stopped: it no longer receives offers", "err", err)
				}
				f.setErr(err)
				return
			}
			f.handle(ctx, ev)
		}
	}
}

func (f *Framework) setErr(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

func (f *Framework) handle(ctx context.Context, ev protocol.Event) {
	switch ev.Type {
	case protocol.EventSubscribed:
		// A (re-)subscription: the library re-sent our suppression state.
		f.syncSuppression(ctx)
		f.reconcileUnconfirmed(ctx)
	case protocol.EventOffers:
		f.placeOffers(ctx, ev.Offers.Offers)
	case protocol.EventUpdate:
		f.applyStatus(ev.Update.Status)
	}
	// RESCIND: offers are used or declined at once, never held.
	// FAILURE: the lost agent's tasks get their own updates.
}

// wake asks the loop to re-check suppression.
func (f *Framework) wake() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// syncSuppression revives offers when runs are queued and suppresses them
// when none is.
func (f *Framework) syncSuppression(ctx context.Context) {
	f.mu.Lock()
	want := len(f.pending) > 0
	f.mu.Unlock()
	switch {
	case want && (f.suppressed || f.newRuns.Load()):
		// Also for new runs while offers flow: REVIVE clears the decline
		// filters that would hide free resources for RefuseSeconds.
		f.newRuns.Store(false)
		if err := f.sched.Revive(ctx); err != nil {
			f.newRuns.Store(true)
			f.log.Warn("revive offers failed; retrying soon", "err", err)
			return
		}
		f.suppressed = false
		f.stats.revive.Add(1)
		f.log.Debug("runs are waiting: offers revived")
	case !want && !f.suppressed:
		if err := f.sched.Suppress(ctx); err != nil {
			f.log.Warn("suppress offers failed; retrying soon", "err", err)
			return
		}
		f.suppressed = true
		f.stats.suppress.Add(1)
		f.log.Debug("no run is waiting: offers suppressed")
	}
}

// pendingMessage is what a queued run reports.
func pendingMessage(res resources.Resources, ports int) string {
	msg := "waiting for an offer with " + res.String()
	if ports > 0 {
		msg += " and " + strconv.Itoa(ports) + " ports"
	}
	return msg
}

// taskFor builds r's task for an offer with free resources rem: its
// resources plus the first free unreserved ports. ok is false when rem
// lacks the ports.
func (r *run) taskFor(offer protocol.Offer, rem resources.Resources) (protocol.TaskInfo, []uint64, bool) {
	if !rem.Contains(r.res) {
		return protocol.TaskInfo{}, nil, false
	}
	res := r.res
	var ports []uint64
	if r.req.Ports > 0 {
		var ranges resources.RangeSet
		for _, x := range rem.Unreserved().Named("ports") {
			if x.Type != resources.Ranges {
				continue
			}
			for _, rg := range x.Ranges {
				for p := rg.Begin; len(ports) < r.req.Ports; p++ {
					ports = append(ports, p)
					ranges = append(ranges, resources.Range{Begin: p, End: p})
					if p == rg.End {
						break
					}
				}
			}
		}
		if len(ports) < r.req.Ports {
			return protocol.TaskInfo{}, nil, false
		}
		rs, err := resources.NewRangeSet(ranges...)
		if err != nil {
			return protocol.TaskInfo{}, nil, false
		}
		res = res.Plus(resources.Resources{{Name: "ports", Type: resources.Ranges, Ranges: rs}})
	}
	cmd := &protocol.CommandInfo{Value: r.req.Cmd}
	if len(r.req.Args) > 0 {
		no := false
		cmd = &protocol.CommandInfo{Value: r.req.Args[0], Arguments: slices.Clone(r.req.Args), Shell: &no}
	}
	if len(r.req.Env) > 0 {
		env := &protocol.Environment{}
		for _, k := range sortedKeys(r.req.Env) {
			env.Variables = append(env.Variables, protocol.Variable{Name: k, Value: r.req.Env[k]})
		}
		cmd.Environment = env
	}
	ti := protocol.TaskInfo{
		Name:      r.view.Name,
		TaskID:    r.view.ID,
		AgentID:   offer.AgentID,
		Resources: res,
		Command:   cmd,
		Labels:    r.req.Labels,
	}
	return ti, ports, true
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// placement is one run placed on one offer.
type placement struct {
	r     *run
	task  protocol.TaskInfo
	offer protocol.Offer
}

// placeOffers places queued runs first-fit, launches them, and declines
// the offers nothing fits.
func (f *Framework) placeOffers(ctx context.Context, offers []protocol.Offer) {
	f.stats.offers.Add(int64(len(offers)))
	pool := scheduler.NewOfferPool(offers...)
	byOffer := map[protocol.OfferID][]placement{}
	now := time.Now()

	f.mu.Lock()
	kept := f.pending[:0:0]
	for _, r := range f.pending {
		placed := false
		for _, o := range offers {
			ti, ports, ok := r.taskFor(o, pool.Remaining(o.ID))
			if !ok {
				continue
			}
			if _, ok := pool.PlaceIf(ti, func(x protocol.Offer) bool { return x.ID == o.ID }); !ok {
				continue
			}
			r.launching = true
			r.view.State = protocol.TaskStaging
			r.view.AgentID, r.view.Hostname, r.view.Ports = o.AgentID, o.Hostname, ports
			r.view.Message, r.view.Updated = "", now
			byOffer[o.ID] = append(byOffer[o.ID], placement{r: r, task: ti, offer: o})
			placed = true
			break
		}
		if !placed {
			kept = append(kept, r)
		}
	}
	f.pending = kept
	f.mu.Unlock()

	// One ACCEPT per offer that got runs, concurrently; we need each
	// offer's own outcome.
	type outcome struct {
		offer    protocol.OfferID
		rejected []protocol.Rejection
		err      error
	}
	launches := pool.Launches()
	results := make([]outcome, len(launches))
	var wg sync.WaitGroup
	for i, l := range launches {
		wg.Go(func() {
			ops := []protocol.Operation{scheduler.LaunchOp(l.Offer.AgentID, l.Tasks...)}
			rej, err := f.sched.Accept(ctx, []protocol.OfferID{l.Offer.ID}, ops, scheduler.Refuse(RefuseSeconds))
			results[i] = outcome{offer: l.Offer.ID, rejected: rej, err: err}
		})
	}
	if unused := pool.Unused(); len(unused) > 0 {
		if err := f.sched.Decline(ctx, unused, scheduler.Refuse(RefuseSeconds)); err != nil && ctx.Err() == nil {
			f.log.Debug("decline offers", "err", err) // they time out by themselves
		}
		f.stats.declined.Add(int64(len(unused)))
	}
	wg.Wait()

	var requeue []*run
	var kill []*run
	f.mu.Lock()
	for _, res := range results {
		places := byOffer[res.offer]
		if res.err != nil {
			var perr *protocol.Error
			switch {
			case errors.As(res.err, &perr) && perr.Code == protocol.ErrBadRequest:
				// The master will never take these tasks: fail them.
				for _, p := range places {
					p.r.launching = false
					f.endLocked(p.r, protocol.TaskError, "the master refused the launch: "+perr.Message, nil, now)
				}
			case errors.As(res.err, &perr):
				// Refused as a whole (offer gone, not subscribed ...):
				// nothing was launched; queue again.
				f.log.Debug("launch refused; runs queued again", "offer", res.offer, "err", res.err)
				for _, p := range places {
					requeue = append(requeue, p.r)
				}
			default:
				// No answer: the master may or may not have launched them.
				f.log.Warn("launch unconfirmed; reconciling", "offer", res.offer, "err", res.err)
				for _, p := range places {
					p.r.launching, p.r.unconfirmed = false, true
					if p.r.killAsked {
						kill = append(kill, p.r)
					}
				}
			}
			continue
		}
		rejected := map[protocol.TaskID]string{}
		for _, rj := range res.rejected {
			rejected[rj.TaskID] = rj.Message
		}
		for _, p := range places {
			p.r.launching = false
			if msg, ok := rejected[p.r.view.ID]; ok {
				f.endLocked(p.r, protocol.TaskError, msg, nil, now)
				continue
			}
			f.stats.launched.Add(1)
			if p.r.killAsked {
				kill = append(kill, p.r)
			}
		}
	}
	// Queue the refused runs again, in front, in their order; a run
	// killed meanwhile ends here.
	var back []*run
	for _, r := range requeue {
		r.launching = false
		if r.killAsked {
			f.endLocked(r, protocol.TaskKilled, "killed before it was launched", nil, now)
			continue
		}
		f.requeueLocked(r, now)
		back = append(back, r)
	}
	f.pending = append(back, f.pending...)
	f.mu.Unlock()

	for _, r := range kill {
		f.killTask(ctx, r)
	}
	f.syncSuppression(ctx)
}

func (f *Framework) requeueLocked(r *run, now time.Time) {
	r.launching, r.unconfirmed = false, false
	r.view.State = runapi.StatePending
	r.view.AgentID, r.view.Hostname, r.view.Ports = "", "", nil
	r.view.Message = pendingMessage(r.res, r.req.Ports)
	r.view.Updated = now
}

// reconcileUnconfirmed asks the master about launches whose outcome is
// unknown.
func (f *Framework) reconcileUnconfirmed(ctx context.Context) {
	var tasks []protocol.ReconcileTask
	f.mu.Lock()
	for _, r := range f.runs {
		if r.unconfirmed {
			tasks = append(tasks, protocol.ReconcileTask{TaskID: r.view.ID, AgentID: r.view.AgentID})
		}
	}
	f.mu.Unlock()
	if len(tasks) == 0 {
		return
	}
	if err := f.sched.Reconcile(ctx, tasks...); err != nil && ctx.Err() == nil {
		f.log.Warn("reconcile unconfirmed launches failed; retrying soon", "err", err)
	}
}

// killTask asks the master to kill a launched run's task.
func (f *Framework) killTask(ctx context.Context, r *run) error {
	f.mu.Lock()
	id, aid := r.view.ID, r.view.AgentID
	f.mu.Unlock()
	if err := f.sched.Kill(ctx, id, aid); err != nil {
		f.log.Warn("kill task failed", "task", id, "err", err)
		return err
	}
	return nil
}

// applyStatus applies a task status update.
func (f *Framework) applyStatus(st protocol.TaskStatus) {
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	// A master-made DROPPED for an ACCEPT that failed as a whole: the
	// ACCEPT's answer already told us, and the run was queued again.
	if st.Source == protocol.SourceMaster && st.State == protocol.TaskDropped &&
		st.Reason == protocol.ReasonInvalidOffers && st.UUID == "" {
		return
	}
	r := f.runs[st.TaskID]
	if r == nil {
		if st.State == protocol.TaskUnknown {
			return
		}
		// A task of ours we do not know: launched before a restart of
		// this process. Adopt it.
		r = &run{view: runapi.Run{ID: st.TaskID, FrameworkID: f.sched.ID(), State: st.State, Updated: now}}
		f.runs[st.TaskID] = r
		f.log.Info("adopted a task launched before a restart", "task", st.TaskID, "state", st.State)
	}
	switch {
	case r.ended:
		return // a late update of an ended run
	case r.view.State == runapi.StatePending && !r.launching:
		return // stale: the run is queued again
	case r.unconfirmed && (st.Reason == protocol.ReasonReconciliation || st.Reason == protocol.ReasonTaskUnknown) &&
		(st.State == protocol.TaskUnknown || st.State == protocol.TaskGone):
		// The unconfirmed launch never happened: queue it again.
		if r.killAsked {
			f.endLocked(r, protocol.TaskKilled, "killed before it was launched", nil, now)
			return
		}
		f.requeueLocked(r, now)
		f.pending = append([]*run{r}, f.pending...)
		f.wake()
		return
	}
	r.unconfirmed = false
	if st.AgentID != "" {
		r.view.AgentID = st.AgentID
	}
	r.view.Reason = st.Reason
	if st.State.Terminal() {
		f.endLocked(r, st.State, st.Message, st.ExitCode, now)
		return
	}
	r.view.State, r.view.Message, r.view.Updated = st.State, st.Message, now
	if st.ExitCode != nil {
		r.view.ExitCode = st.ExitCode
	}
}

// endLocked records that a run ended and forgets the oldest ended runs.
func (f *Framework) endLocked(r *run, state protocol.TaskState, msg string, exit *int, now time.Time) {
	if r.ended {
		return
	}
	r.ended = true
	r.view.State, r.view.Message, r.view.Updated = state, msg, now
	if exit != nil {
		code := *exit
		r.view.ExitCode = &code
	}
	f.finished = append(f.finished, r)
	for len(f.finished) > MaxFinished {
		old := f.finished[0]
		f.finished = f.finished[1:]
		if f.runs[old.view.ID] == old {
			delete(f.runs, old.view.ID)
		}
	}
}
