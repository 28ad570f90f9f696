package supervisor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cairn-dc/cairn/kernel/containerizer/cgroups"
)

// The test binary doubles as the supervisor daemon and as its init.
const (
	argServe = "cairn-supervisor-serve"
	argInit  = "cairn-supervisor-init"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case argInit:
			os.Exit(RunInit(os.Args[2:]))
		case argServe:
			os.Exit(Main(context.Background(), os.Args[2:], os.Stderr))
		}
	}
	os.Exit(m.Run())
}

func testBinary(t testing.TB) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func initCommand(t testing.TB) []string { return []string{testBinary(t), argInit} }

func logger() *slog.Logger {
	var w io.Writer = io.Discard
	if testing.Verbose() {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// inProcess runs Serve in this process on a fresh dir and connects to it.
// At the end it shuts the supervisor down (killing every process).
func inProcess(t testing.TB, cfg Config) (*Client, string) {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = logger()
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, cfg) }()
	var c *Client
	eventually(t, 10*time.Second, func() bool {
		select {
		case err := <-served:
			t.Fatalf("Serve: %v", err)
		default:
		}
		var err error
		c, err = Dial(ctxT(t), cfg.Dir)
		return err == nil
	}, "the supervisor answers")
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer scancel()
		c.Close()
		sc, err := Dial(sctx, cfg.Dir)
		if err == nil {
			err = sc.Shutdown(sctx, 0)
			sc.Close()
		}
		if err != nil {
			t.Errorf("cleanup: shutdown: %v", err)
			killRecorded(cfg.Dir)
		}
		cancel()
		select {
		case <-served:
		case <-time.After(30 * time.Second):
			t.Errorf("cleanup: Serve did not return")
		}
	})
	return c, cfg.Dir
}

// subprocess runs the supervisor as a separate process (the test binary)
// through Ensure. At the end it shuts it down, or kills it and every
// process it recorded.
func subprocess(t testing.TB, dir string, extra ...string) *Client {
	t.Helper()
	c, err := Ensure(ctxT(t), dir, supervisorCommand(t, dir, extra...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopSubprocess(t, dir) })
	return c
}

func supervisorCommand(t testing.TB, dir string, extra ...string) []string {
	cmd := Command(testBinary(t), []string{argServe}, dir, "", initCommand(t))
	return append(cmd, extra...)
}

func stopSubprocess(t testing.TB, dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, dir)
	if err == nil {
		pid := c.ServerPID()
		if err := c.Shutdown(ctx, 0); err != nil {
			t.Errorf("cleanup: shutdown: %v", err)
		}
		c.Close()
		waitGone(t, pid)
	}
	killRecorded(dir)
	checkLog(t, dir)
}

// checkLog fails the test if the supervisor's log shows a data race or a panic.
func checkLog(t testing.TB, dir string) {
	b, _ := os.ReadFile(filepath.Join(dir, logName))
	for _, bad := range []string{"DATA RACE", "panic:", "fatal error:"} {
		if strings.Contains(string(b), bad) {
			t.Errorf("supervisor log shows %q:\n%s", bad, b)
		}
	}
}

// killRecorded SIGKILLs every process recorded in dir that still runs.
func killRecorded(dir string) {
	m, _, _ := replayJournal(journalPath(dir))
	for _, k := range m {
		if k.rec == nil {
			continue
		}
		if fd, ok := sameProcess(k.rec.PID, k.rec.StartTicks); ok {
			unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
			unix.Kill(-k.rec.PID, unix.SIGKILL)
			unix.Close(fd)
		}
	}
}

// records replays dir's journal (failing the test if it cannot).
func records(t testing.TB, dir string) map[string]*known {
	t.Helper()
	m, _, err := replayJournal(journalPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// waitGone waits until pid no longer runs (or is a zombie).
func waitGone(t testing.TB, pid int) {
	t.Helper()
	eventually(t, 30*time.Second, func() bool { return !alive(pid) }, "process %d to end", pid)
}

func alive(pid int) bool {
	if unix.Kill(pid, 0) != nil {
		return false
	}
	_, state, _, err := procStat(pid)
	return err == nil && state != 'Z' && state != 'X'
}

// eventually waits for cond, failing with msg after d.
func eventually(t testing.TB, d time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(d)
	var bo backoff
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for "+msg, args...)
		}
		bo.wait()
	}
}

// waitExit waits for key's exit on the Exits channel.
func waitExit(t testing.TB, c *Client, key string) Proc {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case p, ok := <-c.Exits():
			if !ok {
				t.Fatalf("exits channel closed while waiting for %s", key)
			}
			if p.Key == key {
				if p.Exit == nil {
					t.Fatalf("exit event without exit: %+v", p)
				}
				return p
			}
		case <-timeout:
			t.Fatalf("no exit for %s", key)
		}
	}
}

func find(procs []Proc, key string) *Proc {
	for i := range procs {
		if procs[i].Key == key {
			return &procs[i]
		}
	}
	return nil
}

func sh(key, script string) StartSpec {
	return StartSpec{Key: key, Path: "/bin/sh", Argv: []string{"sh", "-c", script}, Env: []string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin"}}
}

func sleepSpec(key string) StartSpec {
	return StartSpec{Key: key, Path: sleepPath(), Argv: []string{"sleep", "1000"}}
}

func sleepPath() string {
	for _, p := range []string{"/bin/sleep", "/usr/bin/sleep"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "/bin/sleep"
}

// readWhen waits until file contains want and returns its content.
func readWhen(t testing.TB, path, want string) string {
	t.Helper()
	var s string
	eventually(t, 30*time.Second, func() bool {
		b, _ := os.ReadFile(path)
		s = string(b)
		return strings.Contains(s, want)
	}, "%q in %s", want, path)
	return s
}

// testCgroups returns a real cgroups.Manager under a fresh parent (removed
// at the end) and that parent, or skips the test.
func testCgroups(t testing.TB) (cgroups.Manager, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("not root: cgroups need root")
	}
	parent := fmt.Sprintf("cairn-test/sup-%d-%d", os.Getpid(), time.Now().UnixNano())
	m, why, err := cgroups.Detect(parent)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version() == "none" {
		t.Skipf("no usable cgroups here: %s", why)
	}
	t.Cleanup(func() {
		if err := cgroups.RemoveAll(m); err != nil {
			t.Errorf("cleanup cgroups: %v", err)
		}
	})
	return m, parent
}

func needRoot(t testing.TB) {
	if os.Geteuid() != 0 {
		t.Skip("not root")
	}
}

// pidOf reads a pid written by a task into a file.
func pidOf(t testing.TB, path string) int {
	t.Helper()
	s := strings.TrimSpace(readWhen(t, path, "\n"))
	var pid int
	if _, err := fmt.Sscan(s, &pid); err != nil {
		t.Fatalf("pid in %s: %q", path, s)
	}
	return pid
}

var _ = syscall.SIGKILL

func cgroupsLimits() cgroups.Limits {
	return cgroups.Limits{CPUShares: 512, MemoryBytes: 256 << 20, PidsMax: 1000}
}
