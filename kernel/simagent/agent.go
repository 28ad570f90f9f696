package simagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// Version is what a simulated agent reports as its version unless
// Config.Version says otherwise.
const Version = "simagent"

// ErrStopped is returned by waits on an agent that was stopped.
var ErrStopped = errors.New("simagent: agent stopped")

// Config configures one simulated agent.
type Config struct {
	// Conn is the NATS connection; several agents may share one.
	Conn *nats.Conn
	// Publisher publishes status updates; agents sharing Conn should share
	// one (StartFleet does). Nil: the agent makes its own on Conn and
	// closes it when it stops.
	Publisher *Publisher

	// ID is the agent's ID; empty picks a new one (protocol.NewID), unless
	// Recover gives one. Reuse an ID to simulate an agent restart.
	ID         protocol.AgentID
	Hostname   string // default "sim-<ID>"
	Resources  resources.Resources
	Attributes resources.Attributes
	URL        string
	Version    string // default Version

	// Recover is the checkpoint of a crashed agent (Agent.Crash): the new
	// agent takes its ID (unless ID is set) and its tasks, re-registers
	// with them and sends again the updates that never reached the stream.
	Recover *Checkpoint

	// SkipStarting sends TASK_RUNNING without TASK_STARTING first.
	SkipStarting bool
	// StartDelay is how long a task stays in TASK_STARTING before
	// TASK_RUNNING (label sim.start_delay overrides; default 0).
	StartDelay time.Duration
	// TaskDuration is how long a task runs before it ends by itself
	// (label sim.duration overrides); 0 means until killed.
	TaskDuration time.Duration
	// SendKilling sends TASK_KILLING before TASK_KILLED.
	SendKilling bool
	// KillDelay is how long a killed task takes to die (0: at once).
	KillDelay time.Duration
	// EchoMessages sends every framework MESSAGE back to the framework on
	// protocol.AgentMessage(ID).
	EchoMessages bool
	// MaxMessages bounds the framework messages kept for Messages()
	// (default 1000; the oldest are dropped).
	MaxMessages int

	// RequestTimeout bounds each register/ping request (default 2s).
	RequestTimeout time.Duration
	// PingInterval is used when the master's AgentRegistered gives no
	// ping_interval_seconds (default 5s).
	PingInterval time.Duration
	// RetryMin and RetryMax bound the back-off between registration
	// attempts (defaults 50ms and 2s).
	RetryMin, RetryMax time.Duration

	Logger *slog.Logger
}

// Stats counts what an agent did; every field only grows.
type Stats struct {
	RegisterAttempts int // registration requests sent
	Registrations    int // accepted (first registration and re-registrations)
	Pings            int // pings answered
	PingFailures     int // pings that timed out or found no master

	Commands        int // commands received (well-formed or not)
	BadCommands     int // commands dropped because they did not decode
	DroppedCommands int // commands dropped while partitioned, and kills lost by DropKills
	Launches        int // tasks asked to launch
	Kills           int
	Acks            int
	Shutdowns       int // SHUTDOWN_FRAMEWORK commands
	Messages        int // framework messages received

	Overcommits       int // launches answered TASK_DROPPED because the agent was full
	DuplicateLaunches int // launches of a task ID that is already active (ignored)

	Updates        int // status updates generated
	UpdatesStored  int // status updates the stream acknowledged (PubAck)
	PublishRetries int // publish attempts after a failure
}

func (s *Stats) add(o Stats) {
	s.RegisterAttempts += o.RegisterAttempts
	s.Registrations += o.Registrations
	s.Pings += o.Pings
	s.PingFailures += o.PingFailures
	s.Commands += o.Commands
	s.BadCommands += o.BadCommands
	s.DroppedCommands += o.DroppedCommands
	s.Launches += o.Launches
	s.Kills += o.Kills
	s.Acks += o.Acks
	s.Shutdowns += o.Shutdowns
	s.Messages += o.Messages
	s.Overcommits += o.Overcommits
	s.DuplicateLaunches += o.DuplicateLaunches
	s.Updates += o.Updates
	s.UpdatesStored += o.UpdatesStored
	s.PublishRetries += o.PublishRetries
}

// Agent is a simulated agent. Its goroutines: the ping loop and the NATS
// dispatcher of its command subscription; tasks cost no goroutine (one
// timer per agent drives every task's start delay and duration).
type Agent struct {
	cfg    Config
	id     protocol.AgentID
	nc     *nats.Conn
	pub    *Publisher
	ownPub bool
	log    *slog.Logger
	info   protocol.AgentInfo
	ping   []byte // encoded protocol.Ping

	ctx     context.Context // cancelled by Stop
	cancel  context.CancelFunc
	done    chan struct{}
	wg      sync.WaitGroup
	sub     *nats.Subscription
	stopped atomic.Bool
	// sendMu is read-held around every publish; Stop takes it to wait for
	// publishes in progress, so nothing is published once Stop returns.
	sendMu   sync.RWMutex
	stopOnce sync.Once
	kick     chan struct{} // ping now (ResumePings)

	mu          sync.Mutex
	tasks       map[protocol.TaskID][]*task // usually one per ID; more if frameworks reuse IDs
	ntasks      int
	total       resources.Resources // Resources in base form (see base)
	used        resources.Resources // base form of the active tasks' resources
	timers      taskHeap
	timer       *time.Timer
	timerAt     time.Time // when timer fires; zero when not armed
	connected   bool      // registered with the current master: updates may flow
	registered  bool      // ever registered
	masterID    string
	pingEvery   time.Duration
	pingsPaused bool
	unpaused    chan struct{} // closed when pings resume
	partitioned bool
	dropKills   int // DropKills: how many kills to lose still
	messages    []protocol.FrameworkMessage
	recent      recentRing // tasks forgotten lately, for WaitTask
	stats       Stats
	waitCh      chan struct{} // closed and cleared on every change, when someone waits
	err         error         // why the agent stopped by itself
}

// Start starts a simulated agent: it subscribes to its commands, then
// registers (retrying with back-off while no master answers) and returns
// once a master accepted it. It fails if ctx ends first or if the master
// refuses the agent.
func Start(ctx context.Context, cfg Config) (*Agent, error) {
	a, err := newAgent(cfg)
	if err != nil {
		return nil, err
	}
	sub, err := a.nc.Subscribe(protocol.AgentCommands(a.id), a.onCommand)
	if err != nil {
		a.shutdown(false)
		return nil, fmt.Errorf("simagent %s: subscribe to commands: %w", a.id, err)
	}
	// Never drop a command for being slow: a lost LAUNCH would hang a test.
	_ = sub.SetPendingLimits(-1, 256<<20)
	a.sub = sub
	if err := a.registerLoop(ctx); err != nil {
		a.shutdown(false)
		return nil, err
	}
	a.wg.Add(1)
	go a.pingLoop()
	return a, nil
}

func newAgent(cfg Config) (*Agent, error) {
	if cfg.Conn == nil {
		return nil, errors.New("simagent: Config.Conn is required")
	}
	id := cfg.ID
	if id == "" && cfg.Recover != nil {
		id = cfg.Recover.AgentID
	}
	if id == "" {
		id = protocol.AgentID(protocol.NewID())
	}
	if err := protocol.ValidateToken("simagent: Config.ID", string(id)); err != nil {
		return nil, err
	}
	if cfg.Resources.IsEmpty() {
		return nil, errors.New("simagent: Config.Resources is empty: give the agent resources, e.g. cpus:4;mem:8192")
	}
	if err := cfg.Resources.Validate(); err != nil {
		return nil, fmt.Errorf("simagent: Config.Resources: %w", err)
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "sim-" + string(id)
	}
	if cfg.Version == "" {
		cfg.Version = Version
	}
	if cfg.MaxMessages <= 0 {
		cfg.MaxMessages = 1000
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 2 * time.Second
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 5 * time.Second
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = 50 * time.Millisecond
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(2*time.Second, cfg.RetryMin)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("agent", string(id))
	ping, _ := json.Marshal(protocol.Ping{AgentID: id})
	ctx, cancel := context.WithCancel(context.Background())
	a := &Agent{
		cfg:       cfg,
		id:        id,
		nc:        cfg.Conn,
		pub:       cfg.Publisher,
		log:       log,
		ping:      ping,
		ctx:       ctx,
		cancel:    cancel,
		done:      make(chan struct{}),
		kick:      make(chan struct{}, 1),
		tasks:     make(map[protocol.TaskID][]*task),
		total:     base(cfg.Resources),
		pingEvery: cfg.PingInterval,
		info: protocol.AgentInfo{
			ID:         id,
			Hostname:   cfg.Hostname,
			Resources:  cfg.Resources,
			Attributes: cfg.Attributes,
			URL:        cfg.URL,
			Version:    cfg.Version,
		},
	}
	if a.pub == nil {
		p, err := NewPublisher(cfg.Conn, PublisherConfig{Logger: log})
		if err != nil {
			cancel()
			return nil, fmt.Errorf("simagent %s: %w", id, err)
		}
		a.pub, a.ownPub = p, true
	}
	if cfg.Recover != nil {
		a.recover(cfg.Recover)
	}
	return a, nil
}

// ID is the agent's ID.
func (a *Agent) ID() protocol.AgentID { return a.id }

// Info is what the agent registers with.
func (a *Agent) Info() protocol.AgentInfo { return a.info }

// MasterID is the ID of the master the agent last registered with or heard from.
func (a *Agent) MasterID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.masterID
}

// Registered reports whether the agent is registered with the current
// master (false after a Pong with known=false, until it re-registered).
func (a *Agent) Registered() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.connected
}

// Stats returns the agent's counters.
func (a *Agent) Stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

// Messages returns the framework messages received, oldest first.
func (a *Agent) Messages() []protocol.FrameworkMessage {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.messages)
}

// Used is what the active tasks use (reservations of dynamic reservations
// and volumes folded into the resources they were made from).
func (a *Agent) Used() resources.Resources {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.used
}

// Done is closed when the agent stopped (Stop, Crash, or a master refusing it).
func (a *Agent) Done() <-chan struct{} { return a.done }

// Err says why the agent stopped by itself (the master refused its
// re-registration); nil while running or after Stop/Crash.
func (a *Agent) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Stop stops the agent as if its machine died: it stops pinging and
// listening, and publishes nothing more (updates not yet on the stream are
// abandoned). It returns once nothing of the agent runs. Safe to call twice.
func (a *Agent) Stop() { a.shutdown(true) }

// Crash stops the agent (like Stop) and returns its checkpoint, to start a
// new agent with Config.Recover: an agent restart.
func (a *Agent) Crash() *Checkpoint {
	a.shutdown(true)
	return a.checkpoint()
}

func (a *Agent) shutdown(wait bool) {
	a.stopOnce.Do(func() {
		a.stopped.Store(true)
		a.cancel()
		if a.sub != nil {
			_ = a.sub.Unsubscribe()
		}
		a.sendMu.Lock() // wait for a publish in progress
		a.sendMu.Unlock()
		a.mu.Lock()
		if a.timer != nil {
			a.timer.Stop()
		}
		a.timerAt = time.Time{}
		a.connected = false
		a.mu.Unlock()
		close(a.done)
		if wait {
			a.wg.Wait()
		}
		if a.ownPub {
			a.pub.Close()
		}
	})
	if wait {
		a.wg.Wait()
	}
}

// PausePings stops the agent's pings (and re-registrations): the master
// sees a silent agent and, after its ping timeout, declares it
// unreachable. Commands and status updates still flow; use Partition for
// a full network partition.
func (a *Agent) PausePings() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.pingsPaused {
		a.pingsPaused = true
		a.unpaused = make(chan struct{})
	}
}

// ResumePings resumes pinging, with a ping at once.
func (a *Agent) ResumePings() {
	a.mu.Lock()
	if a.pingsPaused {
		a.pingsPaused = false
		close(a.unpaused)
	}
	a.mu.Unlock()
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// Partition cuts the agent off the network: no pings, commands that arrive
// are dropped (counted in Stats.DroppedCommands), and status updates are
// kept until Heal. Tasks keep running (and finishing) meanwhile.
func (a *Agent) Partition() {
	a.PausePings()
	a.mu.Lock()
	a.partitioned = true
	a.mu.Unlock()
}

// DropKills loses the next n kill commands on the way (counted in
// Stats.DroppedCommands), as a kill lost in the network would be: the
// tasks keep running and nothing is reported.
func (a *Agent) DropKills(n int) {
	a.mu.Lock()
	a.dropKills = n
	a.mu.Unlock()
}

// Heal ends a Partition: the held updates are sent and pings resume at once.
func (a *Agent) Heal() {
	a.mu.Lock()
	a.partitioned = false
	a.flushLocked()
	a.mu.Unlock()
	a.ResumePings()
}

// Reregister registers again now (as after a Pong with known=false),
// retrying until accepted or ctx ends.
func (a *Agent) Reregister(ctx context.Context) error {
	if a.stopped.Load() {
		return ErrStopped
	}
	return a.registerLoop(ctx)
}

// Wait waits until cond returns true; cond is checked now and after each
// change of the agent (tasks, updates stored, commands, registrations).
// cond may call the agent's methods.
func (a *Agent) Wait(ctx context.Context, cond func() bool) error {
	for {
		a.mu.Lock()
		if a.waitCh == nil {
			a.waitCh = make(chan struct{})
		}
		ch := a.waitCh
		a.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-a.done:
			if cond() {
				return nil
			}
			return ErrStopped
		}
	}
}

// notify wakes Wait; a.mu held.
func (a *Agent) notify() {
	if a.waitCh != nil {
		close(a.waitCh)
		a.waitCh = nil
	}
}

// WaitIdle waits until every status update generated so far is on the stream.
func (a *Agent) WaitIdle(ctx context.Context) error {
	return a.Wait(ctx, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.pendingLocked() == 0
	})
}

// registerLoop (re-)registers until the master accepts, refuses (error),
// or ctx / the agent ends. It waits while pings are paused.
func (a *Agent) registerLoop(ctx context.Context) error {
	delay := a.cfg.RetryMin
	for attempt := 1; ; attempt++ {
		if err := a.waitUnpaused(ctx); err != nil {
			return err
		}
		err := a.registerOnce(ctx)
		if err == nil {
			return nil
		}
		var refused *refusedError
		if errors.As(err, &refused) {
			return err
		}
		if attempt == 1 || attempt&(attempt-1) == 0 {
			a.log.Debug("registration not answered yet; retrying", "attempt", attempt, "err", err)
		}
		d := delay/2 + rand.N(delay/2+1)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("simagent %s: not registered (%d attempts, last: %v): %w", a.id, attempt, err, ctx.Err())
		case <-a.ctx.Done():
			t.Stop()
			return ErrStopped
		}
		delay = min(delay*2, a.cfg.RetryMax)
	}
}

func (a *Agent) waitUnpaused(ctx context.Context) error {
	for {
		a.mu.Lock()
		paused, ch := a.pingsPaused, a.unpaused
		a.mu.Unlock()
		if !paused {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("simagent %s: pings paused: %w", a.id, ctx.Err())
		case <-a.ctx.Done():
			return ErrStopped
		}
	}
}

type refusedError struct {
	id  protocol.AgentID
	err *protocol.Error
}

func (e *refusedError) Error() string {
	return fmt.Sprintf("simagent %s: master refused the registration: %v", e.id, e.err)
}

func (a *Agent) registerOnce(ctx context.Context) error {
	a.mu.Lock()
	reg := protocol.RegisterAgent{Agent: a.info, Tasks: a.agentTasksLocked()}
	a.stats.RegisterAttempts++
	a.mu.Unlock()
	data, err := json.Marshal(reg)
	if err != nil {
		return fmt.Errorf("encode registration: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, a.cfg.RequestTimeout)
	defer cancel()
	stop := context.AfterFunc(a.ctx, cancel)
	defer stop()
	msg, err := a.nc.RequestWithContext(rctx, protocol.AgentRegister(a.id), data)
	if err != nil {
		if a.ctx.Err() != nil {
			return ErrStopped
		}
		return err
	}
	var rep protocol.AgentRegistered
	if err := json.Unmarshal(msg.Data, &rep); err != nil {
		return fmt.Errorf("registration reply: invalid JSON: %w", err)
	}
	if rep.Error != nil {
		if rep.Error.Code == protocol.ErrUnavailable {
			return rep.Error
		}
		return &refusedError{id: a.id, err: rep.Error}
	}
	if rep.AgentID != "" && rep.AgentID != a.id {
		a.log.Warn("master answered the registration with another agent id", "got", rep.AgentID)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped.Load() {
		return ErrStopped
	}
	a.stats.Registrations++
	a.masterID = rep.MasterID
	if rep.PingIntervalSeconds > 0 {
		a.pingEvery = time.Duration(rep.PingIntervalSeconds * float64(time.Second))
	} else {
		a.pingEvery = a.cfg.PingInterval
	}
	a.connected, a.registered = true, true
	a.flushLocked()
	a.notify()
	a.log.Debug("registered", "master", rep.MasterID, "tasks", len(reg.Tasks), "ping_interval", a.pingEvery)
	return nil
}

func (a *Agent) pingLoop() {
	defer a.wg.Done()
	a.mu.Lock()
	every := a.pingEvery
	a.mu.Unlock()
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-t.C:
		case <-a.kick:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		}
		a.mu.Lock()
		paused := a.pingsPaused
		a.mu.Unlock()
		if !paused {
			a.pingOnce()
		}
		a.mu.Lock()
		every = a.pingEvery
		a.mu.Unlock()
		t.Reset(every)
	}
}

func (a *Agent) pingOnce() {
	ctx, cancel := context.WithTimeout(a.ctx, a.cfg.RequestTimeout)
	msg, err := a.nc.RequestWithContext(ctx, protocol.AgentPing(a.id), a.ping)
	cancel()
	if a.ctx.Err() != nil {
		return
	}
	var pong protocol.Pong
	if err == nil {
		if err = json.Unmarshal(msg.Data, &pong); err != nil {
			err = fmt.Errorf("pong: invalid JSON: %w", err)
		}
	}
	a.mu.Lock()
	if err != nil {
		a.stats.PingFailures++
		n := a.stats.PingFailures
		a.notify()
		a.mu.Unlock()
		if n == 1 || n&(n-1) == 0 {
			a.log.Debug("ping failed; will keep pinging", "failures", n, "err", err)
		}
		return
	}
	a.stats.Pings++
	if pong.MasterID != "" {
		a.masterID = pong.MasterID
	}
	if pong.Known {
		a.notify()
		a.mu.Unlock()
		return
	}
	a.connected = false // hold updates until re-registered
	a.notify()
	a.mu.Unlock()
	a.log.Info("master does not know this agent; re-registering", "master", pong.MasterID)
	if err := a.registerLoop(a.ctx); err != nil {
		var refused *refusedError
		if errors.As(err, &refused) {
			a.log.Error("master refused the re-registration; agent stops", "err", err)
			a.mu.Lock()
			a.err = err
			a.mu.Unlock()
			go a.shutdown(false) // not from this goroutine: Stop waits for it
		}
	}
}

// flushLocked sends the head update of every task whose head is not in
// flight (after registration or Heal); a.mu held.
func (a *Agent) flushLocked() {
	if !a.canSendLocked() {
		return
	}
	for _, ts := range a.tasks {
		for _, t := range ts {
			if len(t.outbox) > 0 && !t.outbox[0].inFlight {
				a.sendLocked(t.outbox[0])
			}
		}
	}
}

func (a *Agent) canSendLocked() bool {
	return a.connected && !a.partitioned && !a.stopped.Load()
}

// sendLocked hands u (a task's head update) to the publisher; a.mu held.
func (a *Agent) sendLocked(u *outUpdate) {
	u.inFlight = true
	a.pub.enqueue(u)
}

// stored is the publisher's news that u is on the stream.
func (a *Agent) stored(u *outUpdate) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u.inFlight = false
	a.stats.UpdatesStored++
	t := u.task
	if len(t.outbox) > 0 && t.outbox[0] == u {
		t.outbox[0] = nil
		t.outbox = t.outbox[1:]
		if len(t.outbox) == 0 {
			t.outbox = nil
			if t.ephemeral {
				a.forgetLocked(t)
			}
		} else if a.canSendLocked() {
			a.sendLocked(t.outbox[0])
		}
	}
	a.notify()
}

// retry sends u again if it is still its task's head.
func (a *Agent) retry(u *outUpdate) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u.inFlight = false
	t := u.task
	if t.forgotten || len(t.outbox) == 0 || t.outbox[0] != u || !a.canSendLocked() {
		return // flushLocked sends it when the agent can send again
	}
	a.stats.PublishRetries++
	a.sendLocked(u)
}

func (a *Agent) pendingLocked() int {
	n := 0
	for _, ts := range a.tasks {
		for _, t := range ts {
			n += len(t.outbox)
		}
	}
	return n
}

// onCommand handles one command from the master (the subscription's
// dispatcher goroutine: commands are handled in order).
func (a *Agent) onCommand(m *nats.Msg) {
	if a.stopped.Load() {
		return
	}
	a.mu.Lock()
	a.stats.Commands++
	if a.partitioned {
		a.stats.DroppedCommands++
		a.notify()
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	cmd, err := protocol.DecodeAgentCommand(m.Data)
	if err != nil {
		a.mu.Lock()
		a.stats.BadCommands++
		a.notify()
		a.mu.Unlock()
		a.log.Warn("dropped a bad command", "err", err, "bytes", len(m.Data))
		return
	}
	var echo []byte
	a.mu.Lock()
	switch cmd.Type {
	case protocol.AgentLaunch:
		a.launchLocked(cmd.Launch)
	case protocol.AgentKill:
		a.stats.Kills++
		a.killLocked(cmd.Kill)
	case protocol.AgentAcknowledge:
		for i := range cmd.Acknowledge {
			a.stats.Acks++
			a.ackLocked(&cmd.Acknowledge[i])
		}
	case protocol.AgentShutdownFramework:
		a.stats.Shutdowns++
		a.shutdownFrameworkLocked(cmd.ShutdownFramework.FrameworkID)
	case protocol.AgentFrameworkMessage:
		a.stats.Messages++
		fm := *cmd.Message
		if len(a.messages) >= a.cfg.MaxMessages {
			a.messages = slices.Delete(a.messages, 0, len(a.messages)-a.cfg.MaxMessages+1)
		}
		a.messages = append(a.messages, fm)
		if a.cfg.EchoMessages {
			echo, _ = json.Marshal(fm)
		}
	}
	a.notify()
	a.mu.Unlock()
	if echo != nil {
		a.sendMu.RLock()
		if !a.stopped.Load() {
			if err := a.nc.Publish(protocol.AgentMessage(a.id), echo); err != nil {
				a.log.Warn("could not echo a framework message", "err", err)
			}
		}
		a.sendMu.RUnlock()
	}
}

// agentTasksLocked lists the tasks to report when (re-)registering: all
// held tasks, i.e. those not yet acknowledged-terminal.
func (a *Agent) agentTasksLocked() []protocol.AgentTask {
	if a.ntasks == 0 {
		return nil
	}
	out := make([]protocol.AgentTask, 0, a.ntasks)
	for _, ts := range a.tasks {
		for _, t := range ts {
			if !t.ephemeral {
				out = append(out, t.agentTask())
			}
		}
	}
	slices.SortFunc(out, func(x, y protocol.AgentTask) int {
		if c := strings.Compare(string(x.FrameworkID), string(y.FrameworkID)); c != 0 {
			return c
		}
		return strings.Compare(string(x.TaskID), string(y.TaskID))
	})
	return out
}
