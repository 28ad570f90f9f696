package services_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/frameworks/services"
	"github.com/cairn-dc/cairn/kernel/bus"
	"github.com/cairn-dc/cairn/kernel/master"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/kernel/simagent"
)

// cluster is an in-process cluster: embedded NATS, a master, simulated
// agents, and the services framework.
type cluster struct {
	t    testing.TB
	bus  *bus.Bus
	log  *slog.Logger
	m    *master.Master
	stop func()
	fw   *services.Framework
}

func testLogger() *slog.Logger {
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newCluster(t testing.TB) *cluster {
	t.Helper()
	c := &cluster{t: t, log: testLogger()}
	b, err := bus.Start(context.Background(), bus.Config{Port: -1, StoreDir: t.TempDir(), Logger: c.log})
	if err != nil {
		t.Fatal(err)
	}
	c.bus = b
	t.Cleanup(b.Shutdown)
	m, err := master.New(master.Config{Conn: c.conn("master"), ID: "m1", Logger: c.log, AllocationInterval: 50 * time.Millisecond,
		AgentPingInterval: 100 * time.Millisecond, AgentUnreachableTimeout: time.Hour, FrameworkHeartbeatInterval: 200 * time.Millisecond,
		OfferTimeout: 2 * time.Second, UpdateRetryInterval: 500 * time.Millisecond, LeaseTTL: time.Second,
		SnapshotInterval: 10 * time.Millisecond, TickInterval: 20 * time.Millisecond, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	c.m = m
	c.stop = func() { cancel(); <-done }
	t.Cleanup(func() { c.stop() })
	waitFor(t, 10*time.Second, "master ready", m.Ready)
	return c
}

func (c *cluster) conn(name string) *nats.Conn {
	c.t.Helper()
	nc, err := c.bus.Connect(name)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(nc.Close)
	return nc
}

// agents starts simulated agents named host-1..n with a rack attribute.
func (c *cluster) agents(n int, res string) []*simagent.Agent {
	c.t.Helper()
	var out []*simagent.Agent
	for k := 1; k <= n; k++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		a, err := simagent.Start(ctx, simagent.Config{Conn: c.conn("agent"), Hostname: fmt.Sprintf("host-%d", k),
			Resources:  resources.MustParse(res),
			Attributes: resources.MustParseAttributes(fmt.Sprintf("rack:r%d", (k-1)%2+1)), Logger: c.log})
		cancel()
		if err != nil {
			c.t.Fatal(err)
		}
		c.t.Cleanup(a.Stop)
		out = append(out, a)
	}
	return out
}

// services starts (or restarts) the services framework.
func (c *cluster) services() *services.Framework {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := services.Start(ctx, services.Config{Conn: c.conn("services"), Logger: c.log, StagingTimeout: time.Minute})
	if err != nil {
		c.t.Fatal(err)
	}
	c.fw = f
	c.t.Cleanup(f.Stop)
	return f
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// api calls the framework's Marathon API.
func (c *cluster) api(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		r = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, c.fw.URL()+path, r)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(data) > 0 && data[0] == '{' {
		_ = json.Unmarshal(data, &out)
	} else if len(data) > 0 && data[0] == '[' {
		var list []any
		_ = json.Unmarshal(data, &list)
		out = map[string]any{"list": list}
	}
	return resp.StatusCode, out
}

// app returns GET /v2/apps/{id}'s app object.
func (c *cluster) app(id string) map[string]any {
	c.t.Helper()
	code, out := c.api("GET", "/v2/apps"+id, nil)
	if code != 200 {
		c.t.Fatalf("GET app %s: %d %v", id, code, out)
	}
	return out["app"].(map[string]any)
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// tasksOf returns the app's tasks (GET /v2/apps/{id}/tasks).
func (c *cluster) tasksOf(id string) []map[string]any {
	c.t.Helper()
	_, out := c.api("GET", "/v2/apps"+id+"/tasks", nil)
	var ts []map[string]any
	for _, t := range out["tasks"].([]any) {
		ts = append(ts, t.(map[string]any))
	}
	return ts
}

func (c *cluster) running(id string) int { return num(c.app(id)["tasksRunning"]) }

func (c *cluster) deploymentsDone() bool {
	_, out := c.api("GET", "/v2/deployments", nil)
	return len(out["list"].([]any)) == 0
}

// events subscribes to /v2/events and records every event.
type events struct {
	mu  sync.Mutex
	all []map[string]any
}

func (c *cluster) events() *events {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c.t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", c.fw.URL()+"/v2/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	e := &events{}
	attached := make(chan struct{})
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		once := sync.Once{}
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ev map[string]any
			if json.Unmarshal([]byte(data), &ev) == nil {
				if ev["eventType"] == "event_stream_attached" {
					once.Do(func() { close(attached) })
					continue
				}
				e.mu.Lock()
				e.all = append(e.all, ev)
				e.mu.Unlock()
			}
		}
	}()
	select {
	case <-attached:
	case <-time.After(5 * time.Second):
		c.t.Fatal("event stream did not attach")
	}
	return e
}

func (e *events) snapshot() []map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]map[string]any(nil), e.all...)
}
