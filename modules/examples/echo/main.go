// Command echo is an example Cairn module, the smallest useful one. As a
// watcher it counts the cluster's live tasks and logs every change through
// the host (sdk.Logger), so its lines land in the host's log; as a hook it
// adds a greeting to every task's environment and a label.
//
// Configuration (optional): {"greeting": "hello"}.
//
// Build it with `go build -o bin/modules/echo ./modules/examples/echo` and
// see docs/modules.md for how to run it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/cairn-dc/cairn/modules/sdk"
)

// config is the module's configuration.
type config struct {
	Greeting string `json:"greeting"`
}

// echo is the module. Configure runs before any other call, but the calls
// come on different goroutines: hence the mutex.
type echo struct {
	mu  sync.Mutex
	cfg config
}

func (e *echo) Configure(_ context.Context, raw []byte) error {
	cfg := config{Greeting: "hello from echo"}
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return fmt.Errorf("echo's config: %w; want {\"greeting\": \"some text\"}", err)
		}
	}
	e.mu.Lock()
	e.cfg = cfg
	e.mu.Unlock()
	return nil
}

// Watch counts the live tasks: the snapshot's, then the changes.
func (e *echo) Watch(_ context.Context, host sdk.Host, snap sdk.Snapshot, events <-chan sdk.Event) error {
	log := sdk.Logger(host)
	live := map[string]bool{} // framework id + "/" + task id
	for _, t := range snap.Tasks {
		live[t.FrameworkID+"/"+t.ID] = true
	}
	log.Info("echo: snapshot", "tasks", len(live), "agents", len(snap.Agents),
		"frameworks", len(snap.Frameworks), "leader", snap.Leader)
	for ev := range events {
		switch ev.Type {
		case sdk.TaskUpdated:
			t := ev.Task
			if t.Terminal() {
				delete(live, t.FrameworkID+"/"+t.ID)
			} else {
				live[t.FrameworkID+"/"+t.ID] = true
			}
			log.Info("echo: task", "task", t.ID, "framework", t.FrameworkName, "state", t.State,
				"host", t.Hostname, "ports", len(t.Ports), "tasks", len(live))
		case sdk.AgentAdded, sdk.AgentUpdated, sdk.AgentRemoved:
			log.Info("echo: agent", "event", string(ev.Type), "agent", ev.Agent.Hostname, "active", ev.Agent.Active)
		case sdk.FrameworkAdded, sdk.FrameworkUpdated, sdk.FrameworkRemoved:
			log.Info("echo: framework", "event", string(ev.Type), "framework", ev.Framework.Name, "active", ev.Framework.Active)
		case sdk.LeaderChanged:
			log.Info("echo: leader", "leader", ev.Leader)
		default:
			log.Debug("echo: an event this module does not know", "event", string(ev.Type))
		}
	}
	return nil // the host closed the stream
}

// BeforeLaunch greets every task.
func (e *echo) BeforeLaunch(_ context.Context, _ sdk.Host, task sdk.TaskLaunchInfo) (sdk.LaunchChanges, error) {
	e.mu.Lock()
	greeting := e.cfg.Greeting
	e.mu.Unlock()
	return sdk.LaunchChanges{
		Env:    map[string]string{"ECHO_GREETING": greeting + ", " + task.Name},
		Labels: map[string]string{"echo": "seen"},
	}, nil
}

func main() { sdk.Serve(&echo{}) }
