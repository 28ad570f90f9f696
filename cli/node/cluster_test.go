package node

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/master"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/kernel/scheduler"
	"github.com/cairn-dc/cairn/kernel/simagent"
	"github.com/cairn-dc/cairn/kernel/testcluster"
)

// The commands against a real master: drain --wait follows a task being
// killed (slowly) to DRAINED; list --json shows it; undrain ends it.
func TestDrainUndrainAgainstCluster(t *testing.T) {
	c := testcluster.New(t)
	agents := c.Agents(2, "cpus:2;mem:1024", func(cfg *simagent.Config) { cfg.KillDelay = 200 * time.Millisecond })
	url := c.HTTP(master.HTTPConfig{})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := scheduler.Subscribe(ctx, scheduler.Config{Conn: c.Conn("fw"), Framework: protocol.FrameworkInfo{Name: "web"}, Logger: c.Log})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	launched := false
	for !launched {
		select {
		case ev := <-f.Events():
			if ev.Type != protocol.EventOffers {
				continue
			}
			for _, o := range ev.Offers.Offers {
				if o.AgentID == agents[0].ID() && !launched {
					if _, err := f.Launch(ctx, o, scheduler.Task("w1", "w1", resources.MustParse("cpus:1;mem:64"), "sleep 3600")); err != nil {
						t.Fatal(err)
					}
					launched = true
				}
			}
		case <-ctx.Done():
			t.Fatal("no offer of host-1")
		}
	}
	if err := agents[0].WaitTask(ctx, "w1", protocol.TaskRunning); err != nil {
		t.Fatal(err)
	}
	testcluster.WaitFor(t, 5*time.Second, "the task counted on host-1", func() bool {
		for _, a := range c.M.State().Agents {
			if a.ID == agents[0].ID() {
				return a.ActiveTasks == 1
			}
		}
		return false
	})

	out, errOut, err := run(t, url, "drain", "host-1", "--reason", "kernel upgrade", "--grace-period", "1s", "--wait")
	if err != nil {
		t.Fatalf("drain: %v\n%s", err, errOut)
	}
	id := string(agents[0].ID())
	want := "draining agent host-1 (" + id + "): no new offers; killing its 1 task\n" +
		"agent host-1 (" + id + ") is drained: no task left on it\n"
	if out != want {
		t.Fatalf("drain output:\n%s\nwant:\n%s", out, want)
	}
	if !strings.HasPrefix(errOut, "waiting for host-1 ("+id+") to drain: 1 task left\n") {
		t.Fatalf("progress: %q", errOut)
	}

	out, _, err = run(t, url, "list", "--json")
	var nodes []Node
	if err != nil || json.Unmarshal([]byte(out), &nodes) != nil || len(nodes) != 2 {
		t.Fatalf("list --json: %v %s", err, out)
	}
	if n := nodes[0]; n.Hostname != "host-1" || n.Status != protocol.AgentDrained || n.Drain == nil || n.Drain.Reason != "kernel upgrade" ||
		n.Drain.GracePeriodSeconds == nil || *n.Drain.GracePeriodSeconds != 1 || n.ActiveTasks != 0 {
		t.Fatalf("host-1: %+v %+v", n, n.Drain)
	}
	if n := nodes[1]; n.Hostname != "host-2" || n.Status != protocol.AgentActive || n.Drain != nil {
		t.Fatalf("host-2: %+v", n)
	}
	out, _, err = run(t, url, "list", "--maintenance")
	if err != nil || !strings.Contains(out, "host-1") || strings.Contains(out, "host-2") {
		t.Fatalf("list --maintenance: %v\n%s", err, out)
	}

	if out, _, err = run(t, url, "undrain", "host-1"); err != nil || !strings.Contains(out, "is active again") {
		t.Fatalf("undrain: %v %q", err, out)
	}
	testcluster.WaitFor(t, 5*time.Second, "host-1 ACTIVE in the operator API", func() bool {
		out, _, err := run(t, url, "list", "--json")
		return err == nil && json.Unmarshal([]byte(out), &nodes) == nil && nodes[0].Status == protocol.AgentActive && nodes[0].Drain == nil
	})
}
