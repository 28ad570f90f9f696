// Package remote talks to package repositories: OCI registry namespaces
// (oci://host:port/ns) holding one OCI repository per package
// (ns/<name>, tagged by version) and a repository index artifact
// (ns/cairn-index:latest) listing packages and versions for search.
// oras-go v2 is the only registry client.
package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"time"

	"oras.land/oras-go/v2/registry"
	orasremote "oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
)

// The repository index artifact.
const (
	IndexRepository   = "cairn-index" // ns/cairn-index; packaging rejects it as a package name
	IndexTag          = "latest"
	IndexArtifactType = "application/vnd.cairn.repository.index.v1"
	IndexMediaType    = "application/vnd.cairn.repository.index.v1+json"
)

// Errors, matched with errors.Is; the wrapping error says which
// repository, package or version and what to do.
var (
	ErrPackageNotFound = errors.New("package not found")
	ErrVersionNotFound = errors.New("version not found")
	ErrUnreachable     = errors.New("registry unreachable")
	ErrUnauthorized    = errors.New("registry refused the credentials")
	ErrInvalid         = errors.New("invalid artifact") // digest mismatch, bad package
)

// Config of a repository.
type Config struct {
	URI string // "oci://host:port/namespace" (namespace may be empty or nested)
	// Username and Password for the registry; empty means the standard
	// Docker config (DOCKER_CONFIG or ~/.docker/config.json, credential
	// helpers included) for the registry's host.
	Username, Password string
	// PlainHTTP talks http:// (always for loopback hosts).
	PlainHTTP bool
	// HTTPClient (default: a client with sensible timeouts).
	HTTPClient *http.Client
	// Logger (default: discard) hears of what Index skips.
	Logger *slog.Logger
}

// Index is what a repository holds, for search.
type Index struct {
	Packages []IndexEntry `json:"packages"`
}

type IndexEntry struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Tags        []string       `json:"tags,omitempty"`
	Kind        string         `json:"kind"`
	Versions    []IndexVersion `json:"versions"` // newest first
}

type IndexVersion struct {
	Version string `json:"version"`
	Digest  string `json:"digest"` // the artifact's manifest digest
}

// Repo is one repository. Safe for concurrent use.
type Repo struct {
	uri       string // canonical: oci://host[/ns]
	host      string // host[:port]
	ns        string // "" or "a/b"
	plainHTTP bool
	client    *auth.Client
	log       *slog.Logger

	static auth.CredentialFunc // the configured credentials, if any

	dockerOnce  sync.Once
	dockerCreds auth.CredentialFunc
	dockerErr   error
}

// packageNameRE is what a package name may be (packaging's rule).
var packageNameRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ValidPackageName says whether name can be a package's name.
func ValidPackageName(name string) bool {
	return len(name) <= 128 && packageNameRE.MatchString(name) && name != IndexRepository
}

// Open checks the config (errors name the field: `uri: ...`); it does no I/O.
func Open(cfg Config) (*Repo, error) {
	host, ns, err := ParseURI(cfg.URI)
	if err != nil {
		return nil, err
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, fmt.Errorf("username: empty but a password is given: give both, or neither to use the Docker credentials of %s", host)
	}
	r := &Repo{
		host:      host,
		ns:        ns,
		plainHTTP: cfg.PlainHTTP || isLoopback(host),
		log:       cfg.Logger,
	}
	if cfg.Username != "" {
		r.static = auth.StaticCredential(host, auth.Credential{Username: cfg.Username, Password: cfg.Password})
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.uri = "oci://" + host
	if ns != "" {
		r.uri += "/" + ns
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient()
	}
	r.client = &auth.Client{
		Client:     hc,
		Header:     http.Header{"User-Agent": {"cairn"}},
		Cache:      auth.NewCache(),
		Credential: r.credential,
	}
	return r, nil
}

// ParseURI checks a repository URI, "oci://host[:port][/namespace]", and
// returns its registry host[:port] and namespace. Errors name the field
// (`uri: ...`).
func ParseURI(uri string) (host, namespace string, err error) {
	const example = "oci://127.0.0.1:5000/cairn"
	rest, ok := strings.CutPrefix(uri, "oci://")
	if !ok {
		return "", "", fmt.Errorf("uri: %q must start with oci:// (e.g. %s)", uri, example)
	}
	if strings.ContainsAny(rest, "?#@ \t\r\n\\") {
		return "", "", fmt.Errorf("uri: %q: give only oci://host[:port][/namespace] (no user, query, fragment or spaces), e.g. %s", uri, example)
	}
	host, namespace, _ = strings.Cut(rest, "/")
	namespace = strings.Trim(namespace, "/")
	if host == "" {
		return "", "", fmt.Errorf("uri: %q has no registry host (e.g. %s)", uri, example)
	}
	if err := (registry.Reference{Registry: host}).ValidateRegistry(); err != nil {
		return "", "", fmt.Errorf("uri: %q: registry %q is not a valid host[:port]", uri, host)
	}
	if namespace != "" {
		ref := registry.Reference{Registry: host, Repository: namespace + "/" + IndexRepository}
		if err := ref.ValidateRepository(); err != nil {
			return "", "", fmt.Errorf("uri: %q: namespace %q is not a valid OCI repository path (lowercase letters, digits, separators . _ - and /)", uri, namespace)
		}
	}
	return host, namespace, nil
}

// isLoopback says whether the registry host is this machine.
func isLoopback(hostport string) bool {
	h := hostport
	if hh, _, err := net.SplitHostPort(hostport); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// defaultHTTPClient bounds connecting and waiting for an answer, not the
// whole exchange (blobs may be large).
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 60 * time.Second
	return &http.Client{Transport: t}
}

// credential resolves the registry credentials: the configured ones, or
// the Docker config's (read on first use).
func (r *Repo) credential(ctx context.Context, hostport string) (auth.Credential, error) {
	if r.static != nil {
		return r.static(ctx, hostport)
	}
	r.dockerOnce.Do(func() {
		store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
		if err != nil {
			r.dockerErr = &dockerConfigError{err: err}
			return
		}
		r.dockerCreds = credentials.Credential(store)
	})
	if r.dockerErr != nil {
		return auth.EmptyCredential, r.dockerErr
	}
	cred, err := r.dockerCreds(ctx, hostport)
	if err != nil {
		return auth.EmptyCredential, &dockerConfigError{err: err}
	}
	return cred, nil
}

// dockerConfigError is a failure to read the Docker credentials.
type dockerConfigError struct{ err error }

func (e *dockerConfigError) Error() string {
	return fmt.Sprintf("reading the Docker credentials (DOCKER_CONFIG or ~/.docker/config.json): %v", e.err)
}
func (e *dockerConfigError) Unwrap() error { return e.err }

// URI is the repository's URI as configured, normalised (no trailing
// slash): "oci://host:port/ns".
func (r *Repo) URI() string { return r.uri }

// Host is the registry's host[:port].
func (r *Repo) Host() string { return r.host }

// Namespace is the repository's namespace in the registry ("" for none).
func (r *Repo) Namespace() string { return r.ns }

// Artifact is the pinned reference of a package's artifact:
// "oci://host:port/ns/name@sha256:...".
func (r *Repo) Artifact(name, digest string) string {
	return "oci://" + r.host + "/" + r.repoPath(name) + "@" + digest
}

// repoPath is the OCI repository of a package (or of the index).
func (r *Repo) repoPath(name string) string {
	if r.ns == "" {
		return name
	}
	return r.ns + "/" + name
}

// repository opens the OCI repository of a package (or of the index).
func (r *Repo) repository(name string) (*orasremote.Repository, error) {
	repo, err := orasremote.NewRepository(r.host + "/" + r.repoPath(name))
	if err != nil {
		return nil, fmt.Errorf("package %q: not a valid repository name in %s: %w", name, r.uri, ErrPackageNotFound)
	}
	repo.Client = r.client
	repo.PlainHTTP = r.plainHTTP
	return repo, nil
}

// registry opens the registry itself (ping, catalog).
func (r *Repo) registry() *orasremote.Registry {
	reg, _ := orasremote.NewRegistry(r.host) // the host was validated by Open
	reg.Client = r.client
	reg.PlainHTTP = r.plainHTTP
	return reg
}

// Ping checks the registry answers and accepts the credentials.
func (r *Repo) Ping(ctx context.Context) error {
	if err := r.registry().Ping(ctx); err != nil {
		if isNotFound(err) {
			return &Error{kind: ErrUnreachable, err: err, msg: fmt.Sprintf(
				"registry %s does not serve the OCI distribution API (GET /v2/ answered 404): check the repository URI %s", r.host, r.uri)}
		}
		return r.fail(err, "pinging the registry")
	}
	return nil
}
