package packaging

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/content/oci"
)

func buildHello(t *testing.T, target content.Pusher, opts BuildOptions) (*Package, ocispec.Descriptor) {
	t.Helper()
	p := loadHello(t)
	desc, err := Build(context.Background(), p, helloDir(), target, opts)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return p, desc
}

func fetchManifest(t *testing.T, src content.Fetcher, desc ocispec.Descriptor) ocispec.Manifest {
	t.Helper()
	b, err := content.FetchAll(context.Background(), src, desc)
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBuildLayout(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	p, desc := buildHello(t, store, BuildOptions{})
	if desc.MediaType != ocispec.MediaTypeImageManifest || desc.ArtifactType != ArtifactType {
		t.Errorf("descriptor %+v", desc)
	}
	if p.Digest != desc.Digest.String() {
		t.Errorf("p.Digest = %s, want %s", p.Digest, desc.Digest)
	}
	m := fetchManifest(t, store, desc)
	if m.SchemaVersion != 2 || m.MediaType != ocispec.MediaTypeImageManifest || m.ArtifactType != ArtifactType || m.Config.MediaType != ConfigMediaType {
		t.Errorf("manifest header %+v", m)
	}
	wantAnn := map[string]string{
		ocispec.AnnotationCreated:     DefaultCreated,
		ocispec.AnnotationTitle:       "hello",
		ocispec.AnnotationVersion:     "1.2.0",
		ocispec.AnnotationDescription: "A tiny HTTP server that says hello.",
		ocispec.AnnotationAuthors:     "Cairn developers <dev@cairn.invalid>",
		ocispec.AnnotationLicenses:    "Apache-2.0",
		ocispec.AnnotationURL:         "https://cairn.invalid/hello",
		AnnotationKind:                "service",
	}
	if !mapsEqual(m.Annotations, wantAnn) {
		t.Errorf("annotations %v\nwant %v", m.Annotations, wantAnn)
	}
	type layer struct{ mediaType, title, file, platform, exec string }
	var got []layer
	for _, l := range m.Layers {
		got = append(got, layer{l.MediaType, l.Annotations[ocispec.AnnotationTitle], l.Annotations[AnnotationFile],
			l.Annotations[AnnotationPlatform], l.Annotations[AnnotationExecutable]})
	}
	// Titles are paths in the package directory (oras pull recreates it).
	want := []layer{
		{SchemaMediaType, SchemaFile, "", "", ""},
		{TemplateMediaType, TemplateFile, "", "", ""},
		{FileMediaType, "resources/README.txt", "README.txt", "", ""},
		{FileMediaType, "bin/linux-amd64/hello", "hello", "linux/amd64", "true"},
		{FileMediaType, "bin/linux-arm64/hello", "hello", "linux/arm64", "true"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("layers %+v\nwant %+v", got, want)
	}
	amd64, _ := os.ReadFile("testdata/hello/bin/linux-amd64/hello")
	if m.Layers[3].Digest != digest.FromBytes(amd64) || m.Layers[3].Size != int64(len(amd64)) {
		t.Errorf("amd64 layer %+v", m.Layers[3])
	}
	if p.Files[1].Digest != digest.FromBytes(amd64).String() {
		t.Errorf("p.Files[1] = %+v", p.Files[1])
	}
	config, err := content.FetchAll(ctx, store, m.Config)
	if err != nil {
		t.Fatal(err)
	}
	if cm, err := ParseManifest(config); err != nil || cm.Name != "hello" || cm.Release != 3 {
		t.Errorf("config %s: %v", config, err)
	}
	tagged, err := store.Resolve(ctx, "1.2.0")
	if err != nil || tagged.Digest != desc.Digest {
		t.Errorf("tag 1.2.0 → %v, %v", tagged.Digest, err)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestBuildReproducible(t *testing.T) {
	ctx := context.Background()
	_, mem := buildHello(t, memory.New(), BuildOptions{})
	var digests []digest.Digest
	for range 2 {
		dir := t.TempDir()
		store, err := oci.New(dir)
		if err != nil {
			t.Fatal(err)
		}
		_, desc := buildHello(t, store, BuildOptions{})
		digests = append(digests, desc.Digest)
		tagged, err := store.Resolve(ctx, "1.2.0")
		if err != nil || tagged.Digest != desc.Digest {
			t.Errorf("oci-layout tag 1.2.0 → %v, %v", tagged.Digest, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
			t.Error(err)
		}
		// Building again into the same store skips what it has.
		_, again := buildHello(t, store, BuildOptions{})
		if again.Digest != desc.Digest {
			t.Errorf("rebuild into the same store: %s != %s", again.Digest, desc.Digest)
		}
	}
	if digests[0] != digests[1] || digests[0] != mem.Digest {
		t.Errorf("digests differ: %v and memory %v", digests, mem.Digest)
	}
	_, dated := buildHello(t, memory.New(), BuildOptions{Created: "2026-01-02T03:04:05Z"})
	if dated.Digest == mem.Digest {
		t.Error("Created did not change the digest")
	}
	if _, err := Build(ctx, loadHello(t), helloDir(), memory.New(), BuildOptions{Created: "yesterday"}); err == nil || !strings.Contains(err.Error(), "RFC 3339") {
		t.Errorf("bad Created: %v", err)
	}
}

func TestBuildPlatforms(t *testing.T) {
	store := memory.New()
	p, desc := buildHello(t, store, BuildOptions{Platforms: []string{"linux/arm64"}})
	if len(p.Files) != 2 || p.Files[1].Platform != "linux/arm64" {
		t.Errorf("files %+v", p.Files)
	}
	if m := fetchManifest(t, store, desc); len(m.Layers) != 4 {
		t.Errorf("%d layers, want 4", len(m.Layers))
	}
	for _, pl := range []string{"linux/riscv64", "linux"} {
		if _, err := Build(context.Background(), loadHello(t), helloDir(), memory.New(), BuildOptions{Platforms: []string{pl}}); err == nil {
			t.Errorf("platform %s: no error", pl)
		}
	}
}

func TestBuildMissingFile(t *testing.T) {
	p := loadHello(t)
	m := helloMapFS(t)
	delete(m, "resources/README.txt")
	if _, err := Build(context.Background(), p, m, memory.New(), BuildOptions{}); err == nil || !strings.Contains(err.Error(), "resources/README.txt") {
		t.Errorf("missing file: %v", err)
	}
}

func TestReadVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	store, err := oci.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	built, desc := buildHello(t, store, BuildOptions{})
	for name, fn := range map[string]func(context.Context, content.Fetcher, ocispec.Descriptor) (*Package, error){"Read": Read, "Verify": Verify} {
		p, err := fn(ctx, store, desc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.Digest != desc.Digest.String() || !slices.Equal(p.Files, built.Files) || string(p.Schema) != string(built.Schema) ||
			p.Template != built.Template || !slicesEqualJSON(p.Manifest, built.Manifest) {
			t.Errorf("%s = %+v\nwant %+v", name, p, built)
		}
	}
	// A descriptor from the tag (as a repository resolves it) works too.
	tagged, err := store.Resolve(ctx, "1.2.0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, store, tagged); err != nil {
		t.Errorf("Verify(tagged): %v", err)
	}
}

func slicesEqualJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestVerifyDetectsTamperedBlob(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := oci.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, desc := buildHello(t, store, BuildOptions{})
	if _, err := Verify(ctx, store, desc); err != nil {
		t.Fatal(err)
	}
	amd64 := p.Files[1]
	path := filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(amd64.Digest, "sha256:"))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-2] ^= 0x20 // same size, different content
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// Read does not fetch files: still fine.
	if _, err := Read(ctx, store, desc); err != nil {
		t.Errorf("Read after tampering with a file: %v", err)
	}
	// Verify does, from a fresh store on the same directory too.
	fresh, err := oci.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []content.Fetcher{store, fresh} {
		_, err = Verify(ctx, s, desc)
		if !errors.Is(err, content.ErrMismatchedDigest) || !strings.Contains(err.Error(), "bin/linux-amd64/hello") {
			t.Errorf("Verify after tampering = %v, want a mismatched digest naming the file", err)
		}
	}
	// A truncated blob is caught too.
	if err := os.WriteFile(path, data[:5], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, store, desc); err == nil {
		t.Error("Verify of a truncated blob: no error")
	}
	// Tampering with the template (read by Read) is caught by Read.
	m := fetchManifest(t, store, desc)
	tpath := filepath.Join(dir, "blobs", "sha256", m.Layers[1].Digest.Encoded())
	os.Chmod(tpath, 0o644)
	if err := os.WriteFile(tpath, []byte(strings.Repeat(" ", int(m.Layers[1].Size))), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(ctx, store, desc); !errors.Is(err, content.ErrMismatchedDigest) {
		t.Errorf("Read with a tampered template = %v", err)
	}
}

// pushJSON pushes v as a blob and returns its descriptor.
func pushJSON(t *testing.T, store content.Pusher, mediaType string, v any) ocispec.Descriptor {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	desc := content.NewDescriptorFromBytes(mediaType, b)
	if err := store.Push(context.Background(), desc, strings.NewReader(string(b))); err != nil {
		t.Fatal(err)
	}
	return desc
}

func TestReadRejects(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	config := pushJSON(t, store, ConfigMediaType, loadHello(t).Manifest)
	manifest := func(change func(*ocispec.Manifest)) ocispec.Descriptor {
		m := ocispec.Manifest{
			Versioned:    specs.Versioned{SchemaVersion: 2},
			MediaType:    ocispec.MediaTypeImageManifest,
			ArtifactType: ArtifactType,
			Config:       config,
			Layers:       []ocispec.Descriptor{},
		}
		change(&m)
		return pushJSON(t, store, ocispec.MediaTypeImageManifest, m)
	}
	helm := manifest(func(m *ocispec.Manifest) {
		m.ArtifactType = "application/vnd.cncf.helm.config.v1+json"
	})
	_, err := Read(ctx, store, helm)
	if !errors.Is(err, ErrNotPackage) || !strings.Contains(err.Error(), `not a Cairn package (artifactType "application/vnd.cncf.helm.config.v1+json")`) {
		t.Errorf("Read(helm chart) = %v", err)
	}
	if _, err := Verify(ctx, store, helm); !errors.Is(err, ErrNotPackage) {
		t.Errorf("Verify(helm chart) = %v", err)
	}
	index := pushJSON(t, store, ocispec.MediaTypeImageIndex, ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}})
	if _, err := Read(ctx, store, index); !errors.Is(err, ErrNotPackage) {
		t.Errorf("Read(index) = %v", err)
	}
	ok := manifest(func(*ocispec.Manifest) {})
	if _, err := Read(ctx, store, ok); err != nil {
		t.Errorf("Read(minimal) = %v", err)
	}
	bigLayer := ocispec.Descriptor{MediaType: TemplateMediaType, Digest: digest.FromString("x"), Size: MaxTemplateSize + 1}
	tmplLayer := pushJSON(t, store, TemplateMediaType, map[string]string{})
	for name, tc := range map[string]struct {
		desc ocispec.Descriptor
		want string
	}{
		"wrong digest":  {ocispec.Descriptor{MediaType: ok.MediaType, Digest: digest.FromString("other"), Size: ok.Size}, "fetch manifest"},
		"wrong size":    {ocispec.Descriptor{MediaType: ok.MediaType, Digest: ok.Digest, Size: ok.Size - 1}, "fetch manifest"},
		"huge manifest": {ocispec.Descriptor{MediaType: ok.MediaType, Digest: ok.Digest, Size: MaxManifestSize + 1}, "out of bounds"},
		"desc artifact": {ocispec.Descriptor{MediaType: ok.MediaType, Digest: ok.Digest, Size: ok.Size, ArtifactType: "x"}, `not a Cairn package (artifactType "x")`},
		"config type":   {manifest(func(m *ocispec.Manifest) { m.Config.MediaType = "application/json" }), "config media type"},
		"huge config":   {manifest(func(m *ocispec.Manifest) { m.Config.Size = MaxConfigSize + 1 }), "config"},
		"huge template": {manifest(func(m *ocispec.Manifest) { m.Layers = []ocispec.Descriptor{bigLayer} }), "app.json.tmpl"},
		"unknown layer": {manifest(func(m *ocispec.Manifest) {
			m.Layers = []ocispec.Descriptor{{MediaType: "x/y", Digest: config.Digest, Size: 1}}
		}), `unknown media type "x/y"`},
		"untitled file": {manifest(func(m *ocispec.Manifest) {
			m.Layers = []ocispec.Descriptor{{MediaType: FileMediaType, Digest: config.Digest, Size: 1}}
		}), `"" is not a valid file name`},
		"traversal":    {manifest(func(m *ocispec.Manifest) { m.Layers = []ocispec.Descriptor{fileLayer(config, "../../etc/passwd", "")} }), `is not a valid file name`},
		"bad platform": {manifest(func(m *ocispec.Manifest) { m.Layers = []ocispec.Descriptor{fileLayer(config, "x", "linux")} }), `platform "linux" is not OS/ARCH`},
		"duplicate file": {manifest(func(m *ocispec.Manifest) {
			m.Layers = []ocispec.Descriptor{fileLayer(config, "x", ""), fileLayer(config, "x", "")}
		}), "appears twice"},
		"schema version": {manifest(func(m *ocispec.Manifest) { m.SchemaVersion = 1 }), "schemaVersion 1"},
		"two templates":  {manifest(func(m *ocispec.Manifest) { m.Layers = []ocispec.Descriptor{tmplLayer, tmplLayer} }), "a second launch template"},
	} {
		if _, err := Read(ctx, store, tc.desc); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Read = %v, want %q", name, err, tc.want)
		}
	}
	// A bad config names the field.
	badConfig := pushJSON(t, store, ConfigMediaType, map[string]any{"name": "x", "version": "1.x"})
	bad := manifest(func(m *ocispec.Manifest) { m.Config = badConfig })
	if _, err := Read(ctx, store, bad); err == nil || !strings.Contains(err.Error(), `package.json: version: "1.x" is not a semantic version`) {
		t.Errorf("Read(bad config) = %v", err)
	}
}

func fileLayer(blob ocispec.Descriptor, name, platform string) ocispec.Descriptor {
	d := ocispec.Descriptor{MediaType: FileMediaType, Digest: blob.Digest, Size: blob.Size, Annotations: map[string]string{ocispec.AnnotationTitle: name}}
	if platform != "" {
		d.Annotations[AnnotationPlatform] = platform
	}
	return d
}

func TestVerifyInvalidPackage(t *testing.T) {
	// An artifact whose template does not render is rejected by Verify
	// (Build refuses to make one, so push it by hand).
	ctx := context.Background()
	store := memory.New()
	p := loadHello(t)
	config := pushJSON(t, store, ConfigMediaType, p.Manifest)
	tmpl := content.NewDescriptorFromBytes(TemplateMediaType, []byte(`{"id": {{.AppID}}}`))
	if err := store.Push(ctx, tmpl, strings.NewReader(`{"id": {{.AppID}}}`)); err != nil {
		t.Fatal(err)
	}
	desc := pushJSON(t, store, ocispec.MediaTypeImageManifest, ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		ArtifactType: ArtifactType, Config: config, Layers: []ocispec.Descriptor{tmpl},
	})
	if _, err := Read(ctx, store, desc); err != nil {
		t.Errorf("Read: %v", err)
	}
	if _, err := Verify(ctx, store, desc); err == nil || !strings.Contains(err.Error(), "app.json.tmpl rendered invalid JSON") {
		t.Errorf("Verify = %v", err)
	}
}
