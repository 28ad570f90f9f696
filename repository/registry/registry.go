// Package registry is Cairn's embedded OCI registry: CNCF distribution v3
// used as a library, storing content on the local filesystem, served on a
// listener of our own (no signal handling, no global HTTP server).
//
// It speaks the OCI distribution API (/v2/...) including tag listing, the
// catalog and deletes (so a tag can be moved and a manifest replaced). It
// has no Referrers API: oras-go falls back to the referrers tag schema
// ("sha256-<hex>" tags), which version listings must filter out.
//
// Authentication is optional HTTP basic auth (Config.Users) checked by a
// small middleware in front of distribution; without TLS it is only as
// private as the network it listens on, so keep it on loopback or behind a
// TLS proxy.
package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"

	// The only storage driver Cairn uses; importing it registers it.
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

// DefaultAddr is where the registry listens unless told otherwise: a free
// port on loopback.
const DefaultAddr = "127.0.0.1:0"

// Realm is the basic-auth realm announced in WWW-Authenticate.
const Realm = "cairn"

// Config of an embedded registry.
type Config struct {
	// Addr is the TCP listen address (default DefaultAddr).
	Addr string
	// RootDir holds the registry's content (created if missing, mode
	// 0700). Its layout is distribution's: RootDir/docker/registry/v2/...
	RootDir string
	// Users maps basic-auth user names to their passwords. Empty: no
	// authentication, anyone who can connect may pull and push.
	Users map[string]string
	// ReadOnly refuses pushes and deletes (pulls still work).
	ReadOnly bool
	// Logger receives distribution's warnings and errors (default
	// slog.Default()). Its request logs are dropped.
	Logger *slog.Logger
}

// Registry is a running embedded registry.
type Registry struct {
	addr    string
	rootDir string
	log     *slog.Logger
	app     *handlers.App
	handler http.Handler
	srv     *http.Server
	conns   *connTracker
	served  chan struct{} // closed when Serve returns

	closeOnce sync.Once
	closeErr  error
}

// Start configures the registry, listens and serves in the background. It
// returns once the listener is bound: Addr is then reachable. ctx bounds
// only the start; the registry runs until Close.
func Start(ctx context.Context, cfg Config) (*Registry, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start the registry: %w", err)
	}
	if cfg.RootDir == "" {
		return nil, errors.New("start the registry: Config.RootDir is empty: give it a directory to store content in")
	}
	root, err := filepath.Abs(cfg.RootDir)
	if err != nil {
		return nil, fmt.Errorf("start the registry: storage directory %q: %w", cfg.RootDir, err)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("start the registry: create its storage directory: %w (check the data directory's permissions)", err)
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	for u := range cfg.Users {
		if u == "" {
			return nil, errors.New("start the registry: Config.Users has an empty user name: name every user")
		}
	}
	log := cfg.Logger.With("component", "registry")
	routeLogrus(log)

	dcfg, err := distributionConfig(root, cfg)
	if err != nil {
		return nil, err
	}
	app, err := newApp(context.WithoutCancel(ctx), dcfg)
	if err != nil {
		return nil, err
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		app.Shutdown()
		return nil, fmt.Errorf("start the registry: listen on %s: %w (choose another address or free the port)", cfg.Addr, err)
	}

	r := &Registry{
		addr:    ln.Addr().String(),
		rootDir: root,
		log:     log,
		app:     app,
		conns:   &connTracker{conns: map[net.Conn]http.ConnState{}},
		served:  make(chan struct{}),
	}
	var h http.Handler = app
	if len(cfg.Users) > 0 {
		h = basicAuth(cfg.Users, h)
	}
	r.handler = h
	r.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		ConnState:         r.conns.track,
	}
	go func() {
		defer close(r.served)
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("registry stopped serving", "addr", r.addr, "err", err)
		}
	}()
	log.Info("registry listening", "addr", r.addr, "root", root, "auth", len(cfg.Users) > 0, "readOnly", cfg.ReadOnly)
	return r, nil
}

// Addr is the address the registry listens on ("127.0.0.1:41234"), to
// use as the host of references ("127.0.0.1:41234/cairn/hello:1.0.0").
func (r *Registry) Addr() string { return r.addr }

// RootDir is the absolute storage directory.
func (r *Registry) RootDir() string { return r.rootDir }

// Handler is the registry's HTTP handler (authentication included), for
// serving it on another server too, or in tests.
func (r *Registry) Handler() http.Handler { return r.handler }

// Close stops accepting connections, waits for requests in flight until
// ctx is done (then drops them), and releases distribution's resources. It
// may be called more than once.
func (r *Registry) Close(ctx context.Context) error {
	r.closeOnce.Do(func() {
		r.conns.closeNew()
		err := r.srv.Shutdown(ctx)
		if err != nil {
			r.srv.Close()
			err = fmt.Errorf("stop the registry: requests in flight were dropped: %w", err)
		}
		<-r.served
		if aerr := r.app.Shutdown(); aerr != nil && err == nil {
			err = fmt.Errorf("stop the registry: %w", aerr)
		}
		r.closeErr = err
		r.log.Info("registry stopped", "addr", r.addr)
	})
	return r.closeErr
}

// connTracker lets Close drop connections that never sent a request:
// http.Server.Shutdown waits 5 s before it counts those as idle, and HTTP
// clients leave such spare connections behind routinely.
type connTracker struct {
	mu      sync.Mutex
	closing bool
	conns   map[net.Conn]http.ConnState
}

func (t *connTracker) track(c net.Conn, s http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch s {
	case http.StateNew:
		if t.closing {
			c.Close()
			return
		}
		t.conns[c] = s
	case http.StateActive, http.StateIdle:
		t.conns[c] = s
	default: // hijacked, closed
		delete(t.conns, c)
	}
}

// closeNew closes the connections without a request yet, and any new one.
func (t *connTracker) closeNew() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closing = true
	for c, s := range t.conns {
		if s == http.StateNew {
			c.Close()
		}
	}
}

// distributionConfig builds distribution's configuration. It goes through
// configuration.Parse (JSON is YAML) so that its defaults and conversions
// apply exactly as for a registry config file. Note that Parse also
// applies REGISTRY_* environment variables (distribution's own
// overrides); the storage settings are checked afterwards so those cannot
// silently move Cairn's content elsewhere.
func distributionConfig(root string, cfg Config) (*configuration.Configuration, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("start the registry: generate its upload secret: %w", err)
	}
	doc := map[string]any{
		"version": "0.1",
		"log": map[string]any{
			"level":     "warn",
			"accesslog": map[string]any{"disabled": true},
		},
		"storage": map[string]any{
			"filesystem": map[string]any{"rootdirectory": root},
			"delete":     map[string]any{"enabled": true},
			"redirect":   map[string]any{"disable": true},
			"maintenance": map[string]any{
				"uploadpurging": map[string]any{
					"enabled": true, "age": "168h", "interval": "24h", "dryrun": false,
				},
				"readonly": map[string]any{"enabled": cfg.ReadOnly},
			},
		},
		"http": map[string]any{
			// Only used for building absolute URLs when relativeurls is
			// off; requests carry the real Host, so this is informative.
			"addr":   cfg.Addr,
			"secret": hex.EncodeToString(secret),
		},
		"health": map[string]any{
			"storagedriver": map[string]any{"enabled": false},
		},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("start the registry: encode its configuration: %w", err)
	}
	dcfg, err := configuration.Parse(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("start the registry: configuration rejected: %w (check REGISTRY_* environment variables, which override it)", err)
	}
	if t := dcfg.Storage.Type(); t != "filesystem" {
		return nil, fmt.Errorf("start the registry: storage driver is %q, not filesystem: unset the REGISTRY_STORAGE* environment variables", t)
	}
	if rd, _ := dcfg.Storage.Parameters()["rootdirectory"].(string); rd != root {
		return nil, fmt.Errorf("start the registry: storage directory is %q, not %q: unset REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY", rd, root)
	}
	return dcfg, nil
}

// newApp is handlers.NewApp, which panics on configuration errors.
func newApp(ctx context.Context, cfg *configuration.Configuration) (app *handlers.App, err error) {
	defer func() {
		if p := recover(); p != nil {
			app, err = nil, fmt.Errorf("start the registry: %v (check the storage directory and REGISTRY_* environment variables)", p)
		}
	}()
	return handlers.NewApp(ctx, cfg), nil
}

// basicAuth checks HTTP basic credentials against users before next. It
// keeps only the passwords' SHA-256 and compares in constant time (bcrypt,
// as in distribution's htpasswd controller, would cost ~50 ms per request:
// clients send basic credentials with every request).
func basicAuth(users map[string]string, next http.Handler) http.Handler {
	sums := make(map[string][sha256.Size]byte, len(users))
	for u, p := range users {
		sums[u] = sha256.Sum256([]byte(p))
	}
	challenge := fmt.Sprintf("Basic realm=%q", Realm)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		user, pass, ok := req.BasicAuth()
		if ok {
			want, known := sums[user]
			got := sha256.Sum256([]byte(pass))
			if subtle.ConstantTimeCompare(want[:], got[:]) == 1 && known {
				next.ServeHTTP(w, req)
				return
			}
		}
		// Reply as distribution does: its JSON error body and API header.
		w.Header().Set("WWW-Authenticate", challenge)
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		msg := "authentication required"
		if ok {
			msg = "invalid user name or password"
		}
		json.NewEncoder(w).Encode(map[string]any{
			"errors": []map[string]string{{"code": "UNAUTHORIZED", "message": msg}},
		})
	})
}
