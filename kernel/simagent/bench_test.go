package simagent

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

var benchResources = resources.MustParse("cpus:1000000;mem:1000000000")

// launchData pre-encodes LAUNCH commands of batch tasks each, n tasks in all.
func launchData(b *testing.B, prefix string, n, batch int, labels map[string]string) [][]byte {
	var out [][]byte
	for i := 0; i < n; i += batch {
		var tasks []protocol.TaskInfo
		for j := i; j < min(i+batch, n); j++ {
			tasks = append(tasks, taskInfo(fmt.Sprintf("%s-%d", prefix, j), "cpus:0.001;mem:1", labels))
		}
		data, err := json.Marshal(launch("fw1", tasks...))
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// BenchmarkLaunch measures how many tasks per second one agent turns into
// status updates stored on the stream (PubAck received): from the LAUNCH
// commands published by the master to the last update on the stream.
func BenchmarkLaunch(b *testing.B) {
	for _, bc := range []struct {
		name         string
		batch        int
		skipStarting bool
	}{
		{"running-only/batch=1", 1, true},
		{"running-only/batch=100", 100, true},
		{"starting+running/batch=100", 100, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b)
			e.createStream()
			m := startMaster(b, e.mnc, "m1")
			m.pingInterval = 5
			a := e.startAgent(Config{SkipStarting: bc.skipStarting, Resources: benchResources})
			perTask := 1
			if !bc.skipStarting {
				perTask = 2
			}
			cmds := launchData(b, "t", b.N, bc.batch, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			b.ResetTimer()
			start := time.Now()
			for _, c := range cmds {
				m.sendRaw(a.ID(), c)
			}
			if err := a.Wait(ctx, func() bool { return a.Stats().UpdatesStored >= b.N*perTask }); err != nil {
				b.Fatal(err)
			}
			el := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/el.Seconds(), "tasks/s")
		})
	}
}

// BenchmarkFleetLaunch: 1,000 agents on one shared connection, tasks
// spread over them; tasks/s until all RUNNING updates are on the stream.
func BenchmarkFleetLaunch(b *testing.B) {
	e := newEnv(b)
	e.createStream()
	m := startMaster(b, e.mnc, "m1")
	m.pingInterval = 5
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	t0 := time.Now()
	f, err := StartFleet(ctx, FleetConfig{N: 1000, Conn: e.nc,
		Template: Config{SkipStarting: true, Resources: benchResources, Logger: quiet}})
	if err != nil {
		b.Fatal(err)
	}
	fleetStart := time.Since(t0)
	defer f.Stop()
	agents := f.Agents()
	per := (b.N + len(agents) - 1) / len(agents)
	cmds := make([][][]byte, len(agents))
	want := make([]int, len(agents))
	total := 0
	for i := range agents {
		n := min(per, b.N-total)
		if n <= 0 {
			break
		}
		cmds[i] = launchData(b, fmt.Sprintf("a%d", i), n, 10, nil)
		want[i] = n
		total += n
	}
	b.ResetTimer()
	start := time.Now()
	for i, a := range agents {
		for _, c := range cmds[i] {
			m.sendRaw(a.ID(), c)
		}
	}
	for i, a := range agents {
		if err := a.Wait(ctx, func() bool { return a.Stats().UpdatesStored >= want[i] }); err != nil {
			b.Fatal(err)
		}
	}
	if s := f.Stats(); s.UpdatesStored != total {
		b.Fatalf("stored %d updates, want %d", s.UpdatesStored, total)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(total)/el.Seconds(), "tasks/s")
	b.ReportMetric(fleetStart.Seconds(), "fleet-start-s")
}

// BenchmarkMemory100kTasks reports the heap one running task costs: 100,000
// tasks on one agent, each with a duration (so each sits in the timer heap).
func BenchmarkMemory100kTasks(b *testing.B) {
	const n = 100_000
	for range b.N {
		func() {
			e := newEnv(b)
			e.createStream()
			m := startMaster(b, e.mnc, "m1")
			m.pingInterval = 5
			a := e.startAgent(Config{SkipStarting: true, Resources: benchResources})
			cmds := launchData(b, "t", n, 100, map[string]string{LabelDuration: "1h"})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			goroutines := runtime.NumGoroutine()
			for _, c := range cmds {
				m.sendRaw(a.ID(), c)
			}
			if err := a.Wait(ctx, func() bool { return a.Stats().UpdatesStored >= n }); err != nil {
				b.Fatal(err)
			}
			cmds = nil
			runtime.GC()
			runtime.ReadMemStats(&after)
			if len(a.Tasks()) != n {
				b.Fatalf("%d tasks", len(a.Tasks()))
			}
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n, "heap-B/task")
			b.ReportMetric(float64(runtime.NumGoroutine()-goroutines), "extra-goroutines")
		}()
	}
}

// BenchmarkHandleLaunch is the agent's own CPU cost per task, without NATS:
// decode a LAUNCH of 100 tasks, check resources, make the RUNNING update
// (held: the agent is not registered, so nothing is published).
func BenchmarkHandleLaunch(b *testing.B) {
	e := newEnv(b)
	a, err := newAgent(Config{Conn: e.nc, SkipStarting: true, Resources: benchResources, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Stop()
	cmds := launchData(b, "t", b.N, 100, nil)
	b.ResetTimer()
	b.ReportAllocs()
	for _, c := range cmds {
		a.onCommand(&nats.Msg{Data: c})
	}
	b.StopTimer()
	if s := a.Stats(); s.Updates != b.N {
		b.Fatalf("%d updates", s.Updates)
	}
}
