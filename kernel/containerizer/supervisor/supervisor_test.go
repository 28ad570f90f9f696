package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestExitCodes(t *testing.T) {
	c, dir := inProcess(t, Config{})
	ctx := ctxT(t)
	for _, tc := range []struct {
		key    string
		script string
		code   int
	}{{"ok", "exit 0", 0}, {"three", "exit 3", 3}} {
		p, err := c.Start(ctx, sh(tc.key, tc.script))
		if err != nil {
			t.Fatal(err)
		}
		if p.PID <= 0 || p.Key != tc.key || p.StartedAt.IsZero() {
			t.Errorf("start reply %+v", p)
		}
		e := waitExit(t, c, tc.key)
		if e.Exit.Code != tc.code || e.Exit.Signal != "" || e.Exit.Unknown || e.Exit.KillRequested {
			t.Errorf("%s: exit %+v, want code %d", tc.key, e.Exit, tc.code)
		}
		// Recorded before announced.
		k := records(t, dir)[tc.key]
		if k == nil || k.rec == nil || k.rec.PID != p.PID || k.rec.StartTicks == 0 || k.rec.Spec.Path != "/bin/sh" {
			t.Errorf("start record %+v", k)
		} else if k.rec.Spec.Env != nil {
			t.Errorf("the start record keeps the environment (it may hold secrets): %q", k.rec.Spec.Env)
		} else if k.exit == nil || k.exit.Exit == nil || k.exit.Exit.Code != tc.code {
			t.Errorf("exit record %+v", k.exit)
		}
	}
	procs, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p := find(procs, "three"); p == nil || p.Exit == nil || p.Exit.Code != 3 {
		t.Errorf("List: %+v", procs)
	}
}

func TestExecFailure(t *testing.T) {
	c, dir := inProcess(t, Config{})
	ctx := ctxT(t)
	_, err := c.Start(ctx, StartSpec{Key: "x", Path: "/nonexistent/x"})
	if err == nil || !strings.Contains(err.Error(), "exec /nonexistent/x: no such file or directory") {
		t.Fatalf("err = %v", err)
	}
	_, err = c.Start(ctx, StartSpec{Key: "x", Path: "/etc/passwd"})
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("exec of a non-executable: %v", err)
	}
	_, err = c.Start(ctx, StartSpec{Key: "x", Path: sleepPath(), Argv: []string{"sleep", "0"}, Dir: "/nonexistent-dir"})
	if err == nil || !strings.Contains(err.Error(), "chdir /nonexistent-dir") {
		t.Errorf("bad dir: %v", err)
	}
	for _, bad := range []StartSpec{{Key: "", Path: "/bin/true"}, {Key: "../x", Path: "/bin/true"}, {Key: "y", Path: "true"}, {Key: "y", Path: "/bin/true", Stdout: "rel"}} {
		if _, err := c.Start(ctx, bad); err == nil {
			t.Errorf("bad spec accepted: %+v", bad)
		}
	}
	// The key is free again, and nothing was recorded.
	if _, err := c.Start(ctx, sh("x", "exit 0")); err != nil {
		t.Fatal(err)
	}
	waitExit(t, c, "x")
	if m := records(t, dir); len(m) != 1 || m["x"] == nil {
		t.Errorf("records: %v", m)
	}
	if _, err := c.Start(ctx, sh("x", "exit 0")); err == nil || !strings.Contains(err.Error(), "forget it first") {
		t.Errorf("reused key: %v", err)
	}
}

func TestStdoutStderr(t *testing.T) {
	c, _ := inProcess(t, Config{})
	ctx := ctxT(t)
	tmp := t.TempDir()
	out, errf := filepath.Join(tmp, "stdout"), filepath.Join(tmp, "stderr")
	for i, key := range []string{"a", "b"} {
		spec := sh(key, fmt.Sprintf("echo out%d; echo err%d >&2; pwd; echo $FOO", i, i))
		spec.Stdout, spec.Stderr, spec.Dir = out, errf, tmp
		spec.Env = append(spec.Env, "FOO=bar")
		if _, err := c.Start(ctx, spec); err != nil {
			t.Fatal(err)
		}
		waitExit(t, c, key)
	}
	b, _ := os.ReadFile(out)
	if want := fmt.Sprintf("out0\n%s\nbar\nout1\n%s\nbar\n", tmp, tmp); string(b) != want {
		t.Errorf("stdout = %q, want %q (appended)", b, want)
	}
	b, _ = os.ReadFile(errf)
	if string(b) != "err0\nerr1\n" {
		t.Errorf("stderr = %q", b)
	}
	st, _ := os.Stat(out)
	if st.Mode().Perm() != 0o640 {
		t.Errorf("stdout mode %v", st.Mode())
	}
	// Same file for both.
	both := filepath.Join(tmp, "both")
	spec := sh("c", "echo 1; echo 2 >&2; echo 3")
	spec.Stdout, spec.Stderr = both, both
	c.Start(ctx, spec)
	waitExit(t, c, "c")
	if b, _ := os.ReadFile(both); string(b) != "1\n2\n3\n" {
		t.Errorf("both = %q", b)
	}
}

func TestKillGraceTrappedExitsCleanly(t *testing.T) {
	c, _ := inProcess(t, Config{})
	ctx := ctxT(t)
	out := filepath.Join(t.TempDir(), "out")
	spec := sh("trap", `trap 'echo term; exit 7' TERM; echo ready; while :; do sleep 0.05; done`)
	spec.Stdout = out
	if _, err := c.Start(ctx, spec); err != nil {
		t.Fatal(err)
	}
	readWhen(t, out, "ready")
	if err := c.Kill(ctx, "trap", time.Minute); err != nil {
		t.Fatal(err)
	}
	e := waitExit(t, c, "trap")
	if e.Exit.Code != 7 || !e.Exit.KillRequested {
		t.Errorf("exit %+v, want code 7 after SIGTERM, kill requested", e.Exit)
	}
	if b, _ := os.ReadFile(out); !strings.Contains(string(b), "term") {
		t.Errorf("no SIGTERM seen: %q", b)
	}
	// Killing an exited or unknown process is fine.
	if err := c.Kill(ctx, "trap", 0); err != nil {
		t.Error(err)
	}
	if err := c.Kill(ctx, "nope", 0); err != nil {
		t.Error(err)
	}
}

func TestKillGraceIgnoredGetsSIGKILL(t *testing.T) {
	c, _ := inProcess(t, Config{})
	ctx := ctxT(t)
	out := filepath.Join(t.TempDir(), "out")
	spec := sh("stubborn", `trap '' TERM; echo ready; while :; do sleep 0.05; done`)
	spec.Stdout = out
	if _, err := c.Start(ctx, spec); err != nil {
		t.Fatal(err)
	}
	readWhen(t, out, "ready")
	if err := c.Kill(ctx, "stubborn", 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	e := waitExit(t, c, "stubborn")
	if e.Exit.Signal != "SIGKILL" || e.Exit.Code != -1 || !e.Exit.KillRequested {
		t.Errorf("exit %+v, want SIGKILL", e.Exit)
	}
}

func TestKillKillsChildren(t *testing.T) {
	c, _ := inProcess(t, Config{})
	ctx := ctxT(t)
	tmp := t.TempDir()
	spec := sh("tree", `sleep 1000 & echo $! > `+tmp+`/child; sh -c 'sleep 1000 & echo $! > `+tmp+`/grandchild; wait' & wait`)
	if _, err := c.Start(ctx, spec); err != nil {
		t.Fatal(err)
	}
	child, grandchild := pidOf(t, tmp+"/child"), pidOf(t, tmp+"/grandchild")
	if err := c.Kill(ctx, "tree", 0); err != nil {
		t.Fatal(err)
	}
	e := waitExit(t, c, "tree")
	if e.Exit.Signal != "SIGKILL" {
		t.Errorf("exit %+v", e.Exit)
	}
	waitGone(t, child)
	waitGone(t, grandchild)
}

func TestLeaderExitKillsItsGroup(t *testing.T) {
	c, _ := inProcess(t, Config{})
	ctx := ctxT(t)
	tmp := t.TempDir()
	if _, err := c.Start(ctx, sh("bg", `sleep 1000 & echo $! > `+tmp+`/child; exit 0`)); err != nil {
		t.Fatal(err)
	}
	child := pidOf(t, tmp+"/child")
	waitExit(t, c, "bg")
	waitGone(t, child)
}

func TestCgroupTaskTreeDies(t *testing.T) {
	m, _ := testCgroups(t)
	c, _ := inProcess(t, Config{Cgroups: m})
	ctx := ctxT(t)
	tmp := t.TempDir()
	if _, err := m.Create("tree", cgroupsLimits()); err != nil {
		t.Fatal(err)
	}
	spec := sh("tree", `setsid sleep 1000 & echo $! > `+tmp+`/escaped; sleep 1000 & wait`)
	spec.Cgroup = "tree"
	p, err := c.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	escaped := pidOf(t, tmp+"/escaped")
	// The escaped one gets its own session and process group...
	eventually(t, 10*time.Second, func() bool {
		_, _, pgrp, err := procStat(escaped)
		return err == nil && pgrp == escaped
	}, "setsid")
	// ... but stays in the cgroup.
	cg, _ := m.Open("tree")
	procs, _ := cg.Procs()
	if !contains(procs, p.PID) || !contains(procs, escaped) {
		t.Errorf("cgroup procs %v, want %d and %d", procs, p.PID, escaped)
	}
	if err := c.Kill(ctx, "tree", 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	waitExit(t, c, "tree")
	waitGone(t, escaped)
	eventually(t, 10*time.Second, func() bool { procs, _ := cg.Procs(); return len(procs) == 0 }, "an empty cgroup")
}

// TestStartInMissingCgroup: a start naming a cgroup nobody created fails
// with the missing directory named, and the key is free again.
func TestStartInMissingCgroup(t *testing.T) {
	m, _ := testCgroups(t)
	c, _ := inProcess(t, Config{Cgroups: m})
	ctx := ctxT(t)
	spec := sleepSpec("nocg")
	spec.Cgroup = "never-created"
	_, err := c.Start(ctx, spec)
	if err == nil || !strings.Contains(err.Error(), "never-created") || !strings.Contains(err.Error(), "no such file or directory") {
		t.Fatalf("start in a missing cgroup: %v", err)
	}
	procs, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) != 0 {
		t.Fatalf("processes after a failed start: %+v", procs)
	}
	if _, err := c.Start(ctx, sleepSpec("nocg")); err != nil {
		t.Fatalf("the key stays taken after a failed start: %v", err)
	}
}

func TestSignalDeliveredOnce(t *testing.T) {
	m, _ := testCgroups(t)
	c, _ := inProcess(t, Config{Cgroups: m})
	ctx := ctxT(t)
	out := filepath.Join(t.TempDir(), "out")
	m.Create("sig", cgroupsLimits())
	spec := sh("sig", `trap 'echo usr1' USR1; trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done`)
	spec.Stdout, spec.Cgroup = out, "sig"
	if _, err := c.Start(ctx, spec); err != nil {
		t.Fatal(err)
	}
	readWhen(t, out, "ready")
	if err := c.Signal(ctx, "sig", syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	readWhen(t, out, "usr1")
	c.Kill(ctx, "sig", time.Minute)
	waitExit(t, c, "sig")
	if b, _ := os.ReadFile(out); strings.Count(string(b), "usr1") != 1 {
		t.Errorf("output %q: want usr1 once", b)
	}
	if err := c.Signal(ctx, "sig", syscall.SIGUSR1); err == nil {
		t.Errorf("signal to an exited process succeeded")
	}
	if err := c.Signal(ctx, "nope", syscall.SIGUSR1); err == nil {
		t.Errorf("signal to an unknown process succeeded")
	}
}

func TestForget(t *testing.T) {
	c, dir := inProcess(t, Config{})
	ctx := ctxT(t)
	c.Start(ctx, sleepSpec("run"))
	if err := c.Forget(ctx, "run"); err == nil {
		t.Errorf("forgot a running process")
	}
	c.Start(ctx, sh("done", "exit 0"))
	waitExit(t, c, "done")
	if err := c.Forget(ctx, "done"); err != nil {
		t.Fatal(err)
	}
	if err := c.Forget(ctx, "done"); err != nil {
		t.Errorf("second forget: %v", err)
	}
	procs, _ := c.List(ctx)
	if find(procs, "done") != nil || find(procs, "run") == nil {
		t.Errorf("List after forget: %+v", procs)
	}
	if m := records(t, dir); m["done"] != nil || m["run"] == nil {
		t.Errorf("records after forget: %v", m)
	}
	// The key can be used again.
	if _, err := c.Start(ctx, sh("done", "exit 0")); err != nil {
		t.Error(err)
	}
}

func TestLongDirPath(t *testing.T) {
	dir := t.TempDir()
	for len(dir) < 150 {
		dir = filepath.Join(dir, "a-rather-long-directory-name")
	}
	c, _ := inProcess(t, Config{Dir: dir})
	ctx := ctxT(t)
	if _, err := c.Start(ctx, sh("x", "exit 4")); err != nil {
		t.Fatal(err)
	}
	if e := waitExit(t, c, "x"); e.Exit.Code != 4 {
		t.Errorf("exit %+v", e.Exit)
	}
	if _, err := os.Stat(filepath.Join(dir, socketName)); err != nil {
		t.Errorf("socket not in dir: %v", err)
	}
	c2, err := Dial(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
}

func TestOneServePerDir(t *testing.T) {
	dir := t.TempDir()
	subprocess(t, dir)
	err := Serve(ctxT(t), Config{Dir: dir, Logger: logger()})
	if err == nil || !strings.Contains(err.Error(), "another supervisor") {
		t.Errorf("second supervisor on a dir: %v", err)
	}
}

func TestAgentRestartSeesExit(t *testing.T) {
	c, dir := inProcess(t, Config{})
	ctx := ctxT(t)
	p, err := c.Start(ctx, sleepSpec("s"))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := c.List(ctx); err == nil {
		t.Errorf("List on a closed client")
	}
	// The process ends while no client is connected.
	unix.Kill(p.PID, syscall.SIGTERM)
	var procs []Proc
	eventually(t, 30*time.Second, func() bool {
		c2, err := Dial(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		procs, err = c2.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		q := find(procs, "s")
		return q != nil && q.Exit != nil
	}, "the recorded exit")
	if q := find(procs, "s"); q.Exit.Signal != "SIGTERM" || q.Exit.Unknown || q.PID != p.PID {
		t.Errorf("exit %+v", q)
	}
}

func TestConcurrentEnsureStartsOne(t *testing.T) {
	dir := t.TempDir()
	cmd := supervisorCommand(t, dir)
	t.Cleanup(func() { stopSubprocess(t, dir) })
	const n = 4
	var wg sync.WaitGroup
	pids := make([]int, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Ensure(ctxT(t), dir, cmd)
			if err != nil {
				errs[i] = err
				return
			}
			pids[i] = c.ServerPID()
			errs[i] = c.Ping(ctxT(t))
			c.Close()
		}()
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if pids[i] != pids[0] {
			t.Errorf("supervisors %v: want one", pids)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, pidName))
	if strings.TrimSpace(string(b)) != fmt.Sprint(pids[0]) {
		t.Errorf("pid file %q, want %d", b, pids[0])
	}
}

func TestSupervisorCrashReadoption(t *testing.T) {
	dir := t.TempDir()
	c := subprocess(t, dir)
	ctx := ctxT(t)
	old := c.ServerPID()
	var pids = map[string]int{}
	for _, k := range []string{"keep", "diewhiledown", "exitlater"} {
		p, err := c.Start(ctx, sleepSpec(k))
		if err != nil {
			t.Fatal(err)
		}
		pids[k] = p.PID
	}
	c.Start(ctx, sh("done", "exit 5"))
	waitExit(t, c, "done")
	c.Close()

	// The supervisor dies hard: its tasks keep running.
	unix.Kill(old, syscall.SIGKILL)
	waitGone(t, old)
	for k, pid := range pids {
		if !alive(pid) {
			t.Fatalf("%s (%d) died with the supervisor", k, pid)
		}
	}
	// One task ends while no supervisor runs.
	unix.Kill(pids["diewhiledown"], syscall.SIGKILL)
	waitGone(t, pids["diewhiledown"])

	c2, err := Ensure(ctx, dir, supervisorCommand(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if c2.ServerPID() == old {
		t.Fatal("same supervisor")
	}
	procs, err := c2.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"keep", "exitlater"} {
		if p := find(procs, k); p == nil || p.Exit != nil || p.PID != pids[k] {
			t.Errorf("%s after re-adoption: %+v", k, p)
		}
	}
	if p := find(procs, "diewhiledown"); p == nil || p.Exit == nil || !p.Exit.Unknown {
		t.Errorf("diewhiledown: %+v", p)
	}
	if p := find(procs, "done"); p == nil || p.Exit == nil || p.Exit.Code != 5 {
		t.Errorf("done: %+v", p)
	}
	// A re-adopted task's later exit is reported, as unknown.
	unix.Kill(pids["exitlater"], syscall.SIGTERM)
	if e := waitExit(t, c2, "exitlater"); !e.Exit.Unknown || e.Exit.Code != -1 {
		t.Errorf("exitlater: %+v", e.Exit)
	}
	// Re-adopted tasks can be killed.
	if err := c2.Kill(ctx, "keep", time.Minute); err != nil {
		t.Fatal(err)
	}
	if e := waitExit(t, c2, "keep"); !e.Exit.KillRequested || !e.Exit.Unknown {
		t.Errorf("keep: %+v", e.Exit)
	}
	waitGone(t, pids["keep"])
}

func TestShutdownKillsEverything(t *testing.T) {
	dir := t.TempDir()
	c := subprocess(t, dir)
	ctx := ctxT(t)
	var pids []int
	for i := 0; i < 5; i++ {
		p, err := c.Start(ctx, sleepSpec(fmt.Sprint("s", i)))
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, p.PID)
	}
	out := filepath.Join(t.TempDir(), "out")
	spec := sh("stubborn", `trap '' TERM; echo ready; while :; do sleep 0.05; done`)
	spec.Stdout = out
	p, err := c.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	pids = append(pids, p.PID)
	readWhen(t, out, "ready")
	server := c.ServerPID()
	if err := c.Shutdown(ctx, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("%d still alive after Shutdown", pid)
		}
	}
	waitGone(t, server)
	// Every exit was recorded.
	n := 0
	for _, k := range records(t, dir) {
		if k.exit != nil && k.exit.Exit.KillRequested {
			n++
		}
	}
	if n != 6 {
		t.Errorf("%d exit records, want 6", n)
	}
}

func TestPIDNamespace(t *testing.T) {
	needRoot(t)
	c, _ := inProcess(t, Config{InitCommand: initCommand(t)})
	ctx := ctxT(t)
	out := filepath.Join(t.TempDir(), "out")
	spec := sh("ns", `echo pid=$$; echo init=$(tr '\0' ' ' < /proc/1/cmdline); echo procs: /proc/[0-9]*; exit 5`)
	spec.Stdout, spec.Stderr = out, out
	spec.NewPIDNamespace = true
	if _, err := c.Start(ctx, spec); err != nil {
		t.Fatal(err)
	}
	e := waitExit(t, c, "ns")
	b, _ := os.ReadFile(out)
	s := string(b)
	if e.Exit.Code != 5 {
		t.Errorf("exit %+v, want 5 (output %q)", e.Exit, s)
	}
	// The task runs under the namespace's init (pid 1; its threads took
	// the next pids) and sees only its own processes.
	var pid string
	for _, l := range strings.Split(s, "\n") {
		if rest, ok := strings.CutPrefix(l, "pid="); ok {
			pid = rest
		}
	}
	if pid == "" || pid == "1" || !strings.Contains(s, "init="+testBinary(t)+" "+argInit) {
		t.Errorf("output %q", s)
	}
	var procs []string
	for _, l := range strings.Split(s, "\n") {
		if rest, ok := strings.CutPrefix(l, "procs: "); ok {
			procs = strings.Fields(rest)
		}
	}
	for _, p := range procs {
		if p != "/proc/1" && p != "/proc/"+pid {
			t.Errorf("process %s visible in the namespace: %v", p, procs)
		}
	}
	if len(procs) == 0 {
		t.Errorf("no processes listed: %q", s)
	}
	// The host's /proc was not touched.
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", os.Getpid())); err != nil {
		t.Errorf("host /proc: %v", err)
	}
}

func TestPIDNamespaceSignals(t *testing.T) {
	needRoot(t)
	c, _ := inProcess(t, Config{InitCommand: initCommand(t)})
	ctx := ctxT(t)
	out := filepath.Join(t.TempDir(), "out")
	spec := sh("ns", `trap 'echo term; exit 9' TERM; echo ready; while :; do sleep 0.05; done`)
	spec.Stdout, spec.NewPIDNamespace = out, true
	if _, err := c.Start(ctx, spec); err != nil {
		t.Fatal(err)
	}
	readWhen(t, out, "ready")
	c.Kill(ctx, "ns", time.Minute)
	if e := waitExit(t, c, "ns"); e.Exit.Code != 9 {
		t.Errorf("exit %+v, want 9 (SIGTERM forwarded by init)", e.Exit)
	}
	// Exec errors inside the namespace are Start errors.
	bad := StartSpec{Key: "bad", Path: "/nonexistent", NewPIDNamespace: true}
	if _, err := c.Start(ctx, bad); err == nil || !strings.Contains(err.Error(), "exec /nonexistent: no such file or directory") {
		t.Errorf("exec error: %v", err)
	}
	// A stubborn task is SIGKILLed with its whole namespace.
	out2 := out + "2"
	spec = sh("stubborn", `trap '' TERM; sleep 1000 & echo ready; wait`)
	spec.Stdout, spec.NewPIDNamespace = out2, true
	c.Start(ctx, spec)
	readWhen(t, out2, "ready")
	c.Kill(ctx, "stubborn", 100*time.Millisecond)
	if e := waitExit(t, c, "stubborn"); e.Exit.Signal != "SIGKILL" {
		t.Errorf("exit %+v", e.Exit)
	}
}

func TestMountNamespaceIsPrivate(t *testing.T) {
	needRoot(t)
	c, _ := inProcess(t, Config{InitCommand: initCommand(t)})
	ctx := ctxT(t)
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	target := filepath.Join(tmp, "mnt")
	os.Mkdir(target, 0o755)
	spec := sh("mnt", `mount -t tmpfs cairn-test-tmpfs `+target+` && grep -c cairn-test-tmpfs /proc/self/mountinfo`)
	spec.Stdout, spec.Stderr, spec.NewMountNamespace = out, out, true
	p, err := c.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if e := waitExit(t, c, "mnt"); e.Exit.Code != 0 || e.PID != p.PID {
		b, _ := os.ReadFile(out)
		t.Fatalf("exit %+v: %s", e.Exit, b)
	}
	if b, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(b), "cairn-test-tmpfs") {
		t.Errorf("the task's mount leaked to the host")
	}
}

func TestUser(t *testing.T) {
	needRoot(t)
	c, _ := inProcess(t, Config{InitCommand: initCommand(t)})
	ctx := ctxT(t)
	tmp := t.TempDir()
	os.Chmod(tmp, 0o777)
	for i, ns := range []struct{ pid, mnt bool }{{false, false}, {true, false}, {false, true}} {
		out := filepath.Join(tmp, fmt.Sprint("out", i))
		spec := sh(fmt.Sprint("user", i), `id -u; id -g`)
		spec.Stdout, spec.User, spec.NewPIDNamespace, spec.NewMountNamespace = out, "nobody", ns.pid, ns.mnt
		if _, err := c.Start(ctx, spec); err != nil {
			t.Fatal(err)
		}
		waitExit(t, c, spec.Key)
		if b, _ := os.ReadFile(out); !strings.HasPrefix(string(b), "65534\n") {
			t.Errorf("namespaces %+v: id -u = %q", ns, b)
		}
	}
	if _, err := c.Start(ctx, StartSpec{Key: "nouser", Path: "/bin/true", User: "no-such-user-x"}); err == nil {
		t.Errorf("unknown user accepted")
	}
}

func TestKillWhileStarting(t *testing.T) {
	c, _ := inProcess(t, Config{})
	ctx := ctxT(t)
	// Pipelined: the Kill may reach the supervisor before the start is done.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.Start(ctx, sleepSpec("k"))
	}()
	// Killed until one Kill finds it (a Kill before the Start arrives
	// finds nothing to kill).
	eventually(t, 10*time.Second, func() bool {
		c.Kill(ctx, "k", 0)
		procs, _ := c.List(ctx)
		p := find(procs, "k")
		return p != nil && p.Exit != nil
	}, "the process killed")
	wg.Wait()
	if e := waitExit(t, c, "k"); e.Exit.Signal != "SIGKILL" || !e.Exit.KillRequested {
		t.Errorf("exit %+v", e.Exit)
	}
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
