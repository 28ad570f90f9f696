package health

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// autoClock is a virtual clock that jumps forward by d whenever a timer of
// d is asked for: Run never really waits, and times are deterministic.
type autoClock struct {
	mu  sync.Mutex
	now time.Time
}

func newAutoClock() *autoClock {
	return &autoClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *autoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *autoClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// script is a RunCommand whose checks exit with the given codes in turn
// (output "check N"), then block until their context ends.
type script struct {
	codes  []int
	mu     sync.Mutex
	calls  int
	called chan int // receives each call's number, if not nil
}

func (s *script) run(ctx context.Context, _ *protocol.CommandInfo, _ []string, _ string) (int, string, error) {
	s.mu.Lock()
	s.calls++
	n := s.calls
	s.mu.Unlock()
	if s.called != nil {
		s.called <- n
	}
	if n <= len(s.codes) {
		return s.codes[n-1], fmt.Sprintf("check %d", n), nil
	}
	<-ctx.Done()
	return -1, "", ctx.Err()
}

// scripted returns a COMMAND check run by the script, with a delay and an
// interval of 1s (virtual) and the given grace period and failure limit.
func scripted(t *testing.T, s *script, grace float64, limit int) *Checker {
	hc := shellCheck("scripted")
	hc.DelaySeconds, hc.IntervalSeconds, hc.GracePeriodSeconds, hc.ConsecutiveFailures = 1, 1, grace, limit
	return mustNew(t, hc, Target{RunCommand: s.run}, WithClock(newAutoClock()))
}

// run starts c.Run and returns its events and a channel closed when it returns.
func run(ctx context.Context, c *Checker, buf int) (<-chan Event, <-chan struct{}) {
	events := make(chan Event, buf)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx, events)
	}()
	return events, done
}

func next(t *testing.T, events <-chan Event) Event {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("events closed early")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	panic("unreachable")
}

// closed waits for events to close (Run returned), failing on any event.
func closed(t *testing.T, events <-chan Event, done <-chan struct{}) {
	t.Helper()
	select {
	case ev, ok := <-events:
		if ok {
			t.Fatalf("unexpected event %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("events not closed within 10s")
	}
	<-done
}

// want reads len(evs) events, compares them, then checks the stream ends:
// by itself when the last wanted event is a Kill, else once ctx is
// canceled (the script is then exhausted: nothing more can happen).
func want(t *testing.T, cancel context.CancelFunc, events <-chan Event, done <-chan struct{}, evs ...Event) {
	t.Helper()
	var got []Event
	for range evs {
		got = append(got, next(t, events))
	}
	if !slices.Equal(got, evs) {
		t.Fatalf("events:\n got %+v\nwant %+v", got, evs)
	}
	if len(evs) == 0 || !evs[len(evs)-1].Kill {
		cancel()
	}
	closed(t, events, done)
}

func ok(msg string) Event   { return Event{Healthy: true, Message: msg} }
func sick(msg string) Event { return Event{Message: msg} }
func kill(n int, msg string) Event {
	return Event{Kill: true, Message: fmt.Sprintf("health check failed %d times in a row: %s", n, msg)}
}

func TestGraceIgnoresFailuresUntilFirstSuccess(t *testing.T) {
	// Checks at t=1s..8s; grace 5s: the failures at 1-4s are ignored, the
	// success at 5s ends the grace period; 6, 7, 8 fail.
	s := &script{codes: []int{1, 1, 1, 1, 0, 1, 1, 1}}
	c := scripted(t, s, 5, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, done := run(ctx, c, 0)
	want(t, cancel, events, done,
		ok("exited with status 0: check 5"),
		sick("exited with status 1: check 6"),
		kill(3, "exited with status 1: check 8"))
	if last := c.Last(); last.Healthy || last.Message != "exited with status 1: check 8" {
		t.Fatalf("Last() = %+v", last)
	}
}

func TestSuccessEndsGraceEarly(t *testing.T) {
	// Grace 100s, but a success at 1s ends it: the failures after count.
	s := &script{codes: []int{0, 1, 1}}
	c := scripted(t, s, 100, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, done := run(ctx, c, 0)
	want(t, cancel, events, done,
		ok("exited with status 0: check 1"),
		sick("exited with status 1: check 2"),
		kill(2, "exited with status 1: check 3"))
}

func TestGraceExpiresWithoutSuccess(t *testing.T) {
	// Grace 2.5s: the failures at 1s and 2s are ignored, 3s, 4s, 5s count.
	s := &script{codes: []int{1, 1, 1, 1, 1, 0}}
	c := scripted(t, s, 2.5, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, done := run(ctx, c, 4)
	want(t, cancel, events, done,
		sick("exited with status 1: check 3"),
		kill(3, "exited with status 1: check 5"))
	if s.calls != 5 {
		t.Fatalf("%d checks ran after the kill", s.calls-5)
	}
}

func TestTransitionsOnlyAndRecovery(t *testing.T) {
	// Failure runs of 2 never reach the limit of 3: a success resets the count.
	s := &script{codes: []int{0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0}}
	c := scripted(t, s, 0.5, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, done := run(ctx, c, 0)
	want(t, cancel, events, done,
		ok("exited with status 0: check 1"),
		sick("exited with status 1: check 4"),
		ok("exited with status 0: check 6"),
		sick("exited with status 1: check 8"),
		ok("exited with status 0: check 10"))
}

func TestKillAfterFirstFailureWithLimitOne(t *testing.T) {
	s := &script{codes: []int{1}}
	c := scripted(t, s, 0.5, 1)
	events, done := run(context.Background(), c, 0)
	want(t, nil, events, done, kill(1, "exited with status 1: check 1"))

	s = &script{codes: []int{0, 1}}
	c = scripted(t, s, 0.5, 1)
	events, done = run(context.Background(), c, 0)
	want(t, nil, events, done, ok("exited with status 0: check 1"), kill(1, "exited with status 1: check 2"))
}

func TestDefaultLimitIsThree(t *testing.T) {
	s := &script{codes: []int{1, 1, 1}}
	c := scripted(t, s, 0.5, 0)
	events, done := run(context.Background(), c, 0)
	want(t, nil, events, done, sick("exited with status 1: check 1"), kill(3, "exited with status 1: check 3"))
}

func TestCancelDuringDelay(t *testing.T) {
	c := mustNew(t, shellCheck("true"), Target{}) // real clock, 15s delay
	ctx, cancel := context.WithCancel(context.Background())
	events, done := run(ctx, c, 0)
	cancel()
	closed(t, events, done)
	if c.Last() != (Result{}) {
		t.Fatalf("a check ran: %+v", c.Last())
	}
}

func TestCancelKillsRunningCommand(t *testing.T) {
	needProc(t)
	dir := t.TempDir()
	hc := shellCheck(`echo $$ > shell.pid; sleep 60 & echo $! > child.pid; wait`)
	hc.DelaySeconds = 0.001
	c := mustNew(t, hc, Target{Dir: dir}) // real clock, real processes
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, done := run(ctx, c, 0)
	shell := waitPID(t, filepath.Join(dir, "shell.pid"))
	child := waitPID(t, filepath.Join(dir, "child.pid"))
	cancel()
	closed(t, events, done)
	waitGone(t, "the check's shell", shell)
	waitGone(t, "the check's child", child)
}

func TestRunDoesNotBlockOnAnUnreadChannel(t *testing.T) {
	s := &script{codes: []int{0}, called: make(chan int, 10)}
	c := scripted(t, s, 0.5, 3)
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan Event) // nobody reads
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx, events)
	}()
	<-s.called // the first check ran: Run now waits to send its event
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after ctx ended")
	}
	if _, ok := <-events; ok {
		t.Fatal("events not closed")
	}
}

func TestNilEvents(t *testing.T) {
	s := &script{codes: []int{0, 1}}
	c := scripted(t, s, 0.5, 1)
	c.Run(context.Background(), nil) // returns on the kill
	if s.calls != 2 {
		t.Fatalf("%d checks", s.calls)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	hc := httpCheck(portOf(t, srv.URL), nil)
	hc.DelaySeconds, hc.IntervalSeconds = 0.001, 0.001
	c := mustNew(t, hc, Target{})
	ctx, cancel := context.WithCancel(context.Background())
	events, done := run(ctx, c, 0)
	if ev := next(t, events); !ev.Healthy {
		t.Fatalf("event %+v", ev)
	}
	for range 5 { // a few more checks, concurrently with Run's
		if r := c.CheckOnce(ctx); !r.Healthy {
			t.Fatalf("CheckOnce: %+v", r)
		}
	}
	cancel()
	closed(t, events, done)
	srv.Close()

	s := &script{codes: []int{0, 0, 1}}
	events, done = run(context.Background(), scripted(t, s, 0.5, 1), 0)
	want(t, nil, events, done, ok("exited with status 0: check 1"), kill(1, "exited with status 1: check 3"))

	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConcurrentCheckOnceAndRun(t *testing.T) {
	hc := shellCheck("x")
	hc.DelaySeconds, hc.IntervalSeconds = 0.001, 0.001
	var mu sync.Mutex
	n := 0
	c := mustNew(t, hc, Target{RunCommand: func(context.Context, *protocol.CommandInfo, []string, string) (int, string, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		return n % 2, "", nil
	}})
	ctx, cancel := context.WithCancel(context.Background())
	events, done := run(ctx, c, 100)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				c.CheckOnce(ctx)
				_ = c.Last()
			}
		})
	}
	wg.Wait()
	cancel()
	for range events {
	}
	<-done
}
