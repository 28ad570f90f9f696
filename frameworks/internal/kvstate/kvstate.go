// Package kvstate keeps a framework's state in a JetStream KV bucket of its
// own, written the way a framework's event loop wants it: writes are
// asynchronous publishes collected and awaited once per loop batch
// (Sync), before anything they imply is done or said (a launch, a reply).
// Writes from one Store are stored in the order they were made, so a
// record written after another is never stored without it.
//
// A Store is used by one goroutine (the framework's loop).
package kvstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Store is one bucket.
type Store struct {
	js      jetstream.JetStream
	kv      jetstream.KeyValue
	what    string // "services state", for errors
	prefix  string
	pending []jetstream.PubAckFuture
}

// Open creates (or opens) bucket, file-backed with one value per key.
// what names the state in errors ("cron state").
func Open(ctx context.Context, js jetstream.JetStream, bucket, description, what string) (*Store, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      bucket,
		Description: description,
		History:     1,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("%s bucket %s: %w (is JetStream enabled?)", what, bucket, err)
	}
	return &Store{js: js, kv: kv, what: what, prefix: "$KV." + bucket + "."}, nil
}

// Put writes v as JSON under key (stored by the next Sync).
func (s *Store) Put(key string, v any) error {
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

// Delete removes key (by the next Sync).
func (s *Store) Delete(key string) error {
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

// Get reads the stored value of key (writes not synced yet are not seen);
// the error wraps jetstream.ErrKeyNotFound for a missing key.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	e, err := s.kv.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", s.what, key, err)
	}
	return e.Value(), nil
}

// Pending is how many writes wait for Sync.
func (s *Store) Pending() int { return len(s.pending) }

// Sync waits until every write so far is stored (at most 30 s).
func (s *Store) Sync(ctx context.Context) error {
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
				first = fmt.Errorf("store %s: %w", s.what, err)
			}
		case <-ctx.Done():
			if first == nil {
				first = fmt.Errorf("store %s: %w", s.what, ctx.Err())
			}
		}
	}
	s.pending = s.pending[:0]
	return first
}

// LoadAll reads every key of the bucket.
func (s *Store) LoadAll(ctx context.Context) (map[string][]byte, error) {
	w, err := s.kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.what, err)
	}
	defer func() { _ = w.Stop() }()
	out := map[string][]byte{}
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("read %s: %w", s.what, errors.New("watcher closed"))
			}
			if e == nil {
				return out, nil
			}
			out[e.Key()] = e.Value()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
