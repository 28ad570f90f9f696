package module

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cairn-dc/cairn/modules/sdk"
)

type fakeHost struct{}

func (fakeHost) Log(context.Context, slog.Level, string, ...slog.Attr) error { return nil }
func (fakeHost) Snapshot(context.Context) (sdk.Snapshot, error)              { return sdk.Snapshot{}, nil }

func helloTask(id, ip string, port uint32) sdk.Task {
	return sdk.Task{ID: id, Name: "hello", FrameworkID: "fw-services", FrameworkName: "services", AgentID: "a-" + ip,
		Hostname: "agent-" + ip, Address: ip, IPs: []string{ip}, Ports: []sdk.Port{{Number: port, Name: "http", Protocol: "tcp"}},
		State: "TASK_RUNNING", Health: sdk.HealthHealthy}
}

func query(t *testing.T, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s: %v", name, dns.TypeToString[qtype], err)
	}
	return r
}

func aRecords(r *dns.Msg) []string {
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	slices.Sort(out)
	return out
}

// TestWatchServesTheCluster: the module turns the host's snapshot and
// events into answers on a real socket.
func TestWatchServesTheCluster(t *testing.T) {
	d := New()
	ctx := context.Background()
	if err := d.Configure(ctx, []byte(`{"listen": "127.0.0.1:0", "ttl": 1}`)); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	snap := sdk.Snapshot{Leader: "http://127.0.0.1:5050",
		Agents:     []sdk.Agent{{ID: "a-127.0.0.2", Hostname: "agent-1", Address: "127.0.0.2", Active: true}},
		Frameworks: []sdk.Framework{{ID: "fw-services", Name: "services", Active: true}},
		Tasks:      []sdk.Task{helloTask("hello.1", "127.0.0.2", 31000)}}
	events := make(chan sdk.Event, 4)
	done := make(chan error, 1)
	go func() { done <- d.Watch(ctx, fakeHost{}, snap, events) }()
	addr := d.Addr()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 5 s", what)
			}
		}
	}
	waitFor("hello's A record", func() bool {
		return slices.Equal(aRecords(query(t, addr, "hello.services.cairn.", dns.TypeA)), []string{"127.0.0.2"})
	})
	if r := query(t, addr, "leader.cairn.", dns.TypeA); !slices.Equal(aRecords(r), []string{"127.0.0.1"}) {
		t.Errorf("leader: %v", r)
	}
	srv := query(t, addr, "_hello._tcp.services.cairn.", dns.TypeSRV)
	if len(srv.Answer) != 1 || srv.Answer[0].(*dns.SRV).Port != 31000 {
		t.Errorf("SRV: %v", srv)
	}
	// Scaled up: a second instance on another agent.
	events <- sdk.Event{Type: sdk.TaskUpdated, Task: ptr(helloTask("hello.2", "127.0.0.3", 31001))}
	waitFor("two A records", func() bool {
		return slices.Equal(aRecords(query(t, addr, "hello.services.cairn.", dns.TypeA)), []string{"127.0.0.2", "127.0.0.3"})
	})
	// The first one killed; an unhealthy one is not published.
	gone := helloTask("hello.1", "127.0.0.2", 31000)
	gone.State = "TASK_KILLED"
	sick := helloTask("hello.2", "127.0.0.3", 31001)
	sick.Health = sdk.HealthUnhealthy
	events <- sdk.Event{Type: sdk.TaskUpdated, Task: &gone}
	events <- sdk.Event{Type: sdk.TaskUpdated, Task: &sick}
	waitFor("no A record", func() bool {
		return query(t, addr, "hello.services.cairn.", dns.TypeA).Rcode == dns.RcodeNameError
	})
	close(events)
	if err := <-done; err != nil {
		t.Fatalf("Watch: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	d := New()
	for _, bad := range []string{`{"listen": 5}`, `{"ttl": -1}`, `{"nope": true}`, `{"listen": "not an address"}`} {
		if err := d.Configure(context.Background(), []byte(bad)); err == nil {
			d.Stop()
			t.Errorf("config %s accepted", bad)
		}
	}
}

func ptr[T any](v T) *T { return &v }
