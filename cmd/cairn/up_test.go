package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/cli"
	"github.com/cairn-dc/cairn/kernel/bus"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/kernel/scheduler"
	"github.com/cairn-dc/cairn/kernel/simagent"
)

// syncBuffer is a bytes.Buffer safe to read while a command writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestUpRunsACluster runs `cairn up` as the binary would, drives it with a
// framework from the client library over its NATS, checks the CLI sees the
// work, stops it, and starts it again on the same data: nothing is lost.
func TestUpRunsACluster(t *testing.T) {
	dir := t.TempDir()
	start := func() (apiURL, natsURL string, stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		out, errOut := &syncBuffer{}, &syncBuffer{}
		done := make(chan int, 1)
		go func() {
			done <- run(ctx, []string{"up", "--data-dir", dir, "--http", "127.0.0.1:0", "--nats-port", "-1", "--agents", "2"},
				cli.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}, func(string) string { return "" })
		}()
		api := regexp.MustCompile(`operator API\s+(http://\S+)`)
		nats := regexp.MustCompile(`NATS\s+(nats://\S+)`)
		deadline := time.Now().Add(30 * time.Second)
		for api.FindStringSubmatch(out.String()) == nil {
			select {
			case code := <-done:
				t.Fatalf("cairn up exited %d: %s", code, errOut.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("cairn up printed no API URL: %s %s", out.String(), errOut.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if !strings.Contains(out.String(), "Try, in another terminal") {
			t.Errorf("cairn up does not say what to try next: %s", out.String())
		}
		return api.FindStringSubmatch(out.String())[1], nats.FindStringSubmatch(out.String())[1], func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("cairn up exited %d after Ctrl-C: %s", code, errOut.String())
			}
		}
	}
	listJSON := func(api string, noun string, into any) {
		t.Helper()
		code, out, errOut := runMain(t, nil, noun, "list", "--json", "--url", api)
		if code != 0 {
			t.Fatalf("cairn %s list: exit %d: %s", noun, code, errOut)
		}
		if err := json.Unmarshal([]byte(out), into); err != nil {
			t.Fatalf("cairn %s list --json: %v: %s", noun, err, out)
		}
	}

	api, natsURL, stop := start()
	var agents []protocol.Agent
	listJSON(api, "agent", &agents)
	if len(agents) != 2 || agents[0].Hostname != "agent-1" || agents[1].Hostname != "agent-2" {
		t.Fatalf("agents: %+v", agents)
	}
	if agents[0].Resources.Equal(agents[1].Resources) {
		t.Fatalf("agents on one host must get distinct port ranges: %s / %s", agents[0].Resources, agents[1].Resources)
	}

	nc, err := bus.Connect(natsURL, "test-framework", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fw, err := scheduler.Subscribe(ctx, scheduler.Config{Conn: nc, Framework: protocol.FrameworkInfo{Name: "e2e", FailoverTimeout: 600}})
	if err != nil {
		t.Fatal(err)
	}
	short := scheduler.Task("short", "short", resources.MustParse("cpus:0.5;mem:64"), "true")
	short.Labels = map[string]string{simagent.LabelDuration: "100ms"}
	long := scheduler.Task("long", "long", resources.MustParse("cpus:0.5;mem:64"), "sleep 3600")
	states := map[protocol.TaskID]protocol.TaskState{}
	for launched := false; states["short"] != protocol.TaskFinished || states["long"] != protocol.TaskRunning; {
		select {
		case ev := <-fw.Events():
			switch ev.Type {
			case protocol.EventOffers:
				if !launched {
					if _, err := fw.Launch(ctx, ev.Offers.Offers[0], short, long); err != nil {
						t.Fatal(err)
					}
					launched = true
				}
			case protocol.EventUpdate:
				states[ev.Update.Status.TaskID] = ev.Update.Status.State
			}
		case <-ctx.Done():
			t.Fatalf("tasks did not run: %v", states)
		}
	}
	var tasks []protocol.Task
	got := map[protocol.TaskID]protocol.TaskState{}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		listJSON(api, "task", &tasks)
		clear(got)
		for _, tk := range tasks {
			got[tk.ID] = tk.State
		}
		if got["short"] == protocol.TaskFinished && got["long"] == protocol.TaskRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cairn task list: %v", got)
		}
	}
	_ = fw.Close()
	stop()

	// Same data dir: the framework, both agents and the running task are back.
	api, _, stop = start()
	defer stop()
	var fws []protocol.Framework
	listJSON(api, "framework", &fws)
	if len(fws) != 1 || fws[0].ID != fw.ID() {
		t.Fatalf("frameworks after restart: %+v", fws)
	}
	listJSON(api, "agent", &agents)
	if len(agents) != 2 {
		t.Fatalf("agents after restart: %+v", agents)
	}
	listJSON(api, "task", &tasks)
	got = map[protocol.TaskID]protocol.TaskState{}
	for _, tk := range tasks {
		got[tk.ID] = tk.State
	}
	if _, ok := got["long"]; !ok || got["short"] != protocol.TaskFinished {
		t.Fatalf("tasks after restart: %v", got)
	}
}
