package supervisor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cairn-dc/cairn/kernel/containerizer/cgroups"
)

const benchTasks = 1000

// BenchmarkStart1000 starts 1,000 `sleep 60` through a running supervisor
// (pipelined over one connection, each with its own stdout and stderr
// files) and reports the time until all 1,000 replies (every exec done)
// against the floor: a bare loop that ForkExecs 1,000 sleeps, measured
// just before on the same machine.
//
//	x-floor      supervisor time / floor time
//	floor-ms     the bare loop
//	rss-KB/task  growth of the supervisor's RSS per running task (subprocess only)
//
// The cgroup variants give every task its own cgroup (cpu shares, memory
// and pids limits): "cgroup" creates them in the client while starting, as
// the agent will, and counts that time; "cgroup-precreated" creates them
// before the clock starts (the supervisor's own cost).
func BenchmarkStart1000(b *testing.B) {
	for _, mode := range []string{"inproc", "subprocess"} {
		for _, cg := range []string{"nocgroup", "cgroup", "cgroup-precreated"} {
			b.Run(mode+"/"+cg, func(b *testing.B) { benchStart(b, mode, cg) })
		}
	}
}

func benchStart(b *testing.B, mode string, cgMode string) {
	var m cgroups.Manager = cgroups.None()
	var parent string
	if cgMode != "nocgroup" {
		m, parent = testCgroups(b)
	}
	dir := b.TempDir()
	var c *Client
	if mode == "inproc" {
		c, _ = inProcess(b, Config{Dir: dir, Cgroups: m})
	} else {
		var extra []string
		if parent != "" {
			extra = []string{"--cgroup-parent", parent}
		}
		c = subprocess(b, dir, extra...)
	}
	ctx := context.Background()
	// Task files go where CAIRN_BENCH_DIR says (default: a temporary
	// directory); creating files costs what the filesystem makes it cost.
	outDir := b.TempDir()
	if d := os.Getenv("CAIRN_BENCH_DIR"); d != "" {
		var err error
		if outDir, err = os.MkdirTemp(d, "bench"); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(outDir) })
	}
	var ratio, floorMS, rssPerTask float64
	iters := 0
	for b.Loop() {
		b.StopTimer()
		floor := forkFloor(b, benchTasks)
		rss0 := rssKB(c.ServerPID())
		if cgMode == "cgroup-precreated" {
			for k := 0; k < benchTasks; k++ {
				if _, err := m.Create(benchKey(iters, k), benchLimits); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.StartTimer()

		t0 := time.Now()
		keys := startMany(b, ctx, c, m, cgMode == "cgroup", outDir, iters, benchTasks)
		d := time.Since(t0)

		b.StopTimer()
		if mode == "subprocess" {
			rssPerTask += float64(rssKB(c.ServerPID())-rss0) / benchTasks
		}
		ratio += float64(d) / float64(floor)
		floorMS += float64(floor) / float64(time.Millisecond)
		killMany(b, ctx, c, m, keys)
		iters++
		b.StartTimer()
	}
	n := float64(iters)
	b.ReportMetric(ratio/n, "x-floor")
	b.ReportMetric(floorMS/n, "floor-ms")
	if mode == "subprocess" {
		b.ReportMetric(rssPerTask/n, "rss-KB/task")
		b.ReportMetric(float64(rssKB(c.ServerPID())), "rss-KB")
	}
}

// forkFloor times a bare loop forking n sleeps, then kills them.
func forkFloor(b *testing.B, n int) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	null, _ := unix.Open(os.DevNull, unix.O_RDWR|unix.O_CLOEXEC, 0)
	defer unix.Close(null)
	path := sleepPath()
	pids := make([]int, 0, n)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		pid, err := syscall.ForkExec(path, []string{"sleep", "60"}, &syscall.ProcAttr{
			Files: []uintptr{uintptr(null), uintptr(null), uintptr(null)},
			Sys:   &syscall.SysProcAttr{Setpgid: true},
		})
		if err != nil {
			b.Fatal(err)
		}
		pids = append(pids, pid)
	}
	d := time.Since(t0)
	for _, pid := range pids {
		unix.Kill(pid, syscall.SIGKILL)
	}
	for _, pid := range pids {
		var ws syscall.WaitStatus
		// An in-process supervisor may reap it first (ECHILD).
		syscall.Wait4(pid, &ws, 0, nil)
	}
	for _, pid := range pids {
		waitGone(b, pid)
	}
	return d
}

var benchLimits = cgroups.Limits{CPUShares: 102, MemoryBytes: 64 << 20, PidsMax: 100}

func benchKey(iter, k int) string { return fmt.Sprintf("bench.%d.%d", iter, k) }

func startMany(b *testing.B, ctx context.Context, c *Client, m cgroups.Manager, create bool, outDir string, iter, n int) []string {
	keys := make([]string, n)
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	var firstErr error
	var errMu sync.Mutex
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				k := i
				i++
				next.Unlock()
				if k >= n {
					return
				}
				key := benchKey(iter, k)
				keys[k] = key
				spec := StartSpec{
					Key: key, Path: sleepPath(), Argv: []string{"sleep", "60"},
					Env:    []string{"PATH=/usr/bin:/bin", "TASK=" + key},
					Dir:    outDir,
					Stdout: filepath.Join(outDir, key+".stdout"),
					Stderr: filepath.Join(outDir, key+".stderr"),
				}
				var err error
				if m.Version() != "none" {
					spec.Cgroup = key
					if create {
						_, err = m.Create(key, benchLimits)
					}
				}
				if err == nil {
					_, err = c.Start(ctx, spec)
				}
				if err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	return keys
}

func killMany(b *testing.B, ctx context.Context, c *Client, m cgroups.Manager, keys []string) {
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(keys); i += 16 {
				if err := c.Kill(ctx, keys[i], 0); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	timeout := time.After(2 * time.Minute)
	for len(want) > 0 {
		select {
		case p := <-c.Exits():
			delete(want, p.Key)
		case <-timeout:
			b.Fatalf("%d exits missing", len(want))
		}
	}
	wg.Wait()
	for _, k := range keys {
		if err := c.Forget(ctx, k); err != nil {
			b.Error(err)
		}
		if m.Version() != "none" {
			if cg, err := m.Open(k); err == nil {
				cg.Destroy()
			}
		}
	}
}

func rssKB(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			v, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return v
		}
	}
	return 0
}
