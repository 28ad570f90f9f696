package master

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// Leadership is a lease: the key "leader" in a KV bucket whose entries
// expire after LeaseTTL. The leader creates it and renews it by compare-and-
// set on its revision; a master that fails to renew has lost leadership and
// stops acting at once. No home-made consensus: JetStream orders the writes.

const leaderKey = "leader"

type leaderValue struct {
	ID       string  `json:"id"`
	Hostname string  `json:"hostname,omitempty"`
	URL      string  `json:"url,omitempty"`
	Since    float64 `json:"since"`
}

func (m *Master) leaseBucket(ctx context.Context) (jetstream.KeyValue, error) {
	kv, err := m.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      protocol.LeaderBucket,
		Description: "Cairn master leader lease",
		History:     1,
		TTL:         m.cfg.LeaseTTL,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("create leader bucket: %w (is JetStream enabled on this NATS?)", err)
	}
	return kv, nil
}

// campaign blocks until this master holds the lease (or ctx ends) and
// returns the lease's revision.
func (m *Master) campaign(ctx context.Context, kv jetstream.KeyValue) (uint64, error) {
	val, _ := json.Marshal(leaderValue{ID: m.cfg.ID, Hostname: m.cfg.Hostname, URL: m.cfg.URL, Since: protocol.Timestamp(time.Now())})
	announced := false
	for {
		rev, err := kv.Create(ctx, leaderKey, val)
		if err == nil {
			return rev, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			m.log.Warn("leader election: cannot reach JetStream; retrying", "err", err)
		} else if e, gerr := kv.Get(ctx, leaderKey); gerr == nil {
			var cur leaderValue
			if json.Unmarshal(e.Value(), &cur) == nil && cur.ID == m.cfg.ID {
				// Our own lease from before a restart: take it back.
				if rev, uerr := kv.Update(ctx, leaderKey, val, e.Revision()); uerr == nil {
					return rev, nil
				}
			} else if !announced {
				m.log.Info("another master leads; standing by", "leader", cur.ID, "url", cur.URL)
				announced = true
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(m.cfg.LeaseTTL / 4):
		}
	}
}

// keepLease renews the lease until ctx ends; it calls lost (once) when the
// lease cannot be renewed within its TTL.
func (m *Master) keepLease(ctx context.Context, kv jetstream.KeyValue, rev uint64, lost func(error)) {
	val, _ := json.Marshal(leaderValue{ID: m.cfg.ID, Hostname: m.cfg.Hostname, URL: m.cfg.URL, Since: protocol.Timestamp(time.Now())})
	renewed := time.Now()
	t := time.NewTicker(m.cfg.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// Step down politely so a standby takes over without waiting.
			dctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = kv.Delete(dctx, leaderKey, jetstream.LastRevision(rev))
			cancel()
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(ctx, m.cfg.LeaseTTL/3)
			r, err := kv.Update(rctx, leaderKey, val, rev)
			cancel()
			if err == nil {
				rev, renewed = r, time.Now()
				continue
			}
			if errors.Is(err, jetstream.ErrKeyExists) || time.Since(renewed) > m.cfg.LeaseTTL*2/3 {
				lost(fmt.Errorf("leader lease lost: %w", err))
				return
			}
			m.log.Warn("leader lease renewal failed; retrying", "err", err)
		}
	}
}
