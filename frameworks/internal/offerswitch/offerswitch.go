// Package offerswitch keeps a framework's offers suppressed or revived as
// its loop last asked. Calls go out one at a time, from one goroutine, so
// a SUPPRESS never overtakes the REVIVE that followed it (two calls sent
// from two goroutines could reach the master in either order and leave a
// framework with work suppressed); a failed call is sent again unless a
// newer wish replaced it.
package offerswitch

import (
	"context"
	"log/slog"
	"time"
)

// Caller is what the switch needs of the scheduler client
// (kernel/scheduler.Framework has these).
type Caller interface {
	Revive(ctx context.Context, roles ...string) error
	Suppress(ctx context.Context, roles ...string) error
}

// Switch is one framework's offer switch.
type Switch struct {
	ch    chan bool
	want  bool // the loop's side: the latest wish
	retry time.Duration
}

// New starts the switch's goroutine (until ctx ends). suppressed says
// how the framework subscribed.
func New(ctx context.Context, c Caller, suppressed bool, log *slog.Logger) *Switch {
	s := &Switch{ch: make(chan bool, 1), want: !suppressed, retry: time.Second}
	go s.run(ctx, c, log)
	return s
}

// Set asks for offers (true) or for none (false); it never blocks. It is
// meant for one goroutine (the framework's loop).
func (s *Switch) Set(want bool) {
	if want == s.want {
		return
	}
	s.want = want
	for {
		select {
		case s.ch <- want:
			return
		default:
			select {
			case <-s.ch: // replace the wish not sent yet
			default:
			}
		}
	}
}

// Reset tells the switch the framework subscribed again (suppressed or
// not): the next Set is sent even if it matches the wish before.
func (s *Switch) Reset(suppressed bool) { s.want = !suppressed }

func (s *Switch) run(ctx context.Context, c Caller, log *slog.Logger) {
	for {
		var want bool
		select {
		case <-ctx.Done():
			return
		case want = <-s.ch:
		}
		for {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			var err error
			if want {
				err = c.Revive(cctx)
			} else {
				err = c.Suppress(cctx)
			}
			cancel()
			if err == nil || ctx.Err() != nil {
				break
			}
			log.Debug("revive/suppress failed; sending it again", "revive", want, "err", err)
			select {
			case <-ctx.Done():
				return
			case newer := <-s.ch:
				want = newer
			case <-time.After(s.retry):
			}
		}
	}
}
