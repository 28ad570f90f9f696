package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/cli"
	"github.com/cairn-dc/cairn/kernel/bus"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/kernel/scheduler"
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
			done <- run(ctx, []string{"up", "--data-dir", dir, "--http", "127.0.0.1:0", "--nats-port", "-1", "--agents", "2",
				"--registry", "127.0.0.1:0", "--packages-dir", filepath.Join(dir, "no-packages"), "--dns", "none"},
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
			// Every agent's supervisor has gone with the cluster.
			if pids := supervisorsOf(dir); len(pids) > 0 {
				t.Errorf("supervisors %v still run after Ctrl-C:\n%s", pids, errOut.String())
				for _, p := range pids {
					_ = syscall.Kill(p, syscall.SIGKILL)
				}
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

	// A framework of our own connects as the framework identity; without
	// credentials it is refused.
	if _, err := bus.Connect(natsURL, "anonymous", nil); err == nil || !strings.Contains(err.Error(), "refused the credentials") {
		t.Fatalf("connecting to the cluster's NATS without credentials: %v", err)
	}
	credsFile := filepath.Join(dir, natsCredentialsFile)
	if fi, err := os.Stat(credsFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v (mode %v), want 0600", credsFile, err, fi.Mode())
	}
	var creds natsCredentials
	if data, err := os.ReadFile(credsFile); err != nil || json.Unmarshal(data, &creds) != nil {
		t.Fatalf("%s: %v", credsFile, err)
	}
	nc, err := bus.Connect(withUser(natsURL, "framework", creds.Framework), "test-framework", nil)
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
	short := scheduler.Task("short", "short", resources.MustParse("cpus:0.1;mem:32"), "true")
	long := scheduler.Task("long", "long", resources.MustParse("cpus:0.1;mem:32"), "sleep 3600")
	states := map[protocol.TaskID]protocol.TaskState{}
	for launched := false; states["short"] != protocol.TaskFinished || states["long"] != protocol.TaskRunning; {
		select {
		case ev := <-fw.Events():
			switch ev.Type {
			case protocol.EventOffers:
				for _, o := range ev.Offers.Offers {
					if !launched {
						if _, err := fw.Launch(ctx, o, short, long); err != nil {
							t.Fatal(err)
						}
						launched = true
						continue
					}
					// Leave the rest to others (the run framework).
					_ = fw.Decline(ctx, []protocol.OfferID{o.ID}, scheduler.Refuse(time.Hour))
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
	// cairn task run --wait streams the task's output and exits with its code.
	code, out, errOut := runMain(t, nil, "task", "run", "--wait", "--url", api, "--", "echo from-a-task; exit 3")
	if code != 3 || !strings.Contains(out, "from-a-task") {
		t.Fatalf("task run --wait: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// The seed's app through the services framework: it runs, and comes
	// back when its task is killed.
	seed := filepath.Join(t.TempDir(), "ubuntu.json")
	if err := os.WriteFile(seed, []byte(`{"id": "ubuntu", "instances": 1, "cpus": 0.5, "mem": 512, "cmd": "while sleep 10; do date -u +%T; done"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runMain(t, nil, "app", "add", seed, "--wait", "--url", api); code != 0 {
		t.Fatalf("cairn app add: exit %d: %s %s", code, out, errOut)
	}
	appTask := func() (string, string) {
		code, out, _ := runMain(t, nil, "app", "show", "ubuntu", "--json", "--url", api)
		var app struct {
			TasksRunning int `json:"tasksRunning"`
			Tasks        []struct {
				ID    string `json:"id"`
				State string `json:"state"`
			} `json:"tasks"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &app) != nil || len(app.Tasks) == 0 {
			return "", ""
		}
		return app.Tasks[0].ID, app.Tasks[0].State
	}
	first, state := appTask()
	if first == "" || state != "TASK_RUNNING" {
		t.Fatalf("ubuntu app task: %q %q", first, state)
	}
	if code, _, errOut := runMain(t, nil, "task", "kill", first, "--url", api); code != 0 {
		t.Fatalf("cairn task kill: %s", errOut)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if id, st := appTask(); id != "" && id != first && st == "TASK_RUNNING" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the killed app task was not replaced within 20s")
		}
	}
	_ = fw.Close()
	stop() // Ctrl-C: every task is killed

	// Same data dir: the framework, both agents and the running task are back.
	api, _, stop = start()
	defer stop()
	var fws []protocol.Framework
	listJSON(api, "framework", &fws)
	found := false
	for _, x := range fws {
		found = found || x.ID == fw.ID()
	}
	if !found {
		t.Fatalf("frameworks after restart: %+v", fws)
	}
	listJSON(api, "agent", &agents)
	if len(agents) != 2 {
		t.Fatalf("agents after restart: %+v", agents)
	}
	// The embedded registry came back on another port: the built-in
	// repository follows it.
	code, out, errOut = runMain(t, nil, "repo", "list", "--json", "--url", api)
	var repos []struct{ URI string }
	if code != 0 || json.Unmarshal([]byte(out), &repos) != nil || len(repos) != 1 {
		t.Fatalf("cairn repo list after restart: exit %d: %s %s", code, out, errOut)
	}
	if code, out, errOut := runMain(t, nil, "package", "search", "--url", api); code != 0 {
		t.Fatalf("cairn package search after restart (repository %s): exit %d: %s %s", repos[0].URI, code, out, errOut)
	}
	listJSON(api, "task", &tasks)
	got = map[protocol.TaskID]protocol.TaskState{}
	for _, tk := range tasks {
		got[tk.ID] = tk.State
	}
	if got["long"] != protocol.TaskKilled || got["short"] != protocol.TaskFinished {
		t.Fatalf("tasks after restart: want long KILLED by the Ctrl-C and short FINISHED, got %v", got)
	}
}

// supervisorsOf lists the pids of supervisor processes serving under dir.
func supervisorsOf(dir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(cmd), "supervisor") && strings.Contains(string(cmd), dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killSupervised kills the supervisors serving under dir and every process
// below them (a standalone `cairn agent run` leaves its tasks running when
// it stops, by design: a test must not).
func killSupervised(dir string) {
	parents := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: the comm may hold spaces.
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 {
			if f := strings.Fields(string(stat[i+1:])); len(f) > 1 {
				parents[pid], _ = strconv.Atoi(f[1])
			}
		}
	}
	// Found once, before any kill: a killed supervisor leaves /proc (or
	// its cmdline empties) while its children are still to be killed.
	sups := supervisorsOf(dir)
	var below func(int) bool
	below = func(pid int) bool {
		for _, sup := range sups {
			for p := pid; p > 1; p = parents[p] {
				if p == sup {
					return true
				}
			}
		}
		return false
	}
	for pid := range parents {
		if below(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
