package services_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/agent"
	"github.com/cairn-dc/cairn/kernel/containerizer/cgroups"
	"github.com/cairn-dc/cairn/kernel/containerizer/supervisor"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// TestMain lets the test binary act as the real agent's task supervisor.
func TestMain(m *testing.M) {
	if len(os.Args) > 3 && os.Args[1] == "supervisor" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		cg := cgroups.None()
		if os.Args[3] != "" {
			if mg, _, err := cgroups.Detect(os.Args[3]); err == nil {
				cg = mg
			}
		}
		err := supervisor.Serve(ctx, supervisor.Config{Dir: os.Args[2], Cgroups: cg, Logger: slog.Default(),
			InitCommand: []string{os.Args[0], "supervisor-init"}})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if len(os.Args) > 1 && os.Args[1] == "supervisor-init" {
		os.Exit(supervisor.RunInit(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// realAgent starts a real agent (real processes) in the cluster; it
// returns the agent and its work dir.
func (c *cluster) realAgent(name string) (*agent.Agent, string) {
	c.t.Helper()
	dir := c.t.TempDir()
	a, err := agent.New(agent.Config{Conn: c.conn("agent-" + name), WorkDir: dir, Hostname: name, Address: "127.0.0.1",
		Resources: resources.MustParse("cpus:4;mem:4096;disk:1000;ports:[42000-42100]"), Logger: c.log,
		SupervisorCommand: func(d, parent string) []string { return []string{os.Args[0], "supervisor", d, parent} },
		DefaultKillGrace:  time.Second})
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	c.t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
		_ = a.Shutdown(sctx, 0)
		scancel()
		cancel()
		<-done
	})
	waitFor(c.t, 20*time.Second, "agent registered", a.Ready)
	return a, dir
}

func TestRealAgentHealthCheckFailureReplacesTask(t *testing.T) {
	c := newCluster(t)
	_, dir := c.realAgent("real-1")
	c.services()
	// Healthy while the file exists; the test removes it for one instance.
	app := `{"id":"/checked","cmd":"touch ok; sleep 1000","cpus":0.1,"mem":32,"instances":1,
		"healthChecks":[{"protocol":"COMMAND","command":{"value":"test -e ok"},"gracePeriodSeconds":1,
		"intervalSeconds":0.1,"timeoutSeconds":2,"maxConsecutiveFailures":2,"delaySeconds":0.01}]}`
	if code, out := c.api("POST", "/v2/apps", app); code != 201 {
		t.Fatalf("%d %v", code, out)
	}
	waitFor(t, 20*time.Second, "healthy", func() bool { return num(c.app("/checked")["tasksHealthy"]) == 1 && c.deploymentsDone() })
	first := c.tasksOf("/checked")[0]["id"].(string)
	// Break it: the agent's check fails twice, the agent kills it, the framework replaces it.
	runs, _ := filepath.Glob(filepath.Join(dir, "sandboxes", "*", first+"@*"))
	if len(runs) != 1 {
		t.Fatalf("no sandbox for %s", first)
	}
	if err := os.Remove(filepath.Join(runs[0], "ok")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "a healthy replacement", func() bool {
		ts := c.tasksOf("/checked")
		return len(ts) == 1 && ts[0]["id"] != first && num(c.app("/checked")["tasksHealthy"]) == 1
	})
	lf := c.app("/checked")["lastTaskFailure"].(map[string]any)
	if lf["taskId"] != first || !strings.Contains(fmt.Sprint(lf["message"]), "health") {
		t.Fatalf("lastTaskFailure: %v", lf)
	}
}
