package remote_test

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	orasremote "oras.land/oras-go/v2/registry/remote"

	"github.com/cairn-dc/cairn/packaging"
	"github.com/cairn-dc/cairn/repository/registry"
	"github.com/cairn-dc/cairn/repository/remote"
)

const packagesDir = "../testdata/packages"

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// startRegistry runs an embedded registry on a free loopback port.
func startRegistry(t *testing.T, users map[string]string) string {
	t.Helper()
	ctx := testContext(t)
	r, err := registry.Start(ctx, registry.Config{
		Addr:    "127.0.0.1:0",
		RootDir: t.TempDir(),
		Users:   users,
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("start registry: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.Close(ctx); err != nil {
			t.Errorf("close registry: %v", err)
		}
	})
	return r.Addr()
}

// build builds a testdata package into a memory store.
func build(t *testing.T, dir string) (content.ReadOnlyStorage, ocispec.Descriptor) {
	t.Helper()
	fsys := os.DirFS(filepath.Join(packagesDir, dir))
	pkg, err := packaging.Load(fsys)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	store := memory.New()
	desc, err := packaging.Build(testContext(t), pkg, fsys, store, packaging.BuildOptions{})
	if err != nil {
		t.Fatalf("build %s: %v", dir, err)
	}
	return store, desc
}

func open(t *testing.T, cfg remote.Config) *remote.Repo {
	t.Helper()
	r, err := remote.Open(cfg)
	if err != nil {
		t.Fatalf("open %s: %v", cfg.URI, err)
	}
	return r
}

func push(t *testing.T, r *remote.Repo, dir string) ocispec.Descriptor {
	t.Helper()
	src, desc := build(t, dir)
	if err := r.Push(testContext(t), src, desc, nil); err != nil {
		t.Fatalf("push %s: %v", dir, err)
	}
	return desc
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestOpenChecksURI(t *testing.T) {
	for _, uri := range []string{
		"", "http://127.0.0.1:5000/x", "oci://", "oci:///ns", "oci://user@host/ns", "oci://host/ns?x=1",
		"oci://host/NS", "oci://host/a//b", "oci://ho st/ns", "oci://host:port/ns",
	} {
		_, err := remote.Open(remote.Config{URI: uri})
		if err == nil || !strings.HasPrefix(err.Error(), "uri: ") {
			t.Errorf("Open(%q) = %v, want an error naming uri", uri, err)
		}
	}
	if _, err := remote.Open(remote.Config{URI: "oci://h/ns", Password: "x"}); err == nil || !strings.HasPrefix(err.Error(), "username: ") {
		t.Errorf("password without username: %v", err)
	}
	for uri, want := range map[string]string{
		"oci://127.0.0.1:5000":               "oci://127.0.0.1:5000",
		"oci://localhost:5000/cairn/":        "oci://localhost:5000/cairn",
		"oci://registry.example.com/a/b-c.d": "oci://registry.example.com/a/b-c.d",
		"oci://[::1]:5000/ns":                "oci://[::1]:5000/ns",
	} {
		r := open(t, remote.Config{URI: uri})
		if r.URI() != want {
			t.Errorf("Open(%q).URI() = %q, want %q", uri, r.URI(), want)
		}
	}
	r := open(t, remote.Config{URI: "oci://127.0.0.1:5000/cairn"})
	if got, want := r.Artifact("hello", "sha256:abc"), "oci://127.0.0.1:5000/cairn/hello@sha256:abc"; got != want {
		t.Errorf("Artifact = %q, want %q", got, want)
	}
	r = open(t, remote.Config{URI: "oci://127.0.0.1:5000"})
	if got, want := r.Artifact("hello", "sha256:abc"), "oci://127.0.0.1:5000/hello@sha256:abc"; got != want {
		t.Errorf("Artifact = %q, want %q", got, want)
	}
}

func TestPushIndexResolve(t *testing.T) {
	ctx := testContext(t)
	addr := startRegistry(t, nil)
	r := open(t, remote.Config{URI: "oci://" + addr + "/cairn/test"})
	if err := r.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	src, d100 := build(t, "hello-1.0.0")
	var copied atomic.Int32
	if err := r.Push(ctx, src, d100, func(ocispec.Descriptor) { copied.Add(1) }); err != nil {
		t.Fatalf("push: %v", err)
	}
	if copied.Load() < 3 {
		t.Errorf("progress told of %d blobs, want every blob", copied.Load())
	}
	d110 := push(t, r, "hello-1.1.0")
	dg := push(t, r, "greeter-0.1.0")

	idx, err := r.Index(ctx)
	if err != nil {
		t.Fatalf("index: %v", err)
	}
	if len(idx.Packages) != 2 || idx.Packages[0].Name != "greeter" || idx.Packages[1].Name != "hello" {
		t.Fatalf("index packages = %+v", idx.Packages)
	}
	h := idx.Packages[1]
	want := []remote.IndexVersion{{Version: "1.1.0", Digest: d110.Digest.String()}, {Version: "1.0.0", Digest: d100.Digest.String()}}
	if !slices.Equal(h.Versions, want) || h.Kind != "service" || h.Description == "" || !slices.Equal(h.Tags, []string{"example", "web"}) {
		t.Errorf("hello entry = %+v, want versions %+v", h, want)
	}
	if g := idx.Packages[0]; len(g.Versions) != 1 || g.Versions[0].Digest != dg.Digest.String() {
		t.Errorf("greeter entry = %+v", g)
	}

	// The index is an artifact of its own.
	repo, err := orasremote.NewRepository(addr + "/cairn/test/" + remote.IndexRepository)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	idesc, err := repo.Resolve(ctx, remote.IndexTag)
	if err != nil {
		t.Fatalf("resolve the index artifact: %v", err)
	}
	man, err := content.FetchAll(ctx, repo, idesc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(man), remote.IndexArtifactType) || !strings.Contains(string(man), remote.IndexMediaType) ||
		!strings.Contains(string(man), ocispec.DescriptorEmptyJSON.Digest.String()) {
		t.Errorf("index manifest = %s", man)
	}

	versions, err := r.Versions(ctx, "hello")
	if err != nil || !slices.Equal(versions, []string{"1.1.0", "1.0.0"}) {
		t.Errorf("versions = %v, %v", versions, err)
	}
	pkg, desc, err := r.Resolve(ctx, "hello", "")
	if err != nil {
		t.Fatalf("resolve latest: %v", err)
	}
	if pkg.Manifest.Version != "1.1.0" || desc.Digest != d110.Digest || pkg.Digest != d110.Digest.String() {
		t.Errorf("resolve latest = %s %s", pkg.Manifest.Version, desc.Digest)
	}
	if len(desc.Annotations) != 0 {
		t.Errorf("resolved descriptor has annotations %v", desc.Annotations)
	}
	pkg, desc, err = r.Resolve(ctx, "hello", "1.0.0")
	if err != nil || pkg.Manifest.Version != "1.0.0" || desc.Digest != d100.Digest {
		t.Fatalf("resolve 1.0.0 = %v %v", desc.Digest, err)
	}
	if len(pkg.Files) != 2 || pkg.Template == "" || len(pkg.Schema) == 0 {
		t.Errorf("resolved package = %+v", pkg)
	}
	pkg, _, err = r.ResolveDigest(ctx, "hello", d100.Digest.String())
	if err != nil || pkg.Manifest.Version != "1.0.0" {
		t.Errorf("resolve by digest: %v", err)
	}
	m, mdesc, err := r.Manifest(ctx, "hello", "")
	if err != nil || m.Version != "1.1.0" || mdesc.Digest != d110.Digest || !slices.Equal(m.UpgradesFrom, []string{"1.0.0"}) {
		t.Errorf("manifest = %+v %v", m, err)
	}

	for _, tc := range []struct {
		name, version string
		want          error
	}{
		{"nope", "", remote.ErrPackageNotFound},
		{"nope", "1.0.0", remote.ErrPackageNotFound},
		{"Bad_Name", "", remote.ErrPackageNotFound},
		{"hello", "9.9.9", remote.ErrVersionNotFound},
		{"hello", "latest", remote.ErrVersionNotFound},
	} {
		_, _, err := r.Resolve(ctx, tc.name, tc.version)
		if !errors.Is(err, tc.want) {
			t.Errorf("Resolve(%q, %q) = %v, want %v", tc.name, tc.version, err, tc.want)
		}
	}
	_, _, err = r.Resolve(ctx, "hello", "9.9.9")
	if !strings.Contains(err.Error(), "1.1.0, 1.0.0") {
		t.Errorf("version not found should list the versions: %v", err)
	}
	if _, _, err := r.ResolveDigest(ctx, "hello", "sha256:"+strings.Repeat("0", 64)); !errors.Is(err, remote.ErrVersionNotFound) {
		t.Errorf("resolve an unknown digest: %v", err)
	}

	// Pushing a version again keeps one entry per version.
	push(t, r, "hello-1.0.0")
	idx, err = r.Index(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := idx.Entry("hello"); len(e.Versions) != 2 {
		t.Errorf("after a re-push: %+v", e)
	}
}

// copyTagged copies a built package to the registry without remote.Push
// (so no index is written), tagged tag.
func copyTagged(t *testing.T, addr, repoPath, dir, tag string) ocispec.Descriptor {
	t.Helper()
	ctx := testContext(t)
	src, desc := build(t, dir)
	dst, err := orasremote.NewRepository(addr + "/" + repoPath)
	if err != nil {
		t.Fatal(err)
	}
	dst.PlainHTTP = true
	if err := oras.CopyGraph(ctx, src, dst, desc, oras.DefaultCopyGraphOptions); err != nil {
		t.Fatal(err)
	}
	if err := dst.Tag(ctx, desc, tag); err != nil {
		t.Fatal(err)
	}
	return desc
}

func TestIndexFallsBackToCatalog(t *testing.T) {
	ctx := testContext(t)
	addr := startRegistry(t, nil)
	d100 := copyTagged(t, addr, "ns/hello", "hello-1.0.0", "1.0.0")
	d110 := copyTagged(t, addr, "ns/hello", "hello-1.1.0", "1.1.0")
	copyTagged(t, addr, "ns/hello", "hello-1.1.0", "latest")                          // not a version
	copyTagged(t, addr, "ns/hello", "hello-1.1.0", "sha256-"+strings.Repeat("a", 64)) // a referrers tag
	copyTagged(t, addr, "ns/greeter", "greeter-0.1.0", "0.1.0")                       // another package
	copyTagged(t, addr, "other/hello", "hello-1.0.0", "1.0.0")                        // outside the namespace
	copyTagged(t, addr, "ns/deeper/hello", "hello-1.0.0", "1.0.0")                    // not directly under it
	copyTagged(t, addr, "ns/misnamed", "greeter-0.1.0", "0.1.0")                      // holds another package: skipped
	r := open(t, remote.Config{URI: "oci://" + addr + "/ns"})
	idx, err := r.Index(ctx)
	if err != nil {
		t.Fatalf("index from the catalog: %v", err)
	}
	var names []string
	for _, e := range idx.Packages {
		names = append(names, e.Name)
	}
	if !slices.Equal(names, []string{"greeter", "hello"}) {
		t.Fatalf("packages = %v", names)
	}
	h, _ := idx.Entry("hello")
	want := []remote.IndexVersion{{Version: "1.1.0", Digest: d110.Digest.String()}, {Version: "1.0.0", Digest: d100.Digest.String()}}
	if !slices.Equal(h.Versions, want) || h.Kind != "service" || h.Description == "" {
		t.Errorf("hello = %+v", h)
	}
	// The first push writes an index that keeps what the catalog had.
	push(t, r, "hello-2.0.0")
	idx, err = r.Index(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h, _ = idx.Entry("hello")
	if _, ok := idx.Entry("greeter"); !ok || len(h.Versions) != 3 || h.Versions[0].Version != "2.0.0" {
		t.Errorf("index after the first push = %+v", idx.Packages)
	}
}

func TestUnreachableRegistry(t *testing.T) {
	ctx := testContext(t)
	addr := closedAddr(t)
	r := open(t, remote.Config{URI: "oci://" + addr + "/cairn"})
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, remote.ErrUnreachable) {
			t.Errorf("%s: %v, want ErrUnreachable", what, err)
			return
		}
		msg := err.Error()
		if !strings.Contains(msg, "registry "+addr+" unreachable") || !strings.Contains(msg, "connection refused") ||
			!strings.Contains(msg, "check the repository URI and that the registry runs") {
			t.Errorf("%s: message %q", what, msg)
		}
	}
	check("ping", r.Ping(ctx))
	_, err := r.Index(ctx)
	check("index", err)
	_, _, err = r.Resolve(ctx, "hello", "")
	check("resolve latest", err)
	_, _, err = r.Resolve(ctx, "hello", "1.0.0")
	check("resolve", err)
	src, desc := build(t, "hello-1.0.0")
	check("push", r.Push(ctx, src, desc, nil))
}

func TestCredentials(t *testing.T) {
	ctx := testContext(t)
	addr := startRegistry(t, map[string]string{"alice": "s3cret"})
	uri := "oci://" + addr + "/cairn"

	good := open(t, remote.Config{URI: uri, Username: "alice", Password: "s3cret"})
	if err := good.Ping(ctx); err != nil {
		t.Fatalf("ping with good credentials: %v", err)
	}
	push(t, good, "hello-1.0.0")
	if _, _, err := good.Resolve(ctx, "hello", ""); err != nil {
		t.Fatalf("resolve with good credentials: %v", err)
	}

	bad := open(t, remote.Config{URI: uri, Username: "alice", Password: "wrong"})
	for what, err := range map[string]error{
		"ping":  bad.Ping(ctx),
		"index": func() error { _, err := bad.Index(ctx); return err }(),
		"resolve": func() error {
			_, _, err := bad.Resolve(ctx, "hello", "1.0.0")
			return err
		}(),
	} {
		if !errors.Is(err, remote.ErrUnauthorized) || !strings.Contains(err.Error(), "refused the credentials") {
			t.Errorf("%s with a bad password: %v, want ErrUnauthorized", what, err)
		}
	}

	// No credentials configured: the Docker config's.
	dockerDir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dockerDir)
	none := open(t, remote.Config{URI: uri})
	if err := none.Ping(ctx); !errors.Is(err, remote.ErrUnauthorized) || !strings.Contains(err.Error(), "requires credentials") {
		t.Errorf("ping without credentials: %v", err)
	}
	authCfg := `{"auths": {"` + addr + `": {"auth": "` + base64.StdEncoding.EncodeToString([]byte("alice:s3cret")) + `"}}}`
	if err := os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(authCfg), 0o600); err != nil {
		t.Fatal(err)
	}
	docker := open(t, remote.Config{URI: uri})
	if _, _, err := docker.Resolve(ctx, "hello", "1.0.0"); err != nil {
		t.Errorf("resolve with the Docker config's credentials: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	broken := open(t, remote.Config{URI: uri})
	if err := broken.Ping(ctx); !errors.Is(err, remote.ErrUnauthorized) || !strings.Contains(err.Error(), "Docker credentials") {
		t.Errorf("ping with a broken Docker config: %v", err)
	}
}

func TestResolveRefusesAMislabelledArtifact(t *testing.T) {
	ctx := testContext(t)
	addr := startRegistry(t, nil)
	copyTagged(t, addr, "ns/hello", "hello-1.0.0", "1.2.0") // 1.0.0's artifact tagged 1.2.0
	copyTagged(t, addr, "ns/hello", "greeter-0.1.0", "1.3.0")
	r := open(t, remote.Config{URI: "oci://" + addr + "/ns"})
	for _, v := range []string{"1.2.0", "1.3.0", ""} {
		if _, _, err := r.Resolve(ctx, "hello", v); !errors.Is(err, remote.ErrInvalid) {
			t.Errorf("resolve hello %q: %v, want ErrInvalid", v, err)
		}
	}
}
