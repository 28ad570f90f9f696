// Package master is Cairn's kernel brain: the registry of agents,
// frameworks and tasks, the allocator's driver, offers and their timeouts,
// status update routing, failure detection, and the operator API.
//
// Concurrency model: one event loop goroutine owns all state. NATS callbacks
// only push closures into the loop's inbox. The loop handles a batch of
// inputs, then ends the batch: it may run an allocation cycle, writes every
// changed record to JetStream KV (asynchronously, awaited once per batch),
// and only then publishes replies, events and commands — so nothing the
// outside world sees is ever ahead of the durable state. Operator API reads
// come from an immutable snapshot rebuilt at most every SnapshotInterval,
// never from the loop.
package master

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairn-dc/cairn/kernel/allocator"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// Master is a Cairn master. Create it with New and start it with Run.
type Master struct {
	cfg Config
	log *slog.Logger
	nc  *nats.Conn
	js  jetstream.JetStream

	ready   atomic.Bool
	leading atomic.Bool
	snap    atomic.Pointer[snapshot]

	inbox chan func()

	// Everything below is owned by the loop goroutine while leading.
	st         *store
	updates    jetstream.Stream // the status update stream (set by recover)
	alloc      *allocator.Allocator
	frameworks map[protocol.FrameworkID]*framework
	agents     map[protocol.AgentID]*agent
	offers     map[protocol.OfferID]*offer
	retry      map[*task]struct{} // tasks with unacknowledged updates

	dirtyFrameworks map[*framework]struct{}
	dirtyAgents     map[*agent]struct{}
	dirtyTasks      map[*task]dirt
	// lazyTasks changed in ways that may be lost in a crash without harm
	// (an acknowledgement: the update is sent again and acknowledged again);
	// they are written with their next real change, or by housekeeping
	// within lazyInterval.
	lazyTasks     map[*task]struct{}
	lastLazy      time.Time
	after         []func() // effects to run once this batch is durable
	agentAcks     map[protocol.AgentID][]protocol.AckUpdate
	changed       bool // since the last snapshot
	lastAlloc     time.Time
	allocTimer    *time.Timer
	lastSnapshot  time.Time
	lastHeartbeat time.Time
	fatal         error // set by the loop to step down
}

// New validates the configuration and makes a master; Run starts it.
func New(cfg Config) (*Master, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if cfg.ID == "" {
		cfg.ID = protocol.NewID()
	}
	js, err := jetstream.New(cfg.Conn, jetstream.WithPublishAsyncMaxPending(1<<16))
	if err != nil {
		return nil, fmt.Errorf("master: JetStream: %w", err)
	}
	m := &Master{
		cfg:   cfg,
		log:   cfg.Logger.With("component", "master", "master_id", cfg.ID),
		nc:    cfg.Conn,
		js:    js,
		inbox: make(chan func(), 1<<16),
	}
	m.snap.Store(&snapshot{master: m.info()})
	return m, nil
}

func (m *Master) info() protocol.MasterInfo {
	return protocol.MasterInfo{ID: m.cfg.ID, Hostname: m.cfg.Hostname, Version: m.cfg.Version, URL: m.cfg.URL, NATSURL: m.cfg.NATSURL}
}

// ID is the master's ID.
func (m *Master) ID() string { return m.cfg.ID }

// Ready reports whether the master leads, has recovered its state and
// serves frameworks and agents.
func (m *Master) Ready() bool { return m.ready.Load() }

// Run campaigns for leadership and, once elected, recovers the state from
// JetStream and serves until ctx ends. If leadership is lost it steps down
// and campaigns again. It returns nil when ctx ends.
func (m *Master) Run(ctx context.Context) error {
	for {
		kv, err := m.leaseBucket(ctx)
		if err == nil {
			var rev uint64
			if rev, err = m.campaign(ctx, kv); err == nil {
				err = m.lead(ctx, kv, rev)
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		m.log.Error("master stepped down; campaigning again", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// lead serves as the leader until ctx ends or leadership is lost.
func (m *Master) lead(ctx context.Context, kv jetstream.KeyValue, rev uint64) error {
	lctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	m.leading.Store(true)
	defer m.leading.Store(false)
	leaseDone := make(chan struct{})
	go func() {
		defer close(leaseDone)
		m.keepLease(lctx, kv, rev, func(err error) { cancel(err) })
	}()
	defer func() { cancel(nil); <-leaseDone }()

	start := time.Now()
	m.log.Info("elected leader; recovering state")
	if err := m.recover(lctx); err != nil {
		return err
	}
	subs, cons, consumer, err := m.subscribe(lctx)
	if err != nil {
		return err
	}
	purgeDone := make(chan struct{})
	go func() {
		defer close(purgeDone)
		m.purgeUpdates(lctx, m.updates, consumer)
	}()
	defer func() { cancel(nil); <-purgeDone }()
	defer func() {
		for _, s := range subs {
			_ = s.Unsubscribe()
		}
		cons.Stop()
		m.ready.Store(false)
		m.drainInbox()
	}()
	m.publishSnapshot(time.Now())
	m.ready.Store(true)
	m.log.Info("master ready", "recovered_in", time.Since(start).Round(time.Millisecond),
		"frameworks", len(m.frameworks), "agents", len(m.agents), "tasks", m.taskCount())
	err = m.loop(lctx)
	if c := context.Cause(lctx); c != nil && !errors.Is(c, context.Canceled) {
		return c
	}
	return err
}

func (m *Master) drainInbox() {
	for {
		select {
		case <-m.inbox:
		default:
			return
		}
	}
}

// subscribe starts the master's NATS subscriptions and the status update
// consumer; every message becomes a closure in the inbox.
func (m *Master) subscribe(ctx context.Context) ([]*nats.Subscription, jetstream.ConsumeContext, jetstream.Consumer, error) {
	var subs []*nats.Subscription
	add := func(subject string, handle func(*nats.Msg)) error {
		s, err := m.nc.Subscribe(subject, func(msg *nats.Msg) { m.push(ctx, func() { handle(msg) }) })
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", subject, err)
		}
		if err := s.SetPendingLimits(1<<20, 1<<30); err != nil {
			return err
		}
		subs = append(subs, s)
		return nil
	}
	for _, s := range []struct {
		subject string
		handle  func(*nats.Msg)
	}{
		{protocol.FrameworkCallWildcard, m.handleCall},
		{protocol.AgentRegisterWildcard, m.handleRegister},
		{protocol.AgentPingWildcard, m.handlePing},
		{protocol.AgentMessageWildcard, m.handleAgentMessage},
	} {
		if err := add(s.subject, s.handle); err != nil {
			for _, x := range subs {
				_ = x.Unsubscribe()
			}
			return nil, nil, nil, err
		}
	}
	consumer, err := m.js.CreateOrUpdateConsumer(ctx, protocol.UpdatesStream, jetstream.ConsumerConfig{
		Durable:       protocol.UpdatesConsumer,
		Description:   "the leading master reads every task status update",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxAckPending: 1 << 16,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err == nil {
		var cc jetstream.ConsumeContext
		cc, err = consumer.Consume(func(msg jetstream.Msg) { m.push(ctx, func() { m.handleUpdate(msg) }) },
			jetstream.PullMaxMessages(4096),
			jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
				m.log.Debug("update consumer", "err", err)
			}))
		if err == nil {
			return subs, cc, consumer, nil
		}
	}
	for _, x := range subs {
		_ = x.Unsubscribe()
	}
	return nil, nil, nil, fmt.Errorf("consume status updates from %s: %w", protocol.UpdatesStream, err)
}

// purgeUpdates removes the status updates the master has acknowledged
// (the consumer's ack floor) from the stream, every UpdatesPurgeInterval,
// until ctx ends. The stream keeps them otherwise (limits retention).
func (m *Master) purgeUpdates(ctx context.Context, st jetstream.Stream, c jetstream.Consumer) {
	tick := time.NewTicker(m.cfg.UpdatesPurgeInterval)
	defer tick.Stop()
	var purged uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		info, err := c.Info(ctx)
		if err != nil {
			m.log.Debug("read the update consumer's ack floor", "err", err)
			continue
		}
		floor := info.AckFloor.Stream
		if floor <= purged {
			continue
		}
		// Up to but not including floor+1: every update at or below the
		// floor is acknowledged.
		if err := st.Purge(ctx, jetstream.WithPurgeSequence(floor+1)); err != nil {
			if ctx.Err() == nil {
				m.log.Warn("cannot purge acknowledged status updates; retrying", "stream", protocol.UpdatesStream, "err", err)
			}
			continue
		}
		purged = floor
	}
}

// push hands a message to the loop; a full inbox holds the NATS callback
// back (back-pressure) until the loop catches up or leadership ends.
func (m *Master) push(ctx context.Context, fn func()) {
	select {
	case m.inbox <- fn:
	case <-ctx.Done():
	}
}

// loop is the event loop: all state changes happen here.
func (m *Master) loop(ctx context.Context) error {
	tick := time.NewTicker(m.cfg.TickInterval)
	defer tick.Stop()
	m.allocTimer = time.NewTimer(m.cfg.AllocationInterval)
	defer m.allocTimer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case fn := <-m.inbox:
			fn()
		drain:
			for i := 0; i < 8192; i++ {
				select {
				case fn := <-m.inbox:
					fn()
				default:
					break drain
				}
			}
		case now := <-tick.C:
			m.housekeeping(now)
		case <-m.allocTimer.C:
			m.allocate(time.Now())
		}
		if err := m.endBatch(ctx); err != nil {
			return err
		}
	}
}

// endBatch makes the batch durable and then lets the world see it.
func (m *Master) endBatch(ctx context.Context) error {
	now := time.Now()
	if m.alloc.Dirty() {
		m.scheduleAllocation(now)
	}
	if m.fatal != nil {
		return m.fatal
	}
	for aid, acks := range m.agentAcks {
		m.sendAgent(aid, protocol.AgentCommand{Type: protocol.AgentAcknowledge, Acknowledge: acks})
	}
	clear(m.agentAcks)
	m.flush()
	if err := m.st.sync(ctx); err != nil {
		return fmt.Errorf("state not stored, stepping down to recover from JetStream: %w", err)
	}
	for _, fn := range m.after {
		fn()
	}
	clear(m.after)
	m.after = m.after[:0]
	if m.changed && now.Sub(m.lastSnapshot) >= m.cfg.SnapshotInterval {
		m.publishSnapshot(now)
	}
	return nil
}

// scheduleAllocation runs a cycle soon after a change, batching changes
// that arrive close together (at most one cycle per 10 ms on change, and
// one per AllocationInterval regardless).
func (m *Master) scheduleAllocation(now time.Time) {
	const minGap = 10 * time.Millisecond
	wait := minGap - now.Sub(m.lastAlloc)
	if wait < 0 {
		wait = 0
	}
	m.allocTimer.Reset(wait)
}

// later runs fn once the current batch is durable.
func (m *Master) later(fn func()) { m.after = append(m.after, fn) }

// flush writes every changed record.
func (m *Master) flush() {
	write := func(key string, v any) {
		if err := m.st.put(key, v); err != nil && m.fatal == nil {
			m.fatal = err
		}
	}
	for f := range m.dirtyFrameworks {
		write(frameworkKey(f.info.ID), f.record())
	}
	for a := range m.dirtyAgents {
		write(agentKey(a.info.ID), a.record())
	}
	for t, d := range m.dirtyTasks {
		delete(m.lazyTasks, t)
		if t.deleted {
			for _, key := range []string{taskKeyString(t.fid, t.info.TaskID), taskStatusKey(t.fid, t.info.TaskID)} {
				if err := m.st.del(key); err != nil && m.fatal == nil {
					m.fatal = err
				}
			}
			continue
		}
		if d&dirtyInfo != 0 {
			write(taskKeyString(t.fid, t.info.TaskID), t.infoRecord())
		}
		if d&dirtyStatus != 0 {
			write(taskStatusKey(t.fid, t.info.TaskID), t.statusRecord())
		}
	}
	clear(m.dirtyFrameworks)
	clear(m.dirtyAgents)
	clear(m.dirtyTasks)
}

func (m *Master) touchFramework(f *framework) {
	f.view = nil
	m.dirtyFrameworks[f] = struct{}{}
	m.changed = true
}

func (m *Master) touchAgent(a *agent) {
	a.view = nil
	m.dirtyAgents[a] = struct{}{}
	m.changed = true
}

// dirt says which of a task's records must be written.
type dirt uint8

const (
	dirtyStatus dirt = 1 << iota
	dirtyInfo
)

func (m *Master) touchTask(t *task) {
	t.view = nil
	m.dirtyTasks[t] |= dirtyStatus
	m.changed = true
}

// newTask marks a new task's record for writing. A staging task needs no
// status record: a task without one is recovered as TASK_STAGING.
func (m *Master) newTask(t *task) {
	t.view = nil
	m.changed = true
	m.dirtyTasks[t] |= dirtyInfo
	if t.state != protocol.TaskStaging || len(t.pending) > 0 || t.killRequested {
		m.dirtyTasks[t] |= dirtyStatus
	}
}

// touchTaskLazily records a change that need not be durable at once.
func (m *Master) touchTaskLazily(t *task) {
	t.view = nil
	m.changed = true
	if _, now := m.dirtyTasks[t]; !now {
		m.lazyTasks[t] = struct{}{}
	}
}

// lazyInterval bounds how long an acknowledgement may stay unwritten.
const lazyInterval = 5 * time.Second

// flushLazy schedules the lazily changed tasks for writing.
func (m *Master) flushLazy(now time.Time) {
	if now.Sub(m.lastLazy) < lazyInterval {
		return
	}
	m.lastLazy = now
	for t := range m.lazyTasks {
		m.dirtyTasks[t] |= dirtyStatus
	}
	clear(m.lazyTasks)
}

func (m *Master) taskCount() int {
	n := 0
	for _, f := range m.frameworks {
		n += len(f.tasks)
	}
	return n
}
