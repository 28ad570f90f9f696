package scheduler

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

func TestTaskHelpers(t *testing.T) {
	res := resources.MustParse("cpus:0.1;mem:32")
	task := Task("hello.1", "hello", res, "echo hello")
	if task.TaskID != "hello.1" || task.Name != "hello" || task.Command.Value != "echo hello" || !task.Command.IsShell() || !task.Resources.Equal(res) {
		t.Fatalf("Task = %+v", task)
	}
	if err := task.Validate("task"); err != nil {
		t.Fatalf("Task is not valid: %v", err)
	}
	id := NewTaskID("web")
	if !strings.HasPrefix(string(id), "web.") || protocol.ValidateTaskID("id", id) != nil || NewTaskID("web") == id {
		t.Fatalf("NewTaskID = %q", id)
	}
	if err := protocol.ValidateTaskID("id", NewTaskID("")); err != nil {
		t.Fatal(err)
	}
	op := LaunchOp("a1", task, protocol.TaskInfo{TaskID: "x", AgentID: "a2"})
	if op.Type != protocol.OpLaunch || op.Launch.TaskInfos[0].AgentID != "a1" || op.Launch.TaskInfos[1].AgentID != "a2" {
		t.Fatalf("LaunchOp = %+v", op.Launch)
	}
	if task.AgentID != "" {
		t.Fatal("LaunchOp modified its argument")
	}
	if f := Refuse(90 * time.Second); f.Refuse() != 90 {
		t.Fatalf("Refuse = %v", f.Refuse())
	}
}

func TestOfferPool(t *testing.T) {
	offers := []protocol.Offer{
		{ID: "o1", AgentID: "a1", Hostname: "h1", Resources: resources.MustParse("cpus:1;mem:100")},
		{ID: "o2", AgentID: "a2", Hostname: "h2", Resources: resources.MustParse("cpus:2;mem:1000")},
		{ID: "o3", AgentID: "a3", Hostname: "h3", Resources: resources.MustParse("cpus:4;mem:4000")},
	}
	p := NewOfferPool(offers...)
	small := resources.MustParse("cpus:0.5;mem:50")
	big := resources.MustParse("cpus:1.5;mem:600")

	place := func(id string, res resources.Resources) (protocol.OfferID, bool) {
		o, ok := p.Place(Task(protocol.TaskID(id), id, res, "true"))
		return o.ID, ok
	}
	for _, c := range []struct {
		task string
		res  resources.Resources
		want protocol.OfferID
	}{
		{"s1", small, "o1"}, {"s2", small, "o1"}, {"s3", small, "o2"}, // o1 is full
		{"b1", big, "o2"}, // exactly the 1.5 cpus o2 has left
		{"b2", big, "o3"},
	} {
		got, ok := place(c.task, c.res)
		if !ok || got != c.want {
			t.Fatalf("%s placed on %q (%v), want %s", c.task, got, ok, c.want)
		}
	}
	if rem := p.Remaining("o1"); !rem.IsEmpty() {
		t.Fatalf("o1 remaining %s, want nothing", rem)
	}
	if rem := p.Remaining("o2"); !rem.Equal(resources.MustParse("mem:350")) {
		t.Fatalf("o2 remaining %s", rem)
	}
	if _, ok := place("huge", resources.MustParse("cpus:5")); ok {
		t.Fatal("a task bigger than every offer was placed")
	}
	// Constraints.
	o, ok := p.PlaceIf(Task("c1", "c", small, "true"), func(o protocol.Offer) bool { return o.Hostname == "h3" })
	if !ok || o.ID != "o3" {
		t.Fatalf("PlaceIf on h3: %v %v", o.ID, ok)
	}

	p.Add(protocol.Offer{ID: "o4", AgentID: "a4", Resources: resources.MustParse("cpus:1")})
	p.Add(offers[0]) // already there: ignored
	launches := p.Launches()
	var ids []protocol.OfferID
	for _, l := range launches {
		ids = append(ids, l.Offer.ID)
		for _, task := range l.Tasks {
			if task.AgentID != l.Offer.AgentID {
				t.Fatalf("task %s on offer %s has agent %s", task.TaskID, l.Offer.ID, task.AgentID)
			}
		}
	}
	if !slices.Equal(ids, []protocol.OfferID{"o1", "o2", "o3"}) || len(launches[0].Tasks) != 2 || len(launches[1].Tasks) != 2 || len(launches[2].Tasks) != 2 {
		t.Fatalf("launches on %v: %+v", ids, launches)
	}
	if u := p.Unused(); !slices.Equal(u, []protocol.OfferID{"o4"}) {
		t.Fatalf("unused %v", u)
	}

	// A rescinded offer gives its tasks back.
	back := p.Remove("o1")
	if len(back) != 2 || p.Remaining("o1") != nil || p.Remove("o1") != nil {
		t.Fatalf("Remove gave back %+v", back)
	}
	if _, ok := p.Place(back[0]); !ok {
		t.Fatal("could not re-place a task")
	}
}

func TestOfferPoolReservations(t *testing.T) {
	p := NewOfferPool(protocol.Offer{ID: "o1", AgentID: "a1", Resources: resources.MustParse("cpus(prod):2;cpus:1")})
	if _, ok := p.Place(Task("t1", "t", resources.MustParse("cpus:2"), "true")); ok {
		t.Fatal("unreserved cpus:2 fit in 1 unreserved cpu")
	}
	if _, ok := p.Place(Task("t2", "t", resources.MustParse("cpus(prod):2"), "true")); !ok {
		t.Fatal("reserved cpus did not fit")
	}
	if rem := p.Remaining("o1"); !rem.Equal(resources.MustParse("cpus:1")) {
		t.Fatalf("remaining %s", rem)
	}
}
