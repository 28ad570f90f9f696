package supervisor

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ErrClosed is returned by calls on a closed Client or after the
// connection to the supervisor was lost (Ensure again to reconnect).
var ErrClosed = errors.New("supervisor: connection closed")

// Client talks to a supervisor over its unix socket. Safe for concurrent use;
// calls are pipelined.
type Client struct {
	conn      *net.UnixConn
	out       *outbox
	serverPID int

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan *message
	err     error // why the connection is gone

	done      chan struct{} // the connection is gone
	closed    chan struct{} // Close was called
	closeOnce sync.Once

	exits    chan Proc
	exitMu   sync.Mutex
	exitQ    []Proc
	exitWake chan struct{}
}

// Dial connects to the supervisor serving dir.
func Dial(ctx context.Context, dir string) (*Client, error) {
	addr, done, err := socketAddr(dir)
	if err != nil {
		return nil, fmt.Errorf("supervisor: %w", err)
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", addr)
	done()
	if err != nil {
		return nil, fmt.Errorf("supervisor: connect to %s: %w", filepath.Join(dir, socketName), err)
	}
	uc := nc.(*net.UnixConn)
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Second)
	}
	uc.SetReadDeadline(deadline)
	sc := bufio.NewScanner(uc)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineSize)
	var m message
	if !sc.Scan() {
		uc.Close()
		err := sc.Err()
		if err == nil {
			err = errors.New("connection closed")
		}
		return nil, fmt.Errorf("supervisor: no hello from %s: %w", dir, err)
	}
	if err := json.Unmarshal(sc.Bytes(), &m); err != nil || m.Hello == nil {
		uc.Close()
		return nil, fmt.Errorf("supervisor: bad hello from %s: %q", dir, sc.Text())
	}
	if m.Hello.Version != ProtocolVersion {
		uc.Close()
		return nil, fmt.Errorf("supervisor: %s speaks protocol version %d, want %d", dir, m.Hello.Version, ProtocolVersion)
	}
	uc.SetReadDeadline(time.Time{})
	c := &Client{
		conn:      uc,
		out:       newOutbox(0),
		serverPID: m.Hello.PID,
		pending:   map[uint64]chan *message{},
		done:      make(chan struct{}),
		closed:    make(chan struct{}),
		exits:     make(chan Proc, 64),
		exitWake:  make(chan struct{}, 1),
	}
	go c.out.run(uc)
	go c.readLoop(sc)
	go c.pumpExits()
	return c, nil
}

// ServerPID is the process id of the supervisor (from its hello).
func (c *Client) ServerPID() int { return c.serverPID }

func (c *Client) readLoop(sc *bufio.Scanner) {
	for sc.Scan() {
		var m message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			continue
		}
		if m.ID == 0 {
			if m.Exit != nil {
				c.exitMu.Lock()
				c.exitQ = append(c.exitQ, *m.Exit)
				c.exitMu.Unlock()
				select {
				case c.exitWake <- struct{}{}:
				default:
				}
			}
			continue
		}
		c.mu.Lock()
		ch := c.pending[m.ID]
		delete(c.pending, m.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- &m
		}
	}
	err := sc.Err()
	if err == nil {
		err = ErrClosed
	} else {
		err = fmt.Errorf("%w: %v", ErrClosed, err)
	}
	select {
	case <-c.closed:
		err = ErrClosed
	default:
	}
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
	close(c.done)
	c.out.close()
	c.conn.Close()
}

// pumpExits moves queued exit events to the Exits channel: the reader
// never blocks on a slow consumer (the queue is unbounded).
func (c *Client) pumpExits() {
	defer close(c.exits)
	for {
		c.exitMu.Lock()
		q := c.exitQ
		c.exitQ = nil
		c.exitMu.Unlock()
		for _, p := range q {
			select {
			case c.exits <- p:
			case <-c.closed:
				return
			}
		}
		if len(q) > 0 {
			continue
		}
		select {
		case <-c.exitWake:
		case <-c.closed:
			return
		case <-c.done:
			// Deliver what came before the connection ended.
			c.exitMu.Lock()
			n := len(c.exitQ)
			c.exitMu.Unlock()
			if n == 0 {
				return
			}
		}
	}
}

func (c *Client) call(ctx context.Context, req *request) (*message, error) {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.nextID++
	req.ID = c.nextID
	ch := make(chan *message, 1)
	c.pending[req.ID] = ch
	c.mu.Unlock()
	b, err := json.Marshal(req)
	if err != nil {
		c.forget(req.ID)
		return nil, fmt.Errorf("supervisor: encode request: %w", err)
	}
	if !c.out.put(b) {
		c.forget(req.ID)
		return nil, ErrClosed
	}
	var m *message
	select {
	case m = <-ch:
	case <-ctx.Done():
		c.forget(req.ID)
		return nil, ctx.Err()
	case <-c.done:
		select {
		case m = <-ch:
		default:
			c.mu.Lock()
			err := c.err
			c.mu.Unlock()
			return nil, err
		}
	}
	if m.Error != "" {
		return m, errors.New(m.Error)
	}
	return m, nil
}

func (c *Client) forget(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// Start starts a process; it returns once the exec succeeded (or failed:
// the error says why, e.g. "exec /x: no such file or directory").
func (c *Client) Start(ctx context.Context, spec StartSpec) (Proc, error) {
	m, err := c.call(ctx, &request{Op: opStart, Spec: &spec})
	if err != nil {
		return Proc{}, err
	}
	if m.Proc == nil {
		return Proc{}, errors.New("supervisor: start reply without a process")
	}
	return *m.Proc, nil
}

// Signal sends sig to the process's group and cgroup (each process once;
// in a new PID namespace to its init, which forwards it to the task).
func (c *Client) Signal(ctx context.Context, key string, sig syscall.Signal) error {
	_, err := c.call(ctx, &request{Op: opSignal, Key: key, Signal: int(sig)})
	return err
}

// Kill sends SIGTERM to the process group and cgroup, then SIGKILL to all
// of them after grace (0: at once). It returns at once; the exit arrives as
// usual. Killing an exited or unknown process is not an error.
func (c *Client) Kill(ctx context.Context, key string, grace time.Duration) error {
	_, err := c.call(ctx, &request{Op: opKill, Key: key, GraceMS: durationMS(grace)})
	return err
}

func durationMS(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// List returns every process the supervisor knows (live and exited-but-not-forgotten).
func (c *Client) List(ctx context.Context) ([]Proc, error) {
	m, err := c.call(ctx, &request{Op: opList})
	if err != nil {
		return nil, err
	}
	return m.Procs, nil
}

// Forget drops an exited process's record.
func (c *Client) Forget(ctx context.Context, key string) error {
	_, err := c.call(ctx, &request{Op: opForget, Key: key})
	return err
}

// Ping checks that the supervisor answers.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.call(ctx, &request{Op: opPing})
	return err
}

// Exits delivers the exits of processes as they happen (after they are
// recorded), for as long as the client is open. Call List after
// subscribing to learn exits that happened before. The channel is closed
// when the client is closed or the connection is lost.
func (c *Client) Exits() <-chan Proc { return c.exits }

// Shutdown asks the supervisor to kill every process (SIGTERM, grace, SIGKILL)
// and exit (used when the whole cluster stops, e.g. Ctrl-C on `cairn up`).
// It returns once every process is gone and the supervisor is exiting.
func (c *Client) Shutdown(ctx context.Context, grace time.Duration) error {
	_, err := c.call(ctx, &request{Op: opShutdown, GraceMS: durationMS(grace)})
	return err
}

// Close closes the connection (the supervisor keeps running).
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.out.close()
		c.conn.Close()
	})
	return nil
}

// Ensure connects to the supervisor of dir, starting it first if none runs:
// command is the argv that runs Serve (e.g. [os.Executable(), "supervisor",
// "--dir", dir]); it is started detached (own session, stdio to
// dir/supervisor.log) so it survives its parent.
//
// Concurrent Ensure calls (in any processes) start one supervisor: the
// start happens under an exclusive flock of dir/ensure.lock, and Serve
// itself refuses to run twice on one dir. A goroutine of the caller waits
// for the started supervisor (so that it is reaped if it exits while the
// caller lives).
func Ensure(ctx context.Context, dir string, command []string) (*Client, error) {
	if c, err := Dial(ctx, dir); err == nil {
		return c, nil
	}
	if len(command) == 0 {
		return nil, errors.New("supervisor: Ensure: no command to start the supervisor")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("supervisor: %w", err)
	}
	lock, err := lockFile(ctx, filepath.Join(dir, ensureName))
	if err != nil {
		return nil, err
	}
	defer unix.Close(lock) // releases the flock
	// Someone may have started it while we waited for the lock.
	if c, err := Dial(ctx, dir); err == nil {
		return c, nil
	}
	logPath := filepath.Join(dir, logName)
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("supervisor: %w", err)
	}
	defer logf.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("supervisor: %w", err)
	}
	defer null.Close()
	p, err := os.StartProcess(command[0], command, &os.ProcAttr{
		Dir:   "/",
		Files: []*os.File{null, logf, logf},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		return nil, fmt.Errorf("supervisor: start %s: %w", command[0], err)
	}
	exited := make(chan string, 1)
	go func() {
		st, err := p.Wait()
		if err != nil {
			exited <- err.Error()
		} else {
			exited <- st.String()
		}
	}()
	var bo backoff
	for {
		c, err := Dial(ctx, dir)
		if err == nil {
			return c, nil
		}
		select {
		case st := <-exited:
			return nil, fmt.Errorf("supervisor: %s exited at once (%s); %s says: %s", command[0], st, logPath, tail(logPath, 5))
		case <-ctx.Done():
			return nil, fmt.Errorf("supervisor: started (pid %d) but it does not answer: %w (see %s)", p.Pid, ctx.Err(), logPath)
		default:
		}
		bo.wait()
	}
}

// lockFile takes an exclusive flock on path, waiting until ctx ends.
func lockFile(ctx context.Context, path string) (int, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return -1, fmt.Errorf("supervisor: open %s: %w", path, err)
	}
	var bo backoff
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return fd, nil
		}
		if err != unix.EWOULDBLOCK && err != unix.EINTR {
			unix.Close(fd)
			return -1, fmt.Errorf("supervisor: lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			unix.Close(fd)
			return -1, fmt.Errorf("supervisor: lock %s: %w", path, ctx.Err())
		default:
		}
		bo.wait()
	}
}

// tail returns the last n lines of a file, joined by " | ".
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
