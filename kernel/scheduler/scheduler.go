package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/nats-io/nats.go"
)

// Defaults.
const (
	// DefaultCallTimeout bounds a call when Config.CallTimeout is zero.
	DefaultCallTimeout = 5 * time.Second
	// DefaultHeartbeatInterval is used when the master's SUBSCRIBED reply
	// gives no heartbeat interval.
	DefaultHeartbeatInterval = 15 * time.Second
	// MissedHeartbeats is how many heartbeat intervals without any event
	// make the library re-subscribe.
	MissedHeartbeats = 3

	minBackoff = 100 * time.Millisecond
	maxBackoff = 3 * time.Second
)

var (
	// ErrClosed is returned by calls after Close or Teardown, and by Err
	// once the framework was closed or torn down.
	ErrClosed = errors.New("scheduler: framework closed")
	// ErrRemoved is wrapped by Err (and by calls) after the master sent an
	// ERROR event, or refused to take the framework back: the framework was
	// removed (torn down, or its failover timeout passed) and must
	// subscribe anew, with a new ID.
	ErrRemoved = errors.New("scheduler: framework removed by the master")
)

// Config configures a framework's connection to the master.
type Config struct {
	// Conn is the NATS connection to use (required). The library never
	// closes it; use one with reconnects enabled (bus.Connect does).
	Conn *nats.Conn
	// Framework describes the framework; Name is required. Leave ID empty
	// for a new framework (Subscribe picks a ULID), or set it to a saved ID
	// to fail over: re-attach to that framework's tasks.
	Framework protocol.FrameworkInfo
	// SuppressedRoles are roles to subscribe with offers suppressed.
	SuppressedRoles []string
	// ManualAcknowledge turns automatic acknowledgement off: the framework
	// must then acknowledge every UPDATE that has a UUID itself. By default
	// (false) updates are acknowledged as the framework receives them.
	ManualAcknowledge bool
	// CallTimeout bounds each call to the master (DefaultCallTimeout when 0).
	// A context deadline that comes sooner wins.
	CallTimeout time.Duration
	// Logger gets the library's logs (slog.Default() when nil).
	Logger *slog.Logger
}

// Framework is a subscribed framework: its events, and its calls to the
// master. Create it with Subscribe; stop it with Close or Teardown.
type Framework struct {
	nc          *nats.Conn
	id          protocol.FrameworkID
	callSubject string
	info        protocol.FrameworkInfo // as configured; ID set after the first subscription
	autoAck     bool
	callTimeout time.Duration
	log         *slog.Logger

	events    chan protocol.Event
	q         *queue
	eventsSub *nats.Subscription
	acks      *acker

	gen       atomic.Uint64 // bumped on every successful subscription
	lastEvent atomic.Int64  // unix nanoseconds of the latest event from the master
	resub     chan uint64   // "re-subscribe": the generation that was refused
	tearDown  atomic.Bool   // Teardown was called: an ERROR event is its confirmation

	mu         sync.Mutex
	subscribed protocol.Subscribed
	suppressed []string // roles currently suppressed, re-sent on re-subscription
	err        error    // why the framework stopped; nil while running

	ctx       context.Context // canceled when the framework stops
	cancel    context.CancelFunc
	abort     chan struct{} // closed by Close: the pump drops what is queued
	stopOnce  sync.Once
	abortOnce sync.Once
	wg        sync.WaitGroup
}

// Subscribe subscribes the framework described by cfg and returns once the
// master confirmed it. While no master answers (none running yet, one
// restarting or not elected) or the master answers UNAVAILABLE, it retries
// with backoff until ctx is done; other refusals return at once. ctx bounds
// only the subscription: the framework runs until Close, Teardown or an
// ERROR from the master.
func Subscribe(ctx context.Context, cfg Config) (*Framework, error) {
	if cfg.Conn == nil {
		return nil, errors.New("scheduler: Config.Conn is nil: connect to NATS first (nats.Connect or bus.Connect)")
	}
	if cfg.Framework.Name == "" {
		return nil, errors.New("scheduler: Config.Framework.Name is empty: give the framework a name")
	}
	id := cfg.Framework.ID
	failover := id != ""
	if !failover {
		id = protocol.FrameworkID(protocol.NewID())
	}
	if err := protocol.ValidateToken("Config.Framework.ID", string(id)); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	timeout := cfg.CallTimeout
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	f := &Framework{
		nc:          cfg.Conn,
		id:          id,
		callSubject: protocol.FrameworkCall(id),
		info:        cfg.Framework,
		autoAck:     !cfg.ManualAcknowledge,
		callTimeout: timeout,
		log:         log.With("framework_id", string(id), "framework", cfg.Framework.Name),
		events:      make(chan protocol.Event),
		q:           newQueue(),
		resub:       make(chan uint64, 1),
		suppressed:  slices.Clone(cfg.SuppressedRoles),
		abort:       make(chan struct{}),
	}
	f.ctx, f.cancel = context.WithCancel(context.Background())

	var err error
	if f.acks, err = newAcker(f); err != nil {
		f.cancel()
		return nil, err
	}
	// Listen before subscribing, so no event can be missed.
	sub, err := f.nc.Subscribe(protocol.FrameworkEvents(id), f.onEvent)
	if err != nil {
		f.acks.close()
		f.cancel()
		return nil, fmt.Errorf("scheduler: listen for events on %s: %w (is the NATS connection open?)", protocol.FrameworkEvents(id), err)
	}
	f.eventsSub = sub // read only by the supervisor (started below) and on failure here
	// The callback only queues, so let NATS buffer without limit rather
	// than drop events as a "slow consumer".
	_ = sub.SetPendingLimits(-1, -1)
	fctx, fcancel := context.WithTimeout(ctx, timeout)
	err = f.nc.FlushWithContext(fctx)
	fcancel()
	if err != nil {
		f.unsubscribe()
		f.cancel()
		return nil, fmt.Errorf("scheduler: register event subscription with NATS: %w (is NATS reachable?)", err)
	}

	s, err := f.subscribeRetrying(ctx)
	if err != nil {
		f.unsubscribe()
		f.cancel()
		return nil, err
	}
	f.setSubscribed(s)
	f.q.pushFront(protocol.Event{Type: protocol.EventSubscribed, Subscribed: &s})
	f.log.Info("framework subscribed", "master", s.MasterInfo.ID, "heartbeat_interval", f.heartbeatInterval(), "failover", failover)

	f.wg.Add(2)
	go f.pump()
	go f.supervise(failover)
	return f, nil
}

// ID is the framework's ID: save it to fail over after a restart.
func (f *Framework) ID() protocol.FrameworkID { return f.id }

// Subscribed is the master's latest confirmation of the subscription
// (master info, heartbeat interval).
func (f *Framework) Subscribed() protocol.Subscribed {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.subscribed
}

// Events delivers the master's events in order; see the package doc. The
// channel is closed when the framework stops; Err then says why.
func (f *Framework) Events() <-chan protocol.Event { return f.events }

// Err is nil while the framework runs; afterwards it is ErrClosed (Close or
// Teardown), wraps ErrRemoved (the master removed the framework), or says
// what else stopped it (e.g. the NATS connection was closed).
func (f *Framework) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Close stops heartbeats and stops listening, without tearing the framework
// down: the master keeps its tasks for its failover timeout, and a process
// that subscribes with the same ID re-attaches to them. Queued events are
// dropped (unacknowledged updates are re-sent to the next subscriber).
// Close does not close the NATS connection. It is idempotent.
func (f *Framework) Close() error {
	f.stop(ErrClosed)
	f.abortOnce.Do(func() { close(f.abort) })
	f.wg.Wait()
	return nil
}

// stop stops the framework: no more heartbeats, re-subscriptions or
// events (the supervisor unsubscribes as it exits). The pump delivers what
// is queued, then closes Events (unless Close aborts it). The first cause
// wins. It never blocks, so the NATS callback may call it.
func (f *Framework) stop(cause error) {
	f.stopOnce.Do(func() {
		f.mu.Lock()
		f.err = cause
		f.mu.Unlock()
		f.cancel()
		f.q.end()
	})
}

func (f *Framework) unsubscribe() {
	if err := f.eventsSub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) && !errors.Is(err, nats.ErrBadSubscription) {
		f.log.Warn("stop listening for events", "err", err)
	}
	f.acks.close()
}

// onEvent is the NATS callback: decode, note liveness, queue. It never blocks.
func (f *Framework) onEvent(m *nats.Msg) {
	ev, err := protocol.DecodeEvent(m.Data)
	if err != nil {
		f.log.Warn("dropping a malformed event from the master", "err", err)
		return
	}
	f.lastEvent.Store(time.Now().UnixNano())
	switch ev.Type {
	case protocol.EventHeartbeat:
		return
	case protocol.EventSubscribed:
		// The library delivers its own SUBSCRIBED, made from the reply.
		return
	case protocol.EventError:
		f.q.push(ev)
		if f.tearDown.Load() {
			f.stop(ErrClosed)
			return
		}
		f.log.Error("the master removed the framework", "message", ev.Error.Message)
		f.stop(fmt.Errorf("%w: %s", ErrRemoved, ev.Error.Message))
		return
	}
	f.q.push(ev)
}

// pump hands queued events to the framework and acknowledges updates:
// those of a batch of events in one call once the batch is delivered, or
// once the oldest of them was delivered ackDelay ago (also while the
// framework does not take the next event).
func (f *Framework) pump() {
	defer f.wg.Done()
	defer close(f.events)
	var acks []protocol.TaskStatus
	var first time.Time
	flush := func() {
		if len(acks) == 0 {
			return
		}
		if err := f.acks.send(acks...); err != nil && f.Err() == nil {
			f.log.Warn("acknowledge updates", "task_id", acks[0].TaskID, "updates", len(acks), "err", err)
		}
		clear(acks)
		acks = acks[:0]
	}
	hold := time.NewTimer(time.Hour)
	hold.Stop()
	deliver := func(ev protocol.Event) bool {
		if len(acks) > 0 {
			if wait := time.Until(first.Add(ackDelay)); wait > 0 {
				hold.Reset(wait)
				select {
				case f.events <- ev:
					hold.Stop()
					return true
				case <-hold.C:
				case <-f.abort:
					hold.Stop()
					return false
				}
			}
			flush() // not to hold them while the framework is busy
		}
		select {
		case f.events <- ev:
			return true
		case <-f.abort:
			return false
		}
	}
	for {
		batch, ended, ok := f.q.take(f.abort)
		if !ok || ended {
			return
		}
		for _, ev := range batch {
			if !deliver(ev) {
				return
			}
			if f.autoAck && ev.Type == protocol.EventUpdate && ev.Update.Status.UUID != "" && f.Err() == nil {
				if len(acks) == 0 {
					first = time.Now()
				}
				acks = append(acks, ev.Update.Status)
				if len(acks) >= protocol.MaxAcknowledgements || time.Since(first) > ackDelay {
					flush()
				}
			}
		}
		flush()
	}
}

// ackDelay bounds how long an update delivered to the framework waits for
// others to be acknowledged with it.
const ackDelay = 100 * time.Millisecond

func (f *Framework) setSubscribed(s protocol.Subscribed) {
	f.mu.Lock()
	old := f.subscribed.MasterInfo.ID
	f.subscribed = s
	f.info.ID = f.id // from now on every SUBSCRIBE is a re-subscription
	f.mu.Unlock()
	if old != "" && old != s.MasterInfo.ID {
		f.log.Info("master changed", "from", old, "to", s.MasterInfo.ID)
	}
	f.lastEvent.Store(time.Now().UnixNano())
	f.gen.Add(1)
}

func (f *Framework) heartbeatInterval() time.Duration {
	f.mu.Lock()
	secs := f.subscribed.HeartbeatIntervalSeconds
	f.mu.Unlock()
	d := time.Duration(secs * float64(time.Second))
	if d <= 0 || secs > 24*3600 {
		return DefaultHeartbeatInterval
	}
	return d
}

// requestResubscribe asks the supervisor to re-subscribe, unless the
// refusal came from an older subscription than the current one.
func (f *Framework) requestResubscribe(gen uint64) {
	if gen != f.gen.Load() {
		return
	}
	select {
	case f.resub <- gen:
	default:
	}
}

// supervise sends heartbeats and re-subscribes when the master lost us.
func (f *Framework) supervise(failover bool) {
	defer f.wg.Done()
	defer f.unsubscribe()
	if failover {
		f.reconcileAfterSubscribe()
	}
	interval := f.heartbeatInterval()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return
		case gen := <-f.resub:
			if gen != f.gen.Load() {
				continue
			}
			f.resubscribe("the master answered NOT_SUBSCRIBED")
		case <-t.C:
			if f.nc.IsClosed() {
				f.log.Error("the NATS connection was closed; stopping")
				f.stop(fmt.Errorf("scheduler: framework %s: %w (the library never closes it: close the framework first)", f.id, nats.ErrConnectionClosed))
				return
			}
			quiet := time.Since(time.Unix(0, f.lastEvent.Load()))
			if quiet > MissedHeartbeats*interval {
				f.resubscribe(fmt.Sprintf("no event from the master for %v", quiet.Round(time.Millisecond)))
				break
			}
			f.heartbeat()
		}
		if d := f.heartbeatInterval(); d != interval {
			interval = d
			t.Reset(d)
		}
	}
}

func (f *Framework) heartbeat() {
	_, err := f.call(f.ctx, protocol.Call{Type: protocol.CallHeartbeat})
	var perr *protocol.Error
	if err != nil && f.ctx.Err() == nil && !(errors.As(err, &perr) && perr.Code == protocol.ErrNotSubscribed) {
		f.log.Warn("heartbeat call failed", "err", err) // NOT_SUBSCRIBED: the re-subscription logs
	}
}

// resubscribe re-subscribes with the same ID until it works, the framework
// stops, or the master refuses for good (then the framework stops with an
// ERROR event).
func (f *Framework) resubscribe(reason string) {
	f.log.Warn("re-subscribing", "reason", reason)
	s, err := f.subscribeRetrying(f.ctx)
	if err != nil {
		if f.ctx.Err() != nil {
			return
		}
		var perr *protocol.Error
		if !errors.As(err, &perr) {
			f.log.Error("cannot re-subscribe; stopping", "err", err)
			f.stop(fmt.Errorf("scheduler: re-subscribe framework %s: %w", f.id, err))
			return
		}
		f.log.Error("the master refused to take the framework back", "err", err)
		f.q.push(protocol.Event{Type: protocol.EventError, Error: &protocol.FatalError{Message: err.Error()}})
		f.stop(fmt.Errorf("%w: %w", ErrRemoved, err))
		return
	}
	f.setSubscribed(s)
	f.q.push(protocol.Event{Type: protocol.EventSubscribed, Subscribed: &s})
	f.log.Info("framework re-subscribed", "master", s.MasterInfo.ID)
	f.reconcileAfterSubscribe()
}

func (f *Framework) reconcileAfterSubscribe() {
	if err := f.Reconcile(f.ctx); err != nil && f.ctx.Err() == nil {
		f.log.Warn("implicit reconciliation after subscribing failed; task states may be stale until the next one", "err", err)
	}
}

// subscribeRetrying sends SUBSCRIBE until the master confirms, retrying
// with backoff while no master is available.
func (f *Framework) subscribeRetrying(ctx context.Context) (protocol.Subscribed, error) {
	backoff := minBackoff
	for attempt := 1; ; attempt++ {
		s, err := f.subscribeOnce(ctx)
		if err == nil {
			return s, nil
		}
		if ctx.Err() != nil {
			return protocol.Subscribed{}, fmt.Errorf("scheduler: subscribe framework %s: gave up after %d attempts: %w (last error: %w)", f.id, attempt, ctx.Err(), err)
		}
		if !retriable(err) {
			return protocol.Subscribed{}, err
		}
		lvl := slog.LevelDebug
		if attempt == 1 || attempt%10 == 0 {
			lvl = slog.LevelWarn
		}
		f.log.Log(ctx, lvl, "master not available; retrying SUBSCRIBE", "attempt", attempt, "retry_in", backoff, "err", err)
		wait := backoff/2 + rand.N(backoff/2+1)
		tm := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			tm.Stop()
			return protocol.Subscribed{}, fmt.Errorf("scheduler: subscribe framework %s: gave up after %d attempts: %w (last error: %w)", f.id, attempt, ctx.Err(), err)
		case <-tm.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

func (f *Framework) subscribeOnce(ctx context.Context) (protocol.Subscribed, error) {
	f.mu.Lock()
	c := protocol.Call{Type: protocol.CallSubscribe, Subscribe: &protocol.Subscribe{
		FrameworkInfo:   f.info,
		SuppressedRoles: slices.Clone(f.suppressed),
	}}
	f.mu.Unlock()
	resp, err := f.call(ctx, c)
	if err != nil {
		return protocol.Subscribed{}, err
	}
	s := resp.Subscribed
	if s == nil {
		return protocol.Subscribed{}, fmt.Errorf("scheduler: SUBSCRIBE: the master's reply has no subscribed confirmation: %w (master and library versions may differ)", errBadReply)
	}
	if s.FrameworkID != "" && s.FrameworkID != f.id {
		return protocol.Subscribed{}, fmt.Errorf("scheduler: SUBSCRIBE: the master confirmed framework %q, not %q: %w", s.FrameworkID, f.id, errBadReply)
	}
	s.FrameworkID = f.id
	return *s, nil
}

var errBadReply = errors.New("unexpected reply")

// retriable reports whether a failed SUBSCRIBE may work later.
func retriable(err error) bool {
	var perr *protocol.Error
	if errors.As(err, &perr) {
		return perr.Code == protocol.ErrUnavailable
	}
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrDisconnected)
}
