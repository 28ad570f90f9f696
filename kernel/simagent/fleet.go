package simagent

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// FleetConfig configures a fleet of simulated agents.
type FleetConfig struct {
	// N is the number of agents.
	N int
	// Template is every agent's Config; Conn, Publisher, ID, Hostname and
	// Recover are set per agent (a Template.Logger, resources and task
	// behaviour apply to all).
	Template Config
	// Conn, if set, is shared by all the agents (one Publisher for all).
	Conn *nats.Conn
	// Connect opens a connection when Conn is nil; the fleet opens
	// Connections of them (default N: one per agent), spreads the agents
	// over them round-robin, and closes them on Stop.
	Connect     func(i int) (*nats.Conn, error)
	Connections int
	// HostnamePrefix names agent i "<prefix>-<i>" (default "sim").
	HostnamePrefix string
	// Customize, if set, adjusts agent i's Config before it starts
	// (attributes per rack, different resources ...).
	Customize func(i int, cfg *Config)
	// Parallel bounds the agents registering at once (default 64).
	Parallel int
	// Publisher tunes the fleet's publishers (one per connection).
	Publisher PublisherConfig
}

// Fleet is a set of simulated agents started together.
type Fleet struct {
	agents []*Agent
	byID   map[protocol.AgentID]*Agent
	pubs   []*Publisher
	conns  []*nats.Conn // opened by the fleet
}

// StartFleet starts cfg.N agents concurrently and returns once all are
// registered; if one fails, it stops the others and returns the error.
func StartFleet(ctx context.Context, cfg FleetConfig) (*Fleet, error) {
	if cfg.N <= 0 {
		return nil, errors.New("simagent: FleetConfig.N must be positive")
	}
	if cfg.Conn == nil && cfg.Connect == nil {
		return nil, errors.New("simagent: FleetConfig needs Conn or Connect")
	}
	if cfg.HostnamePrefix == "" {
		cfg.HostnamePrefix = "sim"
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 64
	}
	if cfg.Publisher.Logger == nil {
		cfg.Publisher.Logger = cfg.Template.Logger
	}
	f := &Fleet{agents: make([]*Agent, cfg.N), byID: make(map[protocol.AgentID]*Agent, cfg.N)}
	var conns []*nats.Conn
	if cfg.Conn != nil {
		conns = []*nats.Conn{cfg.Conn}
	} else {
		n := cfg.Connections
		if n <= 0 || n > cfg.N {
			n = cfg.N
		}
		for i := range n {
			nc, err := cfg.Connect(i)
			if err != nil {
				f.Stop()
				return nil, fmt.Errorf("simagent: fleet connection %d: %w", i, err)
			}
			f.conns = append(f.conns, nc)
		}
		conns = f.conns
	}
	for _, nc := range conns {
		p, err := NewPublisher(nc, cfg.Publisher)
		if err != nil {
			f.Stop()
			return nil, err
		}
		f.pubs = append(f.pubs, p)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, cfg.Parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := range cfg.N {
		ac := cfg.Template
		ac.Conn, ac.Publisher = conns[i%len(conns)], f.pubs[i%len(conns)]
		ac.ID, ac.Recover = "", nil
		ac.Hostname = fmt.Sprintf("%s-%d", cfg.HostnamePrefix, i)
		if cfg.Customize != nil {
			cfg.Customize(i, &ac)
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			a, err := Start(ctx, ac)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("simagent: fleet agent %d: %w", i, err)
					cancel()
				}
				return
			}
			f.agents[i] = a
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = fmt.Errorf("simagent: fleet not started: %w", ctx.Err())
	}
	if firstErr != nil {
		f.Stop()
		return nil, firstErr
	}
	for _, a := range f.agents {
		f.byID[a.ID()] = a
	}
	return f, nil
}

// Len is the number of agents.
func (f *Fleet) Len() int { return len(f.agents) }

// Agents returns the agents, in start order (agent i is "<prefix>-<i>").
func (f *Fleet) Agents() []*Agent { return append([]*Agent(nil), f.agents...) }

// Agent returns agent i.
func (f *Fleet) Agent(i int) *Agent { return f.agents[i] }

// Get returns the agent with that ID, or nil.
func (f *Fleet) Get(id protocol.AgentID) *Agent { return f.byID[id] }

// Stats sums the agents' counters.
func (f *Fleet) Stats() Stats {
	var s Stats
	for _, a := range f.agents {
		if a != nil {
			s.add(a.Stats())
		}
	}
	return s
}

// Stop stops every agent, then the fleet's publishers and the connections
// it opened.
func (f *Fleet) Stop() {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, a := range f.agents {
		if a == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			a.Stop()
		}()
	}
	wg.Wait()
	for _, p := range f.pubs {
		p.Close()
	}
	for _, nc := range f.conns {
		nc.Close()
	}
}
