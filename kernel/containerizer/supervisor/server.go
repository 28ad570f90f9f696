package supervisor

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/cairn-dc/cairn/kernel/containerizer/cgroups"
)

// serving guards the process-wide resources Serve takes (SIGCHLD, the
// child subreaper flag, wait4(-1)): one Serve per process.
var serving atomic.Bool

// entry is one supervised process. Fields are guarded by server.mu.
type entry struct {
	key       string
	pid       int // 0 while starting
	startedAt time.Time
	// startTicks is /proc/<pid>/stat's start time, read at the fork: the
	// process cannot be reaped yet then, even if it exits at once.
	startTicks uint64
	cgroup     string
	pidns      bool // leader is our init in a new PID namespace
	adopted    bool // re-adopted after a supervisor restart (not our child)
	pidfd      int  // adopted: pidfd watched for the exit; -1 otherwise
	recorded   bool // its start is in the journal: it may be signalled and listed
	replied    bool // the start reply went out (or it was loaded from disk)
	failed     bool // the start failed after the fork (init reported an error)
	exit       *Exit
	pending    *Exit // exit seen before the start reply went out
	killReq    bool
	killAt     time.Time // SIGKILL deadline of a pending Kill
	killTimer  *time.Timer
	// startKill is a Kill that arrived while starting (grace; -1: none).
	startKill time.Duration
}

func (e *entry) proc() Proc {
	return Proc{Key: e.key, PID: e.pid, StartedAt: e.startedAt, Cgroup: e.cgroup, Exit: e.exit}
}

func (e *entry) live() bool { return e.exit == nil && !e.failed }

type server struct {
	cfg     Config
	log     *slog.Logger
	dir     string
	journal *journal
	devNull int
	lockFD  int

	mu       sync.Mutex
	procs    map[string]*entry
	byPID    map[int]*entry
	conns    map[*conn]struct{}
	stopping bool // Shutdown in progress: no new starts
	users    map[string]*syscall.Credential

	// forkRW: forkers hold it shared from fork until the pid is registered;
	// the reaper takes it exclusively to wait for in-flight forks before
	// deciding a pid is not a task.
	forkRW sync.RWMutex

	compacting atomic.Bool

	startq  chan *startReq
	quit    chan struct{} // closed to stop Serve (after Shutdown)
	quitted sync.Once
	stop    chan struct{} // closed when Serve stops: background goroutines end
	wg      sync.WaitGroup
	watcher *pidfdWatcher
}

// Serve runs the supervisor until ctx ends (it does not kill its processes
// when it stops: they stay until a supervisor is started again on Dir and
// re-adopts them by pid). It makes itself a child subreaper, reaps every
// child, records exits in Dir/exits/<key>.json before announcing them, and
// re-adopts processes recorded in Dir/procs that are still alive.
//
// Serve reaps every child of the calling process (wait4(-1)): run it in a
// process of its own (`cairn supervisor`) that starts no other children,
// and only once per process. It returns nil after a Shutdown request.
func Serve(ctx context.Context, cfg Config) error {
	if cfg.Dir == "" {
		return errors.New("supervisor: Config.Dir is empty")
	}
	if !serving.CompareAndSwap(false, true) {
		return errors.New("supervisor: Serve already runs in this process (it owns SIGCHLD and wait4(-1): one per process)")
	}
	defer serving.Store(false)
	s, err := newServer(cfg)
	if err != nil {
		return err
	}
	defer s.closeFiles()

	// Orphaned grandchildren of tasks come to us (and are reaped) rather
	// than to init; restored when Serve returns.
	var prevSub int32
	unix.Prctl(unix.PR_GET_CHILD_SUBREAPER, uintptr(unsafe.Pointer(&prevSub)), 0, 0, 0)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		s.log.Warn("cannot become a child subreaper: orphaned grandchildren of tasks go to init", "err", err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, uintptr(prevSub), 0, 0, 0)

	sigchld := make(chan os.Signal, 1)
	signal.Notify(sigchld, syscall.SIGCHLD)
	defer signal.Stop(sigchld)
	s.wg.Add(1)
	go s.reaper(sigchld)

	if err := s.load(); err != nil {
		s.shutdownGoroutines()
		return err
	}

	ln, err := s.listen()
	if err != nil {
		s.shutdownGoroutines()
		return err
	}
	if err := writeAtomic(filepath.Join(s.dir, pidName), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		s.log.Warn("cannot write the pid file", "err", err)
	}
	n := cfg.Forkers
	if n <= 0 {
		n = min(runtime.GOMAXPROCS(0), 4)
	}
	for i := 0; i < n; i++ {
		s.wg.Add(1)
		go s.forker()
	}
	s.wg.Add(1)
	go s.accept(ln)
	s.log.Info("supervisor serving", "dir", s.dir, "pid", os.Getpid(), "cgroups", s.cfg.Cgroups.Version(), "processes", s.count())

	select {
	case <-ctx.Done():
	case <-s.quit:
	}
	ln.Close()
	os.Remove(filepath.Join(s.dir, socketName))
	os.Remove(filepath.Join(s.dir, pidName))
	s.shutdownGoroutines()
	s.log.Info("supervisor stopped", "dir", s.dir)
	return nil
}

func newServer(cfg Config) (*server, error) {
	if cfg.Cgroups == nil {
		cfg.Cgroups = cgroups.None()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("supervisor: %w", err)
	}
	s := &server{
		cfg: cfg, log: log, dir: dir,
		journal: &journal{path: journalPath(dir), fd: -1},
		devNull: -1, lockFD: -1,
		procs:  map[string]*entry{},
		byPID:  map[int]*entry{},
		conns:  map[*conn]struct{}{},
		users:  map[string]*syscall.Credential{},
		startq: make(chan *startReq, 4096),
		quit:   make(chan struct{}),
		stop:   make(chan struct{}),
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("supervisor: %w", err)
	}
	// One supervisor per directory: hold an exclusive lock while serving.
	s.lockFD, err = unix.Open(filepath.Join(dir, lockName), unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("supervisor: open lock: %w", err)
	}
	if err := unix.Flock(s.lockFD, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		unix.Close(s.lockFD)
		pid, _ := os.ReadFile(filepath.Join(dir, pidName))
		return nil, fmt.Errorf("supervisor: another supervisor (pid %s) serves %s: %w", trimNL(pid), dir, err)
	}
	s.devNull, err = unix.Open(os.DevNull, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("supervisor: %w", err)
	}
	if err := s.journal.open(); err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("supervisor: %w", err)
	}
	return s, nil
}

func trimNL(b []byte) string {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "?"
	}
	return string(b)
}

func (s *server) closeFiles() {
	s.journal.close()
	if s.devNull >= 0 {
		unix.Close(s.devNull)
	}
	if s.lockFD >= 0 {
		unix.Close(s.lockFD) // releases the flock
	}
}

// shutdownGoroutines stops the background goroutines and waits for them.
func (s *server) shutdownGoroutines() {
	close(s.stop)
	s.mu.Lock()
	for c := range s.conns {
		c.close()
	}
	for _, e := range s.procs {
		if e.killTimer != nil {
			e.killTimer.Stop()
		}
	}
	s.mu.Unlock()
	if s.watcher != nil {
		s.watcher.close()
	}
	s.wg.Wait()
	if s.watcher != nil {
		s.watcher.release()
	}
	s.mu.Lock()
	for _, e := range s.procs {
		if e.pidfd >= 0 {
			unix.Close(e.pidfd)
			e.pidfd = -1
		}
	}
	s.mu.Unlock()
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.procs)
}

func (s *server) listen() (*net.UnixListener, error) {
	addr, done, err := socketAddr(s.dir)
	if err != nil {
		return nil, fmt.Errorf("supervisor: %w", err)
	}
	defer done()
	// We hold the lock: a socket file left there is stale.
	os.Remove(filepath.Join(s.dir, socketName))
	old := unix.Umask(0o077)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: addr, Net: "unix"})
	unix.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("supervisor: listen on %s: %w", filepath.Join(s.dir, socketName), err)
	}
	// The address may be a /proc/self/fd path that is gone after done():
	// unlink the real path ourselves.
	ln.SetUnlinkOnClose(false)
	return ln, nil
}

func (s *server) accept(ln *net.UnixListener) {
	defer s.wg.Done()
	var bo backoff
	for {
		c, err := ln.AcceptUnix()
		if err != nil {
			select {
			case <-s.stop:
				return
			case <-s.quit:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("accept", "err", err)
			bo.wait()
			continue
		}
		bo = backoff{}
		s.serveConn(c)
	}
}

// conn is one client connection.
type conn struct {
	s   *server
	c   *net.UnixConn
	out *outbox
}

func (c *conn) close() {
	c.out.close()
	c.c.CloseRead()
}

// send queues a message; a connection that cannot keep up is dropped.
func (c *conn) send(m *message) {
	b, err := json.Marshal(m)
	if err != nil {
		c.s.log.Error("encode message", "err", err)
		return
	}
	if !c.out.put(b) {
		c.close()
	}
}

func (s *server) serveConn(nc *net.UnixConn) {
	c := &conn{s: s, c: nc, out: newOutbox(256 << 20)}
	s.mu.Lock()
	select {
	case <-s.stop:
		s.mu.Unlock()
		nc.Close()
		return
	default:
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	c.send(&message{Hello: &hello{Version: ProtocolVersion, PID: os.Getpid()}})
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		c.out.run(nc)
		nc.Close()
	}()
	go func() {
		defer s.wg.Done()
		s.readConn(c)
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.out.close()
	}()
}

func (s *server) readConn(c *conn) {
	sc := bufio.NewScanner(c.c)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineSize)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var req request
		if err := json.Unmarshal(line, &req); err != nil {
			c.send(&message{ID: req.ID, Error: "bad request: " + err.Error()})
			continue
		}
		if req.ID == 0 {
			c.send(&message{Error: "bad request: id must be > 0"})
			continue
		}
		s.handle(c, &req)
	}
	if err := sc.Err(); err != nil && !errors.Is(err, net.ErrClosed) {
		s.log.Debug("connection", "err", err)
	}
}

func (s *server) handle(c *conn, req *request) {
	reply := func(err error) {
		m := &message{ID: req.ID}
		if err != nil {
			m.Error = err.Error()
		}
		c.send(m)
	}
	switch req.Op {
	case opStart:
		if req.Spec == nil {
			reply(errors.New("start: spec is missing"))
			return
		}
		s.submitStart(c, req.ID, req.Spec)
	case opSignal:
		reply(s.signalKey(req.Key, syscall.Signal(req.Signal)))
	case opKill:
		reply(s.killKey(req.Key, time.Duration(req.GraceMS)*time.Millisecond))
	case opList:
		c.send(&message{ID: req.ID, Procs: s.list()})
	case opForget:
		reply(s.forget(req.Key))
	case opShutdown:
		go func() {
			s.shutdown(time.Duration(req.GraceMS) * time.Millisecond)
			reply(nil)
			// Let the reply go out before the connections close.
			c.out.close()
			s.quitted.Do(func() { close(s.quit) })
		}()
	case opPing:
		reply(nil)
	default:
		reply(fmt.Errorf("unknown op %q", req.Op))
	}
}

func (s *server) list() []Proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Proc, 0, len(s.procs))
	for _, e := range s.procs {
		if e.failed || (e.pid == 0 && e.exit == nil) || !e.recorded {
			continue
		}
		out = append(out, e.proc())
	}
	return out
}

func (s *server) forget(key string) error {
	s.mu.Lock()
	e := s.procs[key]
	if e == nil {
		s.mu.Unlock()
		return nil
	}
	if e.exit == nil {
		s.mu.Unlock()
		return fmt.Errorf("forget %s: the process is still running (pid %d): kill it first", key, e.pid)
	}
	s.mu.Unlock()
	// Journal first, then drop: meanwhile the key stays taken, so a new
	// start of it cannot be recorded before this forget.
	if err := s.journal.append(&journalLine{Forget: key}); err != nil {
		return fmt.Errorf("forget %s: %w", key, err)
	}
	s.mu.Lock()
	if s.procs[key] == e {
		delete(s.procs, key)
	}
	s.mu.Unlock()
	s.maybeCompact()
	return nil
}

// broadcast pushes an exit event to every connection.
func (s *server) broadcast(p Proc) {
	b, err := json.Marshal(&message{Exit: &p})
	if err != nil {
		s.log.Error("encode exit", "err", err)
		return
	}
	s.mu.Lock()
	var drop []*conn
	for c := range s.conns {
		if !c.out.put(b) {
			drop = append(drop, c)
		}
	}
	s.mu.Unlock()
	for _, c := range drop {
		s.log.Warn("dropping a client that does not read its exits")
		c.close()
	}
}

// shutdown kills every live process (SIGTERM, grace, SIGKILL) and waits
// until they are all gone (or a bound after the grace).
func (s *server) shutdown(grace time.Duration) {
	s.mu.Lock()
	s.stopping = true
	var keys []string
	for k, e := range s.procs {
		if e.live() {
			keys = append(keys, k)
		}
	}
	s.mu.Unlock()
	s.log.Info("shutdown: killing every process", "processes", len(keys), "grace", grace)
	for _, k := range keys {
		s.killKey(k, grace)
	}
	deadline := time.Now().Add(grace + 15*time.Second)
	var bo backoff
	for {
		s.mu.Lock()
		live := 0
		for _, e := range s.procs {
			if e.live() {
				live++
			}
		}
		s.mu.Unlock()
		if live == 0 {
			return
		}
		if time.Now().After(deadline) {
			s.log.Error("shutdown: processes still alive", "processes", live)
			return
		}
		bo.wait()
	}
}

// backoff sleeps a little longer each call, up to 20ms.
type backoff struct{ d time.Duration }

func (b *backoff) wait() {
	if b.d == 0 {
		b.d = 100 * time.Microsecond
	}
	time.Sleep(b.d)
	if b.d < 20*time.Millisecond {
		b.d *= 2
	}
}
