// Package repository is Cairn's package manager: the Package API
// (Cosmos-like JSON under /package/, see packageapi), the configured
// package repositories (OCI registry namespaces, through
// repository/remote), and installing packages as apps of the services
// framework, whose labels keep the install state.
//
// The master (cairn master / cairn up) mounts Server.Handler on its HTTP
// endpoint; the kernel does not import this package.
package repository

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cairn-dc/cairn/packaging"
	"github.com/cairn-dc/cairn/repository/packageapi"
	"github.com/cairn-dc/cairn/repository/remote"
)

// MaxRequestBytes bounds a request body.
const MaxRequestBytes = 1 << 20

// DefaultIndexTTL is how long a repository's index is cached for search.
const DefaultIndexTTL = 10 * time.Second

// Config of a Server.
type Config struct {
	// Services is the services framework the packages are installed in
	// (required).
	Services Services
	// Modules is the module host module packages are installed on (nil:
	// installing one answers that this master has no module host).
	Modules Modules
	// Platform is the module host's platform, for which module binaries
	// are picked (default: this process's, "linux/amd64").
	Platform string
	// Store keeps the configured repositories (default: in memory, lost
	// at exit; the master passes a KVStore).
	Store Store
	// BuiltIn is the embedded registry's repository: it is added, first
	// (priority 0) and marked BuiltIn, when the store was never written
	// (first start). Users may remove it like any other.
	BuiltIn *packageapi.Repository
	// BuiltInPassword is the password of BuiltIn.Username, if any.
	BuiltInPassword string
	// HTTPClient talks to the registries (default: remote's, with
	// connect and answer timeouts).
	HTTPClient *http.Client
	// Logger (default: discard).
	Logger *slog.Logger
	// IndexTTL is how long repository indexes are cached for search
	// (default DefaultIndexTTL; negative: no cache).
	IndexTTL time.Duration
}

// Server serves the package API. Safe for concurrent use.
type Server struct {
	services Services
	modules  Modules
	platform string
	store    Store
	hc       *http.Client
	log      *slog.Logger
	ttl      time.Duration

	// change serialises repository changes made by this process (the
	// store's revisions guard against other processes).
	change sync.Mutex

	mu      sync.Mutex // guards the fields below
	repos   []StoredRepository
	rev     uint64
	loaded  bool
	opened  map[string]*remote.Repo // by openKey
	indexes map[string]*indexEntry  // by openKey
}

// NewServer loads the configured repositories (adding cfg.BuiltIn on
// first start).
func NewServer(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Services == nil {
		return nil, errors.New("repository: Config.Services is required (the services framework packages are installed in)")
	}
	s := &Server{
		services: cfg.Services,
		modules:  cfg.Modules,
		platform: cmp.Or(cfg.Platform, hostPlatform()),
		store:    cfg.Store,
		hc:       cfg.HTTPClient,
		log:      cfg.Logger,
		ttl:      cfg.IndexTTL,
		opened:   map[string]*remote.Repo{},
		indexes:  map[string]*indexEntry{},
	}
	if s.store == nil {
		s.store = NewMemoryStore()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.ttl == 0 {
		s.ttl = DefaultIndexTTL
	}
	if cfg.BuiltIn != nil {
		b := StoredRepository{Repository: *cfg.BuiltIn, Password: cfg.BuiltInPassword}
		b.BuiltIn, b.Priority = true, 0
		if b.Name == "" {
			b.Name = "builtin"
		}
		if _, err := s.open(b); err != nil {
			return nil, fmt.Errorf("repository: the built-in repository %q: %w", b.Name, err)
		}
		if err := s.addBuiltIn(ctx, b); err != nil {
			return nil, err
		}
	}
	if _, err := s.entries(ctx); err != nil {
		return nil, fmt.Errorf("repository: %w", err)
	}
	return s, nil
}

// addBuiltIn saves the built-in repository if the store was never
// written, and follows the embedded registry when it moved (another
// --registry address): the built-in entry, if the user kept it, gets the
// new URI and credentials.
func (s *Server) addBuiltIn(ctx context.Context, b StoredRepository) error {
	b.URI = canonicalURI(b.URI)
	for attempt := 0; attempt < 3; attempt++ {
		repos, rev, err := s.store.Load(ctx)
		if err != nil {
			return fmt.Errorf("repository: loading the configured repositories: %w", err)
		}
		next := []StoredRepository{b}
		if rev != 0 {
			next = nil
			moved := false
			for _, r := range repos {
				if r.BuiltIn && (r.URI != b.URI || r.Username != b.Username || r.Password != b.Password) {
					r.URI, r.Username, r.Password, r.HasCredentials, r.PlainHTTP = b.URI, b.Username, b.Password, b.HasCredentials, b.PlainHTTP
					moved = true
				}
				next = append(next, r)
			}
			if !moved {
				return nil
			}
		}
		_, err = s.store.Save(ctx, next, rev)
		if err == nil {
			s.log.Info("saved the built-in package repository", "name", b.Name, "uri", b.URI)
			return nil
		}
		if !errors.Is(err, ErrStoreConflict) {
			return fmt.Errorf("repository: saving the built-in repository: %w", err)
		}
	}
	return nil
}

func canonicalURI(uri string) string {
	host, ns, err := remote.ParseURI(uri)
	if err != nil {
		return uri
	}
	if ns == "" {
		return "oci://" + host
	}
	return "oci://" + host + "/" + ns
}

// Handler serves the package API paths (packageapi.Path*).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	handle(s, mux, packageapi.PathSearch, s.search)
	handle(s, mux, packageapi.PathDescribe, s.describe)
	handle(s, mux, packageapi.PathListVersions, s.listVersions)
	handle(s, mux, packageapi.PathRender, s.render)
	handle(s, mux, packageapi.PathInstall, s.install)
	handle(s, mux, packageapi.PathUninstall, s.uninstall)
	handle(s, mux, packageapi.PathList, s.list)
	handle(s, mux, packageapi.PathRepositoryList, s.repositoryList)
	handle(s, mux, packageapi.PathRepositoryAdd, s.repositoryAdd)
	handle(s, mux, packageapi.PathRepositoryDelete, s.repositoryDelete)
	handle(s, mux, packageapi.PathServiceDescribe, s.serviceDescribe)
	handle(s, mux, packageapi.PathServiceUpdate, s.serviceUpdate)
	mux.HandleFunc("/package/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, &apiError{status: http.StatusNotFound, body: packageapi.Error{
			Type:    packageapi.ErrEndpointNotFound,
			Message: fmt.Sprintf("no package API endpoint %s: see %s, %s, %s ...", r.URL.Path, packageapi.PathSearch, packageapi.PathInstall, packageapi.PathList),
		}})
	})
	return mux
}

// handle serves one endpoint: POST only, a bounded, strictly decoded
// JSON request, a JSON answer.
func handle[Req, Resp any](s *Server, mux *http.ServeMux, path string, fn func(context.Context, *Req) (*Resp, error)) {
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			s.writeError(w, r, &apiError{status: http.StatusMethodNotAllowed, body: packageapi.Error{
				Type:    packageapi.ErrMethodNotAllowed,
				Message: fmt.Sprintf("%s %s: the package API takes POST with a JSON body", r.Method, path),
			}})
			return
		}
		req := new(Req)
		if err := decodeRequest(w, r, req); err != nil {
			s.writeError(w, r, err)
			return
		}
		resp, err := fn(r.Context(), req)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, resp)
	})
}

// decodeRequest reads at most MaxRequestBytes of JSON into dst, refusing
// unknown fields and trailing data. An empty body is an empty request.
func decodeRequest(w http.ResponseWriter, r *http.Request, dst any) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{status: http.StatusRequestEntityTooLarge, body: packageapi.Error{
				Type:    packageapi.ErrRequestTooLarge,
				Message: fmt.Sprintf("request body is larger than %d bytes", MaxRequestBytes),
			}}
		}
		return badRequest("reading the request body: %v", err)
	}
	return decodeJSON(data, dst)
}

// decodeJSON decodes a request body strictly; errors name the field.
func decodeJSON(data []byte, dst any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return badRequest("%s", describeDecodeError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("request body: unexpected data after the JSON object: send one JSON object")
	}
	return nil
}

func describeDecodeError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("request body is not valid JSON: %v (at byte %d)", se, se.Offset)
	case errors.As(err, &te):
		if te.Field == "" {
			return fmt.Sprintf("request body: want a JSON object, got %s", te.Value)
		}
		return fmt.Sprintf("request body: field %s: want %s, got %s", te.Field, jsonTypeName(te.Type.String()), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "request body: the JSON ends too early"
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fmt.Sprintf("request body: unknown field %s: check its spelling against the package API", f)
	}
	return "request body: " + strings.TrimPrefix(msg, "json: ")
}

// jsonTypeName names a Go type as the JSON it decodes from.
func jsonTypeName(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "a boolean"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "*int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case strings.HasPrefix(goType, "map"), strings.HasPrefix(goType, "struct"):
		return "an object"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	}
	return goType
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		_ = json.NewEncoder(&buf).Encode(packageapi.Error{Type: packageapi.ErrInternal, Message: "encoding the answer: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// apiError is an error answer: its status and body.
type apiError struct {
	status int
	body   packageapi.Error
	cause  error
}

func (e *apiError) Error() string { return e.body.Message }
func (e *apiError) Unwrap() error { return e.cause }

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, body: packageapi.Error{Type: packageapi.ErrBadRequest, Message: fmt.Sprintf(format, args...)}}
}

func newAPIError(status int, typ string, cause error, format string, args ...any) *apiError {
	return &apiError{status: status, body: packageapi.Error{Type: typ, Message: fmt.Sprintf(format, args...)}, cause: cause}
}

// toAPIError classifies an error into its answer.
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var oe *packaging.OptionsError
	if errors.As(err, &oe) {
		return &apiError{status: http.StatusBadRequest, cause: err, body: packageapi.Error{
			Type: packageapi.ErrOptionsInvalid, Message: err.Error(), Errors: oe.Errors}}
	}
	type kind struct {
		sentinel error
		status   int
		typ      string
	}
	for _, k := range []kind{
		{remote.ErrPackageNotFound, http.StatusNotFound, packageapi.ErrPackageNotFound},
		{remote.ErrVersionNotFound, http.StatusNotFound, packageapi.ErrVersionNotFound},
		{remote.ErrUnauthorized, http.StatusBadGateway, packageapi.ErrUnauthorized},
		{remote.ErrUnreachable, http.StatusBadGateway, packageapi.ErrRepositoryUnreachable},
		{remote.ErrInvalid, http.StatusBadGateway, packageapi.ErrArtifactInvalid},
		{ErrAppNotFound, http.StatusNotFound, packageapi.ErrAppNotFound},
		{ErrAppExists, http.StatusConflict, packageapi.ErrAppAlreadyInstalled},
		{ErrAppInvalid, http.StatusUnprocessableEntity, packageapi.ErrAppInvalid},
		{ErrAppLocked, http.StatusConflict, packageapi.ErrAppLocked},
	} {
		if errors.Is(err, k.sentinel) {
			return &apiError{status: k.status, cause: err, body: packageapi.Error{Type: k.typ, Message: err.Error()}}
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return newAPIError(http.StatusGatewayTimeout, packageapi.ErrInternal, err, "%v", err)
	}
	return newAPIError(http.StatusInternalServerError, packageapi.ErrInternal, err, "%v", err)
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := toAPIError(err)
	if ae.body.Message == "" {
		ae.body.Message = http.StatusText(ae.status)
	}
	level := slog.LevelInfo
	if ae.status >= 500 {
		level = slog.LevelWarn
	}
	if r.Context().Err() == nil {
		s.log.Log(r.Context(), level, "package API request failed", "path", r.URL.Path, "status", ae.status, "type", ae.body.Type, "err", ae.body.Message)
	}
	writeJSON(w, ae.status, ae.body)
}

// servicesError turns a Services failure into its answer: the sentinels
// keep their meaning, anything else is the framework being unavailable.
func servicesError(err error, doing string) error {
	for _, k := range []error{ErrAppNotFound, ErrAppExists, ErrAppInvalid, ErrAppLocked} {
		if errors.Is(err, k) {
			return fmt.Errorf("%s: %w", doing, err)
		}
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", doing, err)
	}
	return newAPIError(http.StatusServiceUnavailable, packageapi.ErrServicesUnavailable, err,
		"%s: the services framework did not answer: %v: check that it runs and is registered with the master", doing, err)
}
