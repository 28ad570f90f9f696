package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/cli"
	"github.com/cairn-dc/cairn/modules/host/moduleapi"
)

// buildEchoPackage assembles the built-in echo module package (as make
// packages does) under dir/echo, for this machine's platform.
func buildEchoPackage(t testing.TB, dir string) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("building the echo module needs the go tool: %v", err)
	}
	pkg := filepath.Join(dir, "echo")
	src := filepath.Join("..", "..", "repository", "builtin", "echo")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"package.json", "options.schema.json"} {
		copyFile(t, filepath.Join(src, f), filepath.Join(pkg, f), 0o644)
	}
	bin, err := filepath.Abs(filepath.Join(pkg, "bin", runtime.GOOS+"-"+runtime.GOARCH, "echo"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", bin, "./modules/examples/echo")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the echo module: %v\n%s", err, out)
	}
}

// modules is `cairn module list --json`.
func (c *testCluster) modules(t testing.TB) map[string]moduleapi.Status {
	t.Helper()
	var list []moduleapi.Status
	if err := json.Unmarshal([]byte(c.mustCairn(t, "module", "list", "--json")), &list); err != nil {
		t.Fatalf("cairn module list --json: %v", err)
	}
	out := map[string]moduleapi.Status{}
	for _, m := range list {
		out[m.Name] = m
	}
	return out
}

// TestModulePackage: a module package (the built-in echo, a hook) is
// installed from the repository onto the master's module host, changes the
// tasks launched next, survives a restart, refuses a binary changed on
// disk, and is uninstalled with its binary.
func TestModulePackage(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs a cluster and installs a module package")
	}
	work := t.TempDir()
	builtins := filepath.Join(work, "packages")
	buildEchoPackage(t, builtins)
	data, regAddr := filepath.Join(work, "data"), freeAddr(t)
	c := startTestCluster(t, data, builtins, regAddr)
	defer func() { c.stop() }()

	opts := filepath.Join(work, "echo.json")
	if err := os.WriteFile(opts, []byte(`{"greeting": "hi from a package"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := c.mustCairn(t, "package", "install", "echo", "--options", opts, "--yes", "--wait")
	if !strings.Contains(out, "as module echo") || !strings.Contains(out, "Module echo is running") {
		t.Fatalf("cairn package install echo:\n%s", out)
	}
	m := c.modules(t)["echo"]
	if m.State != moduleapi.Running || m.Source != moduleapi.SourcePackage || m.Kind != moduleapi.KindHook ||
		m.Package == nil || m.Package.Name != "echo" || m.Package.Version != "1.0.0" || !strings.HasPrefix(m.Path, filepath.Join(data, "modules", "packages", "echo")+"/") {
		t.Fatalf("module echo = %+v (package %+v)", m, m.Package)
	}
	// The hook greets tasks launched from now on.
	if out := c.mustCairn(t, "task", "run", "--wait", "--", "sh", "-c", "echo $ECHO_GREETING"); !strings.Contains(out, "hi from a package, ") {
		t.Errorf("a task's ECHO_GREETING: %q", out)
	}
	// ... and labels it: the agent sends the hook's labels with the task's
	// updates, and the master shows them on the task.
	waitFor(t, 10*time.Second, "the hook's label on the task", func() bool {
		return strings.Contains(get(c.API+"/v1/tasks"), `"echo":"seen"`)
	})
	if out := c.mustCairn(t, "package", "list"); !strings.Contains(out, "echo") {
		t.Errorf("cairn package list:\n%s", out)
	}
	// New options restart it; the next task sees them.
	if err := os.WriteFile(opts, []byte(`{"greeting": "hello again"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out = c.mustCairn(t, "package", "update", "echo", "--options", opts, "--yes", "--wait")
	if !strings.Contains(out, "Updated module echo to package echo version 1.0.0") || !strings.Contains(out, "Module echo is running") {
		t.Errorf("cairn package update echo:\n%s", out)
	}
	if out := c.mustCairn(t, "task", "run", "--wait", "--", "sh", "-c", "echo $ECHO_GREETING"); !strings.Contains(out, "hello again, ") {
		t.Errorf("a task's ECHO_GREETING after the update: %q", out)
	}
	if out := c.mustCairn(t, "package", "update", "echo"); !strings.Contains(out, "Module echo runs package echo 1.0.0") || !strings.Contains(out, `"greeting": "hello again"`) {
		t.Errorf("cairn package update echo (describe):\n%s", out)
	}
	// A second install under another name, whose binary is then changed
	// on disk while the cluster is down.
	c.mustCairn(t, "package", "install", "echo", "--app-id", "echo-2", "--yes", "--wait")
	second := c.modules(t)["echo-2"]

	c.stop()
	if err := os.WriteFile(second.Path, []byte("#!/bin/sh\necho tampered\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c = startTestCluster(t, data, builtins, regAddr)
	waitFor(t, 30*time.Second, "echo running again after a restart", func() bool {
		return c.modules(t)["echo"].State == moduleapi.Running
	})
	waitFor(t, 30*time.Second, "the changed echo-2 refused", func() bool {
		return c.modules(t)["echo-2"].State == moduleapi.Failed
	})
	if st := c.modules(t)["echo-2"]; !strings.Contains(st.LastError, "sha256") && !strings.Contains(st.LastError, "SHA-256") && !strings.Contains(st.LastError, "checksum") {
		t.Errorf("echo-2 failed for another reason: %s", st.LastError)
	}

	out = c.mustCairn(t, "package", "uninstall", "echo", "--app-id", "echo", "--yes")
	if !strings.Contains(out, "Uninstalled package echo version 1.0.0 (module echo)") {
		t.Errorf("cairn package uninstall echo:\n%s", out)
	}
	c.mustCairn(t, "package", "uninstall", "echo", "--yes")
	if left := c.modules(t); len(left) != 0 {
		t.Errorf("modules left after uninstalling: %v", left)
	}
	if _, err := os.Stat(filepath.Join(data, "modules", "packages", "echo")); !os.IsNotExist(err) {
		t.Errorf("echo's binary is still there: %v", err)
	}
	if out := c.mustCairn(t, "task", "run", "--wait", "--", "sh", "-c", "echo greeting=$ECHO_GREETING"); !strings.Contains(out, "greeting=\n") {
		t.Errorf("a task launched after the uninstall still greeted: %q", out)
	}
}

// TestAgentHookModules: a standalone agent (cairn agent run) asks the hook
// modules of its --modules-config before every launch, and refuses a
// watcher there.
func TestAgentHookModules(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs a cluster and a standalone agent with a hook module")
	}
	work := t.TempDir()
	buildEchoPackage(t, work)
	bin := filepath.Join(work, "echo", "bin", runtime.GOOS+"-"+runtime.GOARCH, "echo")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	spec := func(kind string) string {
		return fmt.Sprintf(`[{"name": "greeter", "kind": %q, "path": %q, "sha256": %q, "config": {"greeting": "hello from the agent"}}]`,
			kind, bin, hex.EncodeToString(sum[:]))
	}
	hooks, watchers := filepath.Join(work, "hooks.json"), filepath.Join(work, "watchers.json")
	if err := os.WriteFile(hooks, []byte(spec("hook")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(watchers, []byte(spec("watcher")), 0o644); err != nil {
		t.Fatal(err)
	}
	c := startTestCluster(t, filepath.Join(work, "data"), filepath.Join(work, "no-packages"), "none", "--dns", "none", "--agents", "0")
	defer func() { c.stop() }()
	if c.NATS == "" {
		t.Fatal("cairn up printed no NATS URL")
	}
	// The agent connects as the embedded NATS's agent identity.
	var creds natsCredentials
	if data, err := os.ReadFile(filepath.Join(work, "data", natsCredentialsFile)); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(data, &creds); err != nil {
		t.Fatal(err)
	}
	agentURL := withUser(c.NATS, "agent", creds.Agent)
	if code, _, errOut := runMain(t, nil, "agent", "run", "--nats-url", c.NATS, "--work-dir", filepath.Join(work, "anonymous"), "--http", "127.0.0.1:0"); code == 0 ||
		!strings.Contains(errOut, "refused the credentials") {
		t.Errorf("an agent without credentials: exit %d: %s", code, errOut)
	}
	agentArgs := func(config string) []string {
		return []string{"agent", "run", "--nats-url", agentURL, "--master-url", c.API, "--work-dir", filepath.Join(work, "agent"),
			"--hostname", "standalone", "--http", "127.0.0.1:0", "--resources", "cpus:2;mem:1024;disk:1024;ports:[32100-32199]",
			"--modules-config", config}
	}
	if code, _, errOut := runMain(t, nil, agentArgs(watchers)...); code == 0 || !strings.Contains(errOut, "an agent runs hook modules only") {
		t.Errorf("cairn agent run with a watcher: exit %d: %s", code, errOut)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	errOut := &syncBuffer{}
	go func() {
		done <- run(ctx, agentArgs(hooks), cli.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: errOut}, func(string) string { return "" })
	}()
	defer func() {
		cancel()
		<-done
		killSupervised(filepath.Join(work, "agent"))
	}()
	if out := c.mustCairn(t, "task", "run", "--wait", "--", "sh", "-c", "echo $ECHO_GREETING on $HOST"); !strings.Contains(out, "hello from the agent, ") {
		t.Errorf("a task on the standalone agent: %q (agent log: %s)", out, errOut.String())
	}
}
