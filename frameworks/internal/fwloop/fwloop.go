// Package fwloop is the life of a framework built on kernel/scheduler, as
// services and cron share it: one goroutine (the loop) owns the state and
// takes, in batches, the scheduler's events, functions pushed by other
// goroutines (the API) and ticks; every batch ends durable (EndBatch)
// before anything it did is answered. It also serves the framework's API,
// stops it, and says why it ended.
package fwloop

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/scheduler"
)

// maxBatch bounds how many events and functions one batch takes.
const maxBatch = 4096

// Config says what the loop does.
type Config struct {
	// Name prefixes the errors and log lines ("cron").
	Name  string
	Sched *scheduler.Framework
	Log   *slog.Logger
	// Tick is how often OnTick runs.
	Tick time.Duration
	// Start runs first, on the loop (reconciliation ...).
	Start func(ctx context.Context)
	// Event handles one scheduler event.
	Event func(ctx context.Context, ev protocol.Event)
	// OnTick runs every Tick.
	OnTick func(ctx context.Context, now time.Time)
	// EndBatch makes the batch durable and acts on it; an error (the state
	// could not be stored) stops the framework.
	EndBatch func(ctx context.Context) error
}

// Life is a framework's loop, API server and end. Make it with New; it is
// safe for concurrent use.
type Life struct {
	inbox chan func()
	done  chan struct{}
	stop  context.CancelFunc
	sched *scheduler.Framework
	srv   *http.Server

	mu  sync.Mutex // guards err
	err error
}

// New returns a Life whose loop is not running yet (Push waits for it).
func New() *Life {
	return &Life{inbox: make(chan func(), 1<<14), done: make(chan struct{})}
}

// Begin returns the context the framework lives in, until Stop.
func (l *Life) Begin() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	l.stop = cancel
	return ctx
}

// Serve serves h on ln until Stop.
func (l *Life) Serve(ln net.Listener, h http.Handler) {
	l.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = l.srv.Serve(ln) }()
}

// Run starts the loop in ctx (from Begin).
func (l *Life) Run(ctx context.Context, cfg Config) {
	l.sched = cfg.Sched
	go l.loop(ctx, cfg)
}

func (l *Life) loop(ctx context.Context, cfg Config) {
	defer close(l.done)
	tick := time.NewTicker(cfg.Tick)
	defer tick.Stop()
	events := cfg.Sched.Events()
	cfg.Start(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				l.fail(fmt.Errorf("%s: scheduler stopped: %w", cfg.Name, cfg.Sched.Err()))
				cfg.Log.Error("the framework's connection to the master ended", "err", cfg.Sched.Err())
				return
			}
			cfg.Event(ctx, ev)
		case fn := <-l.inbox:
			fn()
		case now := <-tick.C:
			cfg.OnTick(ctx, now)
		}
	drain:
		for i := 0; i < maxBatch; i++ {
			select {
			case fn := <-l.inbox:
				fn()
			case ev, ok := <-events:
				if !ok {
					break drain
				}
				cfg.Event(ctx, ev)
			default:
				break drain
			}
		}
		if err := cfg.EndBatch(ctx); err != nil {
			l.fail(err)
			cfg.Log.Error(cfg.Name+" state could not be stored; stopping (a restart recovers from the last stored state)", "err", err)
			return
		}
	}
}

func (l *Life) fail(err error) {
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
}

// Push runs fn on the loop; false if ctx ended or the framework stopped
// first. (A push racing with the end may be taken and never run: callers
// waiting for fn's answer also wait on Done.)
func (l *Life) Push(ctx context.Context, fn func()) bool {
	select {
	case <-l.done: // the inbox may have room, but nobody reads it any more
		return false
	default:
	}
	select {
	case l.inbox <- fn:
		return true
	case <-ctx.Done():
		return false
	case <-l.done:
		return false
	}
}

// Handler is the framework's API.
func (l *Life) Handler() http.Handler { return l.srv.Handler }

// Done is closed when the framework stops.
func (l *Life) Done() <-chan struct{} { return l.done }

// Err says why it stopped.
func (l *Life) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Stop stops the framework without tearing it down: its tasks keep running
// and a new start fails over to them.
func (l *Life) Stop() {
	l.stop()
	<-l.done
	c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = l.srv.Shutdown(c)
	_ = l.sched.Close()
}
