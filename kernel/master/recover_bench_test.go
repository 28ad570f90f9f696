package master

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/bus"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// BenchmarkRecovery measures a master's recovery from the state bucket: from
// Run until Ready (lease, loading every record, rebuilding the allocator,
// subscribing), with 10,000 running tasks of 10 frameworks on 1,000 agents
// (the Mesos paper: 4–8 s for a master failover).
func BenchmarkRecovery(b *testing.B) {
	for _, n := range []int{10000} {
		b.Run(fmt.Sprintf("tasks=%d", n), func(b *testing.B) { benchRecovery(b, n) })
	}
}

func benchRecovery(b *testing.B, tasks int) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	bs, err := bus.Start(context.Background(), bus.Config{DontListen: true, StoreDir: b.TempDir(), Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer bs.Shutdown()
	nc, _ := bs.Connect("seed")
	defer nc.Close()
	// Seed the bucket with records as a master writes them.
	seed, err := New(Config{Conn: nc, ID: "seed", Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	kv, _, err := ensureJetStream(ctx, seed.js, log)
	if err != nil {
		b.Fatal(err)
	}
	st := newStore(seed.js, kv)
	const agents, frameworks = 1000, 10
	now := protocol.Timestamp(time.Now())
	agentRes := resources.MustParse("cpus:16;mem:65536;disk:100000;ports:[31000-32000]")
	for i := 0; i < frameworks; i++ {
		fid := protocol.FrameworkID(fmt.Sprintf("F%d", i))
		must(b, st.put(frameworkKey(fid), frameworkRecord{Info: protocol.FrameworkInfo{ID: fid, Name: string(fid)}, Registered: now}))
	}
	for i := 0; i < agents; i++ {
		aid := protocol.AgentID(fmt.Sprintf("A%d", i))
		must(b, st.put(agentKey(aid), agentRecord{Info: protocol.AgentInfo{ID: aid, Hostname: string(aid), Resources: agentRes}, Registered: now, Status: protocol.AgentActive}))
	}
	taskRes := resources.MustParse("cpus:0.1;mem:32")
	for i := 0; i < tasks; i++ {
		fid := protocol.FrameworkID(fmt.Sprintf("F%d", i%frameworks))
		aid := protocol.AgentID(fmt.Sprintf("A%d", i%agents))
		tid := protocol.TaskID(fmt.Sprintf("task-%d", i))
		must(b, st.put(taskKeyString(fid, tid), taskInfoRecord{
			Info:        protocol.TaskInfo{TaskID: tid, Name: "t", AgentID: aid, Resources: taskRes, Command: &protocol.CommandInfo{Value: "sleep 3600"}},
			FrameworkID: fid, AgentID: aid, Role: "*",
		}))
		must(b, st.put(taskStatusKey(fid, tid), taskStatusRecord{State: protocol.TaskRunning,
			Statuses: []protocol.TaskStatus{{TaskID: tid, State: protocol.TaskRunning, Source: protocol.SourceAgent, UUID: protocol.NewID(), Timestamp: now}},
		}))
	}
	if err := st.sync(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mc, _ := bs.Connect("master")
		m, err := New(Config{Conn: mc, ID: "bench", Logger: log})
		if err != nil {
			b.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- m.Run(rctx) }()
		for !m.Ready() {
			time.Sleep(time.Millisecond)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		if got := len(m.State().Tasks); got != tasks {
			b.Fatalf("recovered %d tasks, want %d", got, tasks)
		}
		b.ReportMetric(elapsed.Seconds(), "s/recovery")
		cancel()
		<-done
		mc.Close()
		b.StartTimer()
	}
}

func must(b *testing.B, err error) {
	if err != nil {
		b.Fatal(err)
	}
}
