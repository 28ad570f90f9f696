package scheduler

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/nats-io/nats.go"
)

// benchMaster answers calls with an empty reply and counts acknowledgements
// (alone or in ACKNOWLEDGE_MANY calls).
func benchMaster(b *testing.B, nc *nats.Conn, acks *atomic.Int64, done chan<- struct{}, want int64) {
	b.Helper()
	ok, _ := json.Marshal(protocol.Response{})
	sub, err := nc.Subscribe(protocol.FrameworkCallWildcard, func(m *nats.Msg) {
		var c protocol.Call
		if err := json.Unmarshal(m.Data, &c); err != nil {
			b.Error(err)
			return
		}
		reply := ok
		if c.Type == protocol.CallSubscribe {
			reply, _ = json.Marshal(protocol.Response{Subscribed: &protocol.Subscribed{FrameworkID: c.FrameworkID, HeartbeatIntervalSeconds: 60}})
		}
		_ = m.Respond(reply)
		n := int64(0)
		switch c.Type {
		case protocol.CallAcknowledge:
			n = 1
		case protocol.CallAcknowledgeMany:
			n = int64(len(c.Acknowledgements))
		}
		if now := acks.Add(n); n > 0 && now >= want && now-n < want {
			close(done)
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	_ = sub.SetPendingLimits(-1, -1)
	if err := nc.Flush(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkUpdateAutoAck measures an UPDATE's trip: master publishes it,
// the framework receives it, the library acknowledges it, the master gets
// the ACKNOWLEDGE.
func BenchmarkUpdateAutoAck(b *testing.B) {
	srv := startNATS(b)
	var acks atomic.Int64
	done := make(chan struct{})
	mnc := connect(b, srv)
	benchMaster(b, mnc, &acks, done, int64(b.N))
	ctx := context.Background()
	fw, err := Subscribe(ctx, Config{Conn: connect(b, srv), Framework: protocol.FrameworkInfo{Name: "bench"}, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer fw.Close()
	<-fw.Events() // SUBSCRIBED
	payloads := make([][]byte, b.N)
	for i := range payloads {
		payloads[i], _ = json.Marshal(update("task."+strconv.Itoa(i), protocol.TaskRunning, strconv.Itoa(i)))
	}
	subject := protocol.FrameworkEvents(fw.ID())
	b.ResetTimer()
	go func() {
		for _, p := range payloads {
			_ = mnc.Publish(subject, p)
		}
	}()
	for range b.N {
		<-fw.Events()
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("only %d of %d acknowledgements arrived", acks.Load(), b.N)
	}
}

// BenchmarkAcceptParallel measures pipelined ACCEPT calls from many goroutines.
func BenchmarkAcceptParallel(b *testing.B) {
	srv := startNATS(b)
	var acks atomic.Int64
	benchMaster(b, connect(b, srv), &acks, make(chan struct{}), -1)
	ctx := context.Background()
	fw, err := Subscribe(ctx, Config{Conn: connect(b, srv), Framework: protocol.FrameworkInfo{Name: "bench"}, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer fw.Close()
	offer := protocol.Offer{ID: "o1", AgentID: "a1"}
	task := protocol.TaskInfo{TaskID: "t1", Name: "t", Command: &protocol.CommandInfo{Value: "sleep 1"}}
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := fw.Launch(ctx, offer, task); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
