package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/cli"
	"github.com/cairn-dc/cairn/kernel/bus/bustest"
)

// TestNATSOverTLS: with --nats-tls-cert/--nats-tls-key the embedded NATS
// requires TLS; a standalone agent joins with the agent identity and
// --nats-ca, and its tasks get the framework identity and the CA, so a
// framework run as a task (cairn framework run) connects over TLS too.
func TestNATSOverTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs a cluster with a TLS NATS and a standalone agent")
	}
	work := t.TempDir()
	cert, key := bustest.SelfSigned(t, work)
	data := filepath.Join(work, "data")
	c := startTestCluster(t, data, filepath.Join(work, "no-packages"), "none", "--dns", "none", "--agents", "0",
		"--nats-tls-cert", cert, "--nats-tls-key", key)
	defer func() { c.stop() }()
	if !strings.HasPrefix(c.NATS, "tls://127.0.0.1:") {
		t.Fatalf("cairn up's NATS is %q, want tls://", c.NATS)
	}
	var creds natsCredentials
	if b, err := os.ReadFile(filepath.Join(data, natsCredentialsFile)); err != nil || json.Unmarshal(b, &creds) != nil {
		t.Fatalf("credentials: %v", err)
	}
	agentArgs := func(extra ...string) []string {
		return append([]string{"agent", "run", "--nats-url", withUser(c.NATS, "agent", creds.Agent), "--master-url", c.API,
			"--task-nats-url", withUser(c.NATS, "framework", creds.Framework),
			"--work-dir", filepath.Join(work, "agent"), "--hostname", "tls-agent", "--http", "127.0.0.1:0",
			"--resources", "cpus:2;mem:1024;disk:1024;ports:[32200-32299]"}, extra...)
	}
	if code, _, errOut := runMain(t, nil, agentArgs()...); code == 0 || !strings.Contains(errOut, "certificate") {
		t.Errorf("an agent that does not trust the certificate: exit %d: %s", code, errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	agentLog := &syncBuffer{}
	go func() {
		done <- run(ctx, agentArgs("--nats-ca", cert), cli.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: agentLog}, func(string) string { return "" })
	}()
	defer func() {
		cancel()
		<-done
		killSupervised(filepath.Join(work, "agent"))
	}()
	out := c.mustCairn(t, "task", "run", "--wait", "--", "sh", "-c", `echo "ca=$CAIRN_NATS_CA url=$CAIRN_NATS_URL"`)
	if !strings.Contains(out, "ca="+cert) || !strings.Contains(out, "url=tls://framework:") {
		t.Fatalf("a task's NATS environment: %q (agent log: %s)", out, agentLog.String())
	}
	// A framework run as a task connects over TLS with what its task got.
	id := strings.TrimSpace(c.mustCairn(t, "task", "run", "--", "sh", "-c", `exec "$0" framework run services --name tls-services`, os.Args[0]))
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, out, _ := c.cairn(t, "", "framework", "list", "--json")
		if code == 0 && strings.Contains(out, `"tls-services"`) {
			break
		}
		if time.Now().After(deadline) {
			_, stderr, _ := c.cairn(t, "", "task", "log", id, "--stderr")
			t.Fatalf("the tls-services framework did not register within 60s; its stderr:\n%s", stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if log := c.mustCairn(t, "framework", "list"); !strings.Contains(log, "tls-services") {
		t.Errorf("framework list:\n%s", log)
	}
}
