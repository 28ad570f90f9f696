// Package agent is the Cairn agent: the daemon on every machine that
// advertises the machine's resources to the master, runs tasks in sandboxes
// under a per-agent supervisor (cgroups where the machine allows), runs
// their health checks, fetches their URIs, and reports their states through
// the JetStream update stream, checkpointing everything under its work dir
// so a restarted agent picks up where it left off.
//
// Concurrency: one loop goroutine owns the agent's state (tasks, master
// registration); NATS callbacks, launch goroutines, health checkers and the
// supervisor's exit feed only post closures to it.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairn-dc/cairn/kernel/containerizer/cgroups"
	"github.com/cairn-dc/cairn/kernel/containerizer/fetcher"
	"github.com/cairn-dc/cairn/kernel/containerizer/supervisor"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// Config configures an agent.
type Config struct {
	// Conn is the agent's NATS connection (JetStream enabled on the server).
	Conn *nats.Conn
	// WorkDir holds checkpoints (meta/), sandboxes (sandboxes/), the fetch
	// cache (fetch-cache/) and the supervisor's files (meta/supervisor/).
	WorkDir string
	// Hostname is the agent's unique name (default: the machine's);
	// Address is where its tasks are reached (default: the hostname's
	// first address, else 127.0.0.1).
	Hostname string
	Address  string
	// Resources override detection entry by entry (cpus, mem, disk, ports
	// ... from the host otherwise, see DetectResources).
	Resources  resources.Resources
	Attributes resources.Attributes
	// HTTPAddr serves the agent API (e.g. "127.0.0.1:5051"); empty: none.
	HTTPAddr string
	// Token, when set, is required as a bearer token by the agent API.
	Token string
	// SupervisorCommand is the argv that runs the supervisor for a dir and
	// cgroup parent ("" when tasks run without cgroups); cmd/cairn gives
	// [exe, "supervisor", "--dir", dir, "--cgroup-parent", parent].
	SupervisorCommand func(dir, cgroupParent string) []string
	// Isolation: "auto" (cgroups when the machine allows, else plain
	// processes with a warning), "cgroups" (required), "none".
	Isolation string
	// CPUHardLimit caps a task's CPU at its cpus with CFS quota (default
	// true via NewConfig semantics: the zero value of DisableCPUHardLimit).
	DisableCPUHardLimit bool
	// DefaultKillGrace is the SIGTERM→SIGKILL grace when a task gives none (5s).
	DefaultKillGrace time.Duration
	// TaskEnv is added to every task's environment (after Cairn's own
	// variables, before the command's): where the cluster is, e.g.
	// CAIRN_URL and CAIRN_NATS_URL, so a framework run as a task finds it.
	TaskEnv map[string]string
	// LaunchHook, when set, is asked before every task starts and may add
	// environment variables and labels to it (cmd/cairn gives the module
	// host's hook modules). The labels ride on the task's status updates
	// (TaskStatus.Labels) and the master adds them to the task's. Its
	// error is logged and the task starts with what it returned: a broken
	// hook must not stop every launch.
	LaunchHook LaunchHook
	// GCDelay keeps the sandboxes of ended tasks this long (default 1 week);
	// GCDiskHeadroom removes older ones first when the work dir's disk is
	// fuller than 1-headroom (default 0.1).
	GCDelay        time.Duration
	GCDiskHeadroom float64
	// FetchCacheBytes bounds the fetcher's cache (default 2 GiB).
	FetchCacheBytes int64
	// RequestTimeout bounds register/ping requests (default 5s).
	RequestTimeout time.Duration
	// UsageInterval is how often tasks' resource usage is collected and
	// sent to the master with a ping (default 10s).
	UsageInterval time.Duration
	Version       string
	Logger        *slog.Logger
}

// Agent is a running agent.
type Agent struct {
	cfg   Config
	log   *slog.Logger
	id    protocol.AgentID
	info  protocol.AgentInfo
	js    jetstream.JetStream
	cg    cgroups.Manager
	cgWhy string
	// supConn is the task supervisor's client (supervisor()); supDir and
	// supCommand start it again if it goes away (supervise.go).
	supConn    supervisorConn
	supDir     string
	supCommand []string
	// supStopping: Shutdown stops the supervisor, which must not be
	// started again then.
	supStopping atomic.Bool
	fetch       *fetcher.Fetcher
	inbox       chan func()
	runCtx      context.Context
	// supReady is closed once Run has its supervisor (or failed to get one).
	supReady chan struct{}
	// launches feeds the launch workers: a few, because the work (files,
	// cgroups, forks) contends on kernel locks, and a thousand at once only
	// thrash them and starve the loop.
	launches chan func()
	journal  *taskJournal
	ready    atomic.Bool
	httpLn   net.Listener

	// Loop-owned.
	tasks        map[string]*task // by supervisor key
	byID         map[taskID]*task
	completed    []completedTask // recently forgotten tasks, for the API
	registered   bool
	registering  bool
	masterID     string
	pingInterval time.Duration
	nextPing     time.Time
	nextUsage    time.Time
	pinging      bool
	warnedNoIso  bool
	stopping     bool
}

type taskID struct {
	fid protocol.FrameworkID
	tid protocol.TaskID
}

type completedTask struct {
	view protocol.AgentTaskView
}

// launchWorkers bounds the launches in progress (fetches and starts).
const launchWorkers = 8

// New validates the configuration, detects resources, and prepares the work dir.
func New(cfg Config) (*Agent, error) {
	if cfg.Conn == nil {
		return nil, errors.New("agent: Config.Conn is required")
	}
	if cfg.WorkDir == "" {
		return nil, errors.New("agent: a work dir is required (--work-dir)")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DefaultKillGrace <= 0 {
		cfg.DefaultKillGrace = 5 * time.Second
	}
	if cfg.GCDelay <= 0 {
		cfg.GCDelay = 7 * 24 * time.Hour
	}
	if cfg.GCDiskHeadroom <= 0 {
		cfg.GCDiskHeadroom = 0.1
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 5 * time.Second
	}
	if cfg.UsageInterval <= 0 {
		cfg.UsageInterval = 10 * time.Second
	}
	if cfg.Isolation == "" {
		cfg.Isolation = "auto"
	}
	switch cfg.Isolation {
	case "auto", "cgroups", "none":
	default:
		return nil, fmt.Errorf("agent: isolation %q: use auto, cgroups or none", cfg.Isolation)
	}
	if cfg.SupervisorCommand == nil {
		return nil, errors.New("agent: Config.SupervisorCommand is required")
	}
	abs, err := filepath.Abs(cfg.WorkDir)
	if err != nil {
		return nil, err
	}
	cfg.WorkDir = abs
	for _, d := range []string{"meta/supervisor", "sandboxes", "fetch-cache"} {
		if err := os.MkdirAll(filepath.Join(cfg.WorkDir, d), 0o750); err != nil {
			return nil, fmt.Errorf("agent: work dir %s: %w", cfg.WorkDir, err)
		}
	}
	id, err := loadOrCreateID(cfg.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("agent: agent id: %w", err)
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	if cfg.Address == "" {
		cfg.Address = defaultAddress(cfg.Hostname)
	}
	res, err := DetectResources(cfg.WorkDir, cfg.Resources)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(cfg.Conn, jetstream.WithPublishAsyncMaxPending(1<<14))
	if err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, id: id, js: js, inbox: make(chan func(), 1<<14), supReady: make(chan struct{}),
		launches: make(chan func(), 1<<16),
		tasks:    map[string]*task{}, byID: map[taskID]*task{},
		log: cfg.Logger.With("component", "agent", "agent_id", id)}
	a.info = protocol.AgentInfo{ID: id, Hostname: cfg.Hostname, Address: cfg.Address, Resources: res,
		Attributes: cfg.Attributes, Version: cfg.Version}
	// Cached downloads are copied into sandboxes (as Mesos does), never
	// hard-linked: a task must not be able to change another's files.
	f, err := fetcher.New(fetcher.Config{CacheDir: filepath.Join(cfg.WorkDir, "fetch-cache"), CacheBytes: cfg.FetchCacheBytes,
		CopyFromCache: true, Logger: a.log})
	if err != nil {
		return nil, err
	}
	a.fetch = f
	if err := a.setupIsolation(); err != nil {
		return nil, err
	}
	if cfg.HTTPAddr != "" {
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return nil, fmt.Errorf("agent API: listen on %s: %w (pick another with --http)", cfg.HTTPAddr, err)
		}
		a.httpLn = ln
		a.info.URL = "http://" + ln.Addr().String()
	}
	return a, nil
}

// ID is the agent's ID.
func (a *Agent) ID() protocol.AgentID { return a.id }

// Info is what the agent registers with.
func (a *Agent) Info() protocol.AgentInfo { return a.info }

// Ready reports whether the agent recovered and registered with a master.
func (a *Agent) Ready() bool { return a.ready.Load() }

// Fetcher is the agent's fetcher (to register more URI schemes).
func (a *Agent) Fetcher() *fetcher.Fetcher { return a.fetch }

// cgroupParent is where this agent's task cgroups live.
func (a *Agent) cgroupParent() string { return "cairn/" + string(a.id) }

// Run recovers the agent's tasks, registers with the master and serves
// until ctx ends. Tasks keep running when it returns (they belong to the
// supervisor); use Shutdown to kill them.
func (a *Agent) Run(ctx context.Context) error {
	a.runCtx = ctx
	supDir := filepath.Join(a.metaDir(), "supervisor")
	parent := a.cgroupParent()
	if a.cg.Version() == "none" {
		parent = ""
	}
	a.supDir, a.supCommand = supDir, a.cfg.SupervisorCommand(supDir, parent)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	sup, err := supervisor.Ensure(sctx, a.supDir, a.supCommand)
	cancel()
	if err != nil {
		close(a.supReady)
		return fmt.Errorf("agent: start the task supervisor in %s: %w", supDir, err)
	}
	// Its forking threads pass through task cgroups: never kill it as one
	// of a task's processes.
	a.cg.Spare(sup.ServerPID())
	a.setSupervisor(sup)
	close(a.supReady)
	defer func() { a.supervisor().Close() }()
	go a.watchSupervisor(ctx, sup)
	j, err := openJournal(a.journalPath())
	if err != nil {
		return fmt.Errorf("agent: open the task journal: %w", err)
	}
	a.journal = j
	defer j.close()
	for i := 0; i < launchWorkers; i++ {
		go func() {
			for {
				select {
				case fn := <-a.launches:
					fn()
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	if err := a.recover(ctx); err != nil {
		return err
	}
	a.compactJournal(true)
	sub, err := a.cfg.Conn.Subscribe(protocol.AgentCommands(a.id), func(m *nats.Msg) {
		a.push(ctx, func() { a.command(ctx, m.Data) })
	})
	if err != nil {
		return fmt.Errorf("agent: subscribe to commands: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	_ = sub.SetPendingLimits(1<<16, 1<<30)
	if a.httpLn != nil {
		srv := &http.Server{Handler: a.handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(a.httpLn) }()
		defer func() {
			c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = srv.Shutdown(c)
		}()
	}
	a.log.Info("agent started", "hostname", a.info.Hostname, "address", a.info.Address,
		"resources", a.info.Resources.String(), "isolation", a.cg.Version(), "api", a.info.URL, "work_dir", a.cfg.WorkDir)
	a.register(ctx)
	return a.loop(ctx)
}

func (a *Agent) setupIsolation() error {
	if a.cfg.Isolation == "none" {
		a.cg, a.cgWhy = cgroups.None(), "isolation disabled (--isolation none)"
		return nil
	}
	m, why, err := cgroups.Detect(a.cgroupParent())
	if err != nil {
		return fmt.Errorf("agent: cgroups: %w", err)
	}
	if m.Version() == "none" && a.cfg.Isolation == "cgroups" {
		return fmt.Errorf("agent: --isolation cgroups, but cgroups are unusable here: %s", why)
	}
	a.cg, a.cgWhy = m, why
	if m.Version() == "none" {
		a.log.Warn("tasks run as plain processes without resource limits: "+why+"; run the agent as root for cgroup isolation",
			"isolation", "none")
	}
	return nil
}

// push posts fn to the loop.
func (a *Agent) push(ctx context.Context, fn func()) {
	select {
	case a.inbox <- fn:
	case <-ctx.Done():
	}
}

func (a *Agent) loop(ctx context.Context) error {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastGC, lastLazy := time.Time{}, time.Now()
	for {
		select {
		case <-ctx.Done():
			a.flushLazy()
			return nil
		case fn := <-a.inbox:
			fn()
		case now := <-tick.C:
			if a.registered && !a.pinging && now.After(a.nextPing) {
				a.ping(ctx)
			}
			if now.Sub(lastLazy) > 5*time.Second {
				lastLazy = now
				a.flushLazy()
				a.compactJournal(false)
			}
			if now.Sub(lastGC) > 10*time.Minute {
				lastGC = now
				a.startGC(ctx)
			}
		}
	}
}

func (a *Agent) request(ctx context.Context, subject string, v any) (*nats.Msg, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, a.cfg.RequestTimeout)
	defer cancel()
	return a.cfg.Conn.RequestWithContext(rctx, subject, data)
}

// register (re-)registers with the master, retrying with back-off.
func (a *Agent) register(ctx context.Context) {
	if a.registering || a.stopping {
		return
	}
	a.registering = true
	a.registered = false
	reg := protocol.RegisterAgent{Agent: a.info}
	for _, t := range a.tasks {
		reg.Tasks = append(reg.Tasks, t.agentTask())
	}
	go func() {
		backoff := 100 * time.Millisecond
		for {
			msg, err := a.request(ctx, protocol.AgentRegister(a.id), reg)
			var r protocol.AgentRegistered
			if err == nil {
				err = json.Unmarshal(msg.Data, &r)
			}
			if err == nil && r.Error != nil && r.Error.Code != protocol.ErrUnavailable {
				refusal := r.Error
				a.push(ctx, func() { a.refused(ctx, refusal) })
				return
			}
			if err == nil && r.Error == nil {
				a.push(ctx, func() { a.registeredWith(r) })
				return
			}
			if err == nil {
				err = r.Error
			}
			a.log.Debug("registration failed; retrying", "err", err, "in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
		}
	}()
}

func (a *Agent) registeredWith(r protocol.AgentRegistered) {
	a.registering, a.registered = false, true
	if a.masterID != r.MasterID {
		a.log.Info("registered with master", "master", r.MasterID, "tasks", len(a.tasks))
	}
	a.masterID = r.MasterID
	a.pingInterval = time.Duration(r.PingIntervalSeconds * float64(time.Second))
	if a.pingInterval <= 0 {
		a.pingInterval = 5 * time.Second
	}
	a.nextPing = time.Now().Add(a.pingInterval)
	a.ready.Store(true)
	for _, t := range a.tasks {
		a.pump(t)
	}
}

// refused handles a registration the master refused. An agent declared
// gone has had its tasks replaced elsewhere: it kills them, and starts over
// under a new identity.
func (a *Agent) refused(ctx context.Context, e *protocol.Error) {
	a.registering = false
	if e.Code != protocol.ErrForbidden {
		a.log.Error("the master refused this agent's registration; retrying in 10s", "err", e.Message)
		time.AfterFunc(10*time.Second, func() { a.push(ctx, func() { a.register(ctx) }) })
		return
	}
	a.log.Warn("the master declared this agent gone; killing its tasks and re-registering under a new id", "reason", e.Message)
	for _, t := range a.tasks {
		a.killTask(ctx, t, a.cfg.DefaultKillGrace, protocol.ReasonAgentRemoved, "the agent was declared gone by the master")
		a.forget(t)
	}
	newID := protocol.AgentID(protocol.NewID())
	if err := writeFileAtomic(filepath.Join(a.metaDir(), "agent-id"), []byte(string(newID)+"\n")); err != nil {
		a.log.Error("cannot record the new agent id; keeping the old one", "err", err)
		return
	}
	a.id, a.info.ID = newID, newID
	a.log = a.cfg.Logger.With("component", "agent", "agent_id", newID)
	sub, err := a.cfg.Conn.Subscribe(protocol.AgentCommands(a.id), func(m *nats.Msg) {
		a.push(ctx, func() { a.command(ctx, m.Data) })
	})
	if err == nil {
		_ = sub.SetPendingLimits(1<<16, 1<<30)
	}
	a.register(ctx)
}

// ping tells the master the agent is alive, with its tasks' usage.
func (a *Agent) ping(ctx context.Context) {
	a.pinging = true
	type probe struct {
		fid    protocol.FrameworkID
		tid    protocol.TaskID
		cgroup string
		pid    int
	}
	var probes []probe
	if now := time.Now(); now.After(a.nextUsage) {
		a.nextUsage = now.Add(a.cfg.UsageInterval)
		for _, t := range a.tasks {
			if t.state == protocol.TaskRunning || t.state == protocol.TaskKilling {
				probes = append(probes, probe{t.fid, t.info.TaskID, t.cgroup, t.pid})
			}
		}
	}
	go func() {
		p := protocol.Ping{AgentID: a.id}
		for _, pr := range probes {
			if st, ok := a.usage(pr.cgroup, pr.pid); ok {
				p.Usage = append(p.Usage, protocol.TaskUsage{FrameworkID: pr.fid, TaskID: pr.tid, Statistics: st})
			}
		}
		msg, err := a.request(ctx, protocol.AgentPing(a.id), p)
		var pong protocol.Pong
		if err == nil {
			err = json.Unmarshal(msg.Data, &pong)
		}
		a.push(ctx, func() {
			a.pinging = false
			a.nextPing = time.Now().Add(a.pingInterval)
			switch {
			case err != nil:
				a.log.Debug("ping failed (master away?)", "err", err)
			case !pong.Known:
				a.log.Info("the master does not know this agent (restarted, or it thought us unreachable): re-registering")
				a.register(ctx)
			}
		})
	}()
}

// Isolation is the cgroup version tasks run under ("v1", "v2" or "none").
func (a *Agent) Isolation() string {
	if a.cg == nil {
		return "none"
	}
	return a.cg.Version()
}
