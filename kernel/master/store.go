package master

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// store persists the master's state in a JetStream KV bucket. Writes are
// asynchronous publishes to the bucket's subjects (what kv.Put does, minus
// the wait), collected and awaited once per loop batch: thousands of task
// changes per second cost one round of acks, not one each.
type store struct {
	js      jetstream.JetStream
	kv      jetstream.KeyValue
	prefix  string
	pending []jetstream.PubAckFuture
}

// ensureJetStream creates (or updates) the state bucket and the status
// update stream, moving the updates of an earlier master's work-queue
// stream into it.
func ensureJetStream(ctx context.Context, js jetstream.JetStream, log *slog.Logger) (jetstream.KeyValue, jetstream.Stream, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      protocol.StateBucket,
		Description: "Cairn master state: frameworks, agents, tasks",
		History:     1,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create state bucket %s: %w (is JetStream enabled on this NATS?)", protocol.StateBucket, err)
	}
	legacy, err := parkLegacyUpdates(ctx, js)
	if err != nil {
		return nil, nil, err
	}
	// Limits retention, purged up to the master's acknowledgements (see
	// purgeUpdates), rather than a work queue: a work queue deletes each
	// update as it is acknowledged, and whenever that empties it — after
	// every burst the master keeps up with — the file store deletes its
	// block file and creates a new one.
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        protocol.UpdatesStream,
		Description: "Cairn task status updates, agents -> master",
		Subjects:    []string{protocol.UpdatesWildcard},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Duplicates:  2 * time.Minute,
		MaxAge:      7 * 24 * time.Hour,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create update stream %s: %w", protocol.UpdatesStream, err)
	}
	if legacy != nil {
		if err := moveLegacyUpdates(ctx, js, legacy, log); err != nil {
			return nil, nil, err
		}
	}
	return kv, st, nil
}

// legacyParked is where an earlier master's update stream listens while
// its updates are moved: nothing publishes there.
const legacyParked = "_cairn.legacy-updates.parked"

// parkLegacyUpdates makes the work-queue stream of an earlier master (if
// there is one) stop taking updates, so that the new stream may take its
// subjects. Agents publishing meanwhile get no stream ack and retry.
func parkLegacyUpdates(ctx context.Context, js jetstream.JetStream) (jetstream.Stream, error) {
	st, err := js.Stream(ctx, protocol.LegacyUpdatesStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look for the earlier update stream %s: %w", protocol.LegacyUpdatesStream, err)
	}
	cfg := st.CachedInfo().Config
	if len(cfg.Subjects) == 1 && cfg.Subjects[0] == legacyParked {
		return st, nil // parked by a master that stopped before the move ended
	}
	cfg.Subjects = []string{legacyParked}
	if st, err = js.UpdateStream(ctx, cfg); err != nil {
		return nil, fmt.Errorf("park the earlier update stream %s: %w", protocol.LegacyUpdatesStream, err)
	}
	return st, nil
}

// moveLegacyUpdates copies every update left in the parked stream into
// UpdatesStream (same subject and Nats-Msg-Id, so a copy repeated after a
// crash is dropped as a duplicate, and the master ignores a status it
// already has), then deletes the parked stream.
func moveLegacyUpdates(ctx context.Context, js jetstream.JetStream, legacy jetstream.Stream, log *slog.Logger) error {
	info, err := legacy.Info(ctx)
	if err != nil {
		return fmt.Errorf("read the earlier update stream %s: %w", protocol.LegacyUpdatesStream, err)
	}
	moved := 0
	if info.State.Msgs > 0 {
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
			raw, err := legacy.GetMsg(ctx, seq)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				continue // acknowledged (deleted) already
			}
			if err != nil {
				return fmt.Errorf("read update %d of the earlier update stream %s: %w", seq, protocol.LegacyUpdatesStream, err)
			}
			msg := nats.NewMsg(raw.Subject)
			msg.Header = raw.Header
			msg.Data = raw.Data
			if _, err := js.PublishMsg(ctx, msg); err != nil {
				return fmt.Errorf("move update %d of %s into %s: %w", seq, protocol.LegacyUpdatesStream, protocol.UpdatesStream, err)
			}
			moved++
		}
	}
	if err := js.DeleteStream(ctx, protocol.LegacyUpdatesStream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("delete the earlier update stream %s after moving its updates: %w", protocol.LegacyUpdatesStream, err)
	}
	log.Info("moved the status updates of the earlier work-queue stream", "from", protocol.LegacyUpdatesStream,
		"to", protocol.UpdatesStream, "updates", moved)
	return nil
}

func newStore(js jetstream.JetStream, kv jetstream.KeyValue) *store {
	return &store{js: js, kv: kv, prefix: "$KV." + kv.Bucket() + "."}
}

func (s *store) put(key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	f, err := s.js.PublishAsync(s.prefix+key, data)
	if err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	s.pending = append(s.pending, f)
	return nil
}

func (s *store) del(key string) error {
	msg := nats.NewMsg(s.prefix + key)
	msg.Header.Set("KV-Operation", "PURGE")
	msg.Header.Set("Nats-Rollup", "sub")
	f, err := s.js.PublishMsgAsync(msg)
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	s.pending = append(s.pending, f)
	return nil
}

// sync waits until every write so far is stored. A failed write is not
// retried here: a later write of the same key may already be stored and a
// retry would undo it; the caller steps down and recovers from the bucket.
func (s *store) sync(ctx context.Context) error {
	if len(s.pending) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var first error
	for _, f := range s.pending {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			if first == nil {
				first = fmt.Errorf("store state in JetStream (subject %s): %w", f.Msg().Subject, err)
			}
		case <-ctx.Done():
			if first == nil {
				first = fmt.Errorf("store state in JetStream: %w", ctx.Err())
			}
		}
	}
	s.pending = s.pending[:0]
	return first
}

// loadAll reads every key of the bucket.
func (s *store) loadAll(ctx context.Context) (map[string][]byte, error) {
	w, err := s.kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("read state bucket: %w", err)
	}
	defer func() { _ = w.Stop() }()
	out := make(map[string][]byte)
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("read state bucket: watcher closed")
			}
			if e == nil { // all current values delivered
				return out, nil
			}
			out[e.Key()] = e.Value()
		case <-ctx.Done():
			return nil, fmt.Errorf("read state bucket: %w", ctx.Err())
		}
	}
}
