package scheduler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/nats-io/nats.go"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func testConfig(nc *nats.Conn) Config {
	return Config{Conn: nc, Framework: protocol.FrameworkInfo{Name: "test"}, Logger: quiet}
}

func mustSubscribe(t *testing.T, cfg Config) *Framework {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	fw, err := Subscribe(ctx, cfg)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	t.Cleanup(func() { _ = fw.Close() })
	return fw
}

func nextEvent(t *testing.T, fw *Framework) protocol.Event {
	t.Helper()
	select {
	case ev, ok := <-fw.Events():
		if !ok {
			t.Fatalf("events closed; Err = %v", fw.Err())
		}
		return ev
	case <-time.After(waitTimeout):
		t.Fatal("timed out waiting for an event")
	}
	panic("unreachable")
}

func waitClosed(t *testing.T, fw *Framework) []protocol.Event {
	t.Helper()
	var got []protocol.Event
	timeout := time.After(waitTimeout)
	for {
		select {
		case ev, ok := <-fw.Events():
			if !ok {
				return got
			}
			got = append(got, ev)
		case <-timeout:
			t.Fatal("timed out waiting for events to close")
		}
	}
}

func update(task string, state protocol.TaskState, uuid string) protocol.Event {
	return protocol.Event{Type: protocol.EventUpdate, Update: &protocol.Update{Status: protocol.TaskStatus{
		TaskID: protocol.TaskID(task), State: state, AgentID: "agent1", UUID: uuid,
	}}}
}

func TestSubscribeNewFramework(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	fw := mustSubscribe(t, testConfig(connect(t, srv)))

	if err := protocol.ValidateToken("id", string(fw.ID())); err != nil || len(fw.ID()) != 26 {
		t.Fatalf("ID %q is not a ULID: %v", fw.ID(), err)
	}
	subs := m.callsOf(protocol.CallSubscribe)
	if len(subs) != 1 {
		t.Fatalf("got %d SUBSCRIBE calls, want 1", len(subs))
	}
	c := subs[0]
	if c.FrameworkID != fw.ID() || c.Subscribe.FrameworkInfo.ID != "" || c.Subscribe.FrameworkInfo.Name != "test" {
		t.Fatalf("new framework's SUBSCRIBE: %+v %+v", c, c.Subscribe.FrameworkInfo)
	}
	if s := fw.Subscribed(); s.FrameworkID != fw.ID() || s.MasterInfo.ID != "fake" || s.HeartbeatIntervalSeconds != 60 {
		t.Fatalf("Subscribed() = %+v", s)
	}
	ev := nextEvent(t, fw)
	if ev.Type != protocol.EventSubscribed || ev.Subscribed.FrameworkID != fw.ID() {
		t.Fatalf("first event %+v, want SUBSCRIBED", ev)
	}
	if got := m.callsOf(protocol.CallReconcile); len(got) != 0 {
		t.Fatalf("a new framework reconciled: %+v", got)
	}
}

func TestSubscribeFailoverReconciles(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	cfg := testConfig(connect(t, srv))
	saved := protocol.FrameworkID(protocol.NewID())
	cfg.Framework.ID = saved
	fw := mustSubscribe(t, cfg)
	if fw.ID() != saved {
		t.Fatalf("ID %s, want the saved %s", fw.ID(), saved)
	}
	c := m.callsOf(protocol.CallSubscribe)[0]
	if c.FrameworkID != saved || c.Subscribe.FrameworkInfo.ID != saved {
		t.Fatalf("failover SUBSCRIBE: %+v %+v", c, c.Subscribe.FrameworkInfo)
	}
	rec := m.waitCalls(protocol.CallReconcile, 1)
	if rec[0].Reconcile == nil || len(rec[0].Reconcile.Tasks) != 0 {
		t.Fatalf("want an implicit RECONCILE, got %+v", rec[0])
	}
}

func TestSubscribeConfigErrors(t *testing.T) {
	srv := startNATS(t)
	nc := connect(t, srv)
	ctx := context.Background()
	for name, cfg := range map[string]Config{
		"no conn": {Framework: protocol.FrameworkInfo{Name: "x"}},
		"no name": {Conn: nc},
		"bad id":  {Conn: nc, Framework: protocol.FrameworkInfo{Name: "x", ID: "a.b"}},
	} {
		if _, err := Subscribe(ctx, cfg); err == nil {
			t.Errorf("%s: Subscribe succeeded", name)
		}
	}
}

func TestSubscribeRetriesUntilMasterAppears(t *testing.T) {
	srv := startNATS(t)
	logs := newLogRecorder()
	cfg := testConfig(connect(t, srv))
	cfg.Logger = slog.New(logs)
	type result struct {
		fw  *Framework
		err error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		fw, err := Subscribe(ctx, cfg)
		done <- result{fw, err}
	}()
	logs.waitLog(t, "master not available; retrying SUBSCRIBE")
	if !logs.has(nats.ErrNoResponders.Error()) {
		t.Errorf("retry log does not say why")
	}

	m := startMaster(t, srv, 60)
	// The first master to answer is not ready yet.
	unavailable := 2
	m.setAnswer(func(c protocol.Call) *protocol.Response {
		if c.Type == protocol.CallSubscribe && unavailable > 0 {
			unavailable--
			return &protocol.Response{Error: &protocol.Error{Code: protocol.ErrUnavailable, Message: "not leading"}}
		}
		return nil
	})
	var r result
	select {
	case r = <-done:
	case <-time.After(waitTimeout):
		t.Fatal("Subscribe did not return")
	}
	if r.err != nil {
		t.Fatalf("Subscribe: %v", r.err)
	}
	defer r.fw.Close()
	if n := len(m.callsOf(protocol.CallSubscribe)); n != 3 {
		t.Fatalf("master saw %d SUBSCRIBE calls, want 3 (2 UNAVAILABLE, then OK)", n)
	}
}

func TestSubscribeGivesUpWhenContextEnds(t *testing.T) {
	srv := startNATS(t)
	logs := newLogRecorder()
	cfg := testConfig(connect(t, srv))
	cfg.Logger = slog.New(logs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Subscribe(ctx, cfg)
		done <- err
	}()
	logs.waitLog(t, "master not available; retrying SUBSCRIBE")
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(waitTimeout):
		t.Fatal("Subscribe did not give up")
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("err = %v, want Canceled and ErrNoResponders", err)
	}
}

func TestSubscribeRefused(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	m.setAnswer(func(protocol.Call) *protocol.Response {
		return &protocol.Response{Error: &protocol.Error{Code: protocol.ErrForbidden, Message: "removed"}}
	})
	_, err := Subscribe(context.Background(), testConfig(connect(t, srv)))
	var perr *protocol.Error
	if !errors.As(err, &perr) || perr.Code != protocol.ErrForbidden {
		t.Fatalf("err = %v, want a FORBIDDEN *protocol.Error", err)
	}
	if n := len(m.callsOf(protocol.CallSubscribe)); n != 1 {
		t.Fatalf("a refused SUBSCRIBE was retried: %d calls", n)
	}
}

func TestHeartbeatCalls(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 0.05)
	fw := mustSubscribe(t, testConfig(connect(t, srv)))
	m.sendHeartbeats(fw.ID(), 50*time.Millisecond)
	hbs := m.waitCalls(protocol.CallHeartbeat, 3)
	for _, c := range hbs {
		if c.FrameworkID != fw.ID() {
			t.Fatalf("heartbeat for %s", c.FrameworkID)
		}
	}
	// HEARTBEAT events are consumed by the library: publish one more, then
	// an UPDATE, and read up to the UPDATE. (SUBSCRIBED events may come
	// too: on a loaded machine a 50 ms heartbeat can be missed.)
	m.publish(fw.ID(), protocol.Event{Type: protocol.EventHeartbeat})
	m.publish(fw.ID(), update("t1", protocol.TaskRunning, ""))
	for {
		ev := nextEvent(t, fw)
		if ev.Type == protocol.EventUpdate {
			break
		}
		if ev.Type != protocol.EventSubscribed {
			t.Fatalf("got a %s event, want only SUBSCRIBED before the UPDATE", ev.Type)
		}
	}
}

func TestAutoAcknowledge(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	fw := mustSubscribe(t, testConfig(connect(t, srv)))
	nextEvent(t, fw) // SUBSCRIBED

	m.publish(fw.ID(), update("reconciled", protocol.TaskRunning, "")) // no UUID: no ack
	m.publish(fw.ID(), update("t1", protocol.TaskRunning, "u1"))
	m.publish(fw.ID(), update("t1", protocol.TaskRunning, "u1")) // a re-sent duplicate is delivered and acked again
	for _, want := range []string{"reconciled", "t1", "t1"} {
		ev := nextEvent(t, fw)
		if ev.Type != protocol.EventUpdate || string(ev.Update.Status.TaskID) != want {
			t.Fatalf("got %+v, want UPDATE of %s", ev, want)
		}
	}
	acks := m.waitAcks(2)
	// Acks go out in delivery order, so an ack of the update without UUID
	// would have come first.
	for _, a := range acks {
		if a != (protocol.Acknowledge{AgentID: "agent1", TaskID: "t1", UUID: "u1"}) {
			t.Fatalf("ack %+v", a)
		}
	}
}

func TestManualAcknowledge(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	cfg := testConfig(connect(t, srv))
	cfg.ManualAcknowledge = true
	fw := mustSubscribe(t, cfg)
	nextEvent(t, fw)

	m.publish(fw.ID(), update("t1", protocol.TaskRunning, "u1"))
	m.publish(fw.ID(), update("t2", protocol.TaskRunning, "u2"))
	ev1, ev2 := nextEvent(t, fw), nextEvent(t, fw)
	ctx := context.Background()
	if err := fw.Acknowledge(ctx, protocol.TaskStatus{TaskID: "t0"}); err != nil { // no UUID: nothing sent
		t.Fatal(err)
	}
	if err := fw.Acknowledge(ctx, ev2.Update.Status); err != nil {
		t.Fatal(err)
	}
	if err := fw.AcknowledgeAsync(ev1.Update.Status); err != nil {
		t.Fatal(err)
	}
	acks := m.waitCalls(protocol.CallAcknowledge, 2)
	if len(acks) != 2 || acks[0].Acknowledge.UUID != "u2" || acks[1].Acknowledge.UUID != "u1" {
		t.Fatalf("acks %+v", acks)
	}
	// Several at once: one ACKNOWLEDGE_MANY, without the one with no UUID.
	m.publish(fw.ID(), update("t3", protocol.TaskFinished, "u3"))
	m.publish(fw.ID(), update("t4", protocol.TaskFinished, "u4"))
	ev3, ev4 := nextEvent(t, fw), nextEvent(t, fw)
	if err := fw.AcknowledgeAsync(ev3.Update.Status, protocol.TaskStatus{TaskID: "t0"}, ev4.Update.Status); err != nil {
		t.Fatal(err)
	}
	many := m.waitCalls(protocol.CallAcknowledgeMany, 1)
	if got := many[0].Acknowledgements; len(got) != 2 || got[0].UUID != "u3" || got[1].UUID != "u4" {
		t.Fatalf("ACKNOWLEDGE_MANY %+v", got)
	}
}

// loggedFramework subscribes a framework, whose logs are recorded, to a
// fake master.
func loggedFramework(t *testing.T) (*fakeMaster, *Framework, *logRecorder) {
	t.Helper()
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	logs := newLogRecorder()
	cfg := testConfig(connect(t, srv))
	cfg.Logger = slog.New(logs)
	return m, mustSubscribe(t, cfg), logs
}

func TestRefusedAsyncAckIsLogged(t *testing.T) {
	m, fw, logs := loggedFramework(t)
	m.setAnswer(func(c protocol.Call) *protocol.Response {
		if c.Type == protocol.CallAcknowledge {
			return &protocol.Response{Error: &protocol.Error{Code: protocol.ErrNotFound, Message: "no such update"}}
		}
		return nil
	})
	nextEvent(t, fw)
	m.publish(fw.ID(), update("t-refused", protocol.TaskRunning, "u9"))
	nextEvent(t, fw)
	logs.waitLog(t, "the master refused an acknowledgement task_id=t-refused uuid=u9")
}

// TestAckNotHeldByTheNextEvent: an update the framework has received is
// acknowledged even while the framework does not take the event after it.
func TestAckNotHeldByTheNextEvent(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	fw := mustSubscribe(t, testConfig(connect(t, srv)))
	nextEvent(t, fw) // SUBSCRIBED
	m.publish(fw.ID(), update("t1", protocol.TaskRunning, "u1"))
	m.publish(fw.ID(), update("t2", protocol.TaskRunning, "u2"))
	if ev := nextEvent(t, fw); ev.Update == nil || ev.Update.Status.TaskID != "t1" {
		t.Fatalf("got %+v, want t1's update", ev)
	}
	// t2's update is not read: t1's acknowledgement goes out all the same.
	if acks := m.waitAcks(1); acks[0].UUID != "u1" {
		t.Fatalf("acks %+v", acks)
	}
}

// TestRefusedAcknowledgementsOfABurstAreLogged: the acknowledgements an
// ACKNOWLEDGE_MANY reply lists as refused are logged one by one.
func TestRefusedAcknowledgementsOfABurstAreLogged(t *testing.T) {
	m, fw, logs := loggedFramework(t)
	m.setAnswer(func(c protocol.Call) *protocol.Response {
		if c.Type != protocol.CallAcknowledgeMany {
			return nil
		}
		var r protocol.Response
		for _, a := range c.Acknowledgements {
			r.Rejected = append(r.Rejected, protocol.Rejection{TaskID: a.TaskID, Message: "no such update " + a.UUID})
		}
		return &r
	})
	const n = 50
	for i := range n { // before anything is read: they come as a burst
		m.publish(fw.ID(), update(fmt.Sprintf("b%d", i), protocol.TaskRunning, fmt.Sprintf("u%d", i)))
	}
	for range n + 1 {
		nextEvent(t, fw)
	}
	m.waitAcks(n)
	logs.waitLog(t, fmt.Sprintf("the master refused an acknowledgement task_id=b%d err=no such update u%d", n-1, n-1))
}

func TestEventsInOrderWithSlowConsumer(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	fw := mustSubscribe(t, testConfig(connect(t, srv)))
	const n = 5000
	// Publish everything before reading anything.
	for i := range n {
		m.publish(fw.ID(), update(fmt.Sprintf("t%d", i), protocol.TaskRunning, fmt.Sprintf("u%d", i)))
	}
	if err := m.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, fw); ev.Type != protocol.EventSubscribed {
		t.Fatalf("first event %s", ev.Type)
	}
	for i := range n {
		ev := nextEvent(t, fw)
		if want := fmt.Sprintf("t%d", i); string(ev.Update.Status.TaskID) != want {
			t.Fatalf("event %d is %s, want %s", i, ev.Update.Status.TaskID, want)
		}
	}
	acks := m.waitAcks(n)
	for i, a := range acks {
		if want := fmt.Sprintf("u%d", i); a.UUID != want {
			t.Fatalf("ack %d is %s, want %s", i, a.UUID, want)
		}
	}
	// A burst is acknowledged in a few ACKNOWLEDGE_MANY calls, not one
	// call per update.
	if calls := len(m.callsOf(protocol.CallAcknowledge)) + len(m.callsOf(protocol.CallAcknowledgeMany)); calls > n/10 {
		t.Errorf("%d updates acknowledged in %d calls", n, calls)
	}
}

func TestResubscribeOnMissedHeartbeats(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 0.05) // and it never sends HEARTBEAT events
	logs := newLogRecorder()
	cfg := testConfig(connect(t, srv))
	cfg.Logger = slog.New(logs)
	fw := mustSubscribe(t, cfg)
	nextEvent(t, fw)

	subs := m.waitCalls(protocol.CallSubscribe, 2)
	if c := subs[1]; c.FrameworkID != fw.ID() || c.Subscribe.FrameworkInfo.ID != fw.ID() {
		t.Fatalf("re-SUBSCRIBE without the framework's ID: %+v", c.Subscribe.FrameworkInfo)
	}
	if ev := nextEvent(t, fw); ev.Type != protocol.EventSubscribed {
		t.Fatalf("got %s, want a second SUBSCRIBED", ev.Type)
	}
	rec := m.waitCalls(protocol.CallReconcile, 1)
	if len(rec[0].Reconcile.Tasks) != 0 {
		t.Fatalf("want an implicit reconcile, got %+v", rec[0].Reconcile)
	}
	logs.waitLog(t, "re-subscribing reason=no event from the master")
}

func TestResubscribeOnNotSubscribed(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	cfg := testConfig(connect(t, srv))
	cfg.Framework.Roles = []string{"a", "b"}
	fw := mustSubscribe(t, cfg)
	nextEvent(t, fw)
	ctx := context.Background()
	if err := fw.Suppress(ctx, "a"); err != nil {
		t.Fatal(err)
	}

	// The master restarted and does not know the framework.
	restarted := true
	m.setAnswer(func(c protocol.Call) *protocol.Response {
		if restarted && c.Type != protocol.CallSubscribe {
			return &protocol.Response{Error: &protocol.Error{Code: protocol.ErrNotSubscribed, Message: "SUBSCRIBE first"}}
		}
		restarted = false
		return nil
	})
	err := fw.Revive(ctx, "b")
	var perr *protocol.Error
	if !errors.As(err, &perr) || perr.Code != protocol.ErrNotSubscribed {
		t.Fatalf("Revive: %v, want NOT_SUBSCRIBED", err)
	}
	subs := m.waitCalls(protocol.CallSubscribe, 2)
	s := subs[1].Subscribe
	if s.FrameworkInfo.ID != fw.ID() || !slices.Equal(s.SuppressedRoles, []string{"a"}) {
		t.Fatalf("re-SUBSCRIBE %+v, want ID %s and suppressed [a]", s, fw.ID())
	}
	m.waitCalls(protocol.CallReconcile, 1)
	if ev := nextEvent(t, fw); ev.Type != protocol.EventSubscribed {
		t.Fatalf("got %s, want SUBSCRIBED", ev.Type)
	}
	if err := fw.Revive(ctx, "b"); err != nil {
		t.Fatalf("Revive after re-subscribing: %v", err)
	}
}

func TestAsyncAckNotSubscribedResubscribes(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	fw := mustSubscribe(t, testConfig(connect(t, srv)))
	nextEvent(t, fw)
	m.setAnswer(func(c protocol.Call) *protocol.Response {
		if c.Type == protocol.CallAcknowledge {
			return &protocol.Response{Error: &protocol.Error{Code: protocol.ErrNotSubscribed, Message: "SUBSCRIBE first"}}
		}
		return nil
	})
	m.publish(fw.ID(), update("t1", protocol.TaskRunning, "u1"))
	nextEvent(t, fw)
	m.waitCalls(protocol.CallSubscribe, 2)
}

func TestResubscribeRefusedStops(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	fw := mustSubscribe(t, testConfig(connect(t, srv)))
	m.setAnswer(func(c protocol.Call) *protocol.Response {
		code := protocol.ErrNotSubscribed
		if c.Type == protocol.CallSubscribe {
			code = protocol.ErrForbidden
		}
		return &protocol.Response{Error: &protocol.Error{Code: code, Message: "gone"}}
	})
	_ = fw.Revive(context.Background())
	evs := waitClosed(t, fw)
	if len(evs) != 2 || evs[0].Type != protocol.EventSubscribed || evs[1].Type != protocol.EventError {
		t.Fatalf("events %+v, want SUBSCRIBED, ERROR", evs)
	}
	if !errors.Is(fw.Err(), ErrRemoved) {
		t.Fatalf("Err = %v, want ErrRemoved", fw.Err())
	}
	var perr *protocol.Error
	if !errors.As(fw.Err(), &perr) || perr.Code != protocol.ErrForbidden {
		t.Fatalf("Err = %v, want it to wrap the FORBIDDEN", fw.Err())
	}
}

func TestCallErrorsAreProtocolErrors(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	fw := mustSubscribe(t, testConfig(connect(t, srv)))
	m.setAnswer(func(c protocol.Call) *protocol.Response {
		switch c.Type {
		case protocol.CallDecline:
			return &protocol.Response{Error: &protocol.Error{Code: protocol.ErrNotFound, Message: "offer o1 is unknown"}}
		case protocol.CallAccept:
			return &protocol.Response{Rejected: []protocol.Rejection{{TaskID: "t1", Message: "does not fit"}}}
		}
		return nil
	})
	ctx := context.Background()
	err := fw.Decline(ctx, []protocol.OfferID{"o1"}, nil)
	var perr *protocol.Error
	if !errors.As(err, &perr) || perr.Code != protocol.ErrNotFound || perr.Message != "offer o1 is unknown" {
		t.Fatalf("Decline: %v", err)
	}
	rej, err := fw.Accept(ctx, []protocol.OfferID{"o2"}, nil, nil)
	if err != nil || len(rej) != 1 || rej[0].TaskID != "t1" {
		t.Fatalf("Accept: %v %+v", err, rej)
	}
}

func TestNoMasterCallError(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	fw := mustSubscribe(t, testConfig(connect(t, srv)))
	if err := m.sub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	if err := m.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	err := fw.Kill(context.Background(), "t1", "")
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("Kill with no master: %v", err)
	}
}

func TestCalls(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	fw := mustSubscribe(t, testConfig(connect(t, srv)))
	ctx := context.Background()
	offer := protocol.Offer{ID: "o1", AgentID: "a1"}
	task := protocol.TaskInfo{TaskID: "t1", Name: "t", Command: &protocol.CommandInfo{Value: "true"}}
	refuse := Refuse(time.Minute)

	steps := []struct {
		do   func() error
		want protocol.Call
	}{
		{func() error { _, err := fw.Launch(ctx, offer, task); return err },
			protocol.Call{Type: protocol.CallAccept, Accept: &protocol.Accept{OfferIDs: []protocol.OfferID{"o1"},
				Operations: []protocol.Operation{{Type: protocol.OpLaunch, Launch: &protocol.Launch{TaskInfos: []protocol.TaskInfo{
					{TaskID: "t1", Name: "t", AgentID: "a1", Command: &protocol.CommandInfo{Value: "true"}}}}}}}}},
		{func() error { _, err := fw.Launch(ctx, offer); return err },
			protocol.Call{Type: protocol.CallAccept, Accept: &protocol.Accept{OfferIDs: []protocol.OfferID{"o1"}}}},
		{func() error { return fw.Decline(ctx, []protocol.OfferID{"o1", "o2"}, refuse) },
			protocol.Call{Type: protocol.CallDecline, Decline: &protocol.Decline{OfferIDs: []protocol.OfferID{"o1", "o2"}, Filters: refuse}}},
		{func() error { return fw.Revive(ctx) }, protocol.Call{Type: protocol.CallRevive}},
		{func() error { return fw.Revive(ctx, "r") }, protocol.Call{Type: protocol.CallRevive, Revive: &protocol.Revive{Roles: []string{"r"}}}},
		{func() error { return fw.Suppress(ctx) }, protocol.Call{Type: protocol.CallSuppress}},
		{func() error { return fw.Kill(ctx, "t1", "a1") }, protocol.Call{Type: protocol.CallKill, Kill: &protocol.Kill{TaskID: "t1", AgentID: "a1"}}},
		{func() error { return fw.Shutdown(ctx, "a1") }, protocol.Call{Type: protocol.CallShutdown, Shutdown: &protocol.Shutdown{AgentID: "a1"}}},
		{func() error { return fw.Reconcile(ctx, protocol.ReconcileTask{TaskID: "t1"}) },
			protocol.Call{Type: protocol.CallReconcile, Reconcile: &protocol.Reconcile{Tasks: []protocol.ReconcileTask{{TaskID: "t1"}}}}},
		{func() error { return fw.Reconcile(ctx) }, protocol.Call{Type: protocol.CallReconcile, Reconcile: &protocol.Reconcile{}}},
		{func() error { return fw.Message(ctx, "a1", []byte("hi")) },
			protocol.Call{Type: protocol.CallMessage, Message: &protocol.Message{AgentID: "a1", Data: []byte("hi")}}},
	}
	for i, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		calls := m.callsOf("")
		got := calls[len(calls)-1]
		s.want.FrameworkID = fw.ID()
		if !jsonEqual(t, got, s.want) {
			t.Errorf("step %d: sent %s\nwant %s", i, mustJSON(t, got), mustJSON(t, s.want))
		}
	}
	// Suppress() with no roles suppresses all the framework's roles.
	fw.mu.Lock()
	got := fw.suppressed
	fw.mu.Unlock()
	if !slices.Equal(got, []string{"*"}) {
		t.Errorf("suppressed = %v, want [*]", got)
	}
}

func TestLaunchMany(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	fw := mustSubscribe(t, testConfig(connect(t, srv)))
	m.setAnswer(func(c protocol.Call) *protocol.Response {
		if c.Type == protocol.CallAccept && c.Accept.OfferIDs[0] == "o2" {
			return &protocol.Response{Error: &protocol.Error{Code: protocol.ErrNotFound, Message: "offer o2 was rescinded"}}
		}
		if c.Type == protocol.CallAccept && c.Accept.OfferIDs[0] == "o3" {
			return &protocol.Response{Rejected: []protocol.Rejection{{TaskID: "t3", Message: "no"}}}
		}
		return nil
	})
	var launches []OfferLaunch
	for i := 1; i <= 3; i++ {
		launches = append(launches, OfferLaunch{
			Offer: protocol.Offer{ID: protocol.OfferID(fmt.Sprintf("o%d", i)), AgentID: protocol.AgentID(fmt.Sprintf("a%d", i))},
			Tasks: []protocol.TaskInfo{{TaskID: protocol.TaskID(fmt.Sprintf("t%d", i))}},
		})
	}
	rej, err := fw.LaunchMany(context.Background(), launches...)
	var perr *protocol.Error
	if !errors.As(err, &perr) || perr.Code != protocol.ErrNotFound {
		t.Fatalf("LaunchMany: %v", err)
	}
	if len(rej) != 1 || rej[0].TaskID != "t3" {
		t.Fatalf("rejected %+v", rej)
	}
	accepts := m.callsOf(protocol.CallAccept)
	if len(accepts) != 3 {
		t.Fatalf("%d ACCEPTs, want 3", len(accepts))
	}
	for _, a := range accepts {
		ti := a.Accept.Operations[0].Launch.TaskInfos[0]
		if string(ti.AgentID)[1:] != string(ti.TaskID)[1:] {
			t.Errorf("task %s launched with agent %s", ti.TaskID, ti.AgentID)
		}
	}
}

func TestErrorEventStops(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	fw := mustSubscribe(t, testConfig(connect(t, srv)))
	m.publish(fw.ID(), update("t1", protocol.TaskKilled, ""))
	m.publish(fw.ID(), protocol.Event{Type: protocol.EventError, Error: &protocol.FatalError{Message: "framework removed: operator"}})
	evs := waitClosed(t, fw)
	if len(evs) != 3 || evs[1].Type != protocol.EventUpdate || evs[2].Type != protocol.EventError {
		t.Fatalf("events %+v, want SUBSCRIBED, UPDATE, ERROR", evs)
	}
	if !errors.Is(fw.Err(), ErrRemoved) {
		t.Fatalf("Err = %v", fw.Err())
	}
	if err := fw.Kill(context.Background(), "t1", ""); !errors.Is(err, ErrRemoved) {
		t.Fatalf("call after ERROR: %v", err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCloseKeepsFramework(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	fw := mustSubscribe(t, testConfig(connect(t, srv)))
	m.publish(fw.ID(), update("t1", protocol.TaskRunning, "u1"))
	eventually(t, "the update queued", func() bool { _, total := fw.q.len(); return total == 2 })
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-fw.Events(); ok {
		t.Fatal("Events not closed after Close")
	}
	if !errors.Is(fw.Err(), ErrClosed) {
		t.Fatalf("Err = %v", fw.Err())
	}
	if fw.eventsSub.IsValid() || fw.acks.sub.IsValid() {
		t.Fatal("still subscribed after Close")
	}
	if err := fw.Revive(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("call after Close: %v", err)
	}
	if err := fw.AcknowledgeAsync(protocol.TaskStatus{TaskID: "t1", UUID: "u1"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("ack after Close: %v", err)
	}
	for _, c := range m.callsOf("") {
		if c.Type != protocol.CallSubscribe {
			t.Fatalf("Close sent %s (the queued update must not be acknowledged either)", c.Type)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatal("second Close:", err)
	}

	// The same ID fails over.
	cfg := testConfig(connect(t, srv))
	cfg.Framework.ID = fw.ID()
	fw2 := mustSubscribe(t, cfg)
	subs := m.callsOf(protocol.CallSubscribe)
	if last := subs[len(subs)-1]; fw2.ID() != fw.ID() || last.Subscribe.FrameworkInfo.ID != fw.ID() {
		t.Fatalf("failover SUBSCRIBE %+v", last.Subscribe.FrameworkInfo)
	}
}

func TestTeardown(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	fw := mustSubscribe(t, testConfig(connect(t, srv)))
	m.setAnswer(func(c protocol.Call) *protocol.Response {
		if c.Type == protocol.CallTeardown { // as the real master: ERROR event, then the reply
			m.publish(c.FrameworkID, protocol.Event{Type: protocol.EventError, Error: &protocol.FatalError{Message: "framework removed: torn down"}})
		}
		return nil
	})
	if err := fw.Teardown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(m.callsOf(protocol.CallTeardown)); n != 1 {
		t.Fatalf("%d TEARDOWN calls", n)
	}
	waitClosed(t, fw)
	if fw.Err() != ErrClosed {
		t.Fatalf("Err = %v, want ErrClosed", fw.Err())
	}
}

func TestTeardownRefusedKeepsRunning(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 60)
	fw := mustSubscribe(t, testConfig(connect(t, srv)))
	m.setAnswer(func(c protocol.Call) *protocol.Response {
		return &protocol.Response{Error: &protocol.Error{Code: protocol.ErrUnavailable, Message: "not leading"}}
	})
	if err := fw.Teardown(context.Background()); err == nil {
		t.Fatal("Teardown succeeded")
	}
	if fw.Err() != nil {
		t.Fatalf("a refused Teardown stopped the framework: %v", fw.Err())
	}
}

func TestClosedConnectionStops(t *testing.T) {
	srv := startNATS(t)
	m := startMaster(t, srv, 0.05)
	nc := connect(t, srv)
	fw := mustSubscribe(t, testConfig(nc))
	m.sendHeartbeats(fw.ID(), 50*time.Millisecond)
	nc.Close()
	waitClosed(t, fw)
	if !errors.Is(fw.Err(), nats.ErrConnectionClosed) {
		t.Fatalf("Err = %v, want ErrConnectionClosed", fw.Err())
	}
}
