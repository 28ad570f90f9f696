package cron_test

import (
	"bytes"
	"fmt"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/cairn-dc/cairn/frameworks/cron"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
	"github.com/cairn-dc/cairn/kernel/simagent"
	"github.com/cairn-dc/cairn/kernel/testcluster"
)

// BenchmarkSchedule10000: 10,000 jobs due at the same minute, on 50
// simulated agents. Reported: the time from that minute (the fake clock
// reaching it) until every run's task is launched on an agent, and the
// CPU time the cron framework's own goroutines (pprof label
// cairn.framework=cron: its loop, API and calls) spent per run in that
// window, read from a CPU profile.
func BenchmarkSchedule10000(b *testing.B) {
	const jobs = 10000
	for b.Loop() {
		e := &env{Cluster: testcluster.New(b), t: b, clock: &fakeClock{t: t0}}
		agents := e.Agents(50, "cpus:64;mem:262144;disk:100000", func(c *simagent.Config) { c.SkipStarting = true })
		e.startBench(b)
		addJobs(b, e, jobs)

		var buf bytes.Buffer
		if err := pprof.StartCPUProfile(&buf); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		e.clock.Advance(10 * time.Second) // 10:00:00: every job is due
		launched := func() int {
			n := 0
			for _, a := range agents {
				n += a.Stats().Launches
			}
			return n
		}
		testcluster.WaitFor(b, 5*time.Minute, "every run launched", func() bool { return launched() >= jobs })
		elapsed := time.Since(start)
		pprof.StopCPUProfile()
		cpu := labelCPU(b, &buf, cron.ProfileLabel, "cron")
		b.ReportMetric(elapsed.Seconds(), "s-to-launch-all")
		b.ReportMetric(float64(cpu.Microseconds())/jobs, "cron-cpu-µs/run")
		b.ReportMetric(float64(jobs)/elapsed.Seconds(), "runs/s")
	}
}

// startBench starts the framework for a benchmark.
func (e *env) startBench(b *testing.B) {
	b.Helper()
	fw, err := cron.Start(b.Context(), cron.Config{Conn: e.Conn("cron"), Logger: e.Log, Clock: e.clock, TickInterval: 5 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	e.fw = fw
	b.Cleanup(fw.Stop)
}

// addJobs adds n jobs due every minute, 16 requests at a time.
func addJobs(b *testing.B, e *env, n int) {
	b.Helper()
	var wg sync.WaitGroup
	ids := make(chan int)
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		wg.Go(func() {
			for i := range ids {
				spec := cronapi.Job{ID: fmt.Sprintf("bench.job-%05d", i), Run: cronapi.JobRun{Cmd: "sleep 3600", CPUs: 0.1, Mem: 32},
					Schedules: []cronapi.Schedule{{ID: "minutely", Cron: "* * * * *"}}}
				if code, body := e.api("POST", "/v1/jobs", spec); code != 201 {
					errs <- fmt.Errorf("POST job %d: %d %s", i, code, body)
					return
				}
			}
		})
	}
	for i := 0; i < n; i++ {
		select {
		case ids <- i:
		case err := <-errs:
			close(ids)
			b.Fatal(err)
		}
	}
	close(ids)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

// labelCPU sums the CPU time of the samples carrying label key=value.
func labelCPU(b *testing.B, data *bytes.Buffer, key, value string) time.Duration {
	b.Helper()
	p, err := profile.Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	idx := -1
	for i, st := range p.SampleType {
		if st.Type == "cpu" {
			idx = i
		}
	}
	if idx < 0 {
		b.Fatal("the profile has no cpu samples")
	}
	var total int64
	for _, s := range p.Sample {
		for _, v := range s.Label[key] {
			if v == value {
				total += s.Value[idx]
				break
			}
		}
	}
	return time.Duration(total)
}
