package master_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/bus"
	"github.com/cairn-dc/cairn/kernel/master"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/kernel/scheduler"
	"github.com/cairn-dc/cairn/kernel/simagent"
)

// BenchmarkLaunchThroughput measures end-to-end launch throughput: from the
// first ACCEPT until every task is RUNNING and its update acknowledged by
// the framework (the agents have received the ACK), with simulated agents
// over the embedded NATS, each on its own connection. Agents send RUNNING
// without STARTING. Reported as tasks/s (Nomad's C1M: ~3,750 placements/s).
func BenchmarkLaunchThroughput(b *testing.B) {
	for _, n := range []struct{ agents, perAgent int }{{1000, 10}} {
		b.Run(fmt.Sprintf("agents=%d/tasks=%d", n.agents, n.agents*n.perAgent), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				benchLaunch(b, n.agents, n.perAgent)
			}
		})
	}
}

// cpuTime is the CPU time (user+system) this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchLaunch(b *testing.B, agents, perAgent int) {
	b.StopTimer()
	log := testLogger()
	dir := b.TempDir()
	bs, err := bus.Start(context.Background(), bus.Config{Port: -1, StoreDir: dir, Logger: log})
	connect := func(name string) (*nats.Conn, error) { return bus.Connect(bs.URL(), name, log) }
	if err != nil {
		b.Fatal(err)
	}
	defer bs.Shutdown()
	mc, _ := connect("master")
	defer mc.Close()
	m, err := master.New(master.Config{Conn: mc, ID: "bench", Logger: log, AgentPingInterval: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for !m.Ready() {
		time.Sleep(5 * time.Millisecond)
	}
	fleet, err := simagent.StartFleet(ctx, simagent.FleetConfig{
		N:        agents,
		Connect:  func(int) (*nats.Conn, error) { return connect("agent") },
		Template: simagent.Config{Resources: resources.MustParse("cpus:16;mem:65536;disk:100000;ports:[31000-32000]"), SkipStarting: true, Logger: log, PingInterval: 10 * time.Second},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer fleet.Stop()
	fc, _ := connect("framework")
	defer fc.Close()
	fw, err := scheduler.Subscribe(ctx, scheduler.Config{Conn: fc, Framework: protocol.FrameworkInfo{Name: "bench"}, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer fw.Close()

	total := agents * perAgent
	taskRes := resources.MustParse("cpus:0.1;mem:32")
	var running atomic.Int64
	accepts := make(chan protocol.Offer, agents)
	var wg sync.WaitGroup
	var launchErr atomic.Value
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range accepts {
				tasks := make([]protocol.TaskInfo, perAgent)
				for j := range tasks {
					tasks[j] = scheduler.Task(protocol.TaskID(fmt.Sprintf("%s-%d", o.AgentID, j)), "bench", taskRes, "sleep 3600")
				}
				if rej, err := fw.Launch(ctx, o, tasks...); err != nil || len(rej) > 0 {
					launchErr.Store(fmt.Errorf("launch: %v %v", rej, err))
				}
			}
		}()
	}
	offered := 0
	var start time.Time
	var cpu0 time.Duration
	deadline := time.After(5 * time.Minute)
	for running.Load() < int64(total) || int(fleet.Stats().Acks) < total {
		select {
		case ev := <-fw.Events():
			switch ev.Type {
			case protocol.EventOffers:
				for _, o := range ev.Offers.Offers {
					if offered < agents {
						if offered == 0 {
							start = time.Now()
							cpu0 = cpuTime()
							b.StartTimer()
						}
						offered++
						accepts <- o
					}
				}
			case protocol.EventUpdate:
				if ev.Update.Status.State == protocol.TaskRunning {
					running.Add(1)
				} else if ev.Update.Status.State.Terminal() {
					b.Fatalf("task ended: %+v", ev.Update.Status)
				}
			}
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			b.Fatalf("only %d/%d running, %d acked after 5 minutes", running.Load(), total, fleet.Stats().Acks)
		}
		if err, _ := launchErr.Load().(error); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(cpu.Microseconds())/float64(total), "cpu-µs/task")
	close(accepts)
	wg.Wait()
	b.ReportMetric(float64(total)/elapsed.Seconds(), "tasks/s")
}
