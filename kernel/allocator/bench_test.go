package allocator

import (
	"fmt"
	"testing"
	"time"
)

const benchAgent = "cpus:16;mem:65536;disk:1000000;ports:[31000-32000]"

// benchCluster makes an allocator with agents identical agents and
// frameworks frameworks, framework i in role roleOf(i).
func benchCluster(agents, frameworks int, roleOf func(int) string) *Allocator {
	a := New(Config{Seed: 1})
	total := mp(benchAgent)
	for i := range agents {
		a.AddAgent(fmt.Sprintf("agent-%06d", i), AgentInfo{Hostname: fmt.Sprintf("host-%06d", i)}, total, nil)
	}
	for i := range frameworks {
		a.AddFramework(fmt.Sprintf("fw-%05d", i), []string{roleOf(i)}, nil, true)
	}
	return a
}

// benchCycles measures full allocation cycles in which every agent is free:
// between cycles (timer stopped) everything offered is recovered without a
// filter.
func benchCycles(b *testing.B, a *Allocator, wantOffers int) {
	now := t0
	offers := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		allocs := a.Allocate(now)
		b.StopTimer()
		if wantOffers >= 0 && len(allocs) != wantOffers {
			b.Fatalf("%d offers, want %d", len(allocs), wantOffers)
		}
		offers += len(allocs)
		recoverAll(a, allocs, now)
		b.StartTimer()
	}
	b.ReportMetric(float64(offers)/float64(b.N), "offers/op")
}

// BenchmarkAllocate: one full cycle, every agent free, frameworks spread
// over four roles.
func BenchmarkAllocate(b *testing.B) {
	for _, agents := range []int{1000, 10000, 50000} {
		for _, frameworks := range []int{10, 100, 1000} {
			b.Run(fmt.Sprintf("agents=%d/frameworks=%d", agents, frameworks), func(b *testing.B) {
				a := benchCluster(agents, frameworks, func(i int) string { return fmt.Sprintf("role-%d", i%4) })
				benchCycles(b, a, agents)
			})
		}
	}
}

// BenchmarkAllocateOneRole: every framework in role "*".
func BenchmarkAllocateOneRole(b *testing.B) {
	for _, c := range []struct{ agents, frameworks int }{{10000, 1000}, {50000, 10}} {
		b.Run(fmt.Sprintf("agents=%d/frameworks=%d", c.agents, c.frameworks), func(b *testing.B) {
			a := benchCluster(c.agents, c.frameworks, func(int) string { return "*" })
			benchCycles(b, a, c.agents)
		})
	}
}

// BenchmarkAllocateWithFilters: half the frameworks (those first in ID
// order, so they come first among equal shares) have decline filters on 90%
// of the agents; each cycle must skip them there. One warm-up cycle runs
// before the timer (the first check of each filter costs a containment test
// whose result is cached until the agent changes).
func BenchmarkAllocateWithFilters(b *testing.B) {
	for _, c := range []struct{ agents, frameworks int }{{1000, 100}, {10000, 100}, {10000, 1000}} {
		b.Run(fmt.Sprintf("agents=%d/frameworks=%d", c.agents, c.frameworks), func(b *testing.B) {
			a := benchCluster(c.agents, c.frameworks, func(int) string { return "*" })
			total := mp(benchAgent)
			for f := range c.frameworks / 2 {
				fid := fmt.Sprintf("fw-%05d", f)
				for i := range c.agents {
					if (i+f)%10 != 0 {
						a.Recover(fid, fmt.Sprintf("agent-%06d", i), "*", total, time.Hour, t0)
					}
				}
			}
			recoverAll(a, a.Allocate(t0), t0) // warm-up
			benchCycles(b, a, c.agents)
		})
	}
}

// BenchmarkAllocateReserved: every agent has a part reserved for one of the
// four roles, so each agent is offered twice (unreserved, then reserved).
func BenchmarkAllocateReserved(b *testing.B) {
	const agents, frameworks = 10000, 1000
	b.Run(fmt.Sprintf("agents=%d/frameworks=%d", agents, frameworks), func(b *testing.B) {
		a := New(Config{Seed: 1})
		for i := range agents {
			total := mp(fmt.Sprintf("cpus(role-%d):4;mem(role-%d):16384;cpus:12;mem:49152;disk:1000000;ports:[31000-32000]", i%4, i%4))
			a.AddAgent(fmt.Sprintf("agent-%06d", i), AgentInfo{}, total, nil)
		}
		for i := range frameworks {
			a.AddFramework(fmt.Sprintf("fw-%05d", i), []string{fmt.Sprintf("role-%d", i%4)}, nil, true)
		}
		benchCycles(b, a, -1)
	})
}
