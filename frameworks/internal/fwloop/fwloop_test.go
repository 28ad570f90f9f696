package fwloop

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/scheduler"
	"github.com/cairn-dc/cairn/kernel/testcluster"
)

// TestLife: pushed functions run on the loop, each batch ends with
// EndBatch, the API is served, an EndBatch error stops the framework with
// that error, and Push after the end says so.
func TestLife(t *testing.T) {
	c := testcluster.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sched, err := scheduler.Subscribe(ctx, scheduler.Config{Conn: c.Conn("fw"), Framework: protocol.FrameworkInfo{Name: "life"}, Logger: c.Log})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New()
	lctx := l.Begin()
	l.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	var started, batches, ticks atomic.Int32
	broken := errors.New("the store is full")
	var fail atomic.Bool
	l.Run(lctx, Config{Name: "life", Sched: sched, Log: c.Log, Tick: 10 * time.Millisecond,
		Start:  func(context.Context) { started.Add(1) },
		Event:  func(context.Context, protocol.Event) {},
		OnTick: func(context.Context, time.Time) { ticks.Add(1) },
		EndBatch: func(context.Context) error {
			batches.Add(1)
			if fail.Load() {
				return broken
			}
			return nil
		},
	})
	ran := make(chan int32, 1)
	if !l.Push(ctx, func() { ran <- started.Load() }) {
		t.Fatal("Push refused while running")
	}
	if got := <-ran; got != 1 {
		t.Fatalf("Start ran %d times before the first push", got)
	}
	if resp, err := http.Get("http://" + ln.Addr().String()); err != nil || resp.StatusCode != http.StatusTeapot {
		t.Fatalf("the API: %v %v", resp, err)
	}
	testcluster.WaitFor(t, 5*time.Second, "ticks and batches", func() bool { return ticks.Load() > 2 && batches.Load() > 2 })

	fail.Store(true)
	select {
	case <-l.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("an EndBatch error did not stop the loop")
	}
	if !errors.Is(l.Err(), broken) {
		t.Errorf("Err = %v, want %v", l.Err(), broken)
	}
	if l.Push(ctx, func() { t.Error("ran after the end") }) {
		t.Error("Push accepted work after the end")
	}
	l.Stop()
}
