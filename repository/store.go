package repository

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairn-dc/cairn/repository/packageapi"
)

// StoredRepository is a configured repository as stored: its password
// is kept here and never returned by the package API.
type StoredRepository struct {
	packageapi.Repository
	Password string `json:"password,omitempty"`
}

// Store keeps the configured repositories, in priority order, with
// optimistic concurrency: several masters may share one store.
type Store interface {
	// Load returns the repositories and the revision they were read at;
	// revision 0 means nothing was ever saved.
	Load(ctx context.Context) ([]StoredRepository, uint64, error)
	// Save replaces the repositories if the store is still at revision
	// (0: nothing saved yet), else fails with ErrStoreConflict. It
	// returns the new revision.
	Save(ctx context.Context, repos []StoredRepository, revision uint64) (uint64, error)
}

// ErrStoreConflict: the repositories changed since they were loaded;
// load them again and retry.
var ErrStoreConflict = errors.New("the configured repositories changed meanwhile")

// storedDoc is the stored value, versioned.
type storedDoc struct {
	Version      int                `json:"version"`
	Repositories []StoredRepository `json:"repositories"`
}

func encodeRepos(repos []StoredRepository) ([]byte, error) {
	if repos == nil {
		repos = []StoredRepository{}
	}
	return json.Marshal(storedDoc{Version: 1, Repositories: repos})
}

func decodeRepos(data []byte) ([]StoredRepository, error) {
	var doc storedDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decoding the stored repositories: %w", err)
	}
	if doc.Version != 1 {
		return nil, fmt.Errorf("the stored repositories have version %d; this Cairn reads version 1: upgrade Cairn", doc.Version)
	}
	return doc.Repositories, nil
}

// MemoryStore is a Store in memory (tests, throwaway clusters).
type MemoryStore struct {
	mu   sync.Mutex
	data []byte
	rev  uint64
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

func (m *MemoryStore) Load(ctx context.Context) ([]StoredRepository, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rev == 0 {
		return nil, 0, nil
	}
	repos, err := decodeRepos(m.data)
	return repos, m.rev, err
}

func (m *MemoryStore) Save(ctx context.Context, repos []StoredRepository, revision uint64) (uint64, error) {
	data, err := encodeRepos(repos)
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if revision != m.rev {
		return 0, ErrStoreConflict
	}
	m.data = slices.Clone(data)
	m.rev++
	return m.rev, nil
}

// The JetStream KV bucket and key of the configured repositories.
const (
	KVBucket = "cairn-packages"
	KVKey    = "repositories"
)

// KVStoreOptions for NewKVStore.
type KVStoreOptions struct {
	// Replicas of the bucket when it is created (default 1).
	Replicas int
	// Storage of the bucket when it is created (default file).
	Storage jetstream.StorageType
}

// KVStore keeps the repositories in the JetStream KV bucket
// "cairn-packages" under key "repositories", updated by revision.
// Passwords are stored as given: restrict access to the bucket.
type KVStore struct {
	kv jetstream.KeyValue
}

// NewKVStore opens the bucket, creating it if needed.
func NewKVStore(ctx context.Context, js jetstream.JetStream, opts KVStoreOptions) (*KVStore, error) {
	kv, err := js.KeyValue(ctx, KVBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		replicas := opts.Replicas
		if replicas <= 0 {
			replicas = 1
		}
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      KVBucket,
			Description: "Cairn package manager: configured repositories",
			History:     5,
			Replicas:    replicas,
			Storage:     opts.Storage,
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(ctx, KVBucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("opening the JetStream KV bucket %s: %w: check that NATS runs with JetStream enabled", KVBucket, err)
	}
	return &KVStore{kv: kv}, nil
}

func (k *KVStore) Load(ctx context.Context) ([]StoredRepository, uint64, error) {
	e, err := k.kv.Get(ctx, KVKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading %s/%s from JetStream KV: %w", KVBucket, KVKey, err)
	}
	repos, err := decodeRepos(e.Value())
	if err != nil {
		return nil, 0, fmt.Errorf("%s/%s: %w", KVBucket, KVKey, err)
	}
	return repos, e.Revision(), nil
}

func (k *KVStore) Save(ctx context.Context, repos []StoredRepository, revision uint64) (uint64, error) {
	data, err := encodeRepos(repos)
	if err != nil {
		return 0, err
	}
	var rev uint64
	if revision == 0 {
		rev, err = k.kv.Create(ctx, KVKey, data)
		if errors.Is(err, jetstream.ErrKeyExists) {
			return 0, ErrStoreConflict
		}
	} else {
		rev, err = k.kv.Update(ctx, KVKey, data, revision)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return 0, ErrStoreConflict
		}
	}
	if err != nil {
		return 0, fmt.Errorf("writing %s/%s to JetStream KV: %w", KVBucket, KVKey, err)
	}
	return rev, nil
}
