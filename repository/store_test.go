package repository

import (
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairn-dc/cairn/repository/packageapi"
)

// startJetStream runs an embedded NATS server with JetStream on a free
// port and connects to it.
func startJetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
		JetStream: true, StoreDir: t.TempDir(),
	})
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go srv.Start()
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	if !srv.ReadyForConnections(30 * time.Second) {
		t.Fatal("nats server not ready")
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// testStore checks a Store's contract.
func testStore(t *testing.T, s Store) {
	t.Helper()
	ctx := testContext(t)
	repos, rev, err := s.Load(ctx)
	if err != nil || rev != 0 || len(repos) != 0 {
		t.Fatalf("empty store: %v %d %v", repos, rev, err)
	}
	want := []StoredRepository{
		{Repository: packageapi.Repository{Name: "builtin", URI: "oci://127.0.0.1:5000/cairn", BuiltIn: true}},
		{Repository: packageapi.Repository{Name: "private", URI: "oci://r.example.com/ns", Priority: 1, Username: "alice", PlainHTTP: true}, Password: "s3cret"},
	}
	rev1, err := s.Save(ctx, want, 0)
	if err != nil || rev1 == 0 {
		t.Fatalf("first save: %d %v", rev1, err)
	}
	if _, err := s.Save(ctx, nil, 0); !errors.Is(err, ErrStoreConflict) {
		t.Errorf("second first save: %v, want ErrStoreConflict", err)
	}
	got, rev, err := s.Load(ctx)
	if err != nil || rev != rev1 || !slices.Equal(got, want) {
		t.Fatalf("load = %+v %d %v, want %+v %d", got, rev, err, want, rev1)
	}
	rev2, err := s.Save(ctx, want[1:], rev1)
	if err != nil || rev2 <= rev1 {
		t.Fatalf("update: %d %v", rev2, err)
	}
	if _, err := s.Save(ctx, want, rev1); !errors.Is(err, ErrStoreConflict) {
		t.Errorf("stale save: %v, want ErrStoreConflict", err)
	}
	// Saved empty is not "never saved".
	rev3, err := s.Save(ctx, []StoredRepository{}, rev2)
	if err != nil {
		t.Fatal(err)
	}
	got, rev, err = s.Load(ctx)
	if err != nil || rev != rev3 || len(got) != 0 {
		t.Errorf("after saving none: %+v %d %v", got, rev, err)
	}
}

func TestMemoryStore(t *testing.T) {
	testStore(t, NewMemoryStore())
}

func TestKVStore(t *testing.T) {
	js := startJetStream(t)
	ctx := testContext(t)
	s, err := NewKVStore(ctx, js, KVStoreOptions{})
	if err != nil {
		t.Fatalf("NewKVStore: %v", err)
	}
	testStore(t, s)

	// A second store on the same bucket sees the same data; the built-in
	// repository is added on first start only.
	kv, err := js.KeyValue(ctx, KVBucket)
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Purge(ctx, KVKey); err != nil {
		t.Fatal(err)
	}
	s2, err := NewKVStore(ctx, js, KVStoreOptions{})
	if err != nil {
		t.Fatalf("NewKVStore again: %v", err)
	}
	if _, rev, err := s2.Load(ctx); err != nil || rev != 0 {
		t.Fatalf("after a purge: %d %v", rev, err)
	}
	cfg := Config{
		Services:        newFakeServices(),
		Store:           s2,
		BuiltIn:         &packageapi.Repository{Name: "builtin", URI: "oci://127.0.0.1:5000/cairn/", Username: "cairn"},
		BuiltInPassword: "pw",
		Logger:          slog.New(slog.DiscardHandler),
	}
	srv, err := NewServer(ctx, cfg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	repos, rev, err := s.Load(ctx)
	want := []StoredRepository{{Repository: packageapi.Repository{Name: "builtin", URI: "oci://127.0.0.1:5000/cairn", Username: "cairn", BuiltIn: true}, Password: "pw"}}
	if err != nil || !slices.Equal(repos, want) {
		t.Fatalf("built-in saved as %+v (%v), want %+v", repos, err, want)
	}
	var list packageapi.RepositoryListResponse
	if status, ae := call(t, srv.Handler(), "POST", packageapi.PathRepositoryList, nil, &list); ae != nil {
		t.Fatalf("list: %d %+v", status, ae)
	}
	if len(list.Repositories) != 1 || !list.Repositories[0].HasCredentials || !list.Repositories[0].BuiltIn {
		t.Errorf("list = %+v", list.Repositories)
	}
	if _, err := s.Save(ctx, nil, rev); err != nil {
		t.Fatal(err)
	}
	if _, err := NewServer(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if repos, _, _ := s.Load(ctx); len(repos) != 0 {
		t.Errorf("the removed built-in repository came back: %+v", repos)
	}
}
