package cgroups

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestParseMountinfo(t *testing.T) {
	mi := `25 30 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
26 25 0:23 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu
27 25 0:24 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
28 25 0:25 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
29 25 0:26 / /mnt/with\040space rw - cgroup cgroup rw,pids
`
	ms := parseMountinfo([]byte(mi))
	if len(ms) != 4 {
		t.Fatalf("got %d mounts, want 4: %+v", len(ms), ms)
	}
	if ms[0].point != "/sys/fs/cgroup/cpu" || ms[0].opts[1] != "cpu" || ms[0].v2 {
		t.Errorf("cpu mount: %+v", ms[0])
	}
	if !ms[2].v2 || ms[2].point != "/sys/fs/cgroup/unified" {
		t.Errorf("v2 mount: %+v", ms[2])
	}
	if ms[3].point != "/mnt/with space" {
		t.Errorf("escaped mount point: %q", ms[3].point)
	}
	h := &host{mounts: ms, own: map[string]string{}}
	h.parseCgroup([]byte("4:memory:/docker/abc/sub\n1:cpu:/x\n0::/y\n"))
	if _, own, ok := h.v1Mount("memory"); !ok || own != "/sys/fs/cgroup/memory/sub" {
		t.Errorf("memory own dir = %q %v", own, ok)
	}
	if _, own, ok := h.v1Mount("cpu"); !ok || own != "/sys/fs/cgroup/cpu/x" {
		t.Errorf("cpu own dir = %q %v", own, ok)
	}
	if _, own, ok := h.v2Mount(); !ok || own != "/sys/fs/cgroup/unified/y" {
		t.Errorf("v2 own dir = %q %v", own, ok)
	}
	if _, _, ok := h.v1Mount("freezer"); ok {
		t.Errorf("freezer found but not mounted")
	}
}

func TestValidNames(t *testing.T) {
	for _, p := range []string{"", "/abs", "a//b", "a/../b", "a/b/", "a b"} {
		if validParent(p) == nil {
			t.Errorf("parent %q accepted", p)
		}
	}
	for _, p := range []string{"cairn", "cairn/agent-1", "a.b_c/D-9"} {
		if err := validParent(p); err != nil {
			t.Errorf("parent %q: %v", p, err)
		}
	}
	if _, _, err := Detect("../x"); err == nil {
		t.Errorf("Detect accepted a bad parent")
	}
}

func TestSharesToWeight(t *testing.T) {
	for shares, want := range map[uint64]int64{0: 100, 2: 1, 1024: 39, 262144: 10000, 1 << 30: 10000} {
		if got := sharesToWeight(shares); got != want {
			t.Errorf("sharesToWeight(%d) = %d, want %d", shares, got, want)
		}
	}
}

func TestNone(t *testing.T) {
	m := None()
	if m.Version() != "none" {
		t.Fatal(m.Version())
	}
	cg, err := m.Create("t1", Limits{MemoryBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	pid := startSleep(t, cg, "1000")
	if !errors.Is(cg.Kill(time.Second), ErrUnsupported) || !errors.Is(cg.Signal(syscall.SIGTERM), ErrUnsupported) {
		t.Errorf("none: Kill/Signal should be unsupported")
	}
	unix.Kill(pid, syscall.SIGKILL)
	if ws := waitExit(t, pid); ws.Signal() != syscall.SIGKILL {
		t.Errorf("status %v", ws)
	}
	if err := cg.Destroy(); err != nil {
		t.Error(err)
	}
}

// testManager returns a real Manager under a fresh parent, removed at the
// end, or skips the test when cgroups cannot be used here.
func testManager(t testing.TB) Manager {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("not root: cgroup tests need root")
	}
	parent := fmt.Sprintf("cairn-test/%s-%d", sanitize(t.Name()), os.Getpid())
	m, why, err := Detect(parent)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version() == "none" {
		t.Skipf("no usable cgroups here: %s", why)
	}
	t.Logf("cgroups %s", m.Version())
	t.Cleanup(func() { removeManager(t, m) })
	return m
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

func removeManager(t testing.TB, m Manager) {
	if err := RemoveAll(m); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

var devNull = func() uintptr {
	f, err := os.Open(os.DevNull)
	if err != nil {
		panic(err)
	}
	return f.Fd()
}()

// start runs argv inside cg and makes sure it is killed and reaped at the end.
func start(t testing.TB, cg Cgroup, argv ...string) int {
	t.Helper()
	path, err := lookPath(argv[0])
	if err != nil {
		t.Fatal(err)
	}
	attr := &syscall.SysProcAttr{Setpgid: true}
	pid, err := cg.Start(attr, func() (int, error) {
		return syscall.ForkExec(path, argv, &syscall.ProcAttr{
			Env:   []string{"PATH=/usr/bin:/bin"},
			Files: []uintptr{devNull, devNull, devNull},
			Sys:   attr,
		})
	})
	if err != nil {
		t.Fatalf("start %v: %v", argv, err)
	}
	t.Cleanup(func() {
		unix.Kill(-pid, syscall.SIGKILL)
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	})
	return pid
}

func startSleep(t testing.TB, cg Cgroup, secs string) int { return start(t, cg, "sleep", secs) }

func lookPath(name string) (string, error) {
	for _, d := range []string{"/usr/bin", "/bin", "/usr/sbin", "/sbin"} {
		if _, err := os.Stat(filepath.Join(d, name)); err == nil {
			return filepath.Join(d, name), nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

// waitExit reaps pid, failing the test if it does not exit within a minute.
func waitExit(t testing.TB, pid int) syscall.WaitStatus {
	t.Helper()
	var ws syscall.WaitStatus
	var bo backoff
	deadline := time.Now().Add(time.Minute)
	for {
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		if err != nil {
			t.Fatalf("wait4 %d: %v", pid, err)
		}
		if got == pid {
			return ws
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d did not exit", pid)
		}
		bo.wait()
	}
}

// eventually waits for cond, failing with msg after a deadline.
func eventually(t testing.TB, d time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(d)
	var bo backoff
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: "+msg, args...)
		}
		bo.wait()
	}
}

func readTrim(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestLimitsApplied(t *testing.T) {
	m := testManager(t)
	lim := Limits{CPUShares: 512, CPUQuota: 50 * time.Millisecond, CPUPeriod: 200 * time.Millisecond, MemoryBytes: 64 << 20, PidsMax: 100}
	cg, err := m.Create("limits", lim)
	if err != nil {
		t.Fatal(err)
	}
	check := func(file, want string) {
		t.Helper()
		var path string
		switch c := cg.(type) {
		case *v1Cgroup:
			for _, d := range c.dirs {
				if _, err := os.Stat(filepath.Join(d, file)); err == nil {
					path = filepath.Join(d, file)
				}
			}
		case *v2Cgroup:
			path = filepath.Join(c.dir, file)
		}
		if path == "" {
			t.Errorf("%s not found", file)
			return
		}
		if got := readTrim(t, path); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	switch m.Version() {
	case "v1":
		check("cpu.shares", "512")
		check("cpu.cfs_quota_us", "50000")
		check("cpu.cfs_period_us", "200000")
		check("memory.limit_in_bytes", strconv.Itoa(64<<20))
		if m.(*v1Manager).memsw {
			check("memory.memsw.limit_in_bytes", strconv.Itoa(64<<20))
		}
		if m.(*v1Manager).pids >= 0 {
			check("pids.max", "100")
		}
	case "v2":
		check("cpu.weight", strconv.FormatInt(sharesToWeight(512), 10))
		check("cpu.max", "50000 200000")
		check("memory.max", strconv.Itoa(64<<20))
		check("pids.max", "100")
	}
	// Create again resets: a bigger memory limit (memsw raised first) and
	// no quota.
	if _, err := m.Create("limits", Limits{MemoryBytes: 128 << 20}); err != nil {
		t.Fatal(err)
	}
	switch m.Version() {
	case "v1":
		check("cpu.shares", "1024")
		check("cpu.cfs_quota_us", "-1")
		check("memory.limit_in_bytes", strconv.Itoa(128<<20))
		if m.(*v1Manager).pids >= 0 {
			check("pids.max", "max")
		}
	case "v2":
		check("memory.max", strconv.Itoa(128<<20))
	}
	// A fresh cgroup with the default period gets only its quota written.
	if m.Version() == "v1" {
		q, err := m.Create("quota", Limits{CPUQuota: 30 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		c := q.(*v1Cgroup)
		if got := readTrim(t, c.file(c.m.cpu, "cpu.cfs_quota_us")); got != "30000" {
			t.Errorf("fresh cgroup: cpu.cfs_quota_us = %q, want 30000", got)
		}
		if got := readTrim(t, c.file(c.m.cpu, "cpu.cfs_period_us")); got != "100000" {
			t.Errorf("fresh cgroup: cpu.cfs_period_us = %q, want 100000", got)
		}
		if err := q.Destroy(); err != nil {
			t.Fatal(err)
		}
	}
	st, err := cg.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.MemoryLimit != 128<<20 {
		t.Errorf("Stats.MemoryLimit = %d", st.MemoryLimit)
	}
	names, err := m.List()
	if err != nil || len(names) != 1 || names[0] != "limits" {
		t.Errorf("List = %v, %v", names, err)
	}
	for _, bad := range []Limits{{MemoryBytes: 1 << 20}, {MemoryBytes: -1}, {PidsMax: -1}, {CPUQuota: -1}} {
		if _, err := m.Create("bad", bad); err == nil {
			t.Errorf("limits %+v accepted", bad)
		}
	}
	if _, err := m.Open("bad"); err == nil {
		t.Errorf("a refused cgroup exists")
	}
}

// cgroupPaths returns /proc/<pid>/cgroup as controller -> path.
func cgroupPaths(pid int) (map[string]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		p := strings.SplitN(l, ":", 3)
		if len(p) != 3 {
			continue
		}
		if p[1] == "" {
			out["v2"] = p[2]
		}
		for _, c := range strings.Split(p[1], ",") {
			out[c] = p[2]
		}
	}
	return out, nil
}

// inCgroup checks that pid is in cg in every hierarchy cg uses.
func inCgroup(t testing.TB, m Manager, pid int, name string) {
	t.Helper()
	paths, err := cgroupPaths(pid)
	if err != nil {
		t.Fatalf("read cgroups of %d: %v", pid, err)
	}
	var want []string
	switch m.Version() {
	case "v1":
		m1 := m.(*v1Manager)
		for _, c := range []string{"cpu", "cpuacct", "memory", "pids", "freezer"} {
			if _, ok := paths[c]; !ok {
				continue
			}
			if c == "pids" && m1.lazyPids >= 0 {
				// Only tasks with a pids limit get a pids cgroup.
				if _, err := os.Stat(m1.cgroup(name).dirs[m1.lazyPids]); err != nil {
					if strings.HasSuffix(paths[c], "/"+name) {
						t.Errorf("process %d is in a pids cgroup %s that does not exist", pid, paths[c])
					}
					continue
				}
			}
			want = append(want, c)
		}
	case "v2":
		want = []string{"v2"}
	}
	for _, c := range want {
		if !strings.HasSuffix(paths[c], "/"+name) {
			t.Errorf("process %d: %s cgroup is %q, want .../%s", pid, c, paths[c], name)
		}
	}
	// The starting thread went back home.
	self, _ := cgroupPaths(os.Getpid())
	for _, c := range want {
		if strings.HasSuffix(self[c], "/"+name) {
			t.Errorf("this process is still in %s in %s", name, c)
		}
	}
}

func TestStartInCgroupWithChildren(t *testing.T) {
	m := testManager(t)
	cg, err := m.Create("start", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	testStartInCgroup(t, m, cg)
}

func testStartInCgroup(t *testing.T, m Manager, cg Cgroup) {
	pid := start(t, cg, "sh", "-c", "sleep 1000 & setsid sleep 1000 & wait")
	var procs []int
	eventually(t, 10*time.Second, func() bool {
		procs, _ = cg.Procs()
		return len(procs) == 3
	}, "3 processes in the cgroup")
	for _, p := range procs {
		inCgroup(t, m, p, cg.Name())
	}
	inCgroup(t, m, pid, cg.Name())
	if err := cg.Kill(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if ws := waitExit(t, pid); ws.Signal() != syscall.SIGKILL {
		t.Errorf("sh: %v", ws)
	}
	if procs, _ := cg.Procs(); len(procs) != 0 {
		t.Errorf("procs after kill: %v", procs)
	}
}

func TestKillTreeWithSetsid(t *testing.T) {
	m := testManager(t)
	cg, err := m.Create("kill", Limits{PidsMax: 50})
	if err != nil {
		t.Fatal(err)
	}
	// A forking loop and a grandchild in its own session.
	pid := start(t, cg, "sh", "-c", "setsid sh -c 'while :; do sleep 1000 & sleep 0.01; done' & while :; do sleep 1000 & sleep 0.01; done")
	eventually(t, 10*time.Second, func() bool {
		procs, _ := cg.Procs()
		return len(procs) >= 10
	}, "processes in the cgroup")
	if err := cg.Kill(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if procs, _ := cg.Procs(); len(procs) != 0 {
		t.Errorf("procs after kill: %v", procs)
	}
	waitExit(t, pid)
}

func TestSignal(t *testing.T) {
	m := testManager(t)
	cg, err := m.Create("signal", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	pid := startSleep(t, cg, "1000")
	if err := cg.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if ws := waitExit(t, pid); ws.Signal() != syscall.SIGTERM {
		t.Errorf("status %v", ws)
	}
}

func TestOOMKill(t *testing.T) {
	m := testManager(t)
	cg, err := m.Create("oom", Limits{MemoryBytes: 32 << 20})
	if err != nil {
		t.Fatal(err)
	}
	// dd allocates (and fills) a 256 MiB buffer.
	pid := start(t, cg, "dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1")
	ws := waitExit(t, pid)
	if ws.Signal() != syscall.SIGKILL {
		t.Errorf("dd: %v, want killed by SIGKILL", ws)
	}
	st, err := cg.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.OOMKills < 1 {
		t.Errorf("OOMKills = %d, want >= 1 (stats %+v)", st.OOMKills, st)
	}
	if st.MemoryMaxUsage != 0 && st.MemoryMaxUsage > 33<<20 {
		t.Errorf("max usage %d above the limit", st.MemoryMaxUsage)
	}
}

func TestStatsCPU(t *testing.T) {
	m := testManager(t)
	cg, err := m.Create("cpu", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	pid := start(t, cg, "sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done")
	if ws := waitExit(t, pid); ws.ExitStatus() != 0 {
		t.Fatalf("busy loop: %v", ws)
	}
	st, err := cg.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.CPUUser+st.CPUSystem < 20*time.Millisecond {
		t.Errorf("CPU time %v+%v, want the busy loop's", st.CPUUser, st.CPUSystem)
	}
	if st.Processes != 0 {
		t.Errorf("Processes = %d", st.Processes)
	}
	t.Logf("stats: %+v", st)
}

func TestDestroy(t *testing.T) {
	m := testManager(t)
	cg, err := m.Create("destroy", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	pid := start(t, cg, "sh", "-c", "sleep 1000 & wait")
	eventually(t, 10*time.Second, func() bool {
		procs, _ := cg.Procs()
		return len(procs) == 2
	}, "2 processes")
	// A task (as root) may nest cgroups of its own: they go too.
	switch c := cg.(type) {
	case *v1Cgroup:
		for _, d := range c.dirs {
			if err := os.MkdirAll(filepath.Join(d, "nested", "deeper"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	case *v2Cgroup:
		os.Mkdir(filepath.Join(c.dir, "nested"), 0o755)
	}
	if err := cg.Destroy(); err != nil {
		t.Fatal(err)
	}
	waitExit(t, pid)
	var dirs []string
	switch c := cg.(type) {
	case *v1Cgroup:
		dirs = c.dirs
	case *v2Cgroup:
		dirs = []string{c.dir}
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s still exists (%v)", d, err)
		}
	}
	if _, err := m.Open("destroy"); err == nil {
		t.Errorf("Open after Destroy succeeded")
	}
	if err := cg.Destroy(); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
}

// TestPidsCgroupOnlyWithALimit: with v1, a task gets a cgroup in a
// pids-only hierarchy only when it has a pids limit, and starts (and is
// added) without one otherwise.
func TestPidsCgroupOnlyWithALimit(t *testing.T) {
	m := testManager(t)
	m1, ok := m.(*v1Manager)
	if !ok || m1.lazyPids < 0 {
		t.Skipf("needs cgroups v1 with a pids-only hierarchy (have %s)", m.Version())
	}
	without, err := m.Create("nopids", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(m1.cgroup("nopids").dirs[m1.lazyPids]); !os.IsNotExist(err) {
		t.Fatalf("a cgroup without a pids limit has a pids directory (stat: %v)", err)
	}
	testStartInCgroup(t, m, without)

	with, err := m.Create("withpids", Limits{PidsMax: 50})
	if err != nil {
		t.Fatal(err)
	}
	dir := m1.cgroup("withpids").dirs[m1.lazyPids]
	if got := readTrim(t, filepath.Join(dir, "pids.max")); got != "50" {
		t.Fatalf("pids.max = %q, want 50", got)
	}
	pid := startSleep(t, with, "1000")
	paths, err := cgroupPaths(pid)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(paths["pids"], "/withpids") {
		t.Errorf("a task with a pids limit is in pids cgroup %q", paths["pids"])
	}
	if err := with.Destroy(); err != nil {
		t.Fatal(err)
	}
	waitExit(t, pid)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the pids cgroup is left after Destroy (stat: %v)", err)
	}
}

func TestAdd(t *testing.T) {
	m := testManager(t)
	cg, err := m.Create("add", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	pid := startSleep(t, None().(noneManager).mustCreate(t), "1000")
	if err := cg.Add(pid); err != nil {
		t.Fatal(err)
	}
	inCgroup(t, m, pid, "add")
	if err := cg.Destroy(); err != nil {
		t.Fatal(err)
	}
	waitExit(t, pid)
}

func (n noneManager) mustCreate(t testing.TB) Cgroup {
	cg, err := n.Create("x", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return cg
}

// TestV2WithoutControllers exercises the v2 code (CLONE_INTO_CGROUP,
// cgroup.kill, cpu.stat) on a hybrid host whose unified hierarchy has no
// cpu/memory controllers, as this one.
func TestV2WithoutControllers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root")
	}
	h, err := readHost()
	if err != nil {
		t.Skip(err)
	}
	_, own, ok := h.v2Mount()
	if !ok {
		t.Skip("no cgroup2 mount")
	}
	if _, err := os.Stat(filepath.Join(own, "cgroup.procs")); err != nil {
		t.Skip(err)
	}
	parent := fmt.Sprintf("cairn-test/v2-%d", os.Getpid())
	m, err := newV2(own, parent, nil)
	if err != nil {
		t.Skipf("cannot use the unified hierarchy here: %v", err)
	}
	t.Cleanup(func() { removeManager(t, m) })
	cg, err := m.Create("v2", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	testStartInCgroup(t, m, cg)
	pid := start(t, cg, "sh", "-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done")
	waitExit(t, pid)
	st, err := cg.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.CPUUser+st.CPUSystem == 0 {
		t.Errorf("no CPU time: %+v", st)
	}
	if err := cg.Destroy(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkCreateStartDestroy measures a task cgroup's life: Create with
// limits, Start /bin/true in it, reap it, Destroy.
func BenchmarkCreateStartDestroy(b *testing.B) {
	m := testManager(b)
	path, _ := lookPath("true")
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		cg, err := m.Create("bench-"+strconv.Itoa(i), Limits{CPUShares: 1024, MemoryBytes: 64 << 20, PidsMax: 100})
		if err != nil {
			b.Fatal(err)
		}
		attr := &syscall.SysProcAttr{Setpgid: true}
		pid, err := cg.Start(attr, func() (int, error) {
			return syscall.ForkExec(path, []string{"true"}, &syscall.ProcAttr{Files: []uintptr{devNull, devNull, devNull}, Sys: attr})
		})
		if err != nil {
			b.Fatal(err)
		}
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, 0, nil)
		if err := cg.Destroy(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForkExecFloor is the same without a cgroup, for comparison.
func BenchmarkForkExecFloor(b *testing.B) {
	path, _ := lookPath("true")
	for b.Loop() {
		pid, err := syscall.ForkExec(path, []string{"true"}, &syscall.ProcAttr{Files: []uintptr{devNull, devNull, devNull}, Sys: &syscall.SysProcAttr{Setpgid: true}})
		if err != nil {
			b.Fatal(err)
		}
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, 0, nil)
	}
}

// TestStartLeavesNoThreadBehind: the threads Start forks from (v1) leave
// the task's cgroups — they are discarded, or moved back — so that no
// thread of this process stays in one and the cgroups can be destroyed.
func TestStartLeavesNoThreadBehind(t *testing.T) {
	m := testManager(t)
	var cgs []Cgroup
	for i := 0; i < 20; i++ {
		cg, err := m.Create(fmt.Sprintf("leave-%d", i), Limits{MemoryBytes: 64 << 20})
		if err != nil {
			t.Fatal(err)
		}
		cgs = append(cgs, cg)
		startSleep(t, cg, "1000")
	}
	inTask := func() []string {
		var in []string
		tasks, _ := os.ReadDir("/proc/self/task")
		for _, tk := range tasks {
			b, err := os.ReadFile("/proc/self/task/" + tk.Name() + "/cgroup")
			if err != nil {
				continue // the thread ended meanwhile
			}
			if strings.Contains(string(b), "/leave-") {
				in = append(in, tk.Name())
			}
		}
		return in
	}
	eventually(t, 5*time.Second, func() bool { return len(inTask()) == 0 }, "no thread of this process in a task cgroup (still in: %v)", inTask())
	for _, cg := range cgs {
		if err := cg.Destroy(); err != nil {
			t.Errorf("destroy %s: %v", cg.Name(), err)
		}
	}
}

// TestSpare: a spared process inside a task's cgroup (on v1, the task
// supervisor while one of its threads forks from there) is neither listed
// nor signalled nor frozen by a Kill; the task's own processes are killed.
// Without Spare another process (the agent) would SIGKILL it.
func TestSpare(t *testing.T) {
	m := testManager(t)
	cg, err := m.Create("spare", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	supervisorLike := startSleep(t, None().(noneManager).mustCreate(t), "1000")
	if err := cg.Add(supervisorLike); err != nil {
		t.Fatal(err)
	}
	task := startSleep(t, cg, "1000")
	pids, err := cg.Procs()
	if err != nil || !slices.Contains(pids, supervisorLike) || !slices.Contains(pids, task) {
		t.Fatalf("before Spare: procs %v (%v), want %d and %d", pids, err, supervisorLike, task)
	}
	m.Spare(supervisorLike)
	if pids, err := cg.Procs(); err != nil || !slices.Equal(pids, []int{task}) {
		t.Fatalf("with %d spared: procs %v (%v), want [%d]", supervisorLike, pids, err, task)
	}
	if err := cg.Kill(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	waitExit(t, task)
	if err := syscall.Kill(supervisorLike, 0); err != nil {
		t.Fatalf("the spared process was killed: %v", err)
	}
	if c1, ok := cg.(*v1Cgroup); ok && c1.m.freezer >= 0 {
		if b, _ := os.ReadFile(c1.file(c1.m.freezer, "freezer.state")); !bytes.HasPrefix(b, []byte("THAWED")) {
			t.Errorf("freezer.state %q with a spared process inside, want THAWED (never frozen)", b)
		}
	}
	// Unspared, it is one of the cgroup's processes again.
	m.Spare(0)
	if err := cg.Destroy(); err != nil {
		t.Fatal(err)
	}
	waitExit(t, supervisorLike)
}
