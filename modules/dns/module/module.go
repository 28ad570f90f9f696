// Package module is the DNS module: an sdk.Watcher that keeps a
// records.Store in step with the cluster the module host streams to it,
// served by an embedded CoreDNS (modules/dns/server). cmd/cairn-dns is its
// binary.
//
// Configuration (the module's "config" object, every field optional):
//
//	{"listen": "127.0.0.1:8053", "domain": "cairn.", "ttl": 5,
//	 "upstreams": ["1.1.1.1"], "corefile": "log\ncache 30"}
package module

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/cairn-dc/cairn/modules/dns/records"
	"github.com/cairn-dc/cairn/modules/dns/server"
	"github.com/cairn-dc/cairn/modules/sdk"
)

// Config is the module's configuration.
type Config struct {
	// Listen is host:port for UDP and TCP (default 127.0.0.1:8053).
	Listen string `json:"listen"`
	// Domain is the cluster's zone (default "cairn.").
	Domain string `json:"domain"`
	// TTL of the answers, in seconds (default 5).
	TTL int `json:"ttl"`
	// Upstreams answer everything outside the domain (none: REFUSED).
	Upstreams []string `json:"upstreams"`
	// Corefile is a Corefile snippet added to the server block ("log",
	// "cache 30" ...).
	Corefile string `json:"corefile"`
}

// DefaultListen is where the module listens without a "listen".
const DefaultListen = "127.0.0.1:8053"

// DNS is the module.
type DNS struct {
	store *records.Store

	mu  sync.Mutex
	srv *server.Server
}

// New returns the module, serving nothing until Configure.
func New() *DNS { return &DNS{store: records.NewStore()} }

// Store is the module's record store.
func (d *DNS) Store() *records.Store { return d.store }

// Addr is where the server listens ("" before Configure).
func (d *DNS) Addr() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.srv == nil {
		return ""
	}
	return d.srv.Addr()
}

// Configure reads the configuration and starts the DNS server.
func (d *DNS) Configure(ctx context.Context, raw []byte) error {
	cfg := Config{Listen: DefaultListen}
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return fmt.Errorf("dns module config: %w; want e.g. {\"listen\": %q, \"ttl\": 5, \"upstreams\": [\"1.1.1.1\"]}", err, DefaultListen)
		}
	}
	if cfg.TTL < 0 || cfg.TTL > 86400 {
		return fmt.Errorf("dns module config: ttl %d: give 0 (the default, 5 s) to 86400 seconds", cfg.TTL)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.srv != nil {
		d.srv.Stop()
		d.srv = nil
	}
	srv, err := server.Start(ctx, server.Config{Listen: cfg.Listen, Domain: cfg.Domain, TTL: time.Duration(cfg.TTL) * time.Second,
		Upstreams: cfg.Upstreams, ExtraCorefile: cfg.Corefile}, d.store)
	if err != nil {
		return fmt.Errorf("dns module: %w", err)
	}
	d.srv = srv
	return nil
}

// Stop stops the server.
func (d *DNS) Stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.srv != nil {
		d.srv.Stop()
		d.srv = nil
	}
}

// Watch keeps the records in step with the cluster.
func (d *DNS) Watch(ctx context.Context, host sdk.Host, snap sdk.Snapshot, events <-chan sdk.Event) error {
	log := sdk.Logger(host)
	if err := d.store.Replace(Cluster(snap)); err != nil {
		return fmt.Errorf("dns module: the cluster snapshot: %w", err)
	}
	log.Info("dns: records loaded", "tasks", len(snap.Tasks), "agents", len(snap.Agents), "listen", d.Addr())
	for ev := range events {
		if err := d.apply(ev); err != nil {
			// One bad record must not take the names of the others down.
			log.Warn("dns: an event was not applied", "type", string(ev.Type), "err", err)
		}
	}
	return nil
}

func (d *DNS) apply(ev sdk.Event) error {
	switch ev.Type {
	case sdk.TaskUpdated:
		if ev.Task == nil {
			return errors.New("TASK_UPDATED without a task")
		}
		if ev.Task.Terminal() {
			return d.store.RemoveTask(ev.Task.ID)
		}
		return d.store.UpsertTask(task(*ev.Task))
	case sdk.AgentAdded, sdk.AgentUpdated:
		if ev.Agent == nil {
			return errors.New("agent event without an agent")
		}
		return d.store.UpsertAgent(agent(*ev.Agent))
	case sdk.AgentRemoved:
		if ev.Agent == nil {
			return errors.New("agent event without an agent")
		}
		return d.store.RemoveAgent(ev.Agent.ID)
	case sdk.FrameworkAdded, sdk.FrameworkUpdated:
		if ev.Framework == nil {
			return errors.New("framework event without a framework")
		}
		return d.store.UpsertFramework(records.Framework{ID: ev.Framework.ID, Name: ev.Framework.Name})
	case sdk.FrameworkRemoved:
		if ev.Framework == nil {
			return errors.New("framework event without a framework")
		}
		return d.store.RemoveFramework(ev.Framework.ID)
	case sdk.LeaderChanged:
		return d.store.SetLeader(hostPort(ev.Leader))
	}
	return nil // a kind this module does not know
}

// Cluster converts the host's snapshot into the store's input.
func Cluster(s sdk.Snapshot) records.Cluster {
	c := records.Cluster{Leader: hostPort(s.Leader)}
	if c.Leader != "" {
		c.Masters = []string{c.Leader}
	}
	for _, a := range s.Agents {
		c.Agents = append(c.Agents, agent(a))
	}
	for _, f := range s.Frameworks {
		c.Frameworks = append(c.Frameworks, records.Framework{ID: f.ID, Name: f.Name})
	}
	for _, t := range s.Tasks {
		c.Tasks = append(c.Tasks, task(t))
	}
	return c
}

func agent(a sdk.Agent) records.Agent {
	return records.Agent{ID: a.ID, Hostname: a.Hostname, Address: a.Address}
}

func task(t sdk.Task) records.Task {
	out := records.Task{ID: t.ID, Name: t.Name, FrameworkID: t.FrameworkID, FrameworkName: t.FrameworkName,
		AgentID: t.AgentID, Hostname: t.Hostname, Address: t.Address, State: t.State}
	switch t.Health {
	case sdk.HealthHealthy:
		h := true
		out.Healthy = &h
	case sdk.HealthUnhealthy:
		h := false
		out.Healthy = &h
	}
	// The task's own IPs only when they differ from its agent's (host
	// networking reports the agent's address as the task's IP).
	for _, ip := range t.IPs {
		if ip != t.Address {
			out.IPs = append(out.IPs, ip)
		}
	}
	for _, p := range t.Ports {
		if p.Number == 0 || p.Number > 65535 {
			continue
		}
		out.Ports = append(out.Ports, records.Port{Number: uint16(p.Number), Name: p.Name, Protocol: p.Protocol})
	}
	return out
}

// hostPort turns the leader's API URL ("http://10.0.0.1:5050") into
// "10.0.0.1:5050"; other forms are kept.
func hostPort(leader string) string {
	if u, err := url.Parse(leader); err == nil && u.Host != "" {
		return u.Host
	}
	return leader
}
