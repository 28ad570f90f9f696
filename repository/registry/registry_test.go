package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	oras "oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

const (
	testArtifactType = "application/vnd.cairn.test.v1"
	testLayerType    = "application/vnd.cairn.test.file.v1"
)

// start starts a registry in a fresh directory (or dir) and closes it at
// the end of the test.
func start(t testing.TB, cfg Config) *Registry {
	t.Helper()
	if cfg.RootDir == "" {
		cfg.RootDir = t.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return r
}

// repo is an oras-go client of name in r, with credentials if cred is set.
func repo(t testing.TB, r *Registry, name string, cred *auth.Credential) *remote.Repository {
	t.Helper()
	rp, err := remote.NewRepository(r.Addr() + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	rp.PlainHTTP = true
	c := &auth.Client{Client: http.DefaultClient, Cache: auth.NewCache()}
	if cred != nil {
		c.Credential = auth.StaticCredential(r.Addr(), *cred)
	}
	rp.Client = c
	return rp
}

// artifact packs an artifact with one layer holding data into a memory
// store, tagged tag, and returns the store and the manifest's descriptor.
func artifact(t testing.TB, data []byte, tag string) (*memory.Store, ocispec.Descriptor) {
	t.Helper()
	ctx := context.Background()
	store := memory.New()
	layer := content.NewDescriptorFromBytes(testLayerType, data)
	layer.Annotations = map[string]string{ocispec.AnnotationTitle: "file"}
	if err := store.Push(ctx, layer, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	desc, err := oras.PackManifest(ctx, store, oras.PackManifestVersion1_1, testArtifactType, oras.PackManifestOptions{
		Layers:              []ocispec.Descriptor{layer},
		ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2024-01-01T00:00:00Z"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Tag(ctx, desc, tag); err != nil {
		t.Fatal(err)
	}
	return store, desc
}

func push(t testing.TB, src *memory.Store, tag string, dst oras.Target) ocispec.Descriptor {
	t.Helper()
	desc, err := oras.Copy(context.Background(), src, tag, dst, tag, oras.DefaultCopyOptions)
	if err != nil {
		t.Fatalf("push %s: %v", tag, err)
	}
	return desc
}

// pullLayer pulls ref into a memory store and returns its only layer's bytes.
func pullLayer(t testing.TB, src oras.ReadOnlyTarget, ref string) []byte {
	t.Helper()
	ctx := context.Background()
	dst := memory.New()
	desc, err := oras.Copy(ctx, src, ref, dst, ref, oras.DefaultCopyOptions)
	if err != nil {
		t.Fatalf("pull %s: %v", ref, err)
	}
	mb, err := content.FetchAll(ctx, dst, desc)
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		t.Fatal(err)
	}
	if m.ArtifactType != testArtifactType || len(m.Layers) != 1 {
		t.Fatalf("pulled manifest: artifactType %q, %d layers", m.ArtifactType, len(m.Layers))
	}
	b, err := content.FetchAll(ctx, dst, m.Layers[0])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestPushPull(t *testing.T) {
	r := start(t, Config{})
	if host, _, err := net.SplitHostPort(r.Addr()); err != nil || host != "127.0.0.1" {
		t.Fatalf("Addr() = %q, want 127.0.0.1:<port>", r.Addr())
	}
	data := randomBytes(t, 3<<20+17) // more than one chunk
	src, want := artifact(t, data, "1.0.0")
	rp := repo(t, r, "cairn/hello", nil)
	got := push(t, src, "1.0.0", rp)
	if got.Digest != want.Digest {
		t.Fatalf("pushed %s, want %s", got.Digest, want.Digest)
	}
	if b := pullLayer(t, rp, "1.0.0"); !bytes.Equal(b, data) {
		t.Fatal("pulled layer differs from the pushed one")
	}
	// By digest too, and the manifest's bytes are served as pushed.
	if b := pullLayer(t, rp, want.Digest.String()); !bytes.Equal(b, data) {
		t.Fatal("pulled layer (by digest) differs from the pushed one")
	}
	desc, rc, err := rp.FetchReference(t.Context(), want.Digest.String())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := content.ReadAll(rc, desc); err != nil || desc.MediaType != ocispec.MediaTypeImageManifest {
		t.Fatalf("fetch manifest by digest: %v (media type %q)", err, desc.MediaType)
	}
	// Unknown content is not found.
	if _, err := rp.Resolve(t.Context(), "2.0.0"); !errors.Is(err, errdef.ErrNotFound) {
		t.Fatalf("resolve unknown tag: %v, want not found", err)
	}
}

func TestTagsCatalogReplaceDelete(t *testing.T) {
	r := start(t, Config{})
	ctx := t.Context()
	hello := repo(t, r, "cairn/hello", nil)
	cron := repo(t, r, "cairn/cron", nil)
	src1, d1 := artifact(t, []byte("one"), "1.0.0")
	src2, d2 := artifact(t, []byte("two"), "2.0.0")
	push(t, src1, "1.0.0", hello)
	push(t, src2, "2.0.0", hello)
	push(t, src1, "1.0.0", cron)

	tags, err := registryTags(ctx, hello)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tags, []string{"1.0.0", "2.0.0"}) {
		t.Fatalf("tags = %v", tags)
	}

	reg, err := remote.NewRegistry(r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	reg.PlainHTTP = true
	var repos []string
	if err := reg.Repositories(ctx, "", func(rs []string) error { repos = append(repos, rs...); return nil }); err != nil {
		t.Fatalf("catalog: %v", err)
	}
	if !slices.Equal(repos, []string{"cairn/cron", "cairn/hello"}) {
		t.Fatalf("catalog = %v", repos)
	}

	// A tag can be moved to another manifest.
	if err := hello.Tag(ctx, d2, "latest"); err != nil {
		t.Fatal(err)
	}
	if err := hello.Tag(ctx, d1, "latest"); err != nil {
		t.Fatalf("move tag: %v", err)
	}
	if got, err := hello.Resolve(ctx, "latest"); err != nil || got.Digest != d1.Digest {
		t.Fatalf("resolve moved tag: %v, %v; want %s", got.Digest, err, d1.Digest)
	}
	// Manifests can be deleted (storage.delete.enabled).
	if err := hello.Delete(ctx, d2); err != nil {
		t.Fatalf("delete manifest: %v", err)
	}
	if _, err := hello.Resolve(ctx, d2.Digest.String()); !errors.Is(err, errdef.ErrNotFound) {
		t.Fatalf("resolve deleted manifest: %v, want not found", err)
	}
}

func registryTags(ctx context.Context, rp *remote.Repository) ([]string, error) {
	var tags []string
	err := rp.Tags(ctx, "", func(ts []string) error { tags = append(tags, ts...); return nil })
	slices.Sort(tags)
	return tags, err
}

func TestRestartKeepsContent(t *testing.T) {
	dir := t.TempDir()
	data := randomBytes(t, 1<<20)
	src, want := artifact(t, data, "1.0.0")

	r1, err := Start(t.Context(), Config{RootDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	push(t, src, "1.0.0", repo(t, r1, "cairn/hello", nil))
	if err := r1.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := r1.Close(t.Context()); err != nil { // twice is fine
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + r1.Addr() + "/v2/"); err == nil {
		t.Fatal("the closed registry still answers")
	}

	r2 := start(t, Config{RootDir: dir})
	rp := repo(t, r2, "cairn/hello", nil)
	if got, err := rp.Resolve(t.Context(), "1.0.0"); err != nil || got.Digest != want.Digest {
		t.Fatalf("after restart: resolve 1.0.0 = %s, %v; want %s", got.Digest, err, want.Digest)
	}
	if b := pullLayer(t, rp, "1.0.0"); !bytes.Equal(b, data) {
		t.Fatal("after restart: layer differs")
	}
}

func TestBasicAuth(t *testing.T) {
	r := start(t, Config{Users: map[string]string{"alice": "s3cret", "bob": "hunter2"}})
	src, _ := artifact(t, []byte("private"), "1.0.0")

	// The challenge a client sees.
	resp, err := http.Get("http://" + r.Addr() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Basic realm="cairn"` {
		t.Fatalf("GET /v2/ without credentials: %s, WWW-Authenticate %q", resp.Status, resp.Header.Get("WWW-Authenticate"))
	}

	// oras-go's auth client without credentials gives up on the challenge.
	anon := repo(t, r, "cairn/private", nil)
	if _, err := anon.Resolve(t.Context(), "1.0.0"); !errors.Is(err, auth.ErrBasicCredentialNotFound) {
		t.Fatalf("resolve without credentials: %v, want %v", err, auth.ErrBasicCredentialNotFound)
	}

	for _, tc := range []struct {
		name string
		cred *auth.Credential
	}{
		{"no auth client", nil},
		{"wrong password", &auth.Credential{Username: "alice", Password: "hunter2"}},
		{"unknown user", &auth.Credential{Username: "mallory", Password: "s3cret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rp := repo(t, r, "cairn/private", tc.cred)
			if tc.cred == nil {
				rp.Client = http.DefaultClient // plain requests: the 401 itself
			}
			_, err := oras.Copy(t.Context(), src, "1.0.0", rp, "1.0.0", oras.DefaultCopyOptions)
			var er *errcode.ErrorResponse
			if !errors.As(err, &er) || er.StatusCode != http.StatusUnauthorized {
				t.Fatalf("push: %v, want a 401 error response", err)
			}
			if _, err := rp.Resolve(t.Context(), "1.0.0"); !errors.As(err, &er) || er.StatusCode != http.StatusUnauthorized {
				t.Fatalf("resolve: %v, want a 401 error response", err)
			}
		})
	}

	alice := repo(t, r, "cairn/private", &auth.Credential{Username: "alice", Password: "s3cret"})
	push(t, src, "1.0.0", alice)
	bob := repo(t, r, "cairn/private", &auth.Credential{Username: "bob", Password: "hunter2"})
	if b := pullLayer(t, bob, "1.0.0"); string(b) != "private" {
		t.Fatalf("pulled %q", b)
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	src, _ := artifact(t, []byte("seed"), "1.0.0")
	rw := start(t, Config{RootDir: dir})
	push(t, src, "1.0.0", repo(t, rw, "cairn/seed", nil))

	ro := start(t, Config{RootDir: dir, ReadOnly: true})
	rp := repo(t, ro, "cairn/seed", nil)
	if b := pullLayer(t, rp, "1.0.0"); string(b) != "seed" {
		t.Fatalf("pulled %q from the read-only registry", b)
	}
	other, _ := artifact(t, []byte("new"), "2.0.0")
	if _, err := oras.Copy(t.Context(), other, "2.0.0", rp, "2.0.0", oras.DefaultCopyOptions); err == nil {
		t.Fatal("push to a read-only registry succeeded")
	}
}

func TestStartErrors(t *testing.T) {
	if _, err := Start(t.Context(), Config{}); err == nil || !strings.Contains(err.Error(), "RootDir") {
		t.Fatalf("Start without RootDir: %v", err)
	}
	r := start(t, Config{})
	_, err := Start(t.Context(), Config{RootDir: t.TempDir(), Addr: r.Addr(), Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "listen on "+r.Addr()) {
		t.Fatalf("Start on a busy address: %v", err)
	}
}

// records keeps log records.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r)
	return nil
}
func (h *records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *records) WithGroup(string) slog.Handler      { return h }

func (h *records) atLeast(l slog.Level) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.recs {
		if r.Level >= l {
			out = append(out, r.Level.String()+" "+r.Message)
		}
	}
	return out
}

// Normal use (pushes probe for missing blobs, clients ask for unknown
// tags) logs nothing above debug: `cairn up` output stays clean.
func TestQuietLogs(t *testing.T) {
	h := &records{}
	r := start(t, Config{Logger: slog.New(h)})
	src, _ := artifact(t, []byte("quiet"), "1.0.0")
	rp := repo(t, r, "cairn/quiet", nil)
	push(t, src, "1.0.0", rp)
	pullLayer(t, rp, "1.0.0")
	if _, err := rp.Resolve(t.Context(), "9.9.9"); err == nil {
		t.Fatal("resolved an unknown tag")
	}
	if got := h.atLeast(slog.LevelWarn); len(got) > 0 {
		t.Fatalf("warnings or errors logged in normal use: %q", got)
	}
}

func TestHandler(t *testing.T) {
	r := start(t, Config{})
	if r.Handler() == nil {
		t.Fatal("nil Handler")
	}
	resp, err := http.Get("http://" + r.Addr() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Docker-Distribution-API-Version") != "registry/2.0" {
		t.Fatalf("GET /v2/: %s %q", resp.Status, body)
	}
}

func BenchmarkPushPull20MiB(b *testing.B) {
	const size = 20 << 20
	r := start(b, Config{})
	rp := repo(b, r, "cairn/bench", nil)
	data := randomBytes(b, size)
	b.SetBytes(size)
	b.ReportAllocs()
	for i := range b.N {
		// A new blob each time: a registry that has it would skip the push.
		b.StopTimer()
		data[0], data[1], data[2], data[3] = byte(i), byte(i>>8), byte(i>>16), byte(i>>24)
		src, _ := artifact(b, data, "v")
		b.StartTimer()
		push(b, src, "v", rp)
		if got := pullLayer(b, rp, "v"); len(got) != size {
			b.Fatalf("pulled %d bytes", len(got))
		}
	}
}

// Close does not wait for connections that never sent a request (which
// http.Server.Shutdown counts as busy for 5 s).
func TestCloseDropsSpareConnections(t *testing.T) {
	tr := &connTracker{conns: map[net.Conn]http.ConnState{}}
	spare, peer := net.Pipe()
	defer peer.Close()
	busy, peer2 := net.Pipe()
	defer peer2.Close()
	defer busy.Close()
	tr.track(spare, http.StateNew)
	tr.track(busy, http.StateNew)
	tr.track(busy, http.StateActive)
	tr.closeNew()
	if _, err := spare.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("spare connection not closed: write: %v", err)
	}
	late, peer3 := net.Pipe()
	defer peer3.Close()
	tr.track(late, http.StateNew)
	if _, err := late.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("connection accepted while closing not closed: write: %v", err)
	}
	go peer2.Read(make([]byte, 1))
	if _, err := busy.Write([]byte("x")); err != nil {
		t.Fatalf("active connection closed: %v", err)
	}
}
