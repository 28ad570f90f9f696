package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

func mustNew(t *testing.T, hc protocol.HealthCheck, target Target, opts ...Option) *Checker {
	t.Helper()
	c, err := New(hc, target, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func portOf(t *testing.T, rawURL string) uint32 {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return uint32(p)
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) uint32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := uint32(l.Addr().(*net.TCPAddr).Port)
	_ = l.Close()
	return p
}

func httpCheck(port uint32, mod func(*protocol.HTTPCheck)) protocol.HealthCheck {
	h := &protocol.HTTPCheck{Port: port}
	if mod != nil {
		mod(h)
	}
	return protocol.HealthCheck{Type: protocol.HealthHTTP, HTTP: h}
}

func shellCheck(cmd string) protocol.HealthCheck {
	return protocol.HealthCheck{Type: protocol.HealthCommand, Command: &protocol.CommandInfo{Value: cmd}}
}

func expect(t *testing.T, r Result, healthy bool, msg string) {
	t.Helper()
	if r.Healthy != healthy || !strings.Contains(r.Message, msg) {
		t.Fatalf("result = {healthy %v, %q}, want {healthy %v, containing %q}", r.Healthy, r.Message, healthy, msg)
	}
	if r.At.IsZero() {
		t.Fatalf("result has no time: %+v", r)
	}
}

func TestHTTP(t *testing.T) {
	var lastPath atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lastPath.Store(r.URL.RequestURI())
		switch r.URL.Path {
		case "/down":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/missing":
			http.NotFound(w, r)
		case "/moved":
			http.Redirect(w, r, "/down", http.StatusFound) // not followed: 302 is healthy
		case "/big":
			_, _ = w.Write(make([]byte, 1<<20))
		default:
			_, _ = io.WriteString(w, "ok")
		}
	}))
	defer srv.Close()
	port := portOf(t, srv.URL)
	ctx := context.Background()

	cases := []struct {
		name     string
		mod      func(*protocol.HTTPCheck)
		healthy  bool
		msg      string
		wantPath string
	}{
		{"default path", nil, true, fmt.Sprintf("HTTP GET http://127.0.0.1:%d/: 200 OK", port), "/"},
		{"path and query", func(h *protocol.HTTPCheck) { h.Path = "/health?deep=1" }, true, "/health?deep=1: 200 OK", "/health?deep=1"},
		{"path without slash", func(h *protocol.HTTPCheck) { h.Path = "health" }, true, "/health: 200 OK", "/health"},
		{"503", func(h *protocol.HTTPCheck) { h.Path = "/down" }, false, "/down: 503 Service Unavailable", "/down"},
		{"404", func(h *protocol.HTTPCheck) { h.Path = "/missing" }, false, "404 Not Found", "/missing"},
		{"redirect not followed", func(h *protocol.HTTPCheck) { h.Path = "/moved" }, true, "302 Found", "/moved"},
		{"big body drained", func(h *protocol.HTTPCheck) { h.Path = "/big" }, true, "200 OK", "/big"},
		{"statuses accept 503", func(h *protocol.HTTPCheck) { h.Path = "/down"; h.Statuses = []int{503} }, true, "503", "/down"},
		{"statuses reject 200", func(h *protocol.HTTPCheck) { h.Statuses = []int{204, 503} }, false, "200 OK (want one of [204 503])", "/"},
		{"statuses reject 302", func(h *protocol.HTTPCheck) { h.Path = "/moved"; h.Statuses = []int{200} }, false, "302 Found", "/moved"},
		{"scheme HTTP", func(h *protocol.HTTPCheck) { h.Scheme = "HTTP" }, true, "200 OK", "/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNew(t, httpCheck(port, tc.mod), Target{Host: "127.0.0.1"})
			expect(t, c.CheckOnce(ctx), tc.healthy, tc.msg)
			if got := lastPath.Load(); got != tc.wantPath {
				t.Fatalf("server saw %v, want %s", got, tc.wantPath)
			}
			if last := c.Last(); last.Message == "" || last.Healthy != tc.healthy {
				t.Fatalf("Last() = %+v", last)
			}
		})
	}
}

func TestHTTPSSelfSigned(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c := mustNew(t, httpCheck(portOf(t, srv.URL), func(h *protocol.HTTPCheck) { h.Scheme = "https" }), Target{})
	expect(t, c.CheckOnce(context.Background()), true, "HTTP GET https://127.0.0.1:")
}

func TestHTTPRefused(t *testing.T) {
	c := mustNew(t, httpCheck(closedPort(t), nil), Target{})
	expect(t, c.CheckOnce(context.Background()), false, "refused")
}

func TestHTTPTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	hc := httpCheck(portOf(t, srv.URL), nil)
	hc.TimeoutSeconds = 0.05
	c := mustNew(t, hc, Target{})
	expect(t, c.CheckOnce(context.Background()), false, "/: timed out after 50ms")
}

func TestTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	open := uint32(l.Addr().(*net.TCPAddr).Port)
	c := mustNew(t, protocol.HealthCheck{Type: protocol.HealthTCP, TCP: &protocol.TCPCheck{Port: open}}, Target{})
	expect(t, c.CheckOnce(context.Background()), true, fmt.Sprintf("TCP connect 127.0.0.1:%d: connected", open))

	closed := closedPort(t)
	c = mustNew(t, protocol.HealthCheck{Type: protocol.HealthTCP, TCP: &protocol.TCPCheck{Port: closed}}, Target{Host: "127.0.0.1"})
	r := c.CheckOnce(context.Background())
	expect(t, r, false, fmt.Sprintf("TCP connect 127.0.0.1:%d: ", closed))
	expect(t, r, false, "refused")
}

func TestCommandPassFail(t *testing.T) {
	ctx := context.Background()
	expect(t, mustNew(t, shellCheck("true"), Target{}).CheckOnce(ctx), true, "exited with status 0")
	r := mustNew(t, shellCheck("echo first; echo 'last words' >&2; echo; exit 3"), Target{}).CheckOnce(ctx)
	if r.Healthy || r.Message != "exited with status 3: last words" {
		t.Fatalf("got %+v", r)
	}
	r = mustNew(t, shellCheck("exit 1"), Target{}).CheckOnce(ctx)
	if r.Healthy || r.Message != "exited with status 1" {
		t.Fatalf("got %+v", r)
	}
	expect(t, mustNew(t, shellCheck("kill -9 $$"), Target{}).CheckOnce(ctx), false, "killed by a signal")
}

func TestCommandEnvAndDir(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	hc := shellCheck(`echo "$FOO $BAR $(pwd -P)"`)
	hc.Command.Environment = &protocol.Environment{Variables: []protocol.Variable{{Name: "BAR", Value: "check"}}}
	target := Target{Env: []string{"PATH=" + os.Getenv("PATH"), "FOO=task", "BAR=task"}, Dir: dir}
	r := mustNew(t, hc, target).CheckOnce(context.Background())
	if want := "exited with status 0: task check " + dir; !r.Healthy || r.Message != want {
		t.Fatalf("got %+v, want healthy %q", r, want)
	}
	if target.Env[2] != "BAR=task" {
		t.Fatalf("the target's env was modified: %v", target.Env)
	}
}

func TestCommandInheritsAgentEnvWhenTargetHasNone(t *testing.T) {
	t.Setenv("CAIRN_HEALTH_TEST", "inherited")
	expect(t, mustNew(t, shellCheck(`test "$CAIRN_HEALTH_TEST" = inherited`), Target{}).CheckOnce(context.Background()), true, "status 0")
}

func TestCommandNoShell(t *testing.T) {
	no := false
	ctx := context.Background()
	check := func(value string, args ...string) Result {
		hc := protocol.HealthCheck{Type: protocol.HealthCommand, Command: &protocol.CommandInfo{Value: value, Shell: &no, Arguments: args}}
		return mustNew(t, hc, Target{}).CheckOnce(ctx)
	}
	// Arguments are argv, argv[0] included, as Mesos.
	r := check("/bin/sh", "sh", "-c", `echo "$0"; exit 4`)
	if r.Healthy || r.Message != "exited with status 4: sh" {
		t.Fatalf("got %+v", r)
	}
	expect(t, check("", "sh", "-c", "exit 0"), true, "status 0") // executable from Arguments[0], found in PATH
	expect(t, check("true"), true, "status 0")
	expect(t, check("/nonexistent/check"), false, "could not run the check")
	// A shell-looking value is not interpreted.
	expect(t, check("true; exit 1"), false, "could not run the check")
}

// gone reports whether pid has exited (a zombie counts: its parent may be
// an init that does not reap).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && (s[i+2] == 'Z' || s[i+2] == 'X')
}

func waitGone(t *testing.T, what string, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !gone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("%s (pid %d) still runs", what, pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readPID reads a pid the check wrote; ok is false when it is not there (yet).
func readPID(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil || !strings.HasSuffix(string(b), "\n") {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid, err == nil
}

func waitPID(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if pid, ok := readPID(path); ok {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never written", path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func needProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
}

func TestCommandTimeoutKillsGroup(t *testing.T) {
	needProc(t)
	dir := t.TempDir()
	hc := shellCheck(`echo $$ > shell.pid; sleep 60 & echo $! > child.pid; echo started; wait`)
	hc.TimeoutSeconds = 0.3
	c := mustNew(t, hc, Target{Dir: dir})
	start := time.Now()
	r := c.CheckOnce(context.Background())
	if r.Healthy || r.Message != "timed out after 300ms" {
		t.Fatalf("got %+v", r)
	}
	if el := time.Since(start); el > 30*time.Second {
		t.Fatalf("the check took %v: the sleep was not killed", el)
	}
	for _, f := range []string{"shell.pid", "child.pid"} {
		if pid, ok := readPID(filepath.Join(dir, f)); ok {
			waitGone(t, f, pid)
		} else {
			t.Logf("%s not written before the timeout (slow machine): nothing to check", f)
		}
	}
}

func TestCommandLeftoverChildrenKilled(t *testing.T) {
	needProc(t)
	dir := t.TempDir()
	// The background sleep keeps the output pipe open: the check must still
	// end when the shell does, and take the sleep with it.
	c := mustNew(t, shellCheck(`sleep 60 & echo $! > child.pid; echo done`), Target{Dir: dir})
	start := time.Now()
	r := c.CheckOnce(context.Background())
	if !r.Healthy || r.Message != "exited with status 0: done" {
		t.Fatalf("got %+v", r)
	}
	if el := time.Since(start); el > 30*time.Second {
		t.Fatalf("the check took %v", el)
	}
	pid, ok := readPID(filepath.Join(dir, "child.pid"))
	if !ok {
		t.Fatal("child.pid not written")
	}
	waitGone(t, "background child", pid)
}

func TestRunCommandHook(t *testing.T) {
	var gotEnv []string
	var gotDir string
	var gotCmd *protocol.CommandInfo
	mode := "output"
	target := Target{
		Env: []string{"A=1"},
		Dir: "/sandbox",
		RunCommand: func(ctx context.Context, cmd *protocol.CommandInfo, env []string, dir string) (int, string, error) {
			gotCmd, gotEnv, gotDir = cmd, env, dir
			switch mode {
			case "error":
				return -1, "", errors.New("no such container")
			case "block":
				<-ctx.Done()
				return -1, "", ctx.Err()
			}
			return 2, "a\nb\n\n", nil
		},
	}
	hc := shellCheck("check-it")
	hc.TimeoutSeconds = 0.05
	hc.Command.Environment = &protocol.Environment{Variables: []protocol.Variable{{Name: "B", Value: "2"}}}
	c := mustNew(t, hc, target)
	ctx := context.Background()
	r := c.CheckOnce(ctx)
	if r.Healthy || r.Message != "exited with status 2: b" {
		t.Fatalf("got %+v", r)
	}
	if gotCmd == nil || gotCmd.Value != "check-it" || gotDir != "/sandbox" || strings.Join(gotEnv, ",") != "A=1,B=2" {
		t.Fatalf("hook got cmd %+v env %v dir %q", gotCmd, gotEnv, gotDir)
	}
	mode = "error"
	expect(t, c.CheckOnce(ctx), false, "could not run the check: no such container")
	mode = "block"
	expect(t, c.CheckOnce(ctx), false, "timed out after 50ms")
}

func TestCheckOnceCanceled(t *testing.T) {
	c := mustNew(t, shellCheck("x"), Target{RunCommand: func(ctx context.Context, _ *protocol.CommandInfo, _ []string, _ string) (int, string, error) {
		<-ctx.Done()
		return -1, "", ctx.Err()
	}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := c.CheckOnce(ctx)
	if r.Healthy || !strings.Contains(r.Message, "canceled") {
		t.Fatalf("got %+v", r)
	}
	if last := c.Last(); last != (Result{}) {
		t.Fatalf("a canceled check was recorded: %+v", last)
	}
}

func TestLastLine(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	cases := map[string]string{
		"":                       "",
		"one":                    "one",
		"one\ntwo\n":             "two",
		"one\r\ntwo\r\n\r\n  \n": "two",
		"  padded  \n":           "padded",
		"bad \xff byte":          "bad ? byte",
	}
	for in, want := range cases {
		if got := lastLine(in); got != want {
			t.Errorf("lastLine(%q) = %q, want %q", in, got, want)
		}
	}
	got := lastLine("x\n" + long)
	if !strings.HasSuffix(got, "…") || len(got) > maxLine+len("…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Errorf("long line: %q", got)
	}
}

func TestTail(t *testing.T) {
	var tl tail
	_, _ = tl.Write([]byte(strings.Repeat("a", tailSize-1)))
	_, _ = tl.Write([]byte("bc"))
	if len(tl.b) != tailSize || !strings.HasSuffix(string(tl.b), "abc") {
		t.Fatalf("tail: len %d", len(tl.b))
	}
	_, _ = tl.Write([]byte(strings.Repeat("z", 2*tailSize)))
	if len(tl.b) != tailSize || strings.Contains(string(tl.b), "a") {
		t.Fatalf("tail after a big write: len %d", len(tl.b))
	}
}

func TestDefaults(t *testing.T) {
	c := mustNew(t, shellCheck("true"), Target{})
	want := Settings{Delay: 15 * time.Second, Interval: 10 * time.Second, Timeout: 20 * time.Second, ConsecutiveFailures: 3, GracePeriod: 10 * time.Second}
	if got := c.Settings(); got != want {
		t.Fatalf("Settings() = %+v, want %+v", got, want)
	}
	if c.Last() != (Result{}) {
		t.Fatalf("Last() before any check = %+v", c.Last())
	}
	hc := shellCheck("true")
	hc.DelaySeconds, hc.IntervalSeconds, hc.TimeoutSeconds, hc.ConsecutiveFailures, hc.GracePeriodSeconds = 1.5, 2, 0.25, 7, 300
	want = Settings{Delay: 1500 * time.Millisecond, Interval: 2 * time.Second, Timeout: 250 * time.Millisecond, ConsecutiveFailures: 7, GracePeriod: 300 * time.Second}
	if got := mustNew(t, hc, Target{}).Settings(); got != want {
		t.Fatalf("Settings() = %+v, want %+v", got, want)
	}
}

func TestValidation(t *testing.T) {
	no := false
	cases := []struct {
		name  string
		check protocol.HealthCheck
		field string
	}{
		{"no type", protocol.HealthCheck{}, "health_check.type"},
		{"unknown type", protocol.HealthCheck{Type: "GRPC"}, "health_check.type"},
		{"command missing", protocol.HealthCheck{Type: protocol.HealthCommand}, "health_check.command"},
		{"command empty", shellCheck(""), "health_check.command.value"},
		{"exec empty", protocol.HealthCheck{Type: protocol.HealthCommand, Command: &protocol.CommandInfo{Shell: &no}}, "health_check.command.value"},
		{"bad env name", protocol.HealthCheck{Type: protocol.HealthCommand, Command: &protocol.CommandInfo{Value: "true",
			Environment: &protocol.Environment{Variables: []protocol.Variable{{Name: "A=B"}}}}}, "health_check.command.environment.variables[0].name"},
		{"http missing", protocol.HealthCheck{Type: protocol.HealthHTTP}, "health_check.http"},
		{"http port 0", httpCheck(0, nil), "health_check.http.port"},
		{"http port too big", httpCheck(70000, nil), "health_check.http.port"},
		{"http scheme", httpCheck(80, func(h *protocol.HTTPCheck) { h.Scheme = "ftp" }), "health_check.http.scheme"},
		{"http status", httpCheck(80, func(h *protocol.HTTPCheck) { h.Statuses = []int{200, 42} }), "health_check.http.statuses[1]"},
		{"http path", httpCheck(80, func(h *protocol.HTTPCheck) { h.Path = "/%zz" }), "health_check.http.path"},
		{"tcp missing", protocol.HealthCheck{Type: protocol.HealthTCP}, "health_check.tcp"},
		{"tcp port 0", protocol.HealthCheck{Type: protocol.HealthTCP, TCP: &protocol.TCPCheck{}}, "health_check.tcp.port"},
		{"negative delay", func() protocol.HealthCheck { c := shellCheck("true"); c.DelaySeconds = -1; return c }(), "health_check.delay_seconds"},
		{"NaN interval", func() protocol.HealthCheck { c := shellCheck("true"); c.IntervalSeconds = math.NaN(); return c }(), "health_check.interval_seconds"},
		{"huge timeout", func() protocol.HealthCheck { c := shellCheck("true"); c.TimeoutSeconds = 1e12; return c }(), "health_check.timeout_seconds"},
		{"infinite grace", func() protocol.HealthCheck { c := shellCheck("true"); c.GracePeriodSeconds = math.Inf(1); return c }(), "health_check.grace_period_seconds"},
		{"negative failures", func() protocol.HealthCheck { c := shellCheck("true"); c.ConsecutiveFailures = -2; return c }(), "health_check.consecutive_failures"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.check, Target{})
			if err == nil {
				t.Fatalf("New accepted it: %+v", c)
			}
			if !strings.HasPrefix(err.Error(), tc.field+": ") {
				t.Fatalf("error %q does not name %s", err, tc.field)
			}
		})
	}
}
