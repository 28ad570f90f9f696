package master

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/resources"
)

// Config tunes a master. Zero durations take the defaults below, chosen from
// Mesos' pain: short offer timeouts (no hoarding), a non-zero framework
// failover timeout, partition-aware task states.
type Config struct {
	// Conn is the master's NATS connection (JetStream must be enabled).
	Conn *nats.Conn
	// ID identifies this master; keep it across restarts (cairn keeps it in
	// the data dir) so a restarted master takes its own lease back at once.
	ID       string
	Hostname string
	// URL where the operator API is served (reported to frameworks).
	URL string
	// NATSURL is where frameworks and agents reach NATS (advertised in
	// MasterInfo so tools like `cairn task run` can find it).
	NATSURL string
	Version string
	Logger  *slog.Logger

	// AllocationInterval is the longest time between allocation cycles; a
	// cycle also runs soon after any change that may produce offers.
	AllocationInterval time.Duration // default 1s
	// OfferTimeout rescinds offers a framework has neither accepted nor declined.
	OfferTimeout time.Duration // default 10s
	// AgentPingInterval is how often agents ping; after AgentPingTimeouts
	// missed pings an agent is UNREACHABLE, and after AgentUnreachableTimeout
	// more it is GONE and removed.
	AgentPingInterval       time.Duration // default 5s
	AgentPingTimeouts       int           // default 3
	AgentUnreachableTimeout time.Duration // default 5m
	// FrameworkHeartbeatInterval is how often frameworks must call (and get
	// HEARTBEAT events); after 3 silent intervals a framework is disconnected.
	FrameworkHeartbeatInterval time.Duration // default 5s
	// DefaultFailoverTimeout applies to frameworks that give none.
	DefaultFailoverTimeout time.Duration // default 1h
	// UpdateRetryInterval is how long an unacknowledged status update waits
	// before it is sent again.
	UpdateRetryInterval time.Duration // default 10s
	// LeaseTTL is the leader lease; a dead leader is replaced after it.
	LeaseTTL time.Duration // default 6s
	// SnapshotInterval bounds how stale GET /v1/state may be.
	SnapshotInterval time.Duration // default 100ms
	// TickInterval is the housekeeping tick (timeouts are checked on it).
	TickInterval time.Duration // default 100ms
	// UpdatesPurgeInterval is how often acknowledged status updates are
	// purged from the update stream.
	UpdatesPurgeInterval time.Duration // default 2s

	// MaxCompletedTasks per framework are kept (in memory and KV) after they end.
	MaxCompletedTasks int // default 1000
	// MaxStatuses per task are kept for the operator API.
	MaxStatuses int // default 5

	MinAllocatable []resources.Resources
	RoleWeights    map[string]float64
	// Seed for the allocator's agent order (0: from the clock).
	Seed int64
}

func (c *Config) defaults() error {
	if c.Conn == nil {
		return errors.New("master: Config.Conn is required")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Hostname == "" {
		c.Hostname, _ = os.Hostname()
	}
	dur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	dur(&c.AllocationInterval, time.Second)
	dur(&c.OfferTimeout, 10*time.Second)
	dur(&c.AgentPingInterval, 5*time.Second)
	dur(&c.AgentUnreachableTimeout, 5*time.Minute)
	dur(&c.FrameworkHeartbeatInterval, 5*time.Second)
	dur(&c.DefaultFailoverTimeout, time.Hour)
	dur(&c.UpdateRetryInterval, 10*time.Second)
	dur(&c.LeaseTTL, 6*time.Second)
	dur(&c.SnapshotInterval, 100*time.Millisecond)
	dur(&c.TickInterval, 100*time.Millisecond)
	dur(&c.UpdatesPurgeInterval, 2*time.Second)
	if c.AgentPingTimeouts <= 0 {
		c.AgentPingTimeouts = 3
	}
	if c.MaxCompletedTasks <= 0 {
		c.MaxCompletedTasks = 1000
	}
	if c.MaxStatuses <= 0 {
		c.MaxStatuses = 5
	}
	if c.LeaseTTL < time.Second {
		return fmt.Errorf("master: LeaseTTL %v is below JetStream's 1s minimum", c.LeaseTTL)
	}
	if c.Seed == 0 {
		c.Seed = time.Now().UnixNano()
	}
	for role, w := range c.RoleWeights {
		if err := resources.ValidateRole(role); err != nil {
			return fmt.Errorf("master: role weight for %q: %w", role, err)
		}
		if !(w > 0) {
			return fmt.Errorf("master: role weight for %q must be > 0, got %v", role, w)
		}
	}
	return nil
}
