package services

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// store keeps the framework's state in a JetStream KV bucket of its own:
//
//	framework-id                 the framework's ID (to fail over)
//	app.<app id>                 the current definition of each app
//	version.<app id>.<version>   every stored version (bounded per app)
//	deployment.<id>              deployments in progress
//	instance.<task id>           every instance (task) not yet forgotten
//
// Writes are asynchronous publishes collected and awaited once per loop
// batch, before anything they imply is done or said (a launch, a reply).
type store struct {
	js      jetstream.JetStream
	kv      jetstream.KeyValue
	prefix  string
	pending []jetstream.PubAckFuture
}

func openStore(ctx context.Context, js jetstream.JetStream, bucket string) (*store, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      bucket,
		Description: "Cairn services framework: apps, versions, deployments, instances",
		History:     1,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("services: state bucket %s: %w (is JetStream enabled?)", bucket, err)
	}
	return &store{js: js, kv: kv, prefix: "$KV." + bucket + "."}, nil
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

// sync waits until every write so far is stored.
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
				first = fmt.Errorf("store services state: %w", err)
			}
		case <-ctx.Done():
			if first == nil {
				first = fmt.Errorf("store services state: %w", ctx.Err())
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
		return nil, fmt.Errorf("read services state: %w", err)
	}
	defer func() { _ = w.Stop() }()
	out := map[string][]byte{}
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("read services state: watcher closed")
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

// Keys. App ids ("/prod/web") and versions are valid key material: KV keys
// allow '/', '-', '_', '.' and alphanumerics.
func appKey(id string) string                { return "app." + id }
func versionKey(id, version string) string   { return "version." + id + "." + kvSafe(version) }
func deploymentKey(id string) string         { return "deployment." + id }
func instanceKey(taskID string) string       { return "instance." + taskID }
func versionPrefix(id string) string         { return "version." + id + "." }
func kvSafe(s string) string                 { return strings.NewReplacer(":", "-").Replace(s) }
func keyKind(key string) (kind, rest string) { kind, rest, _ = strings.Cut(key, "."); return }
