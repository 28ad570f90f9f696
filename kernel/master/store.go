package master

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
// update stream.
func ensureJetStream(ctx context.Context, js jetstream.JetStream) (jetstream.KeyValue, jetstream.Stream, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      protocol.StateBucket,
		Description: "Cairn master state: frameworks, agents, tasks",
		History:     1,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create state bucket %s: %w (is JetStream enabled on this NATS?)", protocol.StateBucket, err)
	}
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        protocol.UpdatesStream,
		Description: "Cairn task status updates, agents -> master",
		Subjects:    []string{protocol.UpdatesWildcard},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.WorkQueuePolicy,
		Duplicates:  2 * time.Minute,
		MaxAge:      7 * 24 * time.Hour,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create update stream %s: %w", protocol.UpdatesStream, err)
	}
	return kv, st, nil
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
