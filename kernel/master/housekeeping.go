package master

import (
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// housekeeping runs on every tick: timeouts of agents, frameworks, offers
// and unacknowledged updates, and framework heartbeats.
func (m *Master) housekeeping(now time.Time) {
	m.checkAgents(now)
	m.checkFrameworks(now)
	m.expireOffers(now)
	m.retryUpdates(now)
	m.flushLazy(now)
	if now.Sub(m.lastHeartbeat) >= m.cfg.FrameworkHeartbeatInterval {
		m.lastHeartbeat = now
		for _, f := range m.frameworks {
			if f.connected {
				m.sendEvent(f, protocol.Event{Type: protocol.EventHeartbeat})
			}
		}
	}
}

// checkFrameworks disconnects silent frameworks and removes those whose
// failover timeout passed.
func (m *Master) checkFrameworks(now time.Time) {
	silent := 3 * m.cfg.FrameworkHeartbeatInterval
	for _, f := range m.frameworks {
		switch {
		case f.removed:
		case f.connected && now.Sub(f.lastSeen) > silent:
			m.disconnectFramework(f, now)
		case !f.connected && now.Sub(f.disconnected) > f.failoverTimeout(m.cfg.DefaultFailoverTimeout):
			m.removeFramework(f, "it did not re-subscribe within its failover timeout")
		}
	}
}
