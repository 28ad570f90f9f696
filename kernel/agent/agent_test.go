package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/agent"
	"github.com/cairn-dc/cairn/kernel/containerizer/supervisor"
	"github.com/cairn-dc/cairn/kernel/master"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

func TestExitCodes(t *testing.T) {
	c := newCluster(t)
	ra := c.agent("", nil)
	f := c.framework("exit")
	o := offer(t, f)
	launch(t, f, o, shellTask("ok", "cpus:0.1;mem:32", "echo hello; echo oops >&2"), shellTask("bad", "cpus:0.1;mem:32", "exit 3"))
	got := map[protocol.TaskID]protocol.TaskStatus{
		"ok":  waitState(t, f, "ok", protocol.TaskFinished, protocol.TaskFailed),
		"bad": waitState(t, f, "bad", protocol.TaskFinished, protocol.TaskFailed),
	}
	if st := got["ok"]; st.State != protocol.TaskFinished || st.ExitCode == nil || *st.ExitCode != 0 {
		t.Fatalf("ok: %+v", st)
	}
	if st := got["bad"]; st.State != protocol.TaskFailed || st.ExitCode == nil || *st.ExitCode != 3 || st.Reason != protocol.ReasonCommandFailed {
		t.Fatalf("bad: %+v", st)
	}
	if out := sandboxFile(t, ra, f, "ok", "stdout"); out != "hello\n" {
		t.Fatalf("stdout %q", out)
	}
	if out := sandboxFile(t, ra, f, "ok", "stderr"); out != "oops\n" {
		t.Fatalf("stderr %q", out)
	}
}

// TestLaunchHook: a hook (the module host's, in cairn up) adds variables
// and labels to a task before it starts; a failing hook does not stop the
// launch.
func TestLaunchHook(t *testing.T) {
	c := newCluster(t)
	var seen agent.LaunchInfo
	var mu sync.Mutex
	ra := c.agent("", func(cfg *agent.Config) {
		cfg.LaunchHook = func(_ context.Context, ti agent.LaunchInfo) (agent.LaunchChanges, error) {
			mu.Lock()
			seen = ti
			mu.Unlock()
			if ti.Name == "broken" {
				return agent.LaunchChanges{Env: map[string]string{"PARTIAL": "yes"}}, errors.New("hook greeter is not running")
			}
			return agent.LaunchChanges{Env: map[string]string{"GREETING": "from a hook", "PORT0": "hooks replace variables"},
				Labels: map[string]string{"greeted": "yes", "": "dropped: no key"}}, nil
		}
	})
	f := c.framework("hooks")
	o := offer(t, f)
	launch(t, f, o, shellTask("hooked", "cpus:0.1;mem:32;ports:[41010-41010]", `echo "G=$GREETING P=$PORT0"`))
	// The hook's labels ride on the task's updates.
	if st := waitState(t, f, "hooked", protocol.TaskRunning, protocol.TaskFinished); len(st.Labels) != 1 || st.Labels["greeted"] != "yes" {
		t.Errorf("labels of the first update after the hook: %v", st.Labels)
	}
	if st := waitState(t, f, "hooked", protocol.TaskFinished); st.Labels["greeted"] != "yes" {
		t.Errorf("labels of the terminal update: %v", st.Labels)
	}
	if out := sandboxFile(t, ra, f, "hooked", "stdout"); !strings.Contains(out, "G=from a hook P=hooks replace variables") {
		t.Errorf("stdout: %q", out)
	}
	mu.Lock()
	if seen.TaskID != "hooked" || seen.FrameworkID == "" || seen.Env["PORT0"] != "41010" || !strings.Contains(seen.Command, "echo") {
		t.Errorf("the hook saw %+v", seen)
	}
	mu.Unlock()
	o = offer(t, f)
	launch(t, f, o, shellTask("broken", "cpus:0.1;mem:32", `echo "P=$PARTIAL"`))
	waitState(t, f, "broken", protocol.TaskFinished)
	if out := sandboxFile(t, ra, f, "broken", "stdout"); !strings.Contains(out, "P=yes") {
		t.Errorf("stdout with a failing hook: %q", out)
	}
}

func TestEnvironment(t *testing.T) {
	// The agent passes its locale and time zone on (agent.InheritedEnv).
	t.Setenv("LANG", "C.UTF-8")
	t.Setenv("TZ", "Etc/UTC")
	c := newCluster(t)
	ra := c.agent("", func(cfg *agent.Config) {
		cfg.TaskEnv = map[string]string{"CAIRN_URL": "http://master:5050", "X": "from-the-agent"}
	})
	f := c.framework("env")
	o := offer(t, f)
	ti := shellTask("env", "cpus:0.1;mem:32;ports:[41005-41006]", `echo "P0=$PORT0 P1=$PORT1 PORTS=$PORTS HOST=$HOST ID=$CAIRN_TASK_ID SB=$CAIRN_SANDBOX MS=$MESOS_SANDBOX X=$X URL=$CAIRN_URL PWD=$(pwd) L=$LANG TZ=$TZ"`)
	ti.Command.Environment = &protocol.Environment{Variables: []protocol.Variable{{Name: "X", Value: "y"}}}
	launch(t, f, o, ti)
	waitState(t, f, "env", protocol.TaskFinished)
	out := sandboxFile(t, ra, f, "env", "stdout")
	sb := filepath.Dir(filepath.Join(strings.TrimSpace(out[strings.Index(out, "SB=")+3:strings.Index(out, " MS=")]), "x"))
	for _, want := range []string{"P0=41005", "P1=41006", "PORTS=41005,41006", "HOST=127.0.0.1", "ID=env", "X=y", "URL=http://master:5050", "MS=" + sb, "PWD=" + sb, "L=C.UTF-8", "TZ=Etc/UTC"} {
		if !strings.Contains(out, want) {
			t.Errorf("environment lacks %q: %s", want, out)
		}
	}
}

func TestCommandNotFound(t *testing.T) {
	c := newCluster(t)
	c.agent("", nil)
	f := c.framework("nf")
	o := offer(t, f)
	argv := shellTask("argv", "cpus:0.1;mem:32", "")
	no := false
	argv.Command = &protocol.CommandInfo{Value: "no-such-program-xyz", Shell: &no}
	launch(t, f, o, argv, shellTask("shell", "cpus:0.1;mem:32", "no-such-program-xyz --x"))
	st := waitState(t, f, "argv", protocol.TaskFailed)
	if st.Reason != protocol.ReasonContainerLaunchFailed || !strings.Contains(st.Message, "not found") {
		t.Fatalf("argv: %+v", st)
	}
	st = waitState(t, f, "shell", protocol.TaskFailed)
	if st.ExitCode == nil || *st.ExitCode != 127 || !strings.Contains(st.Message, "command not found") {
		t.Fatalf("shell: %+v", st)
	}
}

func TestKillWithGrace(t *testing.T) {
	c := newCluster(t)
	ra := c.agent("", nil)
	f := c.framework("kill")
	o := offer(t, f)
	polite := shellTask("polite", "cpus:0.1;mem:32", `trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.05; done`)
	stubborn := shellTask("stubborn", "cpus:0.1;mem:32", `trap '' TERM; echo ready; while true; do sleep 0.05; done`)
	stubborn.KillPolicy = &protocol.KillPolicy{GracePeriod: &protocol.DurationInfo{Nanoseconds: int64(300 * time.Millisecond)}}
	launch(t, f, o, polite, stubborn)
	for _, id := range []protocol.TaskID{"polite", "stubborn"} {
		waitState(t, f, id, protocol.TaskRunning)
		waitFor(t, 10*time.Second, string(id)+" ready", func() bool {
			return strings.Contains(sandboxFileOrEmpty(ra, f, id, "stdout"), "ready")
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, id := range []protocol.TaskID{"polite", "stubborn"} {
		if err := f.Kill(ctx, id, ra.ID()); err != nil {
			t.Fatal(err)
		}
	}
	waitState(t, f, "polite", protocol.TaskKilling)
	st := waitState(t, f, "polite", protocol.TaskKilled)
	if !strings.Contains(sandboxFile(t, ra, f, "polite", "stdout"), "got TERM") {
		t.Fatalf("the polite task never saw SIGTERM: %+v", st)
	}
	start := time.Now()
	st = waitState(t, f, "stubborn", protocol.TaskKilled)
	if !strings.Contains(st.Message, "SIGKILL") {
		t.Fatalf("stubborn task should die of SIGKILL after its grace: %+v (after %v)", st, time.Since(start))
	}
}

func sandboxFileOrEmpty(ra *runningAgent, f *fw, id protocol.TaskID, name string) string {
	runs, _ := filepath.Glob(filepath.Join(ra.dir, "sandboxes", string(f.ID()), string(id)+"@*", name))
	if len(runs) == 0 {
		return ""
	}
	b, _ := os.ReadFile(runs[len(runs)-1])
	return string(b)
}

func TestChildrenDieWithTheTask(t *testing.T) {
	c := newCluster(t)
	ra := c.agent("", nil)
	f := c.framework("tree")
	o := offer(t, f)
	// Two children (one in its own session when cgroups can catch it) write their pids.
	cmd := `sleep 1000 & echo $! > pids; `
	if isRoot() {
		cmd += `setsid sleep 1000 & echo $! >> pids; `
	}
	cmd += `echo ready; wait`
	launch(t, f, o, shellTask("tree", "cpus:0.1;mem:64", cmd))
	waitState(t, f, "tree", protocol.TaskRunning)
	waitFor(t, 10*time.Second, "tree ready", func() bool { return strings.Contains(sandboxFileOrEmpty(ra, f, "tree", "stdout"), "ready") })
	var pids []int
	for _, l := range strings.Fields(sandboxFile(t, ra, f, "tree", "pids")) {
		p, _ := strconv.Atoi(l)
		pids = append(pids, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.Kill(ctx, "tree", ra.ID()); err != nil {
		t.Fatal(err)
	}
	waitState(t, f, "tree", protocol.TaskKilled)
	waitFor(t, 10*time.Second, "children gone", func() bool {
		for _, p := range pids {
			if alive(p) {
				return false
			}
		}
		return true
	})
}

// alive: the process exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}

func TestMemoryLimit(t *testing.T) {
	if !isRoot() {
		t.Skip("memory limits need cgroups, which need root")
	}
	c := newCluster(t)
	ra := c.agent("", nil)
	if ra.Isolation() == "none" {
		t.Skip("cgroups unavailable here: the agent runs tasks without isolation")
	}
	f := c.framework("oom")
	o := offer(t, f)
	// tail -n 1 keeps the whole last line in memory, and there is no newline: 200 MB in a 32 MB box.
	launch(t, f, o, shellTask("hog", "cpus:0.5;mem:32", `head -c 200000000 /dev/zero | tail -n 1 > /dev/null`))
	st := waitState(t, f, "hog", protocol.TaskFailed)
	if st.Reason != protocol.ReasonMemoryLimit || !strings.Contains(st.Message, "32 MiB") {
		t.Fatalf("want a memory-limit failure, got %+v", st)
	}
}

func TestUsageReachesTheMaster(t *testing.T) {
	c := newCluster(t)
	c.agent("", func(cfg *agent.Config) { cfg.UsageInterval = 100 * time.Millisecond })
	f := c.framework("usage")
	o := offer(t, f)
	launch(t, f, o, shellTask("busy", "cpus:0.5;mem:64", `while true; do :; done`))
	waitState(t, f, "busy", protocol.TaskRunning)
	waitFor(t, 20*time.Second, "statistics in /v1/tasks", func() bool {
		for _, tk := range c.m.State().Tasks {
			if tk.ID == "busy" && tk.Statistics != nil && tk.Statistics.CPUsUserTimeSecs+tk.Statistics.CPUsSystemTimeSecs > 0.05 && tk.Statistics.MemRSSBytes > 0 {
				return true
			}
		}
		return false
	})
}

func TestAgentRestartReattaches(t *testing.T) {
	c := newCluster(t)
	dir := t.TempDir()
	ra := c.agent(dir, nil)
	f := c.framework("restart")
	o := offer(t, f)
	launch(t, f, o, shellTask("long", "cpus:0.1;mem:32", `echo $$ > pid; exec sleep 1000`),
		shellTask("short", "cpus:0.1;mem:32", `while [ ! -e go ]; do sleep 0.02; done; exit 4`))
	waitState(t, f, "long", protocol.TaskRunning)
	waitState(t, f, "short", protocol.TaskRunning)
	waitFor(t, 10*time.Second, "pid file", func() bool { return sandboxFileOrEmpty(ra, f, "long", "pid") != "" })
	pid, _ := strconv.Atoi(strings.TrimSpace(sandboxFile(t, ra, f, "long", "pid")))

	ra.stop() // the agent goes away; its tasks keep running under the supervisor
	if !alive(pid) {
		t.Fatal("the task died with its agent")
	}
	// The short task ends while no agent runs.
	runs, _ := filepath.Glob(filepath.Join(dir, "sandboxes", string(f.ID()), "short@*"))
	if err := os.WriteFile(filepath.Join(runs[0], "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sup, err := supervisor.Dial(context.Background(), filepath.Join(dir, "meta", "supervisor"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "short task exit recorded by the supervisor", func() bool {
		procs, err := sup.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range procs {
			if strings.Contains(p.Key, ".short.") && p.Exit != nil {
				return true
			}
		}
		return false
	})
	_ = sup.Close()

	ra2 := c.agent(dir, nil)
	if ra2.ID() != ra.ID() {
		t.Fatalf("restarted agent has a new id %s (was %s)", ra2.ID(), ra.ID())
	}
	st := waitState(t, f, "short", protocol.TaskFailed)
	if st.ExitCode == nil || *st.ExitCode != 4 {
		t.Fatalf("short: %+v", st)
	}
	// The long one is still the same process, still RUNNING, and can be killed.
	if !alive(pid) {
		t.Fatal("long task died across the agent restart")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.Kill(ctx, "long", ra2.ID()); err != nil {
		t.Fatal(err)
	}
	waitState(t, f, "long", protocol.TaskKilled)
	waitFor(t, 5*time.Second, "long task gone", func() bool { return !alive(pid) })
}

func TestMasterRestartWhileTasksRun(t *testing.T) {
	c := newCluster(t)
	ra := c.agent("", nil)
	f := c.framework("mrestart")
	o := offer(t, f)
	launch(t, f, o, shellTask("m", "cpus:0.1;mem:32", `while [ ! -e go ]; do sleep 0.02; done; echo done`))
	waitState(t, f, "m", protocol.TaskRunning)
	c.stopMaster()
	runs, _ := filepath.Glob(filepath.Join(ra.dir, "sandboxes", string(f.ID()), "m@*"))
	if err := os.WriteFile(filepath.Join(runs[0], "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c.startMaster()
	st := waitState(t, f, "m", protocol.TaskFinished)
	if st.ExitCode == nil || *st.ExitCode != 0 {
		t.Fatalf("%+v", st)
	}
	waitFor(t, 10*time.Second, "FINISHED in the master's state", func() bool {
		for _, tk := range c.m.State().Tasks {
			if tk.ID == "m" {
				return tk.State == protocol.TaskFinished
			}
		}
		return false
	})
}

func TestFetcher(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hello.sh" {
			fmt.Fprint(w, "#!/bin/sh\necho fetched-and-run\n")
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	c := newCluster(t)
	ra := c.agent("", nil)
	f := c.framework("fetch")
	o := offer(t, f)
	ok := shellTask("ok", "cpus:0.1;mem:32", "./hello.sh")
	ok.Command.URIs = []protocol.CommandURI{{Value: srv.URL + "/hello.sh", Executable: true}}
	missing := shellTask("missing", "cpus:0.1;mem:32", "true")
	missing.Command.URIs = []protocol.CommandURI{{Value: srv.URL + "/nope.tgz"}}
	plain := shellTask("plain", "cpus:0.1;mem:32", "true")
	launch(t, f, o, ok, missing, plain)
	waitState(t, f, "ok", protocol.TaskFinished)
	// TASK_STARTING says a fetch is under way; a task with nothing to
	// fetch goes from STAGING to RUNNING.
	waitState(t, f, "plain", protocol.TaskFinished)
	starting := func(id protocol.TaskID) bool {
		_, ok := f.find(func(e protocol.Event) bool {
			return e.Type == protocol.EventUpdate && e.Update.Status.TaskID == id && e.Update.Status.State == protocol.TaskStarting
		})
		return ok
	}
	if !starting("ok") || starting("plain") {
		t.Errorf("TASK_STARTING: with URIs %v (want true), without %v (want false)", starting("ok"), starting("plain"))
	}
	if out := sandboxFile(t, ra, f, "ok", "stdout"); out != "fetched-and-run\n" {
		t.Fatalf("stdout %q", out)
	}
	st := waitState(t, f, "missing", protocol.TaskFailed)
	if st.Reason != protocol.ReasonContainerLaunchFailed || !strings.Contains(st.Message, "404") || !strings.Contains(st.Message, "nope.tgz") {
		t.Fatalf("missing: %+v", st)
	}
	// It never started, so its sandbox has no stdout: its log is empty,
	// not an error.
	if code, body := getLog(t, ra.Info().URL+"/v1/tasks/"+string(f.ID())+"/missing/logs/stdout"); code != http.StatusOK || body != "" {
		t.Fatalf("log of a task that never started: %d %q", code, body)
	}
}

// getLog reads a log from the agent's API: its status and body.
func getLog(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

func TestHealthChecks(t *testing.T) {
	okSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer okSrv.Close()
	badSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer badSrv.Close()
	closed := closedPort(t)
	port := func(u string) uint32 { p, _ := strconv.Atoi(u[strings.LastIndexByte(u, ':')+1:]); return uint32(p) }
	fast := func(hc protocol.HealthCheck) *protocol.HealthCheck {
		hc.DelaySeconds, hc.IntervalSeconds, hc.TimeoutSeconds, hc.GracePeriodSeconds, hc.ConsecutiveFailures = 0.01, 0.05, 1, 0.01, 1000
		return &hc
	}
	checks := map[string]struct {
		hc      *protocol.HealthCheck
		healthy bool
	}{
		"http-ok":  {fast(protocol.HealthCheck{Type: protocol.HealthHTTP, HTTP: &protocol.HTTPCheck{Port: port(okSrv.URL)}}), true},
		"http-bad": {fast(protocol.HealthCheck{Type: protocol.HealthHTTP, HTTP: &protocol.HTTPCheck{Port: port(badSrv.URL)}}), false},
		"tcp-ok":   {fast(protocol.HealthCheck{Type: protocol.HealthTCP, TCP: &protocol.TCPCheck{Port: port(okSrv.URL)}}), true},
		"tcp-bad":  {fast(protocol.HealthCheck{Type: protocol.HealthTCP, TCP: &protocol.TCPCheck{Port: closed}}), false},
		"cmd-ok":   {fast(protocol.HealthCheck{Type: protocol.HealthCommand, Command: &protocol.CommandInfo{Value: "test -e $CAIRN_SANDBOX/stdout"}}), true},
		"cmd-bad":  {fast(protocol.HealthCheck{Type: protocol.HealthCommand, Command: &protocol.CommandInfo{Value: "exit 1"}}), false},
	}
	c := newCluster(t)
	c.agent("", nil)
	f := c.framework("health")
	o := offer(t, f)
	var tasks []protocol.TaskInfo
	for id, ch := range checks {
		ti := shellTask(id, "cpus:0.1;mem:32", "sleep 1000")
		ti.HealthCheck = ch.hc
		tasks = append(tasks, ti)
	}
	launch(t, f, o, tasks...)
	for id, ch := range checks {
		ev := event(t, f, 20*time.Second, id+" health", func(e protocol.Event) bool {
			return e.Type == protocol.EventUpdate && e.Update.Status.TaskID == protocol.TaskID(id) &&
				e.Update.Status.Healthy != nil && e.Update.Status.Reason == protocol.ReasonHealthCheckUpdated
		})
		if st := ev.Update.Status; *st.Healthy != ch.healthy {
			t.Errorf("%s: healthy=%v, want %v (%s)", id, *st.Healthy, ch.healthy, st.Message)
		}
	}
}

func TestUnhealthyTaskIsKilled(t *testing.T) {
	c := newCluster(t)
	c.agent("", nil)
	f := c.framework("sick")
	o := offer(t, f)
	ti := shellTask("sick", "cpus:0.1;mem:32", "sleep 1000")
	ti.HealthCheck = &protocol.HealthCheck{Type: protocol.HealthCommand, Command: &protocol.CommandInfo{Value: "exit 1"},
		DelaySeconds: 0.01, IntervalSeconds: 0.05, TimeoutSeconds: 1, GracePeriodSeconds: 0.01, ConsecutiveFailures: 2}
	launch(t, f, o, ti)
	st := waitState(t, f, "sick", protocol.TaskKilled)
	if st.Healthy == nil || *st.Healthy || !strings.Contains(st.Message, "health") {
		t.Fatalf("%+v", st)
	}
}

func closedPort(t *testing.T) uint32 {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return uint32(p)
}

func TestBadResources(t *testing.T) {
	_, err := agent.DetectResources(t.TempDir(), resources.Resources{{Name: "cpus", Type: resources.Ranges}})
	if err == nil || !strings.Contains(err.Error(), "--resources") {
		t.Fatalf("want a --resources error, got %v", err)
	}
	got, err := agent.DetectResources(t.TempDir(), resources.MustParse("cpus:3;ports:[1000-1010]"))
	if err != nil {
		t.Fatal(err)
	}
	if got.ScalarTotal("cpus") != resources.FromFloat(3) || got.ScalarTotal("mem") <= 0 || got.ScalarTotal("disk") <= 0 {
		t.Fatalf("detected %s", got)
	}
}

// TestLogFollowedBeforeTheTaskStarts: a task's stdout exists only once it
// starts (the supervisor creates it); its log, asked for while it is still
// fetching, is empty, and followed from then on it carries everything the
// task writes, even if it starts and ends between two polls.
func TestLogFollowedBeforeTheTaskStarts(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		fmt.Fprint(w, "data")
	}))
	defer srv.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	c := newCluster(t)
	ra := c.agent("", nil)
	f := c.framework("follow")
	o := offer(t, f)
	task := shellTask("late", "cpus:0.1;mem:32", "echo written-at-once")
	task.Command.URIs = []protocol.CommandURI{{Value: srv.URL + "/data"}}
	launch(t, f, o, task)
	waitState(t, f, "late", protocol.TaskStarting)
	logURL := ra.Info().URL + "/v1/tasks/" + string(f.ID()) + "/late/logs/stdout"
	if code, body := getLog(t, logURL); code != http.StatusOK || body != "" {
		t.Fatalf("log of a task still fetching: %d %q", code, body)
	}
	followed := make(chan string, 1)
	go func() {
		resp, err := http.Get(logURL + "?follow=true")
		if err != nil {
			followed <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body) // until the task has ended
		followed <- string(b)
	}()
	time.Sleep(300 * time.Millisecond) // a poll or two without a file
	close(release)
	waitState(t, f, "late", protocol.TaskFinished)
	select {
	case got := <-followed:
		if got != "written-at-once\n" {
			t.Fatalf("followed log %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the followed log did not end with the task")
	}
}

func TestAgentAPI(t *testing.T) {
	c := newCluster(t)
	ra := c.agent("", nil)
	f := c.framework("api")
	o := offer(t, f)
	launch(t, f, o, shellTask("logger", "cpus:0.1;mem:32", `echo line1; echo line2; sleep 1000`))
	waitState(t, f, "logger", protocol.TaskRunning)
	base := ra.Info().URL
	waitFor(t, 10*time.Second, "log via API", func() bool {
		resp, err := http.Get(base + "/v1/tasks/" + string(f.ID()) + "/logger/logs/stdout")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b := make([]byte, 100)
		n, _ := resp.Body.Read(b)
		return strings.Contains(string(b[:n]), "line2")
	})
	resp, err := http.Get(base + "/v1/files/read?path=/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("reading outside the sandboxes: %d", resp.StatusCode)
	}
}

func TestPIDNamespace(t *testing.T) {
	if !isRoot() {
		t.Skip("PID namespaces need root")
	}
	c := newCluster(t)
	ra := c.agent("", nil)
	f := c.framework("pidns")
	o := offer(t, f)
	ti := shellTask("ns", "cpus:0.1;mem:64", `ls /proc | grep -c '^[0-9]' > count; echo $$ > mypid`)
	no := false
	ti.Container = &protocol.ContainerInfo{Type: "MESOS", Linux: &protocol.LinuxInfo{SharePIDNamespace: &no}}
	launch(t, f, o, ti)
	waitState(t, f, "ns", protocol.TaskFinished)
	n, _ := strconv.Atoi(strings.TrimSpace(sandboxFile(t, ra, f, "ns", "count")))
	pid, _ := strconv.Atoi(strings.TrimSpace(sandboxFile(t, ra, f, "ns", "mypid")))
	// Inside its own namespace the task sees only its init and itself
	// (and its pipeline), never the host's hundreds of processes.
	if n == 0 || n > 10 || pid > 50 {
		t.Fatalf("the task saw %d processes and has pid %d: not in its own PID namespace", n, pid)
	}
}

func TestSandboxGC(t *testing.T) {
	c := newCluster(t)
	ra := c.agent("", func(cfg *agent.Config) { cfg.GCDelay = time.Millisecond })
	f := c.framework("gc")
	o := offer(t, f)
	launch(t, f, o, shellTask("done", "cpus:0.1;mem:32", "true"), shellTask("live", "cpus:0.1;mem:32", "sleep 1000"))
	waitState(t, f, "done", protocol.TaskFinished)
	waitState(t, f, "live", protocol.TaskRunning)
	// The finished task is forgotten once its update is acknowledged.
	waitFor(t, 10*time.Second, "done forgotten", func() bool {
		st, err := http.Get(ra.Info().URL + "/v1/state")
		if err != nil {
			return false
		}
		defer st.Body.Close()
		var s protocol.AgentState
		_ = json.NewDecoder(st.Body).Decode(&s)
		return len(s.Completed) == 1
	})
	ra.CollectGarbage(context.Background())
	if sandboxFileOrEmpty(ra, f, "done", "stdout") != "" || len(globSandboxes(ra, f, "done")) != 0 {
		t.Fatal("the finished task's sandbox survived GC past its delay")
	}
	if len(globSandboxes(ra, f, "live")) != 1 {
		t.Fatal("GC removed a running task's sandbox")
	}
}

func globSandboxes(ra *runningAgent, f *fw, id protocol.TaskID) []string {
	runs, _ := filepath.Glob(filepath.Join(ra.dir, "sandboxes", string(f.ID()), string(id)+"@*"))
	return runs
}

func TestHostPathVolumes(t *testing.T) {
	if !isRoot() {
		t.Skip("mounting host paths needs root")
	}
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "config.txt"), []byte("from-the-host"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove("/mnt/cairn-test-ro") }) // the mount point itself is created on the host
	c := newCluster(t)
	ra := c.agent("", nil)
	f := c.framework("vol")
	o := offer(t, f)
	ti := shellTask("vol", "cpus:0.1;mem:64", `cat data/config.txt > out; cat /mnt/cairn-test-ro/config.txt >> out; echo x > /mnt/cairn-test-ro/new 2>/dev/null && echo writable >> out || echo read-only >> out`)
	ti.Container = &protocol.ContainerInfo{Type: "MESOS", Volumes: []protocol.VolumeMount{
		{ContainerPath: "data", HostPath: host, Mode: "RW"},
		{ContainerPath: "/mnt/cairn-test-ro", HostPath: host, Mode: "RO"},
	}}
	missing := shellTask("missing", "cpus:0.1;mem:64", "true")
	missing.Container = &protocol.ContainerInfo{Type: "MESOS", Volumes: []protocol.VolumeMount{{ContainerPath: "x", HostPath: "/no/such/dir", Mode: "RW"}}}
	launch(t, f, o, ti, missing)
	waitState(t, f, "vol", protocol.TaskFinished)
	if out := sandboxFile(t, ra, f, "vol", "out"); out != "from-the-hostfrom-the-host\nread-only\n" && out != "from-the-hostfrom-the-hostread-only\n" {
		t.Fatalf("out %q", out)
	}
	if _, err := os.Stat("/mnt/cairn-test-ro/config.txt"); err == nil {
		t.Fatal("the mount leaked to the host")
	}
	st := waitState(t, f, "missing", protocol.TaskFailed)
	if !strings.Contains(st.Message, "/no/such/dir") {
		t.Fatalf("missing host path: %+v", st)
	}
}

// TestTasksThatEndAtOnce: with v1 cgroups a thread of the supervisor joins
// each task's cgroups to fork into them, and ends a moment later. A task
// that exits at once has its cgroup destroyed by the agent, possibly while
// that thread is still inside: the agent must not take the supervisor for
// one of the task's processes (it SIGKILLed it, and every later task
// failed with "supervisor: connection closed"). The race needs a busy
// machine to show; cgroups' TestSpare pins the rule down, this checks 300
// tasks that end at once all report their exit code, with one supervisor.
func TestTasksThatEndAtOnce(t *testing.T) {
	if !isRoot() {
		t.Skip("needs root for cgroups (the race is with a supervisor thread inside a task's cgroup)")
	}
	// Pings as a real cluster's: a burst of 300 starts under the race
	// detector can hold the agent's pings past the tests' 0.6 s, and the
	// master would take it for unreachable.
	c := newCluster(t, func(cfg *master.Config) { cfg.AgentPingInterval = 5 * time.Second })
	ra := c.agent("", func(cfg *agent.Config) {
		cfg.Resources = resources.MustParse("cpus:100;mem:100000;disk:10000")
	})
	if v := ra.Agent.Isolation(); v == "none" {
		t.Skip("no cgroups on this machine")
	}
	before := supervisorPID(ra)
	f := c.framework("quick")
	const n = 300
	tasks := make([]protocol.TaskInfo, n)
	for i := range tasks {
		no := false
		tasks[i] = shellTask(fmt.Sprintf("q%d", i), "cpus:0.1;mem:32", "")
		tasks[i].Command = &protocol.CommandInfo{Value: "/bin/false", Arguments: []string{"false"}, Shell: &no}
	}
	launch(t, f, offer(t, f), tasks...)
	for i := range tasks {
		st := waitState(t, f, tasks[i].TaskID, protocol.TaskFailed)
		if st.ExitCode == nil || *st.ExitCode != 1 {
			t.Fatalf("task %d: %s (%s), want exit code 1", i, st.Message, st.Reason)
		}
	}
	if after := supervisorPID(ra); after != before {
		t.Fatalf("the supervisor changed from %d to %d", before, after)
	}
	if err := syscall.Kill(before, 0); err != nil {
		t.Fatalf("the supervisor %d is gone: %v", before, err)
	}
}

// supervisorPID is the pid in the agent's supervisor pid file (0: none).
func supervisorPID(ra *runningAgent) int {
	b, _ := os.ReadFile(filepath.Join(ra.dir, "meta", "supervisor", "supervisor.pid"))
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// TestSupervisorKilledIsStartedAgain: the task supervisor dies while the
// agent runs (SIGKILL): the agent starts a new one, which re-adopts the
// running task; the task is neither failed nor lost, can be killed, and new
// tasks start.
func TestSupervisorKilledIsStartedAgain(t *testing.T) {
	c := newCluster(t)
	ra := c.agent("", nil)
	f := c.framework("phoenix")
	launch(t, f, offer(t, f), shellTask("long", "cpus:0.1;mem:32", "sleep 60"))
	waitState(t, f, "long", protocol.TaskRunning)
	old := supervisorPID(ra)
	if old <= 0 {
		t.Fatal("no supervisor pid file")
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer rcancel()
	if err := f.Revive(rctx); err != nil { // the first launch's filter would hold the offer 5 s
		t.Fatal(err)
	}
	o := offer(t, f)
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// A task launched at once starts, whether its start meets the dead
	// supervisor (it then waits for the new one) or the new one.
	launch(t, f, o, shellTask("during", "cpus:0.1;mem:32", "echo during"))
	waitState(t, f, "during", protocol.TaskFinished)
	waitFor(t, 20*time.Second, "a new supervisor", func() bool {
		p := supervisorPID(ra)
		return p > 0 && p != old && syscall.Kill(p, 0) == nil
	})
	// New work starts on the new supervisor ...
	if err := f.Revive(rctx); err != nil {
		t.Fatal(err)
	}
	launch(t, f, offer(t, f), shellTask("after", "cpus:0.1;mem:32", "echo after"))
	waitState(t, f, "after", protocol.TaskFinished)
	// ... and the re-adopted task is still running, and can be killed.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.Kill(ctx, "long", ra.ID()); err != nil {
		t.Fatal(err)
	}
	st := waitState(t, f, "long", protocol.TaskKilled)
	if st.Reason == protocol.ReasonExecutorTerminated {
		t.Fatalf("long: %+v", st)
	}
	if _, found := f.find(func(e protocol.Event) bool {
		return e.Type == protocol.EventUpdate && e.Update.Status.TaskID == "long" && e.Update.Status.State == protocol.TaskFailed
	}); found {
		t.Fatal("long was reported failed")
	}
}

// TestShutdownAfterTheSupervisorDied: Shutdown kills every task even when
// the supervisor has just died (before or while it is started again).
func TestShutdownAfterTheSupervisorDied(t *testing.T) {
	c := newCluster(t)
	ra := c.agent("", nil)
	f := c.framework("orphans")
	launch(t, f, offer(t, f), shellTask("long", "cpus:0.1;mem:32", "exec sleep 61.25"))
	waitState(t, f, "long", protocol.TaskRunning)
	sleeper := func() int {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			if err == nil && string(cmd) == "sleep\x0061.25\x00" {
				n, _ := strconv.Atoi(e.Name())
				return n
			}
		}
		return 0
	}
	pid := sleeper()
	if pid == 0 {
		t.Fatal("the task's sleep is not running")
	}
	if err := syscall.Kill(supervisorPID(ra), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ra.Agent.Shutdown(ctx, time.Second); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	waitFor(t, 10*time.Second, "the task's sleep gone", func() bool {
		if err := syscall.Kill(pid, 0); err != nil {
			return true
		}
		st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		return strings.Contains(string(st), ") Z ") // a zombie nobody reaps yet
	})
}
