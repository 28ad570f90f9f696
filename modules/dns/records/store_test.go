package records

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

const (
	agent1 = "01J9Z3K4M5N6P7Q8R9S0T1V2W3"
	agent2 = "01J9Z3K4M5N6P7Q8R9S0T1V2W4"
	fwSvc  = "fw-services"
	fwCron = "fw-cron"
)

func ptr[T any](v T) *T { return &v }

func testCluster() Cluster {
	return Cluster{
		Leader:  "10.0.0.1:5050",
		Masters: []string{"10.0.0.1:5050", "10.0.0.2:5050", "master3.example.com:5050"},
		Agents: []Agent{
			{ID: agent1, Hostname: "agent-1", Address: "10.0.1.1"},
			{ID: agent2, Hostname: "Agent_2.example.com", Address: "10.0.1.2"},
		},
		Frameworks: []Framework{{ID: fwSvc, Name: "services"}, {ID: fwCron, Name: "Cron"}},
		Tasks: []Task{
			{ID: "hello.1", Name: "hello", FrameworkID: fwSvc, AgentID: agent1, State: StateRunning,
				Ports: []Port{{Number: 31000, Name: "http", Protocol: "tcp"}}},
			{ID: "web.prod.1", Name: "web.prod", FrameworkID: fwSvc, AgentID: agent1, State: StateRunning, Healthy: ptr(true),
				Ports: []Port{{Number: 31001, Protocol: "tcp"}, {Number: 31002, Name: "dns", Protocol: "udp"}}},
			{ID: "web.prod.2", Name: "web.prod", FrameworkID: fwSvc, AgentID: agent2, State: StateRunning,
				IPs: []string{"172.16.0.5"}, Ports: []Port{{Number: 31003}}},
			{ID: "sick.1", Name: "sick", FrameworkID: fwSvc, AgentID: agent1, State: StateRunning, Healthy: ptr(false)},
			{ID: "staging.1", Name: "staging", FrameworkID: fwSvc, AgentID: agent1, State: "TASK_STAGING"},
			{ID: "report.1", Name: "report", FrameworkID: fwCron, AgentID: agent2, State: StateRunning,
				IPs: []string{"2001:db8::7"}},
			{ID: "orphan.1", Name: "orphan", FrameworkID: "gone", FrameworkName: "Old FW", AgentID: "unknown",
				Address: "10.0.9.9", State: StateRunning},
		},
	}
}

func newTestStore(t testing.TB) *Store {
	t.Helper()
	s := NewStore()
	if err := s.Replace(testCluster()); err != nil {
		t.Fatal(err)
	}
	return s
}

func a(t testing.TB, s *Store, name string) []string {
	t.Helper()
	e, ok := s.Lookup(name)
	if !ok {
		return nil
	}
	var out []string
	for _, ip := range e.A {
		out = append(out, ip.String())
	}
	for _, ip := range e.AAAA {
		out = append(out, ip.String())
	}
	sort.Strings(out)
	return out
}

func srv(t testing.TB, s *Store, name string) []string {
	t.Helper()
	e, ok := s.Lookup(name)
	if !ok {
		return nil
	}
	var out []string
	for _, r := range e.SRV {
		out = append(out, r.String())
	}
	sort.Strings(out)
	return out
}

func TestNaming(t *testing.T) {
	s := newTestStore(t)
	h1 := HostLabel("hello", "hello.1", agent1) + ".services"
	w1 := HostLabel("web-prod", "web.prod.1", agent1) + ".services"
	w2 := HostLabel("web-prod", "web.prod.2", agent2) + ".services"
	for name, want := range map[string][]string{
		"hello.services":                    {"10.0.1.1"},
		h1:                                  {"10.0.1.1"},
		"web-prod.services":                 {"10.0.1.1", "172.16.0.5"}, // own IP first, else the agent's
		w1:                                  {"10.0.1.1"},
		w2:                                  {"10.0.1.2"}, // host ports live on the agent
		"report.cron":                       {"2001:db8::7"},
		"orphan.old-fw":                     {"10.0.9.9"}, // the task's own framework name and address
		"leader":                            {"10.0.0.1"},
		"master":                            {"10.0.0.1", "10.0.0.2"},
		"master0":                           {"10.0.0.1"},
		"master1":                           {"10.0.0.2"},
		"master2":                           nil, // not an IP
		"agents":                            {"10.0.1.1", "10.0.1.2"},
		"agent-1.agents":                    {"10.0.1.1"},
		"agent-2-example-com.agents":        {"10.0.1.2"},
		strings.ToLower(agent2) + ".agents": {"10.0.1.2"},
		"sick.services":                     nil,
		"staging.services":                  nil,
	} {
		if got := a(t, s, name); !slices.Equal(got, want) {
			t.Errorf("A %s = %v, want %v", name, got, want)
		}
	}
	for name, want := range map[string][]string{
		"_hello._tcp.services":         {h1 + ":31000"},
		"_http._hello._tcp.services":   {h1 + ":31000"},
		"_hello._udp.services":         nil,
		"_web-prod._tcp.services":      {w1 + ":31001", w2 + ":31003"},
		"_web-prod._udp.services":      {w1 + ":31002", w2 + ":31003"}, // 31003: no protocol → tcp and udp
		"_dns._web-prod._udp.services": {w1 + ":31002"},
		"_leader._tcp":                 {"leader:5050"},
		"_leader._udp":                 {"leader:5050"},
	} {
		if got := srv(t, s, name); !slices.Equal(got, want) {
			t.Errorf("SRV %s = %v, want %v", name, got, want)
		}
	}
	// Empty non-terminals exist (NODATA, not NXDOMAIN); nothing else does.
	for _, ent := range []string{"services", "_tcp.services", "_udp.services", "cron", "old-fw", "_hello._tcp.services"} {
		if _, ok := s.Lookup(ent); !ok {
			t.Errorf("%s does not exist", ent)
		}
	}
	for _, none := range []string{"sick.services", "staging.services", "nope", "x.services", "_tcp.cron", "hello", "_hello._tcp.cron"} {
		if _, ok := s.Lookup(none); ok {
			t.Errorf("%s exists", none)
		}
	}
	if e, _ := s.Lookup("services"); !e.Empty() {
		t.Errorf("services has records: %+v", e)
	}
}

func TestUpdates(t *testing.T) {
	s := newTestStore(t)
	v := s.Snapshot().Version()
	// Scale hello up: two A records.
	if err := s.UpsertTask(Task{ID: "hello.2", Name: "hello", FrameworkID: fwSvc, AgentID: agent2, State: StateRunning}); err != nil {
		t.Fatal(err)
	}
	if got := a(t, s, "hello.services"); !slices.Equal(got, []string{"10.0.1.1", "10.0.1.2"}) {
		t.Fatalf("after scale up: %v", got)
	}
	if s.Snapshot().Version() <= v {
		t.Error("version did not grow")
	}
	// The task becomes unhealthy: gone.
	if err := s.UpsertTask(Task{ID: "hello.2", Name: "hello", FrameworkID: fwSvc, AgentID: agent2, State: StateRunning, Healthy: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if got := a(t, s, "hello.services"); !slices.Equal(got, []string{"10.0.1.1"}) {
		t.Fatalf("after unhealthy: %v", got)
	}
	// The agent moves: its tasks follow.
	if err := s.UpsertAgent(Agent{ID: agent1, Hostname: "agent-1", Address: "10.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	if got := a(t, s, "hello.services"); !slices.Equal(got, []string{"10.0.2.1"}) {
		t.Fatalf("after agent move: %v", got)
	}
	// The framework is renamed.
	if err := s.UpsertFramework(Framework{ID: fwCron, Name: "metronome"}); err != nil {
		t.Fatal(err)
	}
	if a(t, s, "report.cron") != nil || a(t, s, "report.metronome") == nil {
		t.Fatal("rename not applied")
	}
	if _, ok := s.Lookup("cron"); ok {
		t.Error("the old framework's empty non-terminal stayed")
	}
	// Scale hello down to zero: all its names go.
	if err := s.RemoveTask("hello.1"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"hello.services", "_hello._tcp.services", "_http._hello._tcp.services"} {
		if _, ok := s.Lookup(n); ok {
			t.Errorf("%s still exists", n)
		}
	}
	if err := s.SetLeader("10.0.0.2:5050"); err != nil {
		t.Fatal(err)
	}
	if got := a(t, s, "leader"); !slices.Equal(got, []string{"10.0.0.2"}) {
		t.Errorf("leader = %v", got)
	}
	// A failed batch changes nothing.
	before := dump(s.Snapshot())
	err := s.Update(func(b *Batch) error {
		b.RemoveTask("web.prod.1")
		return b.UpsertTask(Task{Name: "no-id"})
	})
	if err == nil || !strings.Contains(err.Error(), "id") {
		t.Fatalf("batch error = %v", err)
	}
	if !reflect.DeepEqual(before, dump(s.Snapshot())) {
		t.Error("a failed batch changed the records")
	}
}

func TestReplaceErrors(t *testing.T) {
	s := newTestStore(t)
	before := dump(s.Snapshot())
	c := testCluster()
	c.Tasks = append(c.Tasks, c.Tasks[0])
	if err := s.Replace(c); err == nil || !strings.Contains(err.Error(), `tasks[7]: duplicate id "hello.1"`) {
		t.Errorf("duplicate: %v", err)
	}
	c = testCluster()
	c.Agents[1].ID = ""
	if err := s.Replace(c); err == nil || !strings.Contains(err.Error(), "agents[1]: empty id") {
		t.Errorf("empty: %v", err)
	}
	if !reflect.DeepEqual(before, dump(s.Snapshot())) {
		t.Error("a failed Replace changed the records")
	}
}

// TestStoreDoesNotShare checks that the store copies what it is given.
func TestStoreDoesNotShare(t *testing.T) {
	s := NewStore()
	healthy := true
	tk := Task{ID: "t", Name: "t", FrameworkName: "f", State: StateRunning, Healthy: &healthy, IPs: []string{"10.1.1.1"}}
	if err := s.UpsertTask(tk); err != nil {
		t.Fatal(err)
	}
	healthy = false
	tk.IPs[0] = "10.9.9.9"
	if err := s.UpsertAgent(Agent{ID: "x", Address: "10.0.0.1"}); err != nil { // forces no recompute of t, but be sure
		t.Fatal(err)
	}
	if got := a(t, s, "t.f"); !slices.Equal(got, []string{"10.1.1.1"}) {
		t.Errorf("t.f = %v", got)
	}
}

// dump is every name with its records, for comparisons.
func dump(sn *Snapshot) map[string]string {
	out := map[string]string{}
	for _, n := range sn.Names() {
		e, _ := sn.Lookup(n)
		out[n] = fmt.Sprint(e.A, e.AAAA, e.SRV)
	}
	return out
}

// TestIncrementalMatchesReplace applies random changes one by one and
// checks after each that the records equal those of a Replace with the
// same cluster.
func TestIncrementalMatchesReplace(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	inc := NewStore()
	agents := map[string]Agent{}
	fws := map[string]Framework{}
	tasks := map[string]Task{}
	leader := ""
	states := []string{StateRunning, StateRunning, StateRunning, "TASK_STAGING", "TASK_FINISHED"}
	names := []string{"web", "web.prod", "db", "cache", "Big App"}
	for step := range 600 {
		var err error
		switch op := rng.IntN(10); {
		case op < 5:
			id := fmt.Sprintf("t%d", rng.IntN(40))
			tk := Task{ID: id, Name: names[rng.IntN(len(names))], FrameworkID: fmt.Sprintf("f%d", rng.IntN(3)),
				AgentID: fmt.Sprintf("a%d", rng.IntN(4)), State: states[rng.IntN(len(states))]}
			if rng.IntN(3) == 0 {
				tk.IPs = []string{fmt.Sprintf("172.16.0.%d", rng.IntN(5))}
			}
			if rng.IntN(4) == 0 {
				tk.Healthy = ptr(rng.IntN(2) == 0)
			}
			if rng.IntN(5) == 0 {
				tk.FrameworkName = "fallback"
				tk.Address = "10.9.0.1"
			}
			for range rng.IntN(3) {
				tk.Ports = append(tk.Ports, Port{Number: uint16(31000 + rng.IntN(4)), Name: []string{"", "http"}[rng.IntN(2)],
					Protocol: []string{"", "tcp", "udp", "udp,tcp"}[rng.IntN(4)]})
			}
			tasks[id] = tk
			err = inc.UpsertTask(tk)
		case op < 6:
			id := fmt.Sprintf("t%d", rng.IntN(40))
			delete(tasks, id)
			err = inc.RemoveTask(id)
		case op < 7:
			id := fmt.Sprintf("a%d", rng.IntN(4))
			ag := Agent{ID: id, Hostname: fmt.Sprintf("host-%d", rng.IntN(3)), Address: fmt.Sprintf("10.0.0.%d", rng.IntN(3))}
			agents[id] = ag
			err = inc.UpsertAgent(ag)
		case op < 8:
			id := fmt.Sprintf("a%d", rng.IntN(4))
			delete(agents, id)
			err = inc.RemoveAgent(id)
		case op < 9:
			id := fmt.Sprintf("f%d", rng.IntN(3))
			if rng.IntN(3) == 0 {
				delete(fws, id)
				err = inc.RemoveFramework(id)
			} else {
				f := Framework{ID: id, Name: []string{"services", "cron", "x"}[rng.IntN(3)]}
				fws[id] = f
				err = inc.UpsertFramework(f)
			}
		default:
			leader = fmt.Sprintf("10.0.5.%d:5050", rng.IntN(3))
			err = inc.SetLeader(leader)
		}
		if err != nil {
			t.Fatal(err)
		}
		full := NewStore()
		c := Cluster{Leader: leader}
		for _, k := range slices.Sorted(maps.Keys(agents)) {
			c.Agents = append(c.Agents, agents[k])
		}
		for _, k := range slices.Sorted(maps.Keys(fws)) {
			c.Frameworks = append(c.Frameworks, fws[k])
		}
		for _, k := range slices.Sorted(maps.Keys(tasks)) {
			c.Tasks = append(c.Tasks, tasks[k])
		}
		if err := full.Replace(c); err != nil {
			t.Fatal(err)
		}
		got, want := dump(inc.Snapshot()), dump(full.Snapshot())
		if !reflect.DeepEqual(got, want) {
			for n := range want {
				if got[n] != want[n] {
					t.Errorf("%s: incremental %q, replace %q", n, got[n], want[n])
				}
			}
			for n := range got {
				if _, ok := want[n]; !ok {
					t.Errorf("%s: incremental %q, replace: absent", n, got[n])
				}
			}
			t.Fatalf("step %d: incremental and full records differ", step)
		}
		if inc.Snapshot().Len() != len(got) {
			t.Fatalf("step %d: Len %d, %d names", step, inc.Snapshot().Len(), len(got))
		}
	}
}

// TestConcurrentReaders runs readers against writers (meaningful under -race).
func TestConcurrentReaders(t *testing.T) {
	s := newTestStore(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				sn := s.Snapshot()
				if e, ok := sn.Lookup("web-prod.services"); ok {
					for _, ip := range e.A {
						_ = ip.String()
					}
				}
				sn.Lookup("_web-prod._tcp.services")
			}
		})
	}
	for i := range 300 {
		id := fmt.Sprintf("web.%d", i%20)
		if i%3 == 0 {
			s.RemoveTask(id)
		} else {
			s.UpsertTask(Task{ID: id, Name: "web.prod", FrameworkID: fwSvc, AgentID: agent1, State: StateRunning,
				Ports: []Port{{Number: 31000}}})
		}
	}
	close(stop)
	wg.Wait()
}
