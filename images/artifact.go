// Package images is the agent's way to OCI registries: it fetches OCI
// artifacts (Cairn packages' files) for the agent's fetcher, pinned by
// digest and verified. Container image pulls and rootfs unpacking will
// join it.
//
// It does not import repository/ (packages, their index and install) nor
// packaging/: the few media types and annotations it needs are mirrored
// below.
package images

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// Mirrors of packaging's contract (packaging.FileMediaType,
// packaging.AnnotationPlatform and packaging.AnnotationFile): keep them equal.
const (
	fileMediaType      = "application/vnd.cairn.package.file.v1"
	annotationPlatform = "io.cairn.package.platform"
	annotationFile     = "io.cairn.package.file"
)

// fileName is a layer's file name: its io.cairn.package.file annotation,
// else (packages built before it) its title.
func fileName(l ocispec.Descriptor) string {
	if n := l.Annotations[annotationFile]; n != "" {
		return n
	}
	return l.Annotations[ocispec.AnnotationTitle]
}

// Limits.
const (
	// MaxManifestBytes bounds an artifact manifest (as registries do).
	MaxManifestBytes = 4 << 20
	// manifestCacheEntries bounds the in-memory cache of parsed manifests.
	manifestCacheEntries = 256
)

// Scheme is the URI scheme ArtifactSource serves.
const Scheme = "oci"

// ArtifactConfig configures an ArtifactSource.
type ArtifactConfig struct {
	// Platform is the agent's "os/arch" (default runtime.GOOS/runtime.GOARCH).
	Platform string
	// Credentials returns the user name and password for a registry host
	// ("host:port"). Default: the Docker configuration of the agent's
	// user (~/.docker/config.json, $DOCKER_CONFIG), credential helpers
	// included, as `docker login` writes it.
	Credentials func(host string) (user, pass string, ok bool)
	// PlainHTTP tells whether to speak plain HTTP to a host ("host:port")
	// instead of HTTPS. Default: loopback hosts only (127.0.0.0/8, ::1,
	// localhost), where the embedded registry listens.
	PlainHTTP func(host string) bool
	// HTTPClient makes the requests (default: a client that retries 5xx
	// and 429 answers, with a 1 minute response header timeout).
	HTTPClient *http.Client
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// ArtifactSource opens files of OCI artifacts for the agent's fetcher
// (kernel/containerizer/fetcher.Source), from URIs such as
//
//	oci://127.0.0.1:5000/cairn/hello@sha256:<hex>?file=hello
//
// The artifact must be pinned by digest. Its manifest is fetched (at most
// MaxManifestBytes), checked against that digest and cached in memory; the
// file is the layer named file (io.cairn.package.file, else the base of
// org.opencontainers.image.title) for the
// agent's platform (io.cairn.package.platform), or without a platform
// annotation. Without ?file= the artifact must have exactly one file for
// the platform. Open announces the layer's digest, so the fetcher
// verifies the bytes and serves them from its cache when it has them; the
// blob is requested only when first read, so a cache hit costs no
// request once the manifest is cached.
//
// Safe for concurrent use.
type ArtifactSource struct {
	platform  string
	plainHTTP func(host string) bool
	client    *auth.Client
	log       *slog.Logger
	manifests *manifestCache
}

// NewArtifactSource makes an ArtifactSource. It fails if the default
// credentials (the Docker configuration) cannot be read.
func NewArtifactSource(cfg ArtifactConfig) (*ArtifactSource, error) {
	if cfg.Platform == "" {
		cfg.Platform = runtime.GOOS + "/" + runtime.GOARCH
	}
	if os, arch, ok := strings.Cut(cfg.Platform, "/"); !ok || os == "" || arch == "" {
		return nil, fmt.Errorf("agent platform %q: write it as os/arch, e.g. linux/amd64", cfg.Platform)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PlainHTTP == nil {
		cfg.PlainHTTP = IsLoopback
	}
	if cfg.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = time.Minute
		cfg.HTTPClient = &http.Client{Transport: retry.NewTransport(t)}
	}
	var cred auth.CredentialFunc
	if cfg.Credentials != nil {
		get := cfg.Credentials
		cred = func(_ context.Context, host string) (auth.Credential, error) {
			user, pass, ok := get(host)
			if !ok {
				return auth.EmptyCredential, nil
			}
			return auth.Credential{Username: user, Password: pass}, nil
		}
	} else {
		store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
		if err != nil {
			return nil, fmt.Errorf("read registry credentials from the Docker configuration: %w: fix or remove it, or give the agent credentials explicitly", err)
		}
		cred = credentials.Credential(store)
	}
	return &ArtifactSource{
		platform:  cfg.Platform,
		plainHTTP: cfg.PlainHTTP,
		client: &auth.Client{
			Client:     cfg.HTTPClient,
			Cache:      auth.NewCache(),
			Credential: cred,
			Header:     http.Header{"User-Agent": {"cairn-agent"}},
		},
		log:       cfg.Logger.With("component", "images"),
		manifests: newManifestCache(manifestCacheEntries),
	}, nil
}

// Platform is the agent platform files are chosen for.
func (s *ArtifactSource) Platform() string { return s.platform }

// Open implements fetcher.Source: the file's content (fetched when first
// read), its digest and its name.
func (s *ArtifactSource) Open(ctx context.Context, uri string) (io.ReadCloser, string, string, error) {
	ref, file, err := ParseURI(uri)
	if err != nil {
		return nil, "", "", err
	}
	repo, err := s.repository(ref)
	if err != nil {
		return nil, "", "", err
	}
	m, err := s.manifest(ctx, repo, ref)
	if err != nil {
		return nil, "", "", err
	}
	layer, err := pickLayer(m, file, s.platform)
	if err != nil {
		return nil, "", "", fmt.Errorf("artifact %s: %w", ref, err)
	}
	if layer.Digest.Algorithm() != digest.SHA256 {
		return nil, "", "", fmt.Errorf("artifact %s: file %s has a %s digest; the agent verifies sha256 only: rebuild the package with sha256 digests", ref, fileName(layer), layer.Digest.Algorithm())
	}
	name := fileName(layer)
	open := func(ctx context.Context) (io.ReadCloser, error) {
		rc, err := repo.Blobs().Fetch(ctx, layer)
		if err != nil && strings.Contains(err.Error(), "mismatch Content-Length") {
			return nil, fmt.Errorf("registry %s serves file %s of %s with a size other than its layer's %d bytes: its content does not match digest %s: the artifact is corrupt or was replaced; repair the registry or reinstall the package: %w", ref.Registry, name, ref, layer.Size, layer.Digest, err)
		}
		if err != nil {
			return nil, s.explain(ctx, err, ref, fmt.Sprintf("file %s (%s)", name, layer.Digest))
		}
		return rc, nil
	}
	return newLazyReader(ctx, open), layer.Digest.String(), name, nil
}

// ParseURI parses oci://host[:port]/namespace/name@<digest>[?file=<name>]
// into the artifact's reference and the file asked for ("" if none).
func ParseURI(uri string) (ref registry.Reference, file string, err error) {
	u, err := url.Parse(uri)
	if err != nil {
		return ref, "", fmt.Errorf("malformed OCI URI: %w: write oci://host/namespace/name@sha256:<hex>?file=<name>", err)
	}
	if !strings.EqualFold(u.Scheme, Scheme) {
		return ref, "", fmt.Errorf("URI scheme %q is not oci: write oci://host/namespace/name@sha256:<hex>", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return ref, "", errors.New("OCI URI without a registry host: write oci://host/namespace/name@sha256:<hex>")
	}
	if u.User != nil {
		return ref, "", errors.New("OCI URI with credentials: remove them from the URI and give them to the agent (docker login on the agent)")
	}
	if u.Fragment != "" {
		return ref, "", errors.New("OCI URI with a #fragment: remove it")
	}
	ref, err = registry.ParseReference(u.Host + u.Path)
	if err != nil {
		return ref, "", fmt.Errorf("OCI URI: %w: write oci://host/namespace/name@sha256:<hex>", err)
	}
	if ref.Reference == "" {
		return ref, "", fmt.Errorf("OCI URI names no version of %s/%s: pin it by digest (…@sha256:<hex>)", ref.Registry, ref.Repository)
	}
	if _, err := ref.Digest(); err != nil {
		return ref, "", fmt.Errorf("OCI URI names tag %q of %s/%s: pin it by digest (…@sha256:<hex>) so that every agent runs the same bytes", ref.Reference, ref.Registry, ref.Repository)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return ref, "", fmt.Errorf("OCI URI query: %w", err)
	}
	for k, v := range q {
		if k != "file" {
			return ref, "", fmt.Errorf("OCI URI has unknown parameter %q: only file=<name> is understood", k)
		}
		if len(v) != 1 || v[0] == "" {
			return ref, "", errors.New("OCI URI: give file=<name> once, with a name")
		}
		file = v[0]
	}
	return ref, file, nil
}

// IsLoopback reports whether host ("host" or "host:port") is a loopback
// address or localhost: the default of ArtifactConfig.PlainHTTP.
func IsLoopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *ArtifactSource) repository(ref registry.Reference) (*remote.Repository, error) {
	repo, err := remote.NewRepository(ref.Registry + "/" + ref.Repository)
	if err != nil {
		return nil, fmt.Errorf("OCI URI: %w", err)
	}
	repo.Client = s.client
	repo.PlainHTTP = s.plainHTTP(ref.Registry)
	return repo, nil
}

// manifest returns the artifact's parsed manifest, from the cache or the
// registry (verified against the reference's digest).
func (s *ArtifactSource) manifest(ctx context.Context, repo *remote.Repository, ref registry.Reference) (*ocispec.Manifest, error) {
	key := ref.String()
	if m, ok := s.manifests.get(key); ok {
		return m, nil
	}
	want, _ := ref.Digest()
	desc, rc, err := repo.Manifests().FetchReference(ctx, ref.Reference)
	if err != nil {
		return nil, s.explain(ctx, err, ref, "manifest")
	}
	defer rc.Close()
	if desc.Size > MaxManifestBytes {
		return nil, fmt.Errorf("artifact %s: its manifest is %d bytes, more than the %d allowed: this is not a Cairn package", ref, desc.Size, MaxManifestBytes)
	}
	b, err := io.ReadAll(io.LimitReader(rc, MaxManifestBytes+1))
	if err != nil {
		return nil, s.explain(ctx, err, ref, "manifest")
	}
	if len(b) > MaxManifestBytes {
		return nil, fmt.Errorf("artifact %s: its manifest is more than the %d bytes allowed: this is not a Cairn package", ref, MaxManifestBytes)
	}
	if got := want.Algorithm().FromBytes(b); got != want {
		return nil, fmt.Errorf("artifact %s: the registry served a manifest with digest %s, not %s: it is corrupt or was replaced; check the registry", ref, got, want)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("artifact %s: manifest is not valid JSON: %w", ref, err)
	}
	if m.MediaType == "" {
		m.MediaType = desc.MediaType
	}
	if m.MediaType != ocispec.MediaTypeImageManifest {
		return nil, fmt.Errorf("artifact %s is a %s, not an OCI image manifest: point the URI at a package artifact", ref, m.MediaType)
	}
	s.manifests.put(key, &m)
	s.log.Debug("artifact manifest fetched", "ref", key, "artifactType", m.ArtifactType, "layers", len(m.Layers))
	return &m, nil
}

// pickLayer chooses the layer of file (any file if "") for platform.
func pickLayer(m *ocispec.Manifest, file, platform string) (ocispec.Descriptor, error) {
	var cands []ocispec.Descriptor
	for _, l := range m.Layers {
		title := fileName(l)
		if file != "" && title == file || file == "" && title != "" && l.MediaType == fileMediaType {
			cands = append(cands, l)
		}
	}
	if len(cands) == 0 {
		if file == "" {
			return ocispec.Descriptor{}, errors.New("it has no files")
		}
		return ocispec.Descriptor{}, fmt.Errorf("it has no file %q; its files: %s", file, strings.Join(titles(m), ", "))
	}
	// Per file name: the layer for this platform, else the one for any.
	chosen := map[string]ocispec.Descriptor{}
	var others []string
	for _, l := range cands {
		title := fileName(l)
		switch p := l.Annotations[annotationPlatform]; {
		case p == platform:
			if prev, ok := chosen[title]; ok && prev.Annotations[annotationPlatform] == platform {
				return ocispec.Descriptor{}, fmt.Errorf("it has file %q for %s twice: rebuild the package", title, platform)
			}
			chosen[title] = l
		case p == "":
			if _, ok := chosen[title]; !ok {
				chosen[title] = l
			}
		default:
			others = append(others, p)
		}
	}
	switch len(chosen) {
	case 1:
		for _, l := range chosen {
			return l, nil
		}
	case 0:
		slices.Sort(others)
		others = slices.Compact(others)
		what := "files"
		if file != "" {
			what = file
		}
		return ocispec.Descriptor{}, fmt.Errorf("package has %s for %s only; this agent is %s: install a release built for %s", what, strings.Join(others, ", "), platform, platform)
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range chosen {
			if !yield(n) {
				return
			}
		}
	})
	return ocispec.Descriptor{}, fmt.Errorf("it has several files for %s (%s): name one with ?file=<name>", platform, strings.Join(names, ", "))
}

func titles(m *ocispec.Manifest) []string {
	var out []string
	for _, l := range m.Layers {
		if t := fileName(l); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

// explain turns a registry client error into one that says what to do.
func (s *ArtifactSource) explain(ctx context.Context, err error, ref registry.Reference, what string) error {
	host := ref.Registry
	if ctx.Err() != nil {
		return fmt.Errorf("fetch %s of %s: %w", what, ref, ctx.Err())
	}
	var er *errcode.ErrorResponse
	switch {
	case errors.Is(err, errdef.ErrNotFound):
		return fmt.Errorf("%s of artifact %s not found in registry %s: the artifact was deleted or never pushed; reinstall the package: %w", what, ref, host, err)
	case errors.Is(err, auth.ErrBasicCredentialNotFound):
		return fmt.Errorf("registry %s requires credentials and the agent has none for it: run docker login %s as the agent's user (or configure the agent's registry credentials): %w", host, host, err)
	case errors.As(err, &er) && (er.StatusCode == http.StatusUnauthorized || er.StatusCode == http.StatusForbidden):
		return fmt.Errorf("registry %s refused access to %s (%d %s): check the agent's credentials for it (docker login %s): %w", host, ref.Repository, er.StatusCode, http.StatusText(er.StatusCode), host, err)
	case errors.As(err, &er):
		return fmt.Errorf("registry %s failed to serve the %s of %s (%d %s): retry later or check the registry: %w", host, what, ref, er.StatusCode, http.StatusText(er.StatusCode), err)
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Errorf("registry %s speaks plain HTTP, and the agent uses HTTPS for hosts that are not loopback: serve it over TLS (or configure the agent's plain-HTTP hosts): %w", host, err)
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) {
		return fmt.Errorf("cannot reach registry %s: %w: check that it is running and that the agent can reach it", host, err)
	}
	return fmt.Errorf("fetch %s of %s from registry %s: %w", what, ref, host, err)
}

// manifestCache is a bounded LRU of parsed manifests by pinned reference.
// Manifests are immutable (content-addressed), so entries never go stale.
type manifestCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *cacheEntry, most recent first
	items map[string]*list.Element
}

type cacheEntry struct {
	key string
	m   *ocispec.Manifest
}

func newManifestCache(max int) *manifestCache {
	return &manifestCache{max: max, order: list.New(), items: map[string]*list.Element{}}
}

func (c *manifestCache) get(key string) (*ocispec.Manifest, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).m, true
}

func (c *manifestCache) put(key string, m *ocispec.Manifest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.items[key] = c.order.PushFront(&cacheEntry{key: key, m: m})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
}

func (c *manifestCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
