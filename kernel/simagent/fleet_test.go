package simagent

import (
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

func TestFleetOf200SharingAConnection(t *testing.T) {
	e := newEnv(t)
	ups := e.createStream()
	m := startMaster(t, e.mnc, "m1")
	m.pingInterval = 1
	f, err := StartFleet(ctxT(t), FleetConfig{
		N:    200,
		Conn: e.nc,
		Template: Config{
			Resources:    resources.MustParse("cpus:8;mem:16384"),
			Logger:       quiet,
			SkipStarting: true,
		},
		Customize: func(i int, c *Config) {
			c.Attributes = resources.MustParseAttributes(fmt.Sprintf("rack:r%d", i%4))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	if f.Len() != 200 {
		t.Fatalf("len %d", f.Len())
	}
	m.wait("200 registrations", func() bool { return len(m.regs) == 200 })
	hosts := map[string]bool{}
	for _, a := range f.Agents() {
		r := m.registrations(a.ID())
		if len(r) != 1 || f.Get(a.ID()) != a {
			t.Fatalf("agent %s: %d registrations", a.ID(), len(r))
		}
		hosts[r[0].Agent.Hostname] = true
	}
	if !hosts["sim-0"] || !hosts["sim-199"] || len(hosts) != 200 {
		t.Fatalf("hostnames %v", len(hosts))
	}
	if at, ok := f.Agent(5).Info().Attributes.Get("rack"); !ok || at.Value() != "r1" {
		t.Fatalf("attributes %v", f.Agent(5).Info().Attributes)
	}
	// Every agent runs a task through the shared publisher.
	for _, a := range f.Agents() {
		m.send(a.ID(), launch("fw1", taskInfo("t-"+string(a.ID()), "cpus:1", nil)))
	}
	for range 200 {
		g := ups.next()
		if g.Status.State != protocol.TaskRunning || g.Status.TaskID != protocol.TaskID("t-"+string(g.AgentID)) {
			t.Fatalf("%+v", g)
		}
	}
	if s := f.Stats(); s.Registrations != 200 || s.UpdatesStored != 200 {
		t.Fatalf("stats %+v", s)
	}
}

func TestFleetWithItsOwnConnections(t *testing.T) {
	e := newEnv(t)
	m := startMaster(t, e.mnc, "m1")
	var opened []*nats.Conn
	f, err := StartFleet(ctxT(t), FleetConfig{
		N:           10,
		Connections: 3,
		Connect: func(i int) (*nats.Conn, error) {
			nc, err := e.bus.Connect(fmt.Sprintf("fleet-%d", i))
			if err == nil {
				opened = append(opened, nc)
			}
			return nc, err
		},
		HostnamePrefix: "node",
		Template:       Config{Resources: resources.MustParse("cpus:1"), Logger: quiet},
	})
	if err != nil {
		t.Fatal(err)
	}
	m.wait("10 registrations", func() bool { return len(m.regs) == 10 })
	if len(opened) != 3 || f.Agent(9).Info().Hostname != "node-9" {
		t.Fatalf("%d connections, host %s", len(opened), f.Agent(9).Info().Hostname)
	}
	f.Stop()
	for _, nc := range opened {
		if !nc.IsClosed() {
			t.Fatal("fleet left a connection open")
		}
	}
}

func TestFleetFailsAsAWhole(t *testing.T) {
	e := newEnv(t)
	m := startMaster(t, e.mnc, "m1")
	m.script = []*protocol.Error{nil, nil, {Code: protocol.ErrForbidden, Message: "no more"}}
	_, err := StartFleet(ctxT(t), FleetConfig{N: 20, Conn: e.nc, Parallel: 1,
		Template: Config{Resources: resources.MustParse("cpus:1"), Logger: quiet}})
	if err == nil {
		t.Fatal("fleet started although an agent was refused")
	}
}
