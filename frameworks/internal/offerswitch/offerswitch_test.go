package offerswitch

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

type fakeCaller struct {
	mu    sync.Mutex
	calls []bool
	fail  int // fail this many calls first
	block chan struct{}
}

func (f *fakeCaller) call(want bool) error {
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		return errors.New("no master")
	}
	f.calls = append(f.calls, want)
	return nil
}
func (f *fakeCaller) Revive(context.Context, ...string) error   { return f.call(true) }
func (f *fakeCaller) Suppress(context.Context, ...string) error { return f.call(false) }

func (f *fakeCaller) last() (bool, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return false, 0
	}
	return f.calls[len(f.calls)-1], len(f.calls)
}

func waitLast(t *testing.T, f *fakeCaller, want bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if got, n := f.last(); n > 0 && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the last call is not %v: %v", want, f.calls)
		}
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestLatestWishWins(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &fakeCaller{block: make(chan struct{})}
	s := New(ctx, f, true, quiet)
	s.Set(true)  // taken by the goroutine, blocked in the call
	s.Set(false) // waits
	s.Set(true)  // replaces it
	close(f.block)
	waitLast(t, f, true)
	time.Sleep(20 * time.Millisecond)
	if _, n := f.last(); n > 2 {
		t.Errorf("calls %v: a replaced wish was sent", f.calls)
	}
	s.Set(true) // no change: nothing sent
	time.Sleep(20 * time.Millisecond)
	if _, n := f.last(); n > 2 {
		t.Errorf("calls %v after an unchanged wish", f.calls)
	}
}

func TestFailedCallsAreRetried(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &fakeCaller{fail: 2}
	s := New(ctx, f, true, quiet)
	s.retry = time.Millisecond
	s.Set(true)
	waitLast(t, f, true)
	s.Reset(true) // subscribed again, suppressed
	s.Set(true)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, n := f.last(); n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no revive after a re-subscription: %v", f.calls)
		}
	}
}
