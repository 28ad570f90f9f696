// Package host is the module host: it finds modules (Sources), checks each
// binary's SHA-256, starts it with hashicorp/go-plugin (gRPC only, AutoMTLS),
// health-checks it, restarts it with exponential backoff when it dies,
// streams the cluster to watchers (from the master's operator API, as any
// client reads it), asks hooks before a task launches (BeforeLaunch), and
// serves its status and runtime changes over HTTP (Handler, mounted by the
// master at /v1/modules). See README.md beside this file.
package host

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/modules/host/moduleapi"
	"github.com/cairn-dc/cairn/modules/sdk"
)

// Config configures a Host. Zero durations take the defaults shown.
type Config struct {
	// Logger receives the host's log and its modules' (default
	// slog.Default()).
	Logger *slog.Logger
	// Master is where the host reads the cluster for watchers
	// (NewMasterClient). Nil: watchers wait for a snapshot that never
	// comes, which suits a host of hooks only (on an agent).
	Master MasterReader
	// Sources are the modules configured for this host (read-only), e.g.
	// StaticSource(specs...).
	Sources []Source
	// Store, when set, is read at start as one more source and keeps the
	// modules added and removed at runtime (Add, Remove, POST and DELETE
	// /v1/modules). Without it those answer that modules are configured
	// elsewhere.
	Store *Store
	// HookTimeout bounds each hook's BeforeLaunch (5s).
	HookTimeout time.Duration
	// Backoff is the delay before restarting a module that died.
	Backoff Backoff
	// HealthInterval is how often a running module is pinged (10s);
	// HealthTimeout bounds one ping (5s); after HealthFailures failed pings
	// in a row (3) the module is killed and restarted.
	HealthInterval time.Duration
	HealthTimeout  time.Duration
	HealthFailures int
	// StartTimeout bounds a module's start: handshake, Info and Configure
	// (30s).
	StartTimeout time.Duration
	// Env is added to every module's environment ("NAME=value"). Modules
	// do not inherit the host's environment: they get PATH, HOME, TMPDIR
	// (when set), CAIRN_MODULE_NAME, CAIRN_MODULE_KIND and Env.
	Env []string
	// WatchBuffer is how many events a watcher may fall behind before it
	// is given a fresh snapshot instead (4096).
	WatchBuffer int
}

// Backoff is an exponential restart delay: Initial after the first crash,
// doubling up to Max, back to Initial once a module has run for
// ResetAfter. Defaults: 1s, 30s, 1m.
type Backoff struct {
	Initial    time.Duration
	Max        time.Duration
	ResetAfter time.Duration
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.HookTimeout = cmp.Or(c.HookTimeout, 5*time.Second)
	c.Backoff.Initial = cmp.Or(c.Backoff.Initial, time.Second)
	c.Backoff.Max = max(cmp.Or(c.Backoff.Max, 30*time.Second), c.Backoff.Initial)
	c.Backoff.ResetAfter = cmp.Or(c.Backoff.ResetAfter, time.Minute)
	c.HealthInterval = cmp.Or(c.HealthInterval, 10*time.Second)
	c.HealthTimeout = cmp.Or(c.HealthTimeout, 5*time.Second)
	c.HealthFailures = cmp.Or(c.HealthFailures, 3)
	c.StartTimeout = cmp.Or(c.StartTimeout, 30*time.Second)
	c.WatchBuffer = cmp.Or(c.WatchBuffer, 4096)
}

// Errors of Add, Remove and Get, which the HTTP API maps to statuses.
var (
	// ErrNotFound: no module has that name (404).
	ErrNotFound = errors.New("no such module")
	// ErrConflict: the module is configured elsewhere than the store (409).
	ErrConflict = errors.New("module configured elsewhere")
	// ErrInvalid: the spec is wrong, or its binary does not match (400).
	ErrInvalid = errors.New("invalid module")
	// ErrNoStore: the host keeps no runtime modules (501).
	ErrNoStore = errors.New("no module store")
	// ErrNotRunning: the host is not running (503).
	ErrNotRunning = errors.New("module host not running")
)

// Host runs modules. Create it with New, run it with Run; its methods are
// safe for concurrent use.
type Host struct {
	cfg     Config
	log     *slog.Logger
	cluster *cluster

	opMu sync.Mutex // serialises Run's start, Add and Remove

	mu      sync.Mutex
	runCtx  context.Context // while Run runs
	stopped bool
	modules map[string]*module
}

// module is one configured module and its supervisor.
type module struct {
	spec   moduleapi.Spec
	source string
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{} // closed when the supervisor has stopped it

	mu     sync.Mutex
	status moduleapi.Status
	client *sdk.Client // while running
}

// New checks cfg and returns a Host; Run starts it.
func New(cfg Config) (*Host, error) {
	cfg.setDefaults()
	if cfg.HealthTimeout > cfg.HealthInterval {
		return nil, fmt.Errorf("module host: HealthTimeout %s is longer than HealthInterval %s: make it shorter", cfg.HealthTimeout, cfg.HealthInterval)
	}
	for i, s := range cfg.Sources {
		if s == nil {
			return nil, fmt.Errorf("module host: Sources[%d] is nil", i)
		}
	}
	log := cfg.Logger.With("component", "modules")
	return &Host{cfg: cfg, log: log, cluster: newCluster(log, cfg.WatchBuffer), modules: map[string]*module{}}, nil
}

// sources are the configured sources and the store.
func (h *Host) sources() []Source {
	out := slices.Clone(h.cfg.Sources)
	if h.cfg.Store != nil {
		out = append(out, h.cfg.Store)
	}
	return out
}

// Run reads the sources, starts every module, follows the master for the
// watchers, and keeps the modules running until ctx ends; then it stops
// them all and returns nil. A source that cannot be read, an invalid spec
// or a name used twice is an error (nothing is started).
func (h *Host) Run(ctx context.Context) error {
	h.opMu.Lock()
	type entry struct {
		spec   moduleapi.Spec
		source string
	}
	var all []entry
	where := map[string]string{}
	for _, src := range h.sources() {
		specs, err := src.Modules(ctx)
		if err != nil {
			h.opMu.Unlock()
			return fmt.Errorf("module host: reading the %s modules: %w", src.Name(), err)
		}
		for _, s := range specs {
			n, err := s.Normalize()
			if err != nil {
				h.opMu.Unlock()
				return fmt.Errorf("module host: %s modules: %w", src.Name(), err)
			}
			if other, dup := where[n.Name]; dup {
				h.opMu.Unlock()
				return fmt.Errorf("module host: module %s is configured twice (%s and %s): remove one", n.Name, other, src.Name())
			}
			where[n.Name] = src.Name()
			all = append(all, entry{n, src.Name()})
		}
	}
	h.mu.Lock()
	if h.runCtx != nil || h.stopped {
		h.mu.Unlock()
		h.opMu.Unlock()
		return errors.New("module host: Run was called twice: a Host runs once")
	}
	h.runCtx = ctx
	for _, e := range all {
		h.startLocked(ctx, e.spec, e.source)
	}
	h.mu.Unlock()
	h.opMu.Unlock()
	h.log.Info("module host started", "modules", len(all))

	var feed sync.WaitGroup
	if h.cfg.Master != nil {
		feed.Go(func() { h.follow(ctx) })
	}
	<-ctx.Done()

	h.opMu.Lock()
	h.mu.Lock()
	h.stopped = true
	h.runCtx = nil
	mods := slices.Collect(maps.Values(h.modules))
	h.mu.Unlock()
	h.opMu.Unlock()
	for _, m := range mods {
		m.cancel()
	}
	for _, m := range mods {
		<-m.done
	}
	feed.Wait()
	h.log.Info("module host stopped")
	return nil
}

// startLocked creates the module and starts its supervisor.
func (h *Host) startLocked(ctx context.Context, spec moduleapi.Spec, source string) *module {
	mctx, cancel := context.WithCancel(ctx)
	m := &module{spec: spec, source: source, cancel: cancel, done: make(chan struct{}),
		log: h.cfg.Logger.With("module", spec.Name),
		status: moduleapi.Status{Name: spec.Name, Kind: spec.Kind, Path: spec.Path, SHA256: spec.SHA256,
			Source: source, Package: spec.Package, State: moduleapi.Starting}}
	if spec.Package != nil {
		m.status.Source = moduleapi.SourcePackage
	}
	h.modules[spec.Name] = m
	go h.supervise(mctx, m)
	return m
}

// follow reads the master's event stream into the cluster view,
// reconnecting with backoff.
func (h *Host) follow(ctx context.Context) {
	delay := h.cfg.Backoff.Initial
	for {
		got := false
		err := h.cfg.Master.Events(ctx, func(ev protocol.ClusterEvent) error {
			got = true
			if ev.Type == protocol.EvSubscribed && ev.State == nil {
				st, err := h.cfg.Master.State(ctx)
				if err != nil {
					return fmt.Errorf("reading the master's state: %w", err)
				}
				ev.State = &st
			}
			h.cluster.apply(ev)
			return nil
		})
		if ctx.Err() != nil {
			return
		}
		if got {
			delay = h.cfg.Backoff.Initial
		}
		h.log.Warn("lost the master's event stream: reconnecting", "err", err, "in", delay)
		if !sleep(ctx, delay) {
			return
		}
		delay = min(2*delay, h.cfg.Backoff.Max)
	}
}

// sleep waits d or until ctx ends (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// List is every module's status, by name.
func (h *Host) List() []moduleapi.Status {
	h.mu.Lock()
	mods := slices.Collect(maps.Values(h.modules))
	h.mu.Unlock()
	out := make([]moduleapi.Status, 0, len(mods))
	for _, m := range mods {
		out = append(out, m.getStatus())
	}
	slices.SortFunc(out, func(a, b moduleapi.Status) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Get is one module's status; the error wraps ErrNotFound.
func (h *Host) Get(name string) (moduleapi.Status, error) {
	h.mu.Lock()
	m := h.modules[name]
	h.mu.Unlock()
	if m == nil {
		return moduleapi.Status{}, fmt.Errorf("%w: there is no module named %q (see GET /v1/modules)", ErrNotFound, name)
	}
	return m.getStatus(), nil
}

// Snapshot is the cluster as the host knows it; ok is false until the
// master's first snapshot arrived.
func (h *Host) Snapshot() (snap sdk.Snapshot, ok bool) { return h.cluster.snapshot() }

// Add adds a module at runtime, or replaces one added earlier (replaced is
// then true): it checks the spec and the binary's checksum, saves the spec
// in the Store, and starts the module (stopping the one it replaces
// first). It returns the new module's status. Nothing changes on error.
func (h *Host) Add(ctx context.Context, spec moduleapi.Spec) (st moduleapi.Status, replaced bool, err error) {
	if h.cfg.Store == nil {
		return st, false, h.noStoreError()
	}
	spec, err = spec.Normalize()
	if err != nil {
		return st, false, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := verifyBinary(spec.Path, spec.SHA256); err != nil {
		return st, false, fmt.Errorf("%w: module %s: %w", ErrInvalid, spec.Name, err)
	}
	h.opMu.Lock()
	defer h.opMu.Unlock()
	h.mu.Lock()
	runCtx, old := h.runCtx, h.modules[spec.Name]
	h.mu.Unlock()
	if runCtx == nil {
		return st, false, fmt.Errorf("%w: the module host is starting or stopping: retry shortly", ErrNotRunning)
	}
	if old != nil && old.source != SourceAPI {
		return st, false, fmt.Errorf("%w: module %s comes from the host's %s: change it there, or add this one under another name", ErrConflict, spec.Name, old.source)
	}
	if err := h.cfg.Store.Put(ctx, spec); err != nil {
		return st, false, err
	}
	if old != nil {
		old.cancel()
		<-old.done
	}
	h.mu.Lock()
	m := h.startLocked(runCtx, spec, SourceAPI)
	h.mu.Unlock()
	h.log.Info("module added", "module", spec.Name, "kind", spec.Kind, "path", spec.Path, "replaced", old != nil)
	return m.getStatus(), old != nil, nil
}

// Remove stops a module added at runtime and forgets it. It returns the
// module's last status.
func (h *Host) Remove(ctx context.Context, name string) (moduleapi.Status, error) {
	if h.cfg.Store == nil {
		return moduleapi.Status{}, h.noStoreError()
	}
	h.opMu.Lock()
	defer h.opMu.Unlock()
	h.mu.Lock()
	running, m := h.runCtx != nil, h.modules[name]
	h.mu.Unlock()
	if !running {
		return moduleapi.Status{}, fmt.Errorf("%w: the module host is starting or stopping: retry shortly", ErrNotRunning)
	}
	if m == nil {
		return moduleapi.Status{}, fmt.Errorf("%w: there is no module named %q (see GET /v1/modules)", ErrNotFound, name)
	}
	if m.source != SourceAPI {
		return moduleapi.Status{}, fmt.Errorf("%w: module %s comes from the host's %s: remove it there", ErrConflict, name, m.source)
	}
	if _, err := h.cfg.Store.Delete(ctx, name); err != nil {
		return moduleapi.Status{}, err
	}
	m.cancel()
	<-m.done
	h.mu.Lock()
	if h.modules[name] == m {
		delete(h.modules, name)
	}
	h.mu.Unlock()
	h.log.Info("module removed", "module", name)
	return m.getStatus(), nil
}

func (h *Host) noStoreError() error {
	var names []string
	for _, s := range h.cfg.Sources {
		names = append(names, s.Name())
	}
	where := "the host's configuration"
	if len(names) > 0 {
		where = "the host's " + strings.Join(names, ", ")
	}
	return fmt.Errorf("%w: modules are configured in %s on this host; give the host a module store file to add and remove modules at runtime", ErrNoStore, where)
}

// BeforeLaunch asks every running hook module, in name order, for its
// changes to a task about to launch; each sees the task with the earlier
// hooks' changes, and gets HookTimeout. env and labels are the changes to
// apply (later hooks win over earlier ones). err, when not nil, names every
// hook that failed, timed out or is not running; the changes of the others
// are returned all the same, so the caller (the agent) decides whether to
// launch the task.
func (h *Host) BeforeLaunch(ctx context.Context, task sdk.TaskLaunchInfo) (env, labels map[string]string, err error) {
	h.mu.Lock()
	var hooks []*module
	for _, m := range h.modules {
		if m.spec.Kind == moduleapi.KindHook {
			hooks = append(hooks, m)
		}
	}
	h.mu.Unlock()
	slices.SortFunc(hooks, func(a, b *module) int { return cmp.Compare(a.spec.Name, b.spec.Name) })
	env, labels = map[string]string{}, map[string]string{}
	task.Env, task.Labels = maps.Clone(task.Env), maps.Clone(task.Labels)
	if task.Env == nil {
		task.Env = map[string]string{}
	}
	if task.Labels == nil {
		task.Labels = map[string]string{}
	}
	var errs []error
	for _, m := range hooks {
		client, st := m.runningClient()
		if client == nil {
			msg := fmt.Sprintf("hook module %s is not running (%s)", m.spec.Name, st.State)
			if st.LastError != "" {
				msg += ": " + st.LastError
			}
			errs = append(errs, errors.New(msg))
			continue
		}
		hctx, cancel := context.WithTimeout(ctx, h.cfg.HookTimeout)
		ch, err := client.BeforeLaunch(hctx, task)
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				err = fmt.Errorf("no answer within %s: %w", h.cfg.HookTimeout, err)
			}
			errs = append(errs, fmt.Errorf("hook module %s: %w", m.spec.Name, err))
			continue
		}
		if err := checkChanges(ch); err != nil {
			errs = append(errs, fmt.Errorf("hook module %s: %w (none of its changes were applied)", m.spec.Name, err))
			continue
		}
		for k, v := range ch.Env {
			env[k], task.Env[k] = v, v
		}
		for k, v := range ch.Labels {
			labels[k], task.Labels[k] = v, v
		}
	}
	if len(errs) > 0 {
		return env, labels, fmt.Errorf("before launching task %s: %w", task.TaskID, errors.Join(errs...))
	}
	return env, labels, nil
}

// checkChanges refuses environment names a process cannot have.
func checkChanges(ch sdk.LaunchChanges) error {
	for k, v := range ch.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return fmt.Errorf("environment variable %q is not valid (a name may not be empty or hold '=' or NUL)", k)
		}
	}
	for k := range ch.Labels {
		if k == "" {
			return errors.New("a label has an empty name")
		}
	}
	return nil
}

// moduleEnv is a module's environment, before go-plugin's variables.
func (h *Host) moduleEnv(m *module) []string {
	env := []string{"PATH=" + cmp.Or(os.Getenv("PATH"), "/usr/local/bin:/usr/bin:/bin")}
	for _, k := range []string{"HOME", "TMPDIR"} {
		if v := os.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	env = append(env, "CAIRN_MODULE_NAME="+m.spec.Name, "CAIRN_MODULE_KIND="+m.spec.Kind)
	return append(env, h.cfg.Env...)
}

// ---- a module's status ----

func (m *module) getStatus() moduleapi.Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.status
	if st.StartedAt != nil {
		t := *st.StartedAt
		st.StartedAt = &t
	}
	if st.NextStart != nil {
		t := *st.NextStart
		st.NextStart = &t
	}
	return st
}

func (m *module) runningClient() (*sdk.Client, moduleapi.Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.client, m.status
}

func (m *module) update(f func(st *moduleapi.Status)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(&m.status)
}

func (m *module) setRunning(pid int, at time.Time, sdkVersion string, client *sdk.Client) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.client = client
	m.status.State, m.status.PID, m.status.StartedAt, m.status.NextStart = moduleapi.Running, pid, &at, nil
	m.status.SDKVersion = sdkVersion
}

func (m *module) clearClient() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.client = nil
}

// setDown records that the module is not running, in state, because of err.
func (m *module) setDown(state moduleapi.State, err error, next *time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.client = nil
	m.status.State, m.status.PID, m.status.StartedAt, m.status.NextStart = state, 0, nil, next
	if err != nil {
		m.status.LastError = err.Error()
	}
}

// moduleHost is the sdk.Host the host serves to one module.
type moduleHost struct {
	cluster *cluster
	log     *slog.Logger
}

func (mh moduleHost) Log(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) error {
	mh.log.LogAttrs(ctx, level, msg, attrs...)
	return nil
}

func (mh moduleHost) Snapshot(context.Context) (sdk.Snapshot, error) {
	snap, ok := mh.cluster.snapshot()
	if !ok {
		return sdk.Snapshot{}, errors.New("the module host has no cluster state yet (it is connecting to the master): retry shortly")
	}
	return snap, nil
}
