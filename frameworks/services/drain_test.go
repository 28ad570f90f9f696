package services_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/master"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/simagent"
)

// An operator drains an agent: the master kills its tasks with
// REASON_AGENT_DRAINING and the services framework replaces them on
// another agent at once (a drain is no failure of the app: no back-off).
func TestDrainedAgentTasksAreReplacedElsewhere(t *testing.T) {
	c := newCluster(t)
	const res = "cpus:2;mem:4096;ports:[31000-31100]"
	host1 := c.Agents(1, res, nil)[0]
	c.services()
	ev := c.events()
	// A long back-off: a replacement that waited for it would time the test out.
	app := `{"id":"/web","cmd":"sleep 1000","cpus":0.5,"mem":64,"instances":2,"backoffSeconds":600}`
	if code, out := c.api("POST", "/v2/apps", app); code != 201 {
		t.Fatalf("%d %v", code, out)
	}
	waitFor(t, 15*time.Second, "2 running on host-1", func() bool { return c.running("/web") == 2 && c.deploymentsDone() })
	old := map[string]bool{}
	for _, tk := range c.tasksOf("/web") {
		if tk["slaveId"] != string(host1.ID()) {
			t.Fatalf("task %v not on host-1 (the only agent)", tk)
		}
		old[tk["id"].(string)] = true
	}
	host2 := c.Agents(1, res, func(cfg *simagent.Config) { cfg.Hostname = "host-2" })[0]

	url := c.HTTP(master.HTTPConfig{})
	resp, err := http.Post(url+"/v1/agents/"+string(host1.ID())+"/drain", "application/json",
		strings.NewReader(`{"reason":"kernel upgrade"}`))
	if err != nil {
		t.Fatal(err)
	}
	var ag protocol.Agent
	_ = json.NewDecoder(resp.Body).Decode(&ag)
	resp.Body.Close()
	if resp.StatusCode != 200 || ag.Status != protocol.AgentDraining {
		t.Fatalf("drain: %d %+v", resp.StatusCode, ag)
	}

	waitFor(t, 15*time.Second, "2 replacements running on host-2", func() bool {
		ts := c.tasksOf("/web")
		if len(ts) != 2 {
			return false
		}
		for _, tk := range ts {
			if old[tk["id"].(string)] || tk["slaveId"] != string(host2.ID()) || tk["state"] != "TASK_RUNNING" {
				return false
			}
		}
		return true
	})
	// The framework saw each old task KILLED with a message naming the drain.
	killed := 0
	for _, e := range ev.snapshot() {
		if e["eventType"] == "status_update_event" && old[e["taskId"].(string)] && e["taskStatus"] == "TASK_KILLED" {
			if msg, _ := e["message"].(string); !strings.Contains(msg, "draining") || !strings.Contains(msg, "kernel upgrade") {
				t.Fatalf("KILLED event message %q does not name the drain", msg)
			}
			killed++
		}
	}
	if killed != 2 {
		t.Fatalf("%d TASK_KILLED events for the old tasks, want 2", killed)
	}
	// The master has them KILLED for the drain, and the drain is over.
	for _, tk := range c.M.State().Tasks {
		if old[string(tk.ID)] {
			last := tk.Statuses[len(tk.Statuses)-1]
			if tk.State != protocol.TaskKilled || last.Reason != protocol.ReasonAgentDraining {
				t.Fatalf("old task %s: %s %s", tk.ID, tk.State, last.Reason)
			}
		}
	}
	waitFor(t, 5*time.Second, "host-1 DRAINED", func() bool {
		for _, a := range c.M.State().Agents {
			if a.ID == host1.ID() {
				return a.Status == protocol.AgentDrained
			}
		}
		return false
	})
	if app := c.app("/web"); app["lastTaskFailure"] != nil {
		t.Fatalf("a drain is not a task failure: %v", app["lastTaskFailure"])
	}
}
