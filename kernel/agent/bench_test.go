package agent_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/agent"
	"github.com/cairn-dc/cairn/kernel/containerizer/cgroups"
	"github.com/cairn-dc/cairn/kernel/master"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/kernel/scheduler"
)

// BenchmarkLaunch1000 launches 1,000 `sleep` tasks on one real agent and
// measures the time from the ACCEPT until every task is RUNNING (the
// framework has the updates), next to the physical floor: a bare loop that
// fork-execs the same 1,000 processes (the same program, arguments and
// environment as the tasks get). It reports the ratio ("x-floor"),
// Cairn's memory overhead per running task (the supervisor's proportional
// set size plus the agent process's growth, divided by the tasks), and the
// CPU time spent meanwhile by the machine and by Cairn ("host-cpu-s",
// "cairn-cpu-s"): on 2 cores the launch is CPU-bound, and the CPU is a
// steadier measure than the time.
//
// It also reports the floor of sleeps with an empty environment
// ("bare-floor-s", "x-bare-floor"), which earlier versions used: such a
// sleep skips loading the locale the tasks get from the agent (LANG), and
// starts with about 0.35 ms less CPU here, so that floor is not the same
// processes.
func BenchmarkLaunch1000(b *testing.B) {
	const n = 1000
	for _, iso := range []string{"none", "auto"} {
		b.Run("isolation="+iso, func(b *testing.B) {
			if iso == "auto" && os.Geteuid() != 0 {
				b.Skip("cgroup isolation needs root")
			}
			for i := 0; i < b.N; i++ {
				settle()
				env := floorEnv()
				floor := medianFloor(b, n, env)
				bare := medianFloor(b, n, nil)
				var cgFloor time.Duration
				if iso == "auto" {
					cgFloor = cgroupFloor(b, n, env)
					settle()
				}
				elapsed, perTask := launchOnAgent(b, n, iso)
				b.ReportMetric(floor.Seconds(), "floor-s")
				b.ReportMetric(elapsed.Seconds(), "cairn-s")
				b.ReportMetric(elapsed.Seconds()/floor.Seconds(), "x-floor")
				b.ReportMetric(bare.Seconds(), "bare-floor-s")
				b.ReportMetric(elapsed.Seconds()/bare.Seconds(), "x-bare-floor")
				if cgFloor > 0 {
					b.ReportMetric(cgFloor.Seconds(), "cgfloor-s")
					b.ReportMetric(elapsed.Seconds()/cgFloor.Seconds(), "x-cgfloor")
				}
				b.ReportMetric(perTask/1024, "KiB/task")
			}
		})
	}
}

// settle gives the kernel time to finish what the previous measurement
// left it (destroyed cgroups are freed by kernel workers after rmdir), so
// that it does not run during the next one.
func settle() { time.Sleep(3 * time.Second) }

// medianFloor is the median of three floors: on this shared machine one
// varies by ±15 %, and the ratio with it.
func medianFloor(b *testing.B, n int, env []string) time.Duration {
	fs := make([]time.Duration, 3)
	for i := range fs {
		if i > 0 {
			time.Sleep(time.Second)
		}
		fs[i] = floor(b, n, env)
	}
	slices.Sort(fs)
	return fs[1]
}

// floorEnv is the environment of the floors' sleeps: what the agent passes
// on to its tasks from its own (PATH, the locale, TZ), and as many
// variables of Cairn's as a task gets, under the same names (checkTaskEnv
// checks a running task's environment against it).
func floorEnv() []string {
	env := agent.InheritedEnv()
	for _, k := range []string{"HOME", "TMPDIR", "CAIRN_SANDBOX", "MESOS_SANDBOX"} {
		env = append(env, k+"=/dev/shm/cairn-agent-bench/sandboxes/f/s0-00000000-0000-0000-0000-000000000000")
	}
	for _, k := range []string{"CAIRN_TASK_ID", "MESOS_TASK_ID", "CAIRN_TASK_NAME", "CAIRN_FRAMEWORK_ID",
		"CAIRN_AGENT_ID", "CAIRN_AGENT_NAME", "HOST", "CAIRN_CPUS", "CAIRN_MEM", "CAIRN_AGENT_ADDRESS"} {
		env = append(env, k+"=s0")
	}
	return env
}

// floor fork-execs n sleeps with env and waits until they all exist.
func floor(b *testing.B, n int, env []string) time.Duration {
	b.Helper()
	start := time.Now()
	pids := make([]int, 0, n)
	for i := 0; i < n; i++ {
		pid, err := syscall.ForkExec("/bin/sleep", []string{"sleep", "60"}, &syscall.ProcAttr{Env: env, Sys: &syscall.SysProcAttr{Setpgid: true}})
		if err != nil {
			b.Fatal(err)
		}
		pids = append(pids, pid)
	}
	elapsed := time.Since(start)
	for _, p := range pids {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	for _, p := range pids {
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(p, &ws, 0, nil)
	}
	return elapsed
}

// cgroupFloor is the floor of launching with per-task cgroups: a bare loop
// that creates each task's cgroup with the agent's limits for it (through
// the same cgroups package, so the same hierarchies and writes) and
// fork-execs the sleep into it. It is what the kernel charges for cgroup
// isolation, which the fork-exec floor leaves out.
func cgroupFloor(b *testing.B, n int, env []string) time.Duration {
	b.Helper()
	m, why, err := cgroups.Detect("cairn-bench-floor")
	if err != nil || m.Version() == "none" {
		b.Fatalf("no cgroups for the cgroup floor: %v %s", err, why)
	}
	lim := cgroups.Limits{CPUShares: 512, CPUPeriod: 100 * time.Millisecond, CPUQuota: 50 * time.Millisecond, MemoryBytes: 32 << 20}
	cgs := make([]cgroups.Cgroup, 0, n)
	start := time.Now()
	for i := 0; i < n; i++ {
		c, err := m.Create("floor-"+strconv.Itoa(i), lim)
		if err != nil {
			b.Fatal(err)
		}
		cgs = append(cgs, c)
		if _, err := c.Start(&syscall.SysProcAttr{Setpgid: true}, func() (int, error) {
			return syscall.ForkExec("/bin/sleep", []string{"sleep", "60"}, &syscall.ProcAttr{Env: env, Sys: &syscall.SysProcAttr{Setpgid: true}})
		}); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	for _, c := range cgs {
		if err := c.Destroy(); err != nil {
			b.Error(err)
		}
	}
	// Reap the killed sleeps (children of this process).
	for {
		var ws syscall.WaitStatus
		if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
			break
		}
	}
	return elapsed
}

func launchOnAgent(b *testing.B, n int, iso string) (time.Duration, float64) {
	b.Helper()
	// The master as it runs for real (its default intervals), not with
	// the tests' short ones: a snapshot every 10 ms instead of 100, a
	// housekeeping tick every 20 ms instead of 100, and so on, cost CPU
	// that a real cluster does not spend.
	c := newCluster(b, func(cfg *master.Config) { *cfg = master.Config{ID: cfg.ID, Logger: cfg.Logger, Seed: cfg.Seed} })
	dir := benchDir(b)
	ra := c.agent(dir, func(cfg *agent.Config) {
		cfg.Isolation = iso
		cfg.Resources = resources.MustParse(fmt.Sprintf("cpus:%d;mem:%d;disk:10000;ports:[41000-41100]", n, 64*n))
	})
	f := c.framework("bench")
	o := offer(b, f)
	tasks := make([]protocol.TaskInfo, n)
	for i := range tasks {
		tasks[i] = scheduler.Task(protocol.TaskID("s"+strconv.Itoa(i)), "s", resources.MustParse("cpus:0.5;mem:32"), "")
		no := false
		tasks[i].Command = &protocol.CommandInfo{Value: "/bin/sleep", Arguments: []string{"sleep", "60"}, Shell: &no}
	}
	runtime.GC()
	rss0 := selfRSS()
	host0, self0, sup0 := hostBusy(), selfCPU(), supervisorCPU(dir)

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if rej, err := f.Launch(ctx, o, tasks...); err != nil || len(rej) > 0 {
		b.Fatalf("launch: %v %v", rej, err)
	}
	// The events are counted as they come (not rescanned each time: the
	// measuring must not eat the CPU it measures), by distinct task: an
	// update the framework has not acknowledged in time is sent again, and
	// must not count twice. The tasks fetch nothing, so they go from
	// STAGING to RUNNING without TASK_STARTING.
	runningIDs := map[protocol.TaskID]bool{}
	seen, again := 0, 0
	for {
		f.mu.Lock()
		for _, ev := range f.events[seen:] {
			if ev.Type != protocol.EventUpdate {
				continue
			}
			switch st := ev.Update.Status; {
			case st.State == protocol.TaskRunning:
				if runningIDs[st.TaskID] {
					again++
				}
				runningIDs[st.TaskID] = true
			case st.State.Terminal():
				f.mu.Unlock()
				b.Fatalf("task %s ended: %s %s", st.TaskID, st.State, st.Message)
			}
		}
		seen = len(f.events)
		f.mu.Unlock()
		if len(runningIDs) >= n {
			break
		}
		select {
		case <-ctx.Done():
			b.Fatalf("only %d of %d running after 2 minutes", len(runningIDs), n)
		case <-time.After(2 * time.Millisecond):
		}
	}
	elapsed := time.Since(start)
	// Where the CPU went meanwhile: the machine, and Cairn (this process:
	// NATS, master, agent, the framework; plus the supervisor). The rest
	// of the machine's is mostly the tasks' own start (exec, dynamic
	// loading), which the floor's children also do, after it stops timing.
	b.ReportMetric((hostBusy() - host0).Seconds(), "host-cpu-s")
	b.ReportMetric((selfCPU() - self0 + supervisorCPU(dir) - sup0).Seconds(), "cairn-cpu-s")
	b.ReportMetric(float64(again), "resent-updates")
	checkTaskEnv(b, dir, floorEnv())
	runtime.GC()
	overhead := float64(selfRSS()-rss0) + supervisorPSS(dir)
	ra.kill()
	return elapsed, overhead / float64(n)
}

// benchDir is the agent's work dir: under $CAIRN_BENCH_DIR when set (e.g.
// /dev/shm, to leave the disk's metadata cost out), else a temp dir.
func benchDir(b *testing.B) string {
	root := os.Getenv("CAIRN_BENCH_DIR")
	if root == "" {
		return b.TempDir()
	}
	dir, err := os.MkdirTemp(root, "cairn-agent-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// selfRSS is this process's resident set (bytes).
func selfRSS() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// supervisorPSS is the supervisor's proportional set size (bytes).
func supervisorPSS(workDir string) float64 {
	pidText, err := os.ReadFile(filepath.Join(workDir, "meta", "supervisor", "supervisor.pid"))
	if err != nil {
		return 0
	}
	b, _ := os.ReadFile("/proc/" + strings.TrimSpace(string(pidText)) + "/smaps_rollup")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Pss:") {
			kb, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
			return kb * 1024
		}
	}
	return 0
}

// hostBusy is the CPU time all CPUs spent not idle (from /proc/stat).
func hostBusy() time.Duration {
	b, _ := os.ReadFile("/proc/stat")
	line, _, _ := strings.Cut(string(b), "\n")
	var busy int64
	for i, f := range strings.Fields(line)[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		v, _ := strconv.ParseInt(f, 10, 64)
		busy += v
	}
	return time.Duration(busy) * 10 * time.Millisecond // USER_HZ = 100
}

// selfCPU is this process's CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// supervisorCPU is the supervisor's CPU time.
func supervisorCPU(workDir string) time.Duration {
	pidText, err := os.ReadFile(filepath.Join(workDir, "meta", "supervisor", "supervisor.pid"))
	if err != nil {
		return 0
	}
	b, _ := os.ReadFile("/proc/" + strings.TrimSpace(string(pidText)) + "/stat")
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// checkTaskEnv fails the benchmark unless a running task's environment
// has the same variables as the floors' sleeps (env), and the same values
// of those it inherits from the agent (the locale, PATH, TZ): else the floor
// would not run the same processes.
func checkTaskEnv(b *testing.B, workDir string, env []string) {
	b.Helper()
	pidText, err := os.ReadFile(filepath.Join(workDir, "meta", "supervisor", "supervisor.pid"))
	if err != nil {
		b.Fatalf("the supervisor's pid: %v", err)
	}
	sup := strings.TrimSpace(string(pidText))
	names := func(env []string) []string {
		out := make([]string, len(env))
		for i, kv := range env {
			out[i], _, _ = strings.Cut(kv, "=")
		}
		slices.Sort(out)
		return out
	}
	threads, _ := filepath.Glob("/proc/" + sup + "/task/*/children")
	for _, f := range threads {
		children, _ := os.ReadFile(f)
		for _, pid := range strings.Fields(string(children)) {
			raw, err := os.ReadFile("/proc/" + pid + "/environ")
			if err != nil {
				continue // ended meanwhile
			}
			have := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
			if !slices.Equal(names(have), names(env)) {
				b.Fatalf("task process %s has the variables %q, the floors' sleeps %q: update floorEnv", pid, names(have), names(env))
			}
			for _, kv := range agent.InheritedEnv() {
				if !slices.Contains(have, kv) {
					b.Fatalf("task process %s lacks %s, which the floors' sleeps get: the floor would not be the same processes (its environment: %q)", pid, kv, have)
				}
			}
			return
		}
	}
	b.Fatalf("no task process under the supervisor %s", sup)
}
