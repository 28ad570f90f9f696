package allocator

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/resources"
)

var t0 = time.Unix(1_700_000_000, 0)

func mp(s string) resources.Resources { return resources.MustParse(s) }

func mustCheck(t *testing.T, a *Allocator) {
	t.Helper()
	if err := a.checkInvariants(); err != nil {
		t.Fatal(err)
	}
}

// byFramework groups a cycle's allocations.
func byFramework(allocs []Allocation) map[string][]Allocation {
	m := map[string][]Allocation{}
	for _, al := range allocs {
		m[al.FrameworkID] = append(m[al.FrameworkID], al)
	}
	return m
}

// recoverAll declines every offer without a filter.
func recoverAll(a *Allocator, allocs []Allocation, now time.Time) {
	for _, al := range allocs {
		a.Recover(al.FrameworkID, al.AgentID, al.Role, al.Resources, 0, now)
	}
}

func only(t *testing.T, allocs []Allocation) Allocation {
	t.Helper()
	if len(allocs) != 1 {
		t.Fatalf("want exactly one allocation, got %d: %v", len(allocs), allocs)
	}
	return allocs[0]
}

// ---- simulated frameworks ----

// task is a task shape.
type task struct{ cpus, mem float64 }

func (tk task) res() resources.Resources {
	return resources.Resources{
		{Name: "cpus", Type: resources.Scalar, Scalar: resources.FromFloat(tk.cpus)},
		{Name: "mem", Type: resources.Scalar, Scalar: resources.FromFloat(tk.mem)},
	}
}

type launched struct {
	agent, role string
	res         resources.Resources
}

// simFramework accepts offers by launching tasks of one shape (as many as
// fit, up to max per offer; max 0 means no limit) and declining the rest.
type simFramework struct {
	id     string
	shape  task
	max    int
	refuse time.Duration // filter for offers it cannot use at all
	tasks  []launched
}

func (f *simFramework) accept(a *Allocator, al Allocation, now time.Time) {
	need := f.shape.res()
	offered := al.Resources
	used := resources.Resources(nil)
	n := 0
	for (f.max == 0 || n < f.max) && offered.Unreserved().Contains(used.Plus(need)) {
		used = used.Plus(need)
		f.tasks = append(f.tasks, launched{al.AgentID, al.Role, need})
		n++
	}
	if rest := offered.Minus(used); !rest.IsEmpty() {
		// like Mesos' default: what a framework cannot use now is declined
		// with a 5s filter; the rest of an accepted offer is not filtered.
		refuse := time.Duration(0)
		if n == 0 {
			refuse = f.refuse
		}
		a.Recover(f.id, al.AgentID, al.Role, rest, refuse, now)
	}
}

// finish ends the task at index i.
func (f *simFramework) finish(a *Allocator, i int, now time.Time) {
	tk := f.tasks[i]
	f.tasks = slices.Delete(f.tasks, i, i+1)
	a.Recover(f.id, tk.agent, tk.role, tk.res, 0, now)
}

func runCycle(t *testing.T, a *Allocator, fws map[string]*simFramework, now time.Time) int {
	t.Helper()
	allocs := a.Allocate(now)
	for _, al := range allocs {
		fws[al.FrameworkID].accept(a, al, now)
	}
	mustCheck(t, a)
	return len(allocs)
}

// ---- DRF ----

// TestDRFPaperExample is the example of the DRF paper (Ghodsi et al. 2011):
// 9 CPUs and 18 GB; A runs tasks of <1 CPU, 4 GB>, B of <3 CPUs, 1 GB>.
// Offered one task at a time, DRF gives A 3 tasks and B 2, both with a
// dominant share of 2/3.
func TestDRFPaperExample(t *testing.T) {
	a := New(Config{Seed: 1})
	a.AddAgent("s1", AgentInfo{}, mp("cpus:9;mem:18432"), nil)
	fws := map[string]*simFramework{
		"A": {id: "A", shape: task{1, 4096}, max: 1},
		"B": {id: "B", shape: task{3, 1024}, max: 1},
	}
	a.AddFramework("A", nil, nil, true)
	a.AddFramework("B", nil, nil, true)
	now := t0
	for range 20 {
		runCycle(t, a, fws, now)
		now = now.Add(time.Second)
	}
	if got := len(fws["A"].tasks); got != 3 {
		t.Errorf("A runs %d tasks, want 3", got)
	}
	if got := len(fws["B"].tasks); got != 2 {
		t.Errorf("B runs %d tasks, want 2", got)
	}
	for _, id := range []string{"A", "B"} {
		if s := a.FrameworkShare(id); math.Abs(s-2.0/3) > 1e-9 {
			t.Errorf("share of %s = %v, want 2/3", id, s)
		}
	}
}

// TestDRFConvergence runs frameworks of different shapes that launch as many
// tasks as fit in every offer on a cluster of many agents, with tasks
// finishing at random, and checks that their dominant shares stay equal
// (within the granularity of an agent).
func TestDRFConvergence(t *testing.T) {
	for _, tc := range []struct {
		name   string
		shapes map[string]task
		tol    float64
	}{
		// An agent is 1% of the cluster; allow a few agents' worth. With C,
		// whose small tasks fit in fragments that A and B decline, C runs
		// a little ahead (as it would with Mesos).
		{"two", map[string]task{"A": {1, 4096}, "B": {3, 1024}}, 0.03},
		{"three", map[string]task{"A": {1, 4096}, "B": {3, 1024}, "C": {0.5, 512}}, 0.05},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const agents = 100
			a := New(Config{Seed: 7})
			for i := range agents {
				a.AddAgent(fmt.Sprintf("s%03d", i), AgentInfo{}, mp("cpus:6;mem:8192"), nil)
			}
			fws := map[string]*simFramework{}
			var ids []string
			for id, shape := range tc.shapes {
				fws[id] = &simFramework{id: id, shape: shape, refuse: 5 * time.Second}
				ids = append(ids, id)
			}
			slices.Sort(ids)
			for _, id := range ids {
				a.AddFramework(id, nil, nil, true)
			}
			rng := newTestRand(3)
			now := t0
			spreads := 0.0
			samples := 0
			for cycle := range 400 {
				runCycle(t, a, fws, now)
				// tasks finish at random: each with probability 1/10
				for _, id := range ids {
					f := fws[id]
					for i := len(f.tasks) - 1; i >= 0; i-- {
						if rng.IntN(10) == 0 {
							f.finish(a, i, now)
						}
					}
				}
				if cycle >= 100 {
					runCycle(t, a, fws, now) // measure a saturated cluster
					lo, hi := 1.0, 0.0
					for _, id := range ids {
						s := a.FrameworkShare(id)
						lo, hi = min(lo, s), max(hi, s)
					}
					spreads += hi - lo
					samples++
				}
				now = now.Add(time.Second)
			}
			avg := spreads / float64(samples)
			t.Logf("average spread of dominant shares: %.4f", avg)
			if avg > tc.tol {
				t.Errorf("dominant shares diverge: average spread %.3f", avg)
			}
			for _, id := range ids {
				t.Logf("%s: share %.3f, %d tasks", id, a.FrameworkShare(id), len(fws[id].tasks))
			}
		})
	}
}

// TestFrameworkOrderWithinRole: the agent goes to the framework with the
// lowest share in the role, ties by ID.
func TestFrameworkOrderWithinRole(t *testing.T) {
	a := New(Config{Seed: 1})
	a.AddFramework("b", nil, nil, true)
	a.AddFramework("a", nil, nil, true)
	a.AddAgent("s1", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	al := only(t, a.Allocate(t0))
	if al.FrameworkID != "a" || al.Role != "*" || !al.Resources.Equal(mp("cpus:4;mem:4096")) {
		t.Fatalf("got %+v", al)
	}
	// a now holds everything: a second agent goes to b.
	a.AddAgent("s2", AgentInfo{}, mp("cpus:1;mem:1024"), nil)
	al = only(t, a.Allocate(t0))
	if al.FrameworkID != "b" || al.AgentID != "s2" {
		t.Fatalf("got %+v", al)
	}
	// a third goes to b again (b's share 1/5 < a's 4/5)
	a.AddAgent("s3", AgentInfo{}, mp("cpus:1;mem:1024"), nil)
	if al = only(t, a.Allocate(t0)); al.FrameworkID != "b" {
		t.Fatalf("got %+v", al)
	}
	mustCheck(t, a)
}

// ---- weights and roles ----

func TestWeights(t *testing.T) {
	a := New(Config{Seed: 5})
	a.SetWeight("heavy", 2)
	for i := range 30 {
		a.AddAgent(fmt.Sprintf("s%02d", i), AgentInfo{}, mp("cpus:4;mem:8192"), nil)
	}
	a.AddFramework("h", []string{"heavy"}, nil, true)
	a.AddFramework("l", []string{"light"}, nil, true)
	got := map[string]int{}
	for _, al := range a.Allocate(t0) {
		got[al.Role]++
	}
	mustCheck(t, a)
	if got["heavy"] != 20 || got["light"] != 10 {
		t.Fatalf("agents per role %v, want heavy 20, light 10", got)
	}
	if hs, ls := a.RoleShare("heavy"), a.RoleShare("light"); math.Abs(hs-ls) > 1e-9 {
		t.Fatalf("weighted shares %v vs %v, want equal", hs, ls)
	}
	if s := a.FrameworkShare("h"); math.Abs(s-20.0/30) > 1e-9 {
		t.Fatalf("framework share %v, want 2/3 (unweighted)", s)
	}
}

// TestWeightChange: changing a weight reorders roles at once.
func TestWeightChange(t *testing.T) {
	a := New(Config{Seed: 5})
	for i := range 4 {
		a.AddAgent(fmt.Sprintf("s%d", i), AgentInfo{}, mp("cpus:4;mem:8192"), nil)
	}
	a.AddFramework("x", []string{"x"}, map[string]map[string]resources.Resources{"s0": {"x": mp("cpus:4;mem:8192")}}, true)
	a.AddFramework("y", []string{"y"}, map[string]map[string]resources.Resources{"s1": {"y": mp("cpus:2;mem:4096")}}, true)
	a.SetWeight("x", 4) // x: 1/4 / 4 < y: 1/8
	if a.Dirty() != true {
		t.Fatal("SetWeight should make the allocator dirty")
	}
	allocs := a.Allocate(t0)
	if len(allocs) != 3 {
		t.Fatalf("got %v", allocs)
	}
	// first allocated agent (s2/s3/rest of s1 in shuffled order) goes to x
	if allocs[0].FrameworkID != "x" {
		t.Fatalf("first offer to %s, want x", allocs[0].FrameworkID)
	}
	mustCheck(t, a)
}

func TestHierarchicalRoles(t *testing.T) {
	a := New(Config{Seed: 1})
	for i := range 10 {
		a.AddAgent(fmt.Sprintf("s%d", i), AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	}
	// eng has two sub-roles; ops is alone. eng's share includes its children,
	// so eng as a whole and ops get about half each.
	a.AddFramework("web", []string{"eng/web"}, nil, true)
	a.AddFramework("db", []string{"eng/db"}, nil, true)
	a.AddFramework("ops", []string{"ops"}, nil, true)
	per := map[string]int{}
	for _, al := range a.Allocate(t0) {
		per[al.Role]++
	}
	mustCheck(t, a)
	if per["ops"] != 5 || per["eng/web"]+per["eng/db"] != 5 {
		t.Fatalf("agents per role %v, want ops 5 and eng/* 5", per)
	}
	if d := per["eng/web"] - per["eng/db"]; d < -1 || d > 1 {
		t.Fatalf("eng sub-roles unbalanced: %v", per)
	}
	eng, web, db := a.RoleShare("eng"), a.RoleShare("eng/web"), a.RoleShare("eng/db")
	if math.Abs(eng-(web+db)) > 1e-9 || math.Abs(eng-0.5) > 1e-9 {
		t.Fatalf("shares eng %v web %v db %v", eng, web, db)
	}
}

// TestHierarchicalParentFrameworks: a role with frameworks of its own and
// sub-roles competes as one with its siblings; inside, its own frameworks
// compete with its sub-roles (Mesos' virtual leaf).
func TestHierarchicalParentFrameworks(t *testing.T) {
	a := New(Config{Seed: 1})
	for i := range 12 {
		a.AddAgent(fmt.Sprintf("s%02d", i), AgentInfo{}, mp("cpus:1;mem:1024"), nil)
	}
	a.AddFramework("eng", []string{"eng"}, nil, true)
	a.AddFramework("web", []string{"eng/web"}, nil, true)
	a.AddFramework("ops", []string{"ops"}, nil, true)
	per := map[string]int{}
	for _, al := range a.Allocate(t0) {
		per[al.FrameworkID]++
	}
	mustCheck(t, a)
	if per["ops"] != 6 || per["eng"] != 3 || per["web"] != 3 {
		t.Fatalf("agents per framework %v, want ops 6, eng 3, web 3", per)
	}
}

// ---- reservations ----

func TestReservedResourcesOnlyToTheirRole(t *testing.T) {
	a := New(Config{Seed: 1})
	a.AddAgent("s1", AgentInfo{}, mp("cpus(r1):2;mem(r1):1024;cpus:2;mem:1024"), nil)
	a.AddFramework("f2", []string{"q"}, nil, true) // q before r1 in role order
	a.AddFramework("f1", []string{"r1"}, nil, true)
	allocs := a.Allocate(t0)
	mustCheck(t, a)
	got := byFramework(allocs)
	f2, f1 := got["f2"], got["f1"]
	if len(f2) != 1 || !f2[0].Resources.Equal(mp("cpus:2;mem:1024")) || f2[0].Role != "q" {
		t.Fatalf("f2 got %v, want only the unreserved part", f2)
	}
	if len(f1) != 1 || !f1[0].Resources.Equal(mp("cpus(r1):2;mem(r1):1024")) || f1[0].Role != "r1" {
		t.Fatalf("f1 got %v, want the reserved part", f1)
	}
	// f2 alone: gets the unreserved part only, the reservation stays free.
	b := New(Config{Seed: 1})
	b.AddAgent("s1", AgentInfo{}, mp("cpus(r1):2;mem(r1):1024;cpus:2;mem:1024"), nil)
	b.AddFramework("f2", []string{"r2"}, nil, true)
	al := only(t, b.Allocate(t0))
	if !al.Resources.Equal(mp("cpus:2;mem:1024")) {
		t.Fatalf("f2 got %s", al.Resources)
	}
	if b.Allocate(t0) != nil {
		t.Fatal("reserved resources offered to another role")
	}
	// a framework in r1 gets reserved and unreserved together.
	c := New(Config{Seed: 1})
	c.AddAgent("s1", AgentInfo{}, mp("cpus(r1):2;mem(r1):1024;cpus:2;mem:1024"), nil)
	c.AddFramework("f1", []string{"r1"}, nil, true)
	if al := only(t, c.Allocate(t0)); !al.Resources.Equal(mp("cpus(r1):2;mem(r1):1024;cpus:2;mem:1024")) {
		t.Fatalf("f1 got %s", al.Resources)
	}
}

func TestHierarchicalReservations(t *testing.T) {
	a := New(Config{Seed: 1})
	a.AddAgent("s1", AgentInfo{}, mp("cpus(eng):2;mem(eng):1024"), nil)
	a.AddAgent("s2", AgentInfo{}, mp("cpus(eng/web):2;mem(eng/web):1024"), nil)
	a.AddFramework("eng", []string{"eng"}, nil, true)
	allocs := a.Allocate(t0)
	if al := only(t, allocs); al.AgentID != "s1" {
		t.Fatalf("eng framework got %+v; resources reserved for eng/web must not go to eng", al)
	}
	a.RemoveFramework("eng")
	a.AddFramework("web", []string{"eng/web"}, nil, true)
	allocs = a.Allocate(t0)
	if len(allocs) != 2 {
		t.Fatalf("eng/web framework should get both the eng and the eng/web reservations, got %v", allocs)
	}
	mustCheck(t, a)
}

// ---- min allocatable ----

func TestMinAllocatable(t *testing.T) {
	a := New(Config{Seed: 1})
	a.AddFramework("f", nil, nil, true)
	a.AddAgent("tiny", AgentInfo{}, mp("cpus:0.005;mem:16;disk:100"), nil)
	if got := a.Allocate(t0); got != nil {
		t.Fatalf("below the default minimum, got %v", got)
	}
	a.AddAgent("memonly", AgentInfo{}, mp("mem:64"), nil)
	if al := only(t, a.Allocate(t0)); al.AgentID != "memonly" {
		t.Fatalf("got %+v", al)
	}

	b := New(Config{Seed: 1, MinAllocatable: []resources.Resources{mp("cpus:1;mem:512"), mp("disk:1000")}})
	b.AddFramework("f", nil, nil, true)
	b.AddAgent("s1", AgentInfo{}, mp("cpus:0.5;mem:4096"), nil)
	b.AddAgent("s2", AgentInfo{}, mp("cpus:1;mem:256;disk:10"), nil)
	if got := b.Allocate(t0); got != nil {
		t.Fatalf("below the minimum, got %v", got)
	}
	b.AddAgent("s3", AgentInfo{}, mp("cpus:1;mem:512"), nil)
	b.AddAgent("s4", AgentInfo{}, mp("disk:1000"), nil)
	got := b.Allocate(t0)
	if len(got) != 2 {
		t.Fatalf("got %v, want s3 and s4", got)
	}
	// what is left on an agent after part is held must pass the minimum too
	c := New(Config{Seed: 1, MinAllocatable: []resources.Resources{mp("cpus:1")}})
	c.AddAgent("s1", AgentInfo{}, mp("cpus:2;mem:1024"), map[string]map[string]resources.Resources{
		"g": {"*": mp("cpus:1.5")},
	})
	c.AddFramework("f", nil, nil, true)
	if got := c.Allocate(t0); got != nil {
		t.Fatalf("remaining cpus:0.5;mem:1024 is below cpus:1, got %v", got)
	}
	c.Recover("g", "s1", "*", mp("cpus:0.5"), 0, t0)
	if al := only(t, c.Allocate(t0)); !al.Resources.Equal(mp("cpus:1;mem:1024")) {
		t.Fatalf("got %s", al.Resources)
	}
	// quantities are compared ignoring reservations, ports included
	d := New(Config{Seed: 1, MinAllocatable: []resources.Resources{mp("cpus:1;ports:[1-2]")}})
	d.AddFramework("f", []string{"r"}, nil, true)
	d.AddAgent("s1", AgentInfo{}, mp("cpus(r):1;ports:[5-5]"), nil)
	if got := d.Allocate(t0); got != nil {
		t.Fatalf("one port is below [1-2]'s two, got %v", got)
	}
	d.AddAgent("s2", AgentInfo{}, mp("cpus(r):0.5;cpus:0.5;ports(r):[7-7];ports:[9-9]"), nil)
	if al := only(t, d.Allocate(t0)); al.AgentID != "s2" {
		t.Fatalf("got %+v", al)
	}
}

// ---- filters ----

func TestDeclineFilter(t *testing.T) {
	a := New(Config{Seed: 1})
	a.AddAgent("s1", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	a.AddFramework("A", nil, nil, true)
	a.AddFramework("B", nil, nil, true)
	al := only(t, a.Allocate(t0))
	if al.FrameworkID != "A" {
		t.Fatalf("got %+v", al)
	}
	a.Recover("A", "s1", "*", al.Resources, 5*time.Second, t0)
	if !a.Dirty() {
		t.Fatal("Recover should make the allocator dirty")
	}
	for _, dt := range []time.Duration{0, time.Second, 4999 * time.Millisecond} {
		al = only(t, a.Allocate(t0.Add(dt)))
		if al.FrameworkID != "B" {
			t.Fatalf("at +%v the declined agent went to %s, want B", dt, al.FrameworkID)
		}
		a.Recover("B", "s1", "*", al.Resources, 0, t0.Add(dt))
		mustCheck(t, a)
	}
	al = only(t, a.Allocate(t0.Add(5*time.Second)))
	if al.FrameworkID != "A" {
		t.Fatalf("after the filter expired the agent went to %s, want A", al.FrameworkID)
	}
	if n := len(a.agent("s1").filters); n != 0 {
		t.Fatalf("expired filter kept: %d", n)
	}
	mustCheck(t, a)
}

// TestDeclineFilterLargerResources: a filter covers only subsets of what was
// declined.
func TestDeclineFilterLargerResources(t *testing.T) {
	a := New(Config{Seed: 1})
	a.AddAgent("s1", AgentInfo{}, mp("cpus:4;mem:4096"), map[string]map[string]resources.Resources{
		"B": {"*": mp("cpus:2;mem:2048")},
	})
	a.AddFramework("A", nil, nil, true)
	a.AddFramework("B", nil, nil, true)
	al := only(t, a.Allocate(t0))
	if al.FrameworkID != "A" || !al.Resources.Equal(mp("cpus:2;mem:2048")) {
		t.Fatalf("got %+v", al)
	}
	a.Recover("A", "s1", "*", al.Resources, 5*time.Second, t0)
	a.Recover("B", "s1", "*", mp("cpus:2;mem:2048"), 0, t0)
	al = only(t, a.Allocate(t0.Add(time.Second)))
	if al.FrameworkID != "A" || !al.Resources.Equal(mp("cpus:4;mem:4096")) {
		t.Fatalf("larger than refused must not be filtered; got %+v", al)
	}
	mustCheck(t, a)
}

func TestReviveClearsFilters(t *testing.T) {
	a := New(Config{Seed: 1})
	a.AddAgent("s1", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	a.AddAgent("s2", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	a.AddFramework("A", nil, nil, true)
	for _, al := range a.Allocate(t0) {
		a.Recover(al.FrameworkID, al.AgentID, al.Role, al.Resources, time.Hour, t0)
	}
	if got := a.Allocate(t0.Add(time.Minute)); got != nil {
		t.Fatalf("filtered, got %v", got)
	}
	a.Revive("A")
	if !a.Dirty() {
		t.Fatal("Revive should make the allocator dirty")
	}
	if got := a.Allocate(t0.Add(time.Minute)); len(got) != 2 {
		t.Fatalf("after revive got %v", got)
	}
	mustCheck(t, a)
}

// TestFilterPerRole: a filter declined for one role does not stop offers
// for another role of the same framework.
func TestFilterPerRole(t *testing.T) {
	a := New(Config{Seed: 1})
	a.AddAgent("s1", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	a.AddFramework("A", []string{"r1", "r2"}, nil, true)
	al := only(t, a.Allocate(t0))
	if al.Role != "r1" {
		t.Fatalf("got %+v", al)
	}
	a.Recover("A", "s1", "r1", al.Resources, time.Hour, t0)
	al = only(t, a.Allocate(t0))
	if al.Role != "r2" {
		t.Fatalf("got %+v, want the agent for r2", al)
	}
}

// TestManyFilters exercises the indexed filter lookup (many frameworks with
// filters on one agent).
func TestManyFilters(t *testing.T) {
	a := New(Config{Seed: 1})
	a.AddAgent("s1", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	for i := range 50 {
		a.AddFramework(fmt.Sprintf("f%02d", i), nil, nil, true)
	}
	now := t0
	for i := range 50 {
		al := only(t, a.Allocate(now))
		if want := fmt.Sprintf("f%02d", i); al.FrameworkID != want {
			t.Fatalf("offer %d to %s, want %s", i, al.FrameworkID, want)
		}
		// refuse for 100s + i
		a.Recover(al.FrameworkID, al.AgentID, al.Role, al.Resources, time.Duration(100+i)*time.Second, now)
		mustCheck(t, a)
	}
	if got := a.Allocate(now); got != nil {
		t.Fatalf("everyone filtered, got %v", got)
	}
	// at +120s, filters of f00..f20 have expired
	al := only(t, a.Allocate(now.Add(120*time.Second)))
	if al.FrameworkID != "f00" {
		t.Fatalf("got %s", al.FrameworkID)
	}
	a.Recover(al.FrameworkID, al.AgentID, al.Role, al.Resources, 0, now)
	mustCheck(t, a)
	a.Revive("f30")
	a.Suppress("f00")
	for i := 1; i <= 20; i++ {
		a.Suppress(fmt.Sprintf("f%02d", i))
	}
	al = only(t, a.Allocate(now.Add(120*time.Second)))
	if al.FrameworkID != "f30" {
		t.Fatalf("got %s, want the revived f30", al.FrameworkID)
	}
	mustCheck(t, a)
}

// ---- suppress, revive, activation ----

func TestSuppressRevive(t *testing.T) {
	a := New(Config{Seed: 1})
	a.AddAgent("s1", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	a.AddFramework("A", []string{"r1", "r2"}, nil, true)
	a.Suppress("A")
	if got := a.Allocate(t0); got != nil {
		t.Fatalf("suppressed for all roles, got %v", got)
	}
	a.Revive("A", "r2")
	al := only(t, a.Allocate(t0))
	if al.Role != "r2" {
		t.Fatalf("got %+v, want an offer for r2 only", al)
	}
	a.Recover("A", "s1", "r2", al.Resources, 0, t0)
	a.Suppress("A", "r2")
	a.Revive("A", "r1")
	if al := only(t, a.Allocate(t0)); al.Role != "r1" {
		t.Fatalf("got %+v, want an offer for r1", al)
	}
	mustCheck(t, a)
	// suppression survives deactivation and reactivation
	b := New(Config{Seed: 1})
	b.AddAgent("s1", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	b.AddFramework("A", nil, nil, true)
	b.Suppress("A")
	b.DeactivateFramework("A")
	b.ActivateFramework("A")
	if got := b.Allocate(t0); got != nil {
		t.Fatalf("got %v", got)
	}
	b.Revive("A")
	only(t, b.Allocate(t0))
}

func TestDeactivateFramework(t *testing.T) {
	a := New(Config{Seed: 1})
	a.AddAgent("s1", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	a.AddAgent("s2", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	a.AddFramework("A", nil, nil, true)
	al := a.Allocate(t0)[0]
	a.Recover("A", al.AgentID, "*", mp("cpus:2;mem:2048"), 0, t0) // keeps half of one agent
	share := a.FrameworkShare("A")
	a.DeactivateFramework("A")
	if got := a.Allocate(t0); got != nil {
		t.Fatalf("inactive framework got %v", got)
	}
	if a.FrameworkShare("A") != share || share == 0 {
		t.Fatalf("deactivation changed what A holds: %v -> %v", share, a.FrameworkShare("A"))
	}
	a.AddFramework("B", nil, nil, true)
	if got := a.Allocate(t0); len(got) != 1 || got[0].FrameworkID != "B" {
		t.Fatalf("B should get the freed half, got %v", got)
	}
	a.ActivateFramework("A")
	if !a.Dirty() {
		t.Fatal("ActivateFramework should make the allocator dirty")
	}
	mustCheck(t, a)
	// inactive at registration
	b := New(Config{Seed: 1})
	b.AddAgent("s1", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	b.AddFramework("A", nil, nil, false)
	if got := b.Allocate(t0); got != nil {
		t.Fatalf("got %v", got)
	}
	b.ActivateFramework("A")
	only(t, b.Allocate(t0))
}

func TestDeactivateAgent(t *testing.T) {
	a := New(Config{Seed: 1})
	a.AddAgent("s1", AgentInfo{}, mp("cpus:4;mem:4096"), map[string]map[string]resources.Resources{
		"A": {"*": mp("cpus:1;mem:1024")},
	})
	a.AddFramework("A", nil, nil, true)
	a.DeactivateAgent("s1")
	if got := a.Allocate(t0); got != nil {
		t.Fatalf("inactive agent offered: %v", got)
	}
	if a.FrameworkShare("A") != 0.25 {
		t.Fatalf("allocation on a deactivated agent lost: share %v", a.FrameworkShare("A"))
	}
	a.ActivateAgent("s1")
	if !a.Dirty() {
		t.Fatal("ActivateAgent should make the allocator dirty")
	}
	al := only(t, a.Allocate(t0))
	if !al.Resources.Equal(mp("cpus:3;mem:3072")) {
		t.Fatalf("got %s", al.Resources)
	}
	mustCheck(t, a)
}

func TestRemoveFrameworkReturnsResources(t *testing.T) {
	a := New(Config{Seed: 1})
	for i := range 3 {
		a.AddAgent(fmt.Sprintf("s%d", i), AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	}
	a.AddFramework("A", []string{"r1", "r2"}, nil, true)
	got := a.Allocate(t0)
	if len(got) != 3 {
		t.Fatalf("got %v", got)
	}
	for _, al := range got {
		if al.Role == "r1" {
			a.Recover("A", al.AgentID, "r1", mp("cpus:1"), time.Hour, t0)
			break
		}
	}
	a.AddFramework("B", nil, nil, true)
	if got := a.Allocate(t0); len(got) != 1 || got[0].FrameworkID != "B" {
		t.Fatalf("got %v", got)
	}
	a.RemoveFramework("A")
	if !a.Dirty() {
		t.Fatal("RemoveFramework should make the allocator dirty")
	}
	if a.FrameworkShare("A") != 0 || a.RoleShare("r1") != 0 {
		t.Fatal("removed framework still holds resources")
	}
	mustCheck(t, a)
	got = a.Allocate(t0)
	total := resources.Resources(nil)
	for _, al := range got {
		if al.FrameworkID != "B" {
			t.Fatalf("got %+v", al)
		}
		total = total.Plus(al.Resources)
	}
	if !total.Equal(mp("cpus:11;mem:12288")) {
		t.Fatalf("B got %s, want everything A held", total)
	}
	if _, ok := a.roles["r1"]; ok {
		t.Fatal("unused role r1 not pruned")
	}
	mustCheck(t, a)
	// re-adding the same ID starts afresh
	a.AddFramework("A", nil, nil, true)
	if a.FrameworkShare("A") != 0 {
		t.Fatal("re-added framework inherits old state")
	}
	mustCheck(t, a)
}

func TestRemoveAgent(t *testing.T) {
	a := New(Config{Seed: 1})
	a.AddAgent("s1", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	a.AddAgent("s2", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	a.AddFramework("A", nil, nil, true)
	a.Allocate(t0)
	if s := a.FrameworkShare("A"); s != 1 {
		t.Fatalf("share %v", s)
	}
	a.RemoveAgent("s1")
	if s := a.FrameworkShare("A"); s != 1 {
		t.Fatalf("share after removing an agent %v, want 1 (s2 of s2)", s)
	}
	a.Recover("A", "s1", "*", mp("cpus:4;mem:4096"), 0, t0) // unknown agent: ignored
	mustCheck(t, a)
	a.AddAgent("s1", AgentInfo{}, mp("cpus:2;mem:2048"), nil)
	if al := only(t, a.Allocate(t0)); al.AgentID != "s1" || !al.Resources.Equal(mp("cpus:2;mem:2048")) {
		t.Fatalf("got %+v", al)
	}
	mustCheck(t, a)
}

func TestUpdateFrameworkRoles(t *testing.T) {
	a := New(Config{Seed: 1})
	a.AddAgent("s1", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	a.AddAgent("s2", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	a.AddFramework("A", []string{"r1"}, nil, true)
	al := a.Allocate(t0)[0]
	a.Recover("A", al.AgentID, "r1", al.Resources, 0, t0)
	// A holds one agent under r1
	a.UpdateFramework("A", []string{"r2"})
	if !a.Dirty() {
		t.Fatal("UpdateFramework should make the allocator dirty")
	}
	mustCheck(t, a)
	if a.RoleShare("r1") != 0.5 {
		t.Fatalf("r1 share %v: allocations under a left role must stay counted", a.RoleShare("r1"))
	}
	al = only(t, a.Allocate(t0))
	if al.Role != "r2" {
		t.Fatalf("got %+v", al)
	}
	for _, al := range a.Allocate(t0) {
		t.Fatalf("unexpected %+v", al)
	}
	a.Recover("A", al.AgentID, "r2", al.Resources, 0, t0)
	var held string
	for _, e := range a.agent("s1").allocs {
		held = e.fr.leaf.path
	}
	for _, e := range a.agent("s2").allocs {
		held = e.fr.leaf.path
	}
	if held != "r1" {
		t.Fatalf("held under %q", held)
	}
	mustCheck(t, a)
}

// ---- allocations known in advance, updates ----

func TestAddWithUsed(t *testing.T) {
	a := New(Config{Seed: 1})
	// agent re-registers first, reporting a framework not yet re-subscribed
	a.AddAgent("s1", AgentInfo{}, mp("cpus:4;mem:4096"), map[string]map[string]resources.Resources{
		"A": {"r1": mp("cpus:1;mem:1024")},
	})
	a.AddAgent("s2", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	if got := a.Allocate(t0); got != nil {
		t.Fatalf("no active framework yet, got %v", got)
	}
	// the framework re-subscribes, reporting the same and more
	a.AddFramework("A", []string{"r1"}, map[string]map[string]resources.Resources{
		"s1":      {"r1": mp("cpus:1;mem:1024")},
		"unknown": {"r1": mp("cpus:1")},
	}, true)
	mustCheck(t, a)
	if s := a.FrameworkShare("A"); s != 1.0/8 {
		t.Fatalf("share %v, want 1/8 (no double count)", s)
	}
	got := a.Allocate(t0)
	if len(got) != 2 {
		t.Fatalf("got %v", got)
	}
	mustCheck(t, a)
}

func TestUpdateAllocation(t *testing.T) {
	a := New(Config{Seed: 1})
	a.AddAgent("s1", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	a.AddFramework("A", []string{"r"}, nil, true)
	al := only(t, a.Allocate(t0))
	from := mp("cpus:1;mem:1024")
	to := dynReserve(from, "r")
	if err := a.UpdateAllocation("A", "s1", "r", from, to); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, a)
	want := al.Resources.Minus(from).Plus(to)
	if got := a.AgentAllocated("s1"); !got.Equal(want) {
		t.Fatalf("allocated %s, want %s", got, want)
	}
	if got := a.agent("s1").total; !got.Equal(want) {
		t.Fatalf("total %s, want %s", got, want)
	}
	// not held: error, nothing changes
	err := a.UpdateAllocation("A", "s1", "r", mp("cpus:4"), dynReserve(mp("cpus:4"), "r"))
	if !errors.Is(err, ErrNotHeld) {
		t.Fatalf("err = %v", err)
	}
	if got := a.AgentAllocated("s1"); !got.Equal(want) {
		t.Fatalf("failed update changed the allocation: %s", got)
	}
	if err := a.UpdateAllocation("nobody", "s1", "r", from, to); err == nil {
		t.Fatal("unknown framework accepted")
	}
	if err := a.UpdateAllocation("A", "s1", "other", to, from); err == nil {
		t.Fatal("wrong role accepted")
	}
	// return the reserved part: it is offered again, to role r only
	a.Recover("A", "s1", "r", to, 0, t0)
	a.AddFramework("B", []string{"q"}, nil, true)
	if got := a.Allocate(t0); len(got) != 1 || got[0].FrameworkID != "A" || !got[0].Resources.Equal(to) {
		t.Fatalf("got %v", got)
	}
	mustCheck(t, a)
}

func dynReserve(rs resources.Resources, role string) resources.Resources {
	out := make(resources.Resources, len(rs))
	for i, r := range rs {
		r.Reservations = []resources.Reservation{{Type: resources.Dynamic, Role: role}}
		out[i] = r
	}
	return resources.Resources(nil).Plus(out)
}

func TestUpdateAgentTotal(t *testing.T) {
	a := New(Config{Seed: 1})
	a.AddAgent("s1", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	a.AddFramework("A", nil, nil, true)
	only(t, a.Allocate(t0))
	if a.Dirty() {
		t.Fatal("dirty after Allocate")
	}
	a.UpdateAgentTotal("s1", mp("cpus:8;mem:8192"))
	if !a.Dirty() {
		t.Fatal("UpdateAgentTotal should make the allocator dirty")
	}
	al := only(t, a.Allocate(t0))
	if !al.Resources.Equal(mp("cpus:4;mem:4096")) {
		t.Fatalf("got %s", al.Resources)
	}
	if s := a.FrameworkShare("A"); s != 1 {
		t.Fatalf("share %v", s)
	}
	mustCheck(t, a)
}

// ---- dirty, determinism ----

func TestDirty(t *testing.T) {
	a := New(Config{Seed: 1})
	if a.Dirty() {
		t.Fatal("new allocator dirty")
	}
	a.AddAgent("s1", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	if !a.Dirty() {
		t.Fatal("AddAgent")
	}
	a.Allocate(t0)
	a.AddFramework("A", nil, nil, false)
	if a.Dirty() {
		t.Fatal("adding an inactive framework cannot yield offers")
	}
	a.AddFramework("B", nil, nil, true)
	if !a.Dirty() {
		t.Fatal("AddFramework")
	}
	a.Allocate(t0)
	a.Suppress("B")
	a.DeactivateAgent("s1")
	a.DeactivateFramework("B")
	if a.Dirty() {
		t.Fatal("suppress/deactivate cannot yield offers")
	}
}

func TestDeterminism(t *testing.T) {
	run := func(seed int64) []Allocation {
		a := New(Config{Seed: seed})
		for i := range 200 {
			a.AddAgent(fmt.Sprintf("s%03d", i), AgentInfo{}, mp("cpus:4;mem:4096"), nil)
		}
		for i := range 20 {
			a.AddFramework(fmt.Sprintf("f%02d", i), []string{fmt.Sprintf("r%d", i%3)}, nil, true)
		}
		var all []Allocation
		now := t0
		for c := range 5 {
			got := a.Allocate(now)
			all = append(all, got...)
			for i, al := range got {
				if (i+c)%3 == 0 {
					a.Recover(al.FrameworkID, al.AgentID, al.Role, al.Resources, time.Duration(i%4)*time.Second, now)
				}
			}
			now = now.Add(time.Second)
		}
		return all
	}
	x, y, z := run(42), run(42), run(43)
	if !slices.EqualFunc(x, y, func(p, q Allocation) bool {
		return p.FrameworkID == q.FrameworkID && p.AgentID == q.AgentID && p.Role == q.Role && p.Resources.Equal(q.Resources)
	}) {
		t.Fatal("same seed, different allocations")
	}
	same := len(x) == len(z)
	for i := 0; same && i < len(x); i++ {
		same = x[i].AgentID == z[i].AgentID
	}
	if same {
		t.Fatal("different seeds gave the same agent order")
	}
}

// TestOffersExactlyAvailable: an offer is everything available, and nothing
// is offered twice.
func TestOffersExactlyAvailable(t *testing.T) {
	a := New(Config{Seed: 9})
	for i := range 50 {
		a.AddAgent(fmt.Sprintf("s%02d", i), AgentInfo{}, mp("cpus:16;mem:65536;disk:1000000;ports:[31000-32000]"), nil)
	}
	for i := range 7 {
		a.AddFramework(fmt.Sprintf("f%d", i), nil, nil, true)
	}
	got := a.Allocate(t0)
	if len(got) != 50 {
		t.Fatalf("%d offers, want 50", len(got))
	}
	seen := map[string]bool{}
	for _, al := range got {
		if seen[al.AgentID] {
			t.Fatalf("agent %s offered twice", al.AgentID)
		}
		seen[al.AgentID] = true
		if !al.Resources.Equal(mp("cpus:16;mem:65536;disk:1000000;ports:[31000-32000]")) {
			t.Fatalf("offer %s", al.Resources)
		}
	}
	per := map[string]int{}
	for _, al := range got {
		per[al.FrameworkID]++
	}
	for id, n := range per {
		if n < 7 || n > 8 {
			t.Fatalf("framework %s got %d agents, want 7 or 8 (%v)", id, n, per)
		}
	}
	if a.Allocate(t0) != nil {
		t.Fatal("offered again while allocated")
	}
	recoverAll(a, got, t0)
	if n := len(a.Allocate(t0)); n != 50 {
		t.Fatalf("after recovering everything: %d offers", n)
	}
	mustCheck(t, a)
}

// TestManyReservationRoles: an agent with more reservation roles than the
// masks handle falls back to Resources arithmetic, with the same result.
func TestManyReservationRoles(t *testing.T) {
	for _, roles := range []int{3, maxParts + 6} {
		t.Run(fmt.Sprint(roles), func(t *testing.T) {
			a := New(Config{Seed: 1})
			text := "cpus:1;mem:1024"
			for i := range roles {
				text += fmt.Sprintf(";cpus(r%02d):1;mem(r%02d):64", i, i)
			}
			a.AddAgent("s1", AgentInfo{}, mp(text), nil)
			a.AddFramework("star", nil, nil, true)
			for i := range roles {
				a.AddFramework(fmt.Sprintf("f%02d", i), []string{fmt.Sprintf("r%02d", i)}, nil, true)
			}
			got := a.Allocate(t0)
			if len(got) != roles+1 {
				t.Fatalf("%d offers, want %d", len(got), roles+1)
			}
			for _, al := range got {
				if err := checkOffer(a, al, t0); err != nil {
					t.Fatalf("%+v: %v", al, err)
				}
				if al.FrameworkID != "star" && al.Resources.ScalarTotal("cpus") != resources.Scale {
					// each role got its reservation; the unreserved part went
					// to the first role in order (r00) or to "*"
					if al.FrameworkID != "f00" || al.Resources.ScalarTotal("cpus") != 2*resources.Scale {
						t.Fatalf("unexpected offer %+v", al)
					}
				}
			}
			mustCheck(t, a)
			recoverAll(a, got, t0)
			mustCheck(t, a)
			if n := len(a.Allocate(t0)); n != roles+1 {
				t.Fatalf("second cycle: %d offers", n)
			}
			mustCheck(t, a)
		})
	}
}

// TestFilterAfterRoleChange: a filter is for one role; when the framework
// changes roles, cached filter verdicts must not carry over to the new
// role's membership.
func TestFilterAfterRoleChange(t *testing.T) {
	a := New(Config{Seed: 1})
	a.AddAgent("s1", AgentInfo{}, mp("cpus:4;mem:4096"), nil)
	a.AddFramework("X", []string{"r1"}, nil, true)
	al := only(t, a.Allocate(t0))
	a.Recover("X", "s1", "r1", al.Resources, time.Hour, t0)
	if got := a.Allocate(t0); got != nil {
		t.Fatalf("filtered, got %v", got)
	}
	a.UpdateFramework("X", []string{"r2"})
	if al := only(t, a.Allocate(t0)); al.Role != "r2" {
		t.Fatalf("got %+v", al)
	}
	mustCheck(t, a)
}
