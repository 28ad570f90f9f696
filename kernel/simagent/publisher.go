package simagent

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// PublisherConfig tunes a Publisher.
type PublisherConfig struct {
	// MaxPending bounds the status updates waiting for their PubAck on this
	// connection (default 4096). Past it the publisher waits (back-pressure).
	MaxPending int
	// AckTimeout is how long a PubAck may take before the update is sent
	// again (same Nats-Msg-Id, so the stream keeps one copy; default 10s).
	AckTimeout time.Duration
	// RetryMin and RetryMax bound the back-off between attempts to publish
	// an update that failed (defaults 100ms and 5s).
	RetryMin, RetryMax time.Duration
	Logger             *slog.Logger
}

// Publisher puts status updates on the JetStream updates stream for the
// agents that share one NATS connection: one JetStream context (one reply
// subscription) and one sender goroutine per connection, however many
// agents use it. Publishing is asynchronous (PublishAsync); every update is
// kept until its PubAck arrives and is sent again (same Nats-Msg-Id) after
// any failure: a no-responders error (no stream yet), a timeout, a
// disconnect. An agent makes its own Publisher when Config.Publisher is nil;
// StartFleet makes one per connection.
type Publisher struct {
	js  jetstream.JetStream
	cfg PublisherConfig
	log *slog.Logger

	mu      sync.Mutex
	wake    chan struct{} // signalled when queue gets work
	queue   []*outUpdate
	flights map[string]*outUpdate // Nats-Msg-Id → update awaiting its PubAck
	closed  bool
	done    chan struct{} // closed when the sender goroutine exits
}

// NewPublisher makes a Publisher on nc.
func NewPublisher(nc *nats.Conn, cfg PublisherConfig) (*Publisher, error) {
	if nc == nil {
		return nil, errors.New("simagent: publisher needs a NATS connection")
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 4096
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = 10 * time.Second
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = 100 * time.Millisecond
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(5*time.Second, cfg.RetryMin)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	p := &Publisher{
		cfg:     cfg,
		log:     log,
		wake:    make(chan struct{}, 1),
		flights: make(map[string]*outUpdate),
		done:    make(chan struct{}),
	}
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(cfg.MaxPending),
		jetstream.WithPublishAsyncTimeout(cfg.AckTimeout),
		jetstream.WithPublishAsyncAckHandler(p.onAck),
		jetstream.WithPublishAsyncErrHandler(p.onErr),
	)
	if err != nil {
		return nil, err
	}
	p.js = js
	go p.run()
	return p, nil
}

// Pending is the number of updates queued or waiting for their PubAck.
func (p *Publisher) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue) + len(p.flights)
}

// Close stops the publisher; updates still pending are abandoned (the
// agents using it should be stopped first).
func (p *Publisher) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.done
		return
	}
	p.closed = true
	p.queue = nil
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	<-p.done
	p.js.CleanupPublisher()
	p.mu.Lock()
	clear(p.flights)
	p.mu.Unlock()
}

// enqueue hands u to the sender goroutine; it never blocks.
func (p *Publisher) enqueue(u *outUpdate) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.queue = append(p.queue, u)
	first := len(p.queue) == 1
	p.mu.Unlock()
	if first {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

func (p *Publisher) run() {
	defer close(p.done)
	var batch []*outUpdate
	for {
		p.mu.Lock()
		for len(p.queue) == 0 && !p.closed {
			p.mu.Unlock()
			<-p.wake
			p.mu.Lock()
		}
		if p.closed {
			p.mu.Unlock()
			return
		}
		batch, p.queue = p.queue, batch[:0]
		p.mu.Unlock()
		for i, u := range batch {
			p.publish(u)
			batch[i] = nil
		}
	}
}

// publish sends one update. The agent's sendMu (read-locked) makes Stop wait
// for a publish in progress, so nothing leaves a stopped agent.
func (p *Publisher) publish(u *outUpdate) {
	a := u.agent
	a.sendMu.RLock()
	defer a.sendMu.RUnlock()
	if a.stopped.Load() {
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.flights[u.uuid] = u
	p.mu.Unlock()
	msg := &nats.Msg{Subject: u.subject, Data: u.data, Header: nats.Header{jetstream.MsgIDHeader: []string{u.uuid}}}
	if _, err := p.js.PublishMsgAsync(msg, jetstream.WithStallWait(time.Second)); err != nil {
		p.mu.Lock()
		delete(p.flights, u.uuid)
		p.mu.Unlock()
		p.failed(u, err)
	}
}

// onAck runs on the JetStream reply goroutine: it must not block or publish.
func (p *Publisher) onAck(_ jetstream.JetStream, m *nats.Msg, _ *jetstream.PubAck) {
	u := p.take(m)
	if u != nil {
		u.agent.stored(u)
	}
}

// onErr may run with the JetStream publisher's lock held (ack timeouts): it
// only schedules the retry.
func (p *Publisher) onErr(_ jetstream.JetStream, m *nats.Msg, err error) {
	if u := p.take(m); u != nil {
		p.failed(u, err)
	}
}

func (p *Publisher) take(m *nats.Msg) *outUpdate {
	id := m.Header.Get(jetstream.MsgIDHeader)
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.flights[id]
	delete(p.flights, id)
	return u
}

// failed schedules another attempt of u after a back-off.
func (p *Publisher) failed(u *outUpdate, err error) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed || u.agent.stopped.Load() {
		return
	}
	u.attempts++ // only the single in-flight owner of u touches attempts
	n := u.attempts
	d := p.cfg.RetryMin << min(n-1, 16)
	if d > p.cfg.RetryMax || d <= 0 {
		d = p.cfg.RetryMax
	}
	d = d/2 + rand.N(d/2+1)
	switch {
	case errors.Is(err, jetstream.ErrTooManyStalledMsgs):
		// back-pressure (MaxPending reached), not a failure
	case n == 1 || n&(n-1) == 0: // log the 1st, 2nd, 4th, 8th ... failure
		p.log.Warn("status update not stored yet; will retry", "agent", u.agent.id, "subject", u.subject,
			"uuid", u.uuid, "attempt", n, "retry_in", d, "err", err)
	}
	time.AfterFunc(d, func() { u.agent.retry(u) })
}
