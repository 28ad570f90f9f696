package repository

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content/memory"

	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/packaging"
	"github.com/cairn-dc/cairn/repository/packageapi"
	"github.com/cairn-dc/cairn/repository/registry"
	"github.com/cairn-dc/cairn/repository/remote"
)

const packagesDir = "testdata/packages"

func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// startRegistry runs an embedded registry on a free loopback port and
// returns its address.
func startRegistry(t testing.TB, users map[string]string) string {
	t.Helper()
	r, err := registry.Start(testContext(t), registry.Config{
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

// pushPackages builds testdata packages and pushes them to uri.
func pushPackages(t testing.TB, cfg remote.Config, dirs ...string) map[string]ocispec.Descriptor {
	t.Helper()
	ctx := testContext(t)
	r, err := remote.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]ocispec.Descriptor{}
	for _, dir := range dirs {
		fsys := os.DirFS(filepath.Join(packagesDir, dir))
		pkg, err := packaging.Load(fsys)
		if err != nil {
			t.Fatalf("load %s: %v", dir, err)
		}
		store := memory.New()
		desc, err := packaging.Build(ctx, pkg, fsys, store, packaging.BuildOptions{})
		if err != nil {
			t.Fatalf("build %s: %v", dir, err)
		}
		if err := r.Push(ctx, store, desc, nil); err != nil {
			t.Fatalf("push %s: %v", dir, err)
		}
		out[dir] = desc
	}
	return out
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// fakeServices is an in-memory services framework.
type fakeServices struct {
	mu      sync.Mutex
	apps    map[string]marathon.AppStatus
	defs    map[string]json.RawMessage
	deploys int
	fail    error // every call fails with it
	calls   []string
}

func newFakeServices() *fakeServices {
	return &fakeServices{apps: map[string]marathon.AppStatus{}, defs: map[string]json.RawMessage{}}
}

func (f *fakeServices) record(call string) error {
	f.calls = append(f.calls, call)
	return f.fail
}

func (f *fakeServices) Apps(ctx context.Context, selector string) ([]marathon.AppStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("apps " + selector); err != nil {
		return nil, err
	}
	key, value, eq := strings.Cut(selector, "==")
	out := []marathon.AppStatus{}
	for _, a := range f.apps {
		v, ok := a.Labels[key]
		if ok && (!eq || v == value) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (f *fakeServices) App(ctx context.Context, id string) (marathon.AppStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("app " + id); err != nil {
		return marathon.AppStatus{}, err
	}
	a, ok := f.apps[id]
	if !ok {
		return a, fmt.Errorf("GET /v2/apps%s: 404: %w", id, ErrAppNotFound)
	}
	return a, nil
}

func (f *fakeServices) put(def json.RawMessage) (marathon.App, error) {
	app, _, err := marathon.ParseApp(def)
	if err != nil {
		return app, fmt.Errorf("%w: %v", ErrAppInvalid, err)
	}
	return app, nil
}

func (f *fakeServices) status(app marathon.App) marathon.AppStatus {
	st := marathon.AppStatus{App: app}
	if app.Instances != nil {
		st.TasksRunning = *app.Instances
		st.TasksHealthy = *app.Instances
	}
	return st
}

func (f *fakeServices) CreateApp(ctx context.Context, def json.RawMessage) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("create"); err != nil {
		return "", err
	}
	app, err := f.put(def)
	if err != nil {
		return "", err
	}
	if _, ok := f.apps[app.ID]; ok {
		return "", fmt.Errorf("app %s: %w", app.ID, ErrAppExists)
	}
	f.apps[app.ID] = f.status(app)
	f.defs[app.ID] = bytes.Clone(def)
	f.deploys++
	return fmt.Sprintf("dep-%d", f.deploys), nil
}

func (f *fakeServices) UpdateApp(ctx context.Context, id string, def json.RawMessage) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("update " + id); err != nil {
		return "", err
	}
	if _, ok := f.apps[id]; !ok {
		return "", fmt.Errorf("app %s: %w", id, ErrAppNotFound)
	}
	app, err := f.put(def)
	if err != nil {
		return "", err
	}
	if app.ID != id {
		return "", fmt.Errorf("%w: id %s in the body of PUT %s", ErrAppInvalid, app.ID, id)
	}
	f.apps[id] = f.status(app)
	f.defs[id] = bytes.Clone(def)
	f.deploys++
	return fmt.Sprintf("dep-%d", f.deploys), nil
}

func (f *fakeServices) DeleteApp(ctx context.Context, id string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("delete " + id); err != nil {
		return "", err
	}
	if _, ok := f.apps[id]; !ok {
		return "", fmt.Errorf("app %s: %w", id, ErrAppNotFound)
	}
	delete(f.apps, id)
	delete(f.defs, id)
	f.deploys++
	return fmt.Sprintf("dep-%d", f.deploys), nil
}

// add puts an app not installed from a package.
func (f *fakeServices) add(app marathon.App) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.apps[app.ID] = f.status(app)
}

func (f *fakeServices) app(id string) (marathon.AppStatus, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.apps[id]
	return a, ok
}

func (f *fakeServices) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.apps)
}

func (f *fakeServices) setFail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
}

// env is a package API server over an embedded registry holding the
// testdata packages (hello 1.0.0, 1.1.0, 2.0.0 and greeter 0.1.0) in its
// built-in repository oci://<addr>/cairn.
type env struct {
	t       testing.TB
	addr    string
	uri     string
	digests map[string]ocispec.Descriptor
	svc     *fakeServices
	store   Store
	srv     *Server
	h       http.Handler
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, addr: startRegistry(t, nil), svc: newFakeServices(), store: NewMemoryStore()}
	e.uri = "oci://" + e.addr + "/cairn"
	e.digests = pushPackages(t, remote.Config{URI: e.uri}, "hello-1.0.0", "hello-1.1.0", "hello-2.0.0", "greeter-0.1.0")
	e.start()
	return e
}

func (e *env) start() {
	e.t.Helper()
	srv, err := NewServer(testContext(e.t), Config{
		Services: e.svc,
		Store:    e.store,
		BuiltIn:  &packageapi.Repository{Name: "builtin", URI: e.uri},
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		e.t.Fatalf("NewServer: %v", err)
	}
	e.srv, e.h = srv, srv.Handler()
}

// call POSTs req (JSON-encoded unless it is a string or []byte) to path
// and decodes a 200 answer into resp; it returns the status and the
// error body of a non-200 answer.
func (e *env) call(path string, req, resp any) (int, *packageapi.Error) {
	e.t.Helper()
	return call(e.t, e.h, http.MethodPost, path, req, resp)
}

func call(t testing.TB, h http.Handler, method, path string, req, resp any) (int, *packageapi.Error) {
	t.Helper()
	var body []byte
	switch r := req.(type) {
	case nil:
	case string:
		body = []byte(r)
	case []byte:
		body = r
	default:
		var err error
		if body, err = json.Marshal(req); err != nil {
			t.Fatal(err)
		}
	}
	rec := httptest.NewRecorder()
	hr := httptest.NewRequestWithContext(testContext(t), method, path, bytes.NewReader(body))
	h.ServeHTTP(rec, hr)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	if rec.Code != http.StatusOK {
		var ae packageapi.Error
		if err := json.Unmarshal(rec.Body.Bytes(), &ae); err != nil {
			t.Fatalf("%s %s: %d with a body that is not an Error: %s", method, path, rec.Code, rec.Body)
		}
		if ae.Type == "" || ae.Message == "" {
			t.Fatalf("%s %s: %d with an incomplete Error: %s", method, path, rec.Code, rec.Body)
		}
		return rec.Code, &ae
	}
	if resp != nil {
		dec := json.NewDecoder(rec.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(resp); err != nil {
			t.Fatalf("%s %s: decoding the answer: %v", method, path, err)
		}
	}
	return rec.Code, nil
}

// mustCall is call expecting 200.
func (e *env) mustCall(path string, req, resp any) {
	e.t.Helper()
	if status, ae := e.call(path, req, resp); ae != nil {
		e.t.Fatalf("POST %s: %d %s: %s", path, status, ae.Type, ae.Message)
	}
}

// wantError is call expecting an error of that status and type.
func (e *env) wantError(path string, req any, status int, typ string) *packageapi.Error {
	e.t.Helper()
	got, ae := e.call(path, req, nil)
	if ae == nil {
		e.t.Fatalf("POST %s %v: 200, want %d %s", path, req, status, typ)
	}
	if got != status || ae.Type != typ {
		e.t.Fatalf("POST %s %v: %d %s (%s), want %d %s", path, req, got, ae.Type, ae.Message, status, typ)
	}
	return ae
}
