package services_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/frameworks/services"
	"github.com/cairn-dc/cairn/kernel/master"
	"github.com/cairn-dc/cairn/kernel/simagent"
	"github.com/cairn-dc/cairn/kernel/testcluster"
)

// cluster is an in-process cluster (kernel/testcluster) with
// the services framework.
type cluster struct {
	*testcluster.Cluster
	t   testing.TB
	log *slog.Logger
	m   *master.Master
	fw  *services.Framework
}

func newCluster(t testing.TB) *cluster {
	t.Helper()
	tc := testcluster.New(t)
	return &cluster{Cluster: tc, t: t, log: tc.Log, m: tc.M}
}

func (c *cluster) conn(name string) *nats.Conn { return c.Conn(name) }

// agents starts simulated agents named host-1..n with a rack attribute.
func (c *cluster) agents(n int, res string) []*simagent.Agent { return c.Agents(n, res, nil) }

// services starts (or restarts) the services framework.
func (c *cluster) services() *services.Framework { return c.servicesWith(nil) }

// servicesWith starts (or restarts) the services framework with its config
// changed by mutate.
func (c *cluster) servicesWith(mutate func(*services.Config)) *services.Framework {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := services.Config{Conn: c.conn("services"), Logger: c.log, StagingTimeout: time.Minute}
	if mutate != nil {
		mutate(&cfg)
	}
	f, err := services.Start(ctx, cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.fw = f
	c.t.Cleanup(f.Stop)
	return f
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testcluster.WaitFor(t, d, what, cond)
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
