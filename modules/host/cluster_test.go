package host

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/modules/sdk"
)

// drain returns the events waiting on sub, as short strings.
func drain(sub *subscription) []string {
	var out []string
	for {
		select {
		case ev, ok := <-sub.events:
			if !ok {
				return append(out, "CLOSED")
			}
			out = append(out, eventString(ev))
		default:
			return out
		}
	}
}

func eventString(ev sdk.Event) string {
	switch {
	case ev.Task != nil:
		t := ev.Task
		return fmt.Sprintf("%s %s/%s %s %s host=%s ips=%v ports=%d labels=%v", ev.Type, t.FrameworkName, t.ID, t.State, t.Health, t.Hostname, t.IPs, len(t.Ports), t.Labels)
	case ev.Agent != nil:
		return fmt.Sprintf("%s %s active=%v attrs=%v", ev.Type, ev.Agent.Hostname, ev.Agent.Active, ev.Agent.Attributes)
	case ev.Framework != nil:
		return fmt.Sprintf("%s %s active=%v", ev.Type, ev.Framework.Name, ev.Framework.Active)
	}
	return fmt.Sprintf("%s %s", ev.Type, ev.Leader)
}

func expectEvents(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestClusterView(t *testing.T) {
	c := newCluster(slog.New(newLogRecorder()), 100)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.subscribe(ctx); err == nil {
		t.Fatal("subscribe before the first snapshot did not wait")
	}
	if _, ok := c.snapshot(); ok {
		t.Fatal("snapshot ok before the first one")
	}
	st := testState()
	c.apply(protocol.ClusterEvent{Type: protocol.EvSubscribed, State: &st})
	snap, sub, err := c.subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.Leader != "http://127.0.0.1:5050" || len(snap.Agents) != 1 || len(snap.Frameworks) != 1 || len(snap.Tasks) != 1 {
		t.Fatalf("snapshot %+v", snap)
	}
	web := snap.Tasks[0]
	if web.FrameworkName != "services" || web.Hostname != "agent-1" || web.Address != "10.0.0.2" || fmt.Sprint(web.IPs) != "[10.0.0.2]" ||
		fmt.Sprint(web.Ports) != "[{31000  } {31001  }]" || web.Health != sdk.HealthHealthy || web.Labels["tier"] != "front" || web.State != "TASK_RUNNING" {
		t.Errorf("task %+v", web)
	}
	if a := snap.Agents[0]; a.Attributes["rack"] != "r1" || !a.Active {
		t.Errorf("agent %+v", a)
	}

	no := false
	c.apply(protocol.ClusterEvent{Type: protocol.EvFrameworkAdded, Framework: &protocol.Framework{ID: "F2", Name: "cron", Connected: true}})
	c.apply(protocol.ClusterEvent{Type: protocol.EvFrameworkUpdated, Framework: &protocol.Framework{ID: "F2", Name: "cron", Connected: true}}) // no change
	c.apply(protocol.ClusterEvent{Type: protocol.EvAgentAdded, Agent: &protocol.Agent{ID: "A2", Hostname: "agent-2", Address: "node2", Status: protocol.AgentActive}})
	c.apply(protocol.ClusterEvent{Type: protocol.EvTaskAdded, Task: &protocol.Task{ID: "j.1", FrameworkID: "F2", AgentID: "A2", State: protocol.TaskStaging}})
	// TASK_UPDATED has only the identity and the state: the ports and
	// labels the host knew stay.
	c.apply(protocol.ClusterEvent{Type: protocol.EvTaskUpdated, Task: &protocol.Task{ID: "web.1", FrameworkID: "F1", AgentID: "A1", State: protocol.TaskRunning, Healthy: &no}})
	c.apply(protocol.ClusterEvent{Type: protocol.EvTaskUpdated, Task: &protocol.Task{ID: "web.1", FrameworkID: "F1", AgentID: "A1", State: protocol.TaskRunning, Healthy: &no}}) // again
	c.apply(protocol.ClusterEvent{Type: protocol.EvAgentUpdated, Agent: &protocol.Agent{ID: "A2", Hostname: "agent-2", Address: "node2", Status: protocol.AgentUnreachable}})
	c.apply(protocol.ClusterEvent{Type: protocol.EvTaskUpdated, Task: &protocol.Task{ID: "j.1", FrameworkID: "F2", AgentID: "A2", State: protocol.TaskFinished}})
	c.apply(protocol.ClusterEvent{Type: protocol.EvTaskUpdated, Task: &protocol.Task{ID: "j.1", FrameworkID: "F2", AgentID: "A2", State: protocol.TaskFinished}}) // gone already
	c.apply(protocol.ClusterEvent{Type: protocol.EvAgentRemoved, Agent: &protocol.Agent{ID: "A2"}})
	c.apply(protocol.ClusterEvent{Type: protocol.EvFrameworkRemoved, Framework: &protocol.Framework{ID: "F2"}})
	expectEvents(t, drain(sub),
		"FRAMEWORK_ADDED cron active=true",
		"AGENT_ADDED agent-2 active=true attrs=map[]",
		"TASK_UPDATED cron/j.1 TASK_STAGING unknown host=agent-2 ips=[] ports=0 labels=map[]",
		"TASK_UPDATED services/web.1 TASK_RUNNING unhealthy host=agent-1 ips=[10.0.0.2] ports=2 labels=map[tier:front]",
		"AGENT_UPDATED agent-2 active=false attrs=map[]",
		"TASK_UPDATED cron/j.1 TASK_FINISHED unknown host=agent-2 ips=[] ports=0 labels=map[]",
		"AGENT_REMOVED agent-2 active=false attrs=map[]",
		"FRAMEWORK_REMOVED cron active=true",
	)
	if snap, _ := c.snapshot(); len(snap.Tasks) != 1 || len(snap.Agents) != 1 || len(snap.Frameworks) != 1 {
		t.Errorf("snapshot after: %+v", snap)
	}

	// A reconnection to another master: the differences, as events.
	st2 := testState()
	st2.Master.URL = "http://10.0.0.9:5050"
	st2.Agents[0].Status = protocol.AgentUnreachable
	st2.Agents = append(st2.Agents, protocol.Agent{ID: "A3", Hostname: "agent-3", Status: protocol.AgentActive})
	st2.Frameworks = append(st2.Frameworks, protocol.Framework{ID: "F3", Name: "storage"})
	st2.Tasks[0].State = protocol.TaskKilled // web.1 ended while the host was away
	st2.Tasks = append(st2.Tasks, protocol.Task{ID: "s.1", FrameworkID: "F3", AgentID: "A3", State: protocol.TaskRunning})
	c.apply(protocol.ClusterEvent{Type: protocol.EvSubscribed, State: &st2})
	expectEvents(t, drain(sub),
		"LEADER_CHANGED http://10.0.0.9:5050",
		"FRAMEWORK_ADDED storage active=false",
		"AGENT_UPDATED agent-1 active=false attrs=map[rack:r1]",
		"AGENT_ADDED agent-3 active=true attrs=map[]",
		"TASK_UPDATED storage/s.1 TASK_RUNNING unknown host=agent-3 ips=[] ports=0 labels=map[]",
		"TASK_UPDATED services/web.1 TASK_KILLED unhealthy host=agent-1 ips=[10.0.0.2] ports=2 labels=map[tier:front]",
	)
	// A task the master forgot while the host was away is reported gone.
	st3 := st2
	st3.Tasks = nil
	c.apply(protocol.ClusterEvent{Type: protocol.EvSubscribed, State: &st3})
	expectEvents(t, drain(sub), "TASK_UPDATED storage/s.1 TASK_GONE unknown host=agent-3 ips=[] ports=0 labels=map[]")
	c.unsubscribe(sub)
	c.unsubscribe(sub)
}

// TestClusterSlowWatcher: a subscriber that falls behind has its channel
// closed, and the others do not wait for it.
func TestClusterSlowWatcher(t *testing.T) {
	rec := newLogRecorder()
	c := newCluster(slog.New(rec), 2)
	st := testState()
	c.apply(protocol.ClusterEvent{Type: protocol.EvSubscribed, State: &st})
	_, slow, _ := c.subscribe(context.Background())
	_, fast, _ := c.subscribe(context.Background())
	for i := range 3 {
		c.apply(protocol.ClusterEvent{Type: protocol.EvAgentAdded, Agent: &protocol.Agent{ID: protocol.AgentID(fmt.Sprint("X", i)), Status: protocol.AgentActive}})
		if i == 1 {
			drain(fast)
		}
	}
	if got := drain(slow); len(got) != 3 || got[2] != "CLOSED" {
		t.Errorf("slow: %v", got)
	}
	if got := drain(fast); len(got) != 1 || got[0] == "CLOSED" {
		t.Errorf("fast: %v", got)
	}
	if len(rec.lines("WARN a watcher fell behind")) != 1 {
		t.Errorf("log: %s", rec.all())
	}
}

// TestWatcherAfterReconnect: when the host's stream from the master breaks
// it reconnects and a running watcher gets the changes as events (not a
// new snapshot); a SUBSCRIBED without the state makes the host read
// /v1/state.
func TestWatcherAfterReconnect(t *testing.T) {
	path, sum := buildExample(t)
	master := newFakeMaster(testState())
	master.omitFull = true
	h, logs := runHost(t, Config{Master: master, Sources: []Source{StaticSource(
		watcherSpec("echo", path, sum))}})
	eventually(t, "the snapshot", func() bool { return len(logs.lines("echo: snapshot", "tasks=1")) == 1 }, logs.all, describe(h))
	master.mu.Lock()
	master.state.Tasks = append(master.state.Tasks, protocol.Task{ID: "new.1", FrameworkID: "F1", AgentID: "A1", State: protocol.TaskRunning})
	master.mu.Unlock()
	master.disconnect()
	eventually(t, "the host to reconnect and the module to get the new task", func() bool {
		return master.subscriptions() == 2 && len(logs.lines("echo: task", "task=new.1", "tasks=2")) == 1
	}, logs.all)
	if n := len(logs.lines("echo: snapshot")); n != 1 {
		t.Errorf("%d snapshots", n)
	}
	if len(logs.lines("WARN lost the master's event stream: reconnecting", "disconnected by the test")) != 1 {
		t.Errorf("log: %s", logs.all())
	}
	if snap, ok := h.Snapshot(); !ok || len(snap.Tasks) != 2 {
		t.Errorf("Snapshot: %v %+v", ok, snap)
	}
}
