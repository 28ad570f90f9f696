// Package testcluster runs an in-process cluster for tests and
// benchmarks: an embedded NATS with JetStream, a master tuned for fast
// tests, and simulated agents (kernel/simagent).
package testcluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/bus"
	"github.com/cairn-dc/cairn/kernel/master"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/kernel/simagent"
)

// Cluster is a running in-process cluster.
type Cluster struct {
	T   testing.TB
	Bus *bus.Bus
	Log *slog.Logger
	M   *master.Master
}

// Logger is silent unless CAIRN_TEST_LOG is set (then debug to stderr).
func Logger() *slog.Logger {
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// New starts NATS and a master; everything stops when the test ends.
func New(t testing.TB) *Cluster {
	t.Helper()
	c := &Cluster{T: t, Log: Logger()}
	b, err := bus.Start(context.Background(), bus.Config{Port: -1, StoreDir: t.TempDir(), Logger: c.Log})
	if err != nil {
		t.Fatal(err)
	}
	c.Bus = b
	t.Cleanup(b.Shutdown)
	m, err := master.New(master.Config{Conn: c.Conn("master"), ID: "m1", Logger: c.Log, AllocationInterval: 50 * time.Millisecond,
		AgentPingInterval: 100 * time.Millisecond, AgentUnreachableTimeout: time.Hour, FrameworkHeartbeatInterval: 200 * time.Millisecond,
		OfferTimeout: 2 * time.Second, UpdateRetryInterval: 500 * time.Millisecond, LeaseTTL: time.Second,
		SnapshotInterval: 10 * time.Millisecond, TickInterval: 20 * time.Millisecond, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	c.M = m
	t.Cleanup(func() { cancel(); <-done })
	WaitFor(t, 10*time.Second, "master ready", m.Ready)
	return c
}

// HTTP serves the master's operator API (with mounts, if any) on a loopback
// httptest server, closed when the test ends, and returns its base URL.
func (c *Cluster) HTTP(cfg master.HTTPConfig) string {
	c.T.Helper()
	srv := httptest.NewServer(c.M.Handler(cfg))
	c.T.Cleanup(srv.Close)
	return srv.URL
}

// Conn is a new NATS connection, closed when the test ends.
func (c *Cluster) Conn(name string) *nats.Conn {
	c.T.Helper()
	nc, err := c.Bus.Connect(name)
	if err != nil {
		c.T.Fatal(err)
	}
	c.T.Cleanup(nc.Close)
	return nc
}

// Agents starts simulated agents named host-1..n, each with res and a
// rack attribute (r1, r2, r1 ...); cfg, when not nil, adjusts each one's
// configuration.
func (c *Cluster) Agents(n int, res string, cfg func(*simagent.Config)) []*simagent.Agent {
	c.T.Helper()
	var out []*simagent.Agent
	for k := 1; k <= n; k++ {
		ac := simagent.Config{Conn: c.Conn("agent"), Hostname: fmt.Sprintf("host-%d", k),
			Resources:  resources.MustParse(res),
			Attributes: resources.MustParseAttributes(fmt.Sprintf("rack:r%d", (k-1)%2+1)), Logger: c.Log}
		if cfg != nil {
			cfg(&ac)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		a, err := simagent.Start(ctx, ac)
		cancel()
		if err != nil {
			c.T.Fatal(err)
		}
		c.T.Cleanup(a.Stop)
		out = append(out, a)
	}
	return out
}

// WaitFor polls cond every 10 ms until it holds, failing the test after d.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
