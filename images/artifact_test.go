package images

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	oras "oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/cairn-dc/cairn/kernel/containerizer/fetcher"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/repository/registry"
)

// The packaging contract's values (packaging/api_skeleton.go), copied so
// these tests do not depend on packaging compiling.
const (
	pkgArtifactType      = "application/vnd.cairn.package.v1"
	pkgConfigMediaType   = "application/vnd.cairn.package.config.v1+json"
	pkgTemplateMediaType = "application/vnd.cairn.package.template.v1"
	pkgFileMediaType     = "application/vnd.cairn.package.file.v1"
	pkgAnnExecutable     = "io.cairn.package.executable"
	pkgAnnPlatform       = "io.cairn.package.platform"
)

func TestContractMirrors(t *testing.T) {
	if fileMediaType != pkgFileMediaType || annotationPlatform != pkgAnnPlatform {
		t.Fatal("images' copies of the packaging constants drifted from the contract")
	}
}

var quiet = slog.New(slog.DiscardHandler)

// file is one file layer of a test artifact.
type file struct {
	name, platform string
	data           []byte
}

// env is an embedded registry with helpers.
type env struct {
	t   testing.TB
	reg *registry.Registry
}

func newEnv(t testing.TB, users map[string]string) *env {
	t.Helper()
	reg, err := registry.Start(t.Context(), registry.Config{RootDir: t.TempDir(), Users: users, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		reg.Close(ctx)
	})
	return &env{t: t, reg: reg}
}

// push pushes a package-like artifact (config, a template layer, files)
// to name and returns its oci:// URI (without ?file=) and the files'
// layer digests by name and platform.
func (e *env) push(name string, files []file, cred *auth.Credential) (string, map[string]digest.Digest) {
	e.t.Helper()
	ctx := context.Background()
	store := memory.New()
	add := func(mt string, data []byte, ann map[string]string) ocispec.Descriptor {
		d := content.NewDescriptorFromBytes(mt, data)
		d.Annotations = ann
		if err := store.Push(ctx, d, bytes.NewReader(data)); err != nil && !strings.Contains(err.Error(), "already exists") {
			e.t.Fatal(err)
		}
		return d
	}
	cfg := add(pkgConfigMediaType, []byte(`{"name":"`+filepath.Base(name)+`","version":"1.0.0"}`), nil)
	layers := []ocispec.Descriptor{
		add(pkgTemplateMediaType, []byte(`{"id":"/x"}`), map[string]string{ocispec.AnnotationTitle: "app.json.tmpl"}),
	}
	digests := map[string]digest.Digest{}
	for _, f := range files {
		ann := map[string]string{ocispec.AnnotationTitle: f.name}
		if f.platform != "" {
			ann[pkgAnnPlatform] = f.platform
			ann[pkgAnnExecutable] = "true"
		}
		d := add(pkgFileMediaType, f.data, ann)
		layers = append(layers, d)
		digests[f.name+"@"+f.platform] = d.Digest
	}
	desc, err := oras.PackManifest(ctx, store, oras.PackManifestVersion1_1, pkgArtifactType, oras.PackManifestOptions{
		ConfigDescriptor:    &cfg,
		Layers:              layers,
		ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2024-01-01T00:00:00Z"},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	repo := e.repo(name, cred)
	if err := oras.CopyGraph(ctx, store, repo, desc, oras.DefaultCopyGraphOptions); err != nil {
		e.t.Fatalf("push: %v", err)
	}
	if err := repo.Tag(ctx, desc, "1.0.0"); err != nil {
		e.t.Fatal(err)
	}
	return "oci://" + e.reg.Addr() + "/" + name + "@" + desc.Digest.String(), digests
}

func (e *env) repo(name string, cred *auth.Credential) *remote.Repository {
	r, err := remote.NewRepository(e.reg.Addr() + "/" + name)
	if err != nil {
		e.t.Fatal(err)
	}
	r.PlainHTTP = true
	c := &auth.Client{Client: http.DefaultClient}
	if cred != nil {
		c.Credential = auth.StaticCredential(e.reg.Addr(), *cred)
	}
	r.Client = c
	return r
}

// blobPath is where the registry stores a blob.
func (e *env) blobPath(d digest.Digest) string {
	return filepath.Join(e.reg.RootDir(), "docker/registry/v2/blobs", d.Algorithm().String(), d.Encoded()[:2], d.Encoded(), "data")
}

// countingTransport counts requests.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func newSource(t testing.TB, cfg ArtifactConfig) *ArtifactSource {
	t.Helper()
	if cfg.Platform == "" {
		cfg.Platform = "linux/amd64"
	}
	if cfg.Credentials == nil {
		cfg.Credentials = func(string) (string, string, bool) { return "", "", false }
	}
	cfg.Logger = quiet
	s, err := NewArtifactSource(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newFetcher(t testing.TB, src fetcher.Source, cacheDir string) *fetcher.Fetcher {
	t.Helper()
	if cacheDir == "" {
		cacheDir = t.TempDir()
	}
	f, err := fetcher.New(fetcher.Config{CacheDir: cacheDir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	f.Register(Scheme, src)
	return f
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func helloFiles() []file {
	return []file{
		{"hello", "linux/amd64", []byte("#!/bin/sh\necho hello from amd64\n")},
		{"hello", "linux/arm64", []byte("#!/bin/sh\necho hello from arm64\n")},
		{"README", "", []byte("read me\n")},
	}
}

func TestFetchArtifactFile(t *testing.T) {
	e := newEnv(t, nil)
	uri, digests := e.push("cairn/hello", helloFiles(), nil)
	tr := &countingTransport{}
	src := newSource(t, ArtifactConfig{HTTPClient: &http.Client{Transport: tr}})
	f := newFetcher(t, src, "")

	sb := t.TempDir()
	res, err := f.Fetch(t.Context(), []protocol.CommandURI{{Value: uri + "?file=hello", Executable: true}}, sb)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(sb, "hello")
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "#!/bin/sh\necho hello from amd64\n" {
		t.Fatalf("fetched %q, %v", b, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o755 {
		t.Fatalf("mode %v, want 0755", fi.Mode())
	}
	if res[0].Path != p || res[0].Digest != digests["hello@linux/amd64"].String() || res[0].Cached || res[0].Bytes != int64(len(b)) {
		t.Fatalf("result %+v", res[0])
	}

	// Again, into another sandbox: from the fetcher's cache, and the
	// manifest from memory: no request at all.
	before := tr.n.Load()
	sb2 := t.TempDir()
	res, err = f.Fetch(t.Context(), []protocol.CommandURI{{Value: uri + "?file=hello", Executable: true}}, sb2)
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Cached {
		t.Fatal("second fetch not served from the cache")
	}
	if n := tr.n.Load() - before; n != 0 {
		t.Fatalf("second fetch made %d requests, want 0", n)
	}
	if b, _ := os.ReadFile(filepath.Join(sb2, "hello")); string(b) != "#!/bin/sh\necho hello from amd64\n" {
		t.Fatalf("cached fetch gave %q", b)
	}

	// A platform-independent file, renamed by output_file.
	res, err = f.Fetch(t.Context(), []protocol.CommandURI{{Value: uri + "?file=README", OutputFile: "docs/README.txt"}}, sb)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(sb, "docs/README.txt")); string(b) != "read me\n" || res[0].Digest != digests["README@"].String() {
		t.Fatalf("README: %q %+v", b, res[0])
	}

	// Another agent's platform gets its own binary.
	arm := newFetcher(t, newSource(t, ArtifactConfig{Platform: "linux/arm64"}), "")
	sb3 := t.TempDir()
	if _, err := arm.Fetch(t.Context(), []protocol.CommandURI{{Value: uri + "?file=hello"}}, sb3); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(sb3, "hello")); string(b) != "#!/bin/sh\necho hello from arm64\n" {
		t.Fatalf("arm64 agent got %q", b)
	}
}

func TestFetchWithoutFileParameter(t *testing.T) {
	e := newEnv(t, nil)
	single, digests := e.push("cairn/single", []file{
		{"tool", "linux/amd64", []byte("amd64 tool")},
		{"tool", "linux/arm64", []byte("arm64 tool")},
	}, nil)
	multi, _ := e.push("cairn/multi", helloFiles(), nil)
	f := newFetcher(t, newSource(t, ArtifactConfig{}), "")

	sb := t.TempDir()
	res, err := f.Fetch(t.Context(), []protocol.CommandURI{{Value: single, Executable: true}}, sb)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(sb, "tool")); string(b) != "amd64 tool" || res[0].Digest != digests["tool@linux/amd64"].String() {
		t.Fatalf("got %q, %+v", b, res[0])
	}

	_, err = f.Fetch(t.Context(), []protocol.CommandURI{{Value: multi}}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "several files for linux/amd64 (README, hello): name one with ?file=") {
		t.Fatalf("fetch of a multi-file artifact without ?file=: %v", err)
	}
}

func TestPlatformMissing(t *testing.T) {
	e := newEnv(t, nil)
	uri, _ := e.push("cairn/hello", helloFiles(), nil)
	f := newFetcher(t, newSource(t, ArtifactConfig{Platform: "linux/riscv64"}), "")
	sb := t.TempDir()
	_, err := f.Fetch(t.Context(), []protocol.CommandURI{{Value: uri + "?file=hello"}}, sb)
	if err == nil || !strings.Contains(err.Error(), "package has hello for linux/amd64, linux/arm64 only; this agent is linux/riscv64") {
		t.Fatalf("fetch for a missing platform: %v", err)
	}
	_, err = f.Fetch(t.Context(), []protocol.CommandURI{{Value: uri + "?file=nope"}}, sb)
	if err == nil || !strings.Contains(err.Error(), `no file "nope"; its files: app.json.tmpl, hello, README`) {
		t.Fatalf("fetch of a missing file: %v", err)
	}
	assertEmpty(t, sb)
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("sandbox not empty after a failed fetch: %v", names)
	}
}

func TestTamperedBlob(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func([]byte) []byte
	}{
		{"same size", func(b []byte) []byte { c := bytes.Clone(b); c[0] ^= 0xff; return c }},
		{"other size", func(b []byte) []byte { return append(bytes.Clone(b), "evil"...) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			uri, digests := e.push("cairn/hello", helloFiles(), nil)
			path := e.blobPath(digests["hello@linux/amd64"])
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("the registry's blob is not where expected: %v", err)
			}
			if err := os.WriteFile(path, tc.tamper(orig), 0o644); err != nil {
				t.Fatal(err)
			}
			f := newFetcher(t, newSource(t, ArtifactConfig{}), "")
			sb := t.TempDir()
			_, err = f.Fetch(t.Context(), []protocol.CommandURI{{Value: uri + "?file=hello", Executable: true}}, sb)
			if err == nil || !strings.Contains(err.Error(), "digest") {
				t.Fatalf("fetch of a tampered blob: %v, want a digest error", err)
			}
			t.Log(err)
			assertEmpty(t, sb)
		})
	}
}

func TestUnknownDigest(t *testing.T) {
	e := newEnv(t, nil)
	e.push("cairn/hello", helloFiles(), nil)
	f := newFetcher(t, newSource(t, ArtifactConfig{}), "")
	uri := "oci://" + e.reg.Addr() + "/cairn/hello@" + digest.FromString("nothing").String() + "?file=hello"
	_, err := f.Fetch(t.Context(), []protocol.CommandURI{{Value: uri}}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "not found") || !strings.Contains(err.Error(), "reinstall") {
		t.Fatalf("fetch of an unknown digest: %v", err)
	}
	// An unknown repository too.
	uri = "oci://" + e.reg.Addr() + "/cairn/nope@" + digest.FromString("nothing").String()
	if _, err := f.Fetch(t.Context(), []protocol.CommandURI{{Value: uri}}, t.TempDir()); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("fetch from an unknown repository: %v", err)
	}
}

func TestTagRejected(t *testing.T) {
	e := newEnv(t, nil)
	e.push("cairn/hello", helloFiles(), nil)
	f := newFetcher(t, newSource(t, ArtifactConfig{}), "")
	for _, uri := range []string{
		"oci://" + e.reg.Addr() + "/cairn/hello:1.0.0?file=hello",
		"oci://" + e.reg.Addr() + "/cairn/hello?file=hello",
	} {
		_, err := f.Fetch(t.Context(), []protocol.CommandURI{{Value: uri}}, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "pin it by digest") {
			t.Fatalf("fetch %s: %v, want an error asking to pin by digest", uri, err)
		}
	}
}

func TestParseURI(t *testing.T) {
	d := digest.FromString("x").String()
	for _, tc := range []struct {
		uri, ref, file, err string
	}{
		{"oci://127.0.0.1:5000/cairn/hello@" + d + "?file=hello", "127.0.0.1:5000/cairn/hello@" + d, "hello", ""},
		{"OCI://registry.example/ns/a/b@" + d, "registry.example/ns/a/b@" + d, "", ""},
		{"oci://[::1]:5000/hello@" + d + "?file=a+b", "[::1]:5000/hello@" + d, "a b", ""},
		{"oci://h/x:latest", "", "", `names tag "latest"`},
		{"oci://h/x", "", "", "names no version"},
		{"oci:///x@" + d, "", "", "without a registry host"},
		{"oci:h/x@" + d, "", "", "without a registry host"},
		{"http://h/x@" + d, "", "", "is not oci"},
		{"oci://u:p@h/x@" + d, "", "", "with credentials"},
		{"oci://h/x@" + d + "?file=", "", "", "file=<name> once"},
		{"oci://h/x@" + d + "?file=a&file=b", "", "", "file=<name> once"},
		{"oci://h/x@" + d + "?platform=linux", "", "", `unknown parameter "platform"`},
		{"oci://h/X@" + d, "", "", "invalid"},
		{"oci://h/x@sha256:abc", "", "", "digest"},
	} {
		ref, file, err := ParseURI(tc.uri)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseURI(%q) = %v, want error containing %q", tc.uri, err, tc.err)
			}
			continue
		}
		if err != nil || ref.String() != tc.ref || file != tc.file {
			t.Errorf("ParseURI(%q) = %q, %q, %v; want %q, %q", tc.uri, ref.String(), file, err, tc.ref, tc.file)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:5000": true, "127.1.2.3": true, "localhost:80": true, "LOCALHOST": true,
		"[::1]:5000": true, "::1": true, "10.0.0.1:5000": false, "registry.example": false,
		"ghcr.io": false, "[2001:db8::1]:443": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v", host, got)
		}
	}
}

func TestCredentials(t *testing.T) {
	users := map[string]string{"agent": "s3cret"}
	e := newEnv(t, users)
	uri, _ := e.push("cairn/private", helloFiles(), &auth.Credential{Username: "agent", Password: "s3cret"})
	fetch := func(creds func(string) (string, string, bool)) error {
		f := newFetcher(t, newSource(t, ArtifactConfig{Credentials: creds}), "")
		_, err := f.Fetch(t.Context(), []protocol.CommandURI{{Value: uri + "?file=hello"}}, t.TempDir())
		return err
	}
	var asked atomic.Value
	if err := fetch(func(host string) (string, string, bool) {
		asked.Store(host)
		return "agent", "s3cret", true
	}); err != nil {
		t.Fatalf("fetch with the right credentials: %v", err)
	}
	if h, _ := asked.Load().(string); h != e.reg.Addr() {
		t.Fatalf("credentials asked for host %q, want %q", h, e.reg.Addr())
	}
	err := fetch(func(string) (string, string, bool) { return "agent", "wrong", true })
	if err == nil || !strings.Contains(err.Error(), "refused access") || !strings.Contains(err.Error(), "docker login") {
		t.Fatalf("fetch with wrong credentials: %v", err)
	}
	err = fetch(nil) // newSource's default: none
	if err == nil || !strings.Contains(err.Error(), "requires credentials") {
		t.Fatalf("fetch without credentials: %v", err)
	}
}

func TestDockerConfigCredentials(t *testing.T) {
	users := map[string]string{"agent": "s3cret"}
	e := newEnv(t, users)
	uri, _ := e.push("cairn/private", helloFiles(), &auth.Credential{Username: "agent", Password: "s3cret"})
	dir := t.TempDir()
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":"YWdlbnQ6czNjcmV0"}}}`, e.reg.Addr()) // agent:s3cret
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	src, err := NewArtifactSource(ArtifactConfig{Platform: "linux/amd64", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	f := newFetcher(t, src, "")
	if _, err := f.Fetch(t.Context(), []protocol.CommandURI{{Value: uri + "?file=hello"}}, t.TempDir()); err != nil {
		t.Fatalf("fetch with Docker config credentials: %v", err)
	}
}

func TestRegistryUnreachable(t *testing.T) {
	e := newEnv(t, nil)
	uri, _ := e.push("cairn/hello", helloFiles(), nil)
	if err := e.reg.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	f := newFetcher(t, newSource(t, ArtifactConfig{}), "")
	_, err := f.Fetch(t.Context(), []protocol.CommandURI{{Value: uri + "?file=hello"}}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "cannot reach registry "+e.reg.Addr()) {
		t.Fatalf("fetch from a stopped registry: %v", err)
	}
}

func TestNotAManifest(t *testing.T) {
	e := newEnv(t, nil)
	e.push("cairn/hello", helloFiles(), nil)
	// An image index pointing at nothing in particular.
	idx := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`)
	desc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageIndex, idx)
	if err := e.repo("cairn/hello", nil).Push(t.Context(), desc, bytes.NewReader(idx)); err != nil {
		t.Fatal(err)
	}
	f := newFetcher(t, newSource(t, ArtifactConfig{}), "")
	uri := "oci://" + e.reg.Addr() + "/cairn/hello@" + desc.Digest.String()
	_, err := f.Fetch(t.Context(), []protocol.CommandURI{{Value: uri}}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "not an OCI image manifest") {
		t.Fatalf("fetch of an index: %v", err)
	}
}

func TestManifestCacheBounded(t *testing.T) {
	c := newManifestCache(3)
	for i := range 5 {
		c.put(fmt.Sprint(i), &ocispec.Manifest{})
	}
	if c.len() != 3 {
		t.Fatalf("len %d, want 3", c.len())
	}
	if _, ok := c.get("0"); ok {
		t.Fatal("oldest entry kept")
	}
	c.get("2") // now the most recent
	c.put("5", &ocispec.Manifest{})
	if _, ok := c.get("2"); !ok {
		t.Fatal("recently used entry evicted")
	}
	if _, ok := c.get("3"); ok {
		t.Fatal("least recently used entry kept")
	}
}

// blockingRC blocks reads until its context is done, like an HTTP body.
type blockingRC struct {
	ctx     context.Context
	reading chan struct{}
	closes  atomic.Int32
}

func (b *blockingRC) Read([]byte) (int, error) {
	close(b.reading)
	<-b.ctx.Done()
	return 0, b.ctx.Err()
}

func (b *blockingRC) Close() error { b.closes.Add(1); return nil }

func TestLazyReaderCloseDuringRead(t *testing.T) {
	reading := make(chan struct{})
	var rc *blockingRC // set by open, before reading is closed
	r := newLazyReader(t.Context(), func(ctx context.Context) (io.ReadCloser, error) {
		rc = &blockingRC{ctx: ctx, reading: reading}
		return rc, nil
	})
	done := make(chan error)
	go func() {
		_, err := r.Read(make([]byte, 10))
		done <- err
	}()
	<-reading // the read is blocked: abort it
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("aborted read: %v", err)
	}
	r.Close()
	if n := rc.closes.Load(); n != 1 {
		t.Fatalf("underlying reader closed %d times, want 1", n)
	}
	if _, err := r.Read(make([]byte, 1)); err == nil {
		t.Fatal("read after close succeeded")
	}
}

func TestLazyReaderCloseUnread(t *testing.T) {
	opened := false
	r := newLazyReader(t.Context(), func(context.Context) (io.ReadCloser, error) {
		opened = true
		return io.NopCloser(strings.NewReader("x")), nil
	})
	r.Close()
	r.Close()
	if _, err := r.Read(make([]byte, 1)); err == nil || opened {
		t.Fatalf("read after close: %v (opened %v)", err, opened)
	}
}
