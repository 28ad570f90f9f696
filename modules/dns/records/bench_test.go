package records

import (
	"fmt"
	"testing"
)

// bigCluster has n running tasks with distinct names, one port each, on
// 100 agents.
func bigCluster(n int) Cluster {
	c := Cluster{Leader: "10.0.0.1:5050", Masters: []string{"10.0.0.1:5050"},
		Frameworks: []Framework{{ID: fwSvc, Name: "services"}}}
	for i := range 100 {
		c.Agents = append(c.Agents, Agent{ID: fmt.Sprintf("agent-%03d", i), Hostname: fmt.Sprintf("node-%d", i),
			Address: fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)})
	}
	for i := range n {
		c.Tasks = append(c.Tasks, Task{ID: fmt.Sprintf("app-%d.%08x", i, i), Name: fmt.Sprintf("app-%d", i),
			FrameworkID: fwSvc, AgentID: c.Agents[i%100].ID, State: StateRunning,
			Ports: []Port{{Number: uint16(20000 + i%10000), Protocol: "tcp"}}})
	}
	return c
}

func BenchmarkLookup(b *testing.B) {
	s := NewStore()
	if err := s.Replace(bigCluster(10000)); err != nil {
		b.Fatal(err)
	}
	names := make([]string, 1024)
	for i := range names {
		names[i] = fmt.Sprintf("app-%d.services", i*9%10000)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok := s.Snapshot().Lookup(names[i&1023]); !ok {
				b.Fatal("missing")
			}
			i++
		}
	})
}

// BenchmarkUpsertTask is one task change in a store of 10,000 tasks: the
// cost of an incremental update (copy-on-write of the touched shards).
func BenchmarkUpsertTask(b *testing.B) {
	s := NewStore()
	c := bigCluster(10000)
	if err := s.Replace(c); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		t := c.Tasks[i%len(c.Tasks)]
		if i%2 == 0 {
			t.State = "TASK_KILLED"
		}
		if err := s.UpsertTask(t); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBatch100 applies 100 task changes as one Update.
func BenchmarkBatch100(b *testing.B) {
	s := NewStore()
	c := bigCluster(10000)
	if err := s.Replace(c); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		err := s.Update(func(bt *Batch) error {
			for j := range 100 {
				t := c.Tasks[(i*100+j)%len(c.Tasks)]
				if i%2 == 0 {
					t.State = "TASK_KILLED"
				}
				if err := bt.UpsertTask(t); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReplace10k(b *testing.B) {
	c := bigCluster(10000)
	s := NewStore()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Replace(c); err != nil {
			b.Fatal(err)
		}
	}
}
