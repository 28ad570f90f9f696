package supervisor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cairn-dc/cairn/kernel/containerizer/cgroups"
)

type startReq struct {
	c    *conn
	id   uint64
	spec *StartSpec
	e    *entry
}

// procRecord is a start line of the journal.
type procRecord struct {
	Key        string    `json:"key"`
	PID        int       `json:"pid"`
	StartTicks uint64    `json:"start_ticks"` // /proc/<pid>/stat field 22: tells a reused pid apart
	StartedAt  time.Time `json:"started_at"`
	Cgroup     string    `json:"cgroup,omitempty"`
	PIDNS      bool      `json:"pid_ns,omitempty"`
	Spec       StartSpec `json:"spec"`
}

func (s *server) validate(spec *StartSpec) error {
	if err := validKey(spec.Key); err != nil {
		return err
	}
	if !filepath.IsAbs(spec.Path) {
		return fmt.Errorf("start %s: path %q is not absolute", spec.Key, spec.Path)
	}
	for _, f := range []struct{ name, path string }{{"stdout", spec.Stdout}, {"stderr", spec.Stderr}} {
		if f.path != "" && !filepath.IsAbs(f.path) {
			return fmt.Errorf("start %s: %s %q is not absolute", spec.Key, f.name, f.path)
		}
	}
	if spec.Cgroup != "" {
		if err := cgroups.ValidName(spec.Cgroup); err != nil {
			return fmt.Errorf("start %s: %w", spec.Key, err)
		}
	}
	for i, m := range spec.Mounts {
		if !filepath.IsAbs(m.Source) || !filepath.IsAbs(m.Target) {
			return fmt.Errorf("start %s: mounts[%d]: source %q and target %q must be absolute", spec.Key, i, m.Source, m.Target)
		}
		if _, err := os.Stat(m.Source); err != nil {
			return fmt.Errorf("start %s: mounts[%d]: host path %s: %w", spec.Key, i, m.Source, err)
		}
	}
	if len(spec.Mounts) > 0 {
		spec.NewMountNamespace = true
	}
	if (spec.NewPIDNamespace || spec.NewMountNamespace) && len(s.cfg.InitCommand) == 0 {
		return fmt.Errorf("start %s: new namespaces need the supervisor's init command (Config.InitCommand), which is not set", spec.Key)
	}
	return nil
}

// submitStart reserves the key and queues the start for a forker.
func (s *server) submitStart(c *conn, id uint64, spec *StartSpec) {
	fail := func(err error) { c.send(&message{ID: id, Error: err.Error()}) }
	if err := s.validate(spec); err != nil {
		fail(err)
		return
	}
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		fail(fmt.Errorf("start %s: the supervisor is shutting down", spec.Key))
		return
	}
	if old := s.procs[spec.Key]; old != nil {
		s.mu.Unlock()
		if old.exit != nil {
			fail(fmt.Errorf("start %s: key in use by an exited process: forget it first", spec.Key))
		} else {
			fail(fmt.Errorf("start %s: key in use by a running process (pid %d)", spec.Key, old.pid))
		}
		return
	}
	e := &entry{key: spec.Key, cgroup: spec.Cgroup, pidns: spec.NewPIDNamespace, pidfd: -1, startKill: -1}
	s.procs[spec.Key] = e
	s.mu.Unlock()
	select {
	case s.startq <- &startReq{c: c, id: id, spec: spec, e: e}:
	case <-s.stop:
		s.dropStarting(e)
		fail(fmt.Errorf("start %s: the supervisor is stopping", spec.Key))
	}
}

func (s *server) dropStarting(e *entry) {
	s.mu.Lock()
	if s.procs[e.key] == e {
		delete(s.procs, e.key)
	}
	e.failed = true
	s.mu.Unlock()
}

// forker forks tasks on a dedicated OS thread (v1 cgroups move the thread
// into a task's cgroups for the fork).
func (s *server) forker() {
	defer s.wg.Done()
	runtime.LockOSThread()
	// If a v1 cgroup could not give the thread back, Start leaves it locked
	// once more: the thread then ends with this goroutine.
	defer runtime.UnlockOSThread()
	for {
		select {
		case r := <-s.startq:
			s.doStart(r)
		case <-s.stop:
			return
		}
	}
}

func (s *server) doStart(r *startReq) {
	spec, e := r.spec, r.e
	fail := func(err error) {
		s.dropStarting(e)
		r.c.send(&message{ID: r.id, Error: err.Error()})
	}
	var toClose []int
	defer func() {
		for _, fd := range toClose {
			unix.Close(fd)
		}
	}()
	openOut := func(name, p string) (int, error) {
		if p == "" {
			return s.devNull, nil
		}
		fd, err := openRetry(p, unix.O_WRONLY|unix.O_CREAT|unix.O_APPEND|unix.O_CLOEXEC, 0o640)
		if err != nil {
			return -1, fmt.Errorf("start %s: open %s %s: %w", spec.Key, name, p, err)
		}
		toClose = append(toClose, fd)
		return fd, nil
	}
	stdout, err := openOut("stdout", spec.Stdout)
	if err != nil {
		fail(err)
		return
	}
	stderr := stdout
	if spec.Stderr != spec.Stdout {
		if stderr, err = openOut("stderr", spec.Stderr); err != nil {
			fail(err)
			return
		}
	}
	cred, err := s.credential(spec.User)
	if err != nil {
		fail(fmt.Errorf("start %s: %w", spec.Key, err))
		return
	}
	var cg cgroups.Cgroup
	if spec.Cgroup != "" {
		if cg, err = s.cfg.Cgroups.Named(spec.Cgroup); err != nil {
			fail(fmt.Errorf("start %s: %w", spec.Key, err))
			return
		}
	}
	path, argv := spec.Path, spec.Argv
	if len(argv) == 0 {
		argv = []string{spec.Path}
	}
	attr := &syscall.SysProcAttr{Setpgid: true}
	files := []uintptr{uintptr(s.devNull), uintptr(stdout), uintptr(stderr)}
	statusR := -1
	if spec.NewPIDNamespace || spec.NewMountNamespace {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			fail(fmt.Errorf("start %s: pipe: %w", spec.Key, err))
			return
		}
		unix.SetNonblock(p[0], true)
		statusR = p[0]
		toClose = append(toClose, p[1])
		files = append(files, uintptr(p[1]))
		path = s.cfg.InitCommand[0]
		argv = initArgv(s.cfg.InitCommand, spec, argv, cred)
		attr.Cloneflags = syscall.CLONE_NEWNS
		if spec.NewPIDNamespace {
			attr.Cloneflags |= syscall.CLONE_NEWPID
		}
	} else {
		attr.Credential = cred
	}
	fork := func() (int, error) {
		return syscall.ForkExec(path, argv, &syscall.ProcAttr{Dir: spec.Dir, Env: spec.Env, Files: files, Sys: attr})
	}

	s.forkRW.RLock()
	var pid int
	if cg != nil {
		pid, err = cg.Start(attr, fork)
	} else {
		pid, err = fork()
	}
	if pid > 0 {
		// Read while forkRW is held: the reaper cannot reap a pid it does
		// not know yet, so an already-exited child is still a zombie here.
		ticks, _, _, _ := procStat(pid)
		s.mu.Lock()
		e.pid = pid
		e.startTicks = ticks
		e.startedAt = time.Now()
		s.byPID[pid] = e
		s.mu.Unlock()
	}
	s.forkRW.RUnlock()

	if pid <= 0 {
		if statusR >= 0 {
			unix.Close(statusR)
		}
		fail(s.execError(spec, path, err))
		return
	}
	if err != nil {
		s.log.Error("started, but the forking thread could not leave the task cgroup", "key", spec.Key, "err", err)
	}
	if statusR >= 0 {
		go s.awaitInit(r, statusR)
		return
	}
	s.finishStart(r)
}

func (s *server) execError(spec *StartSpec, path string, err error) error {
	if errors.Is(err, unix.ENOENT) && spec.Dir != "" {
		if _, serr := os.Stat(spec.Dir); serr != nil {
			return fmt.Errorf("start %s: chdir %s: %w", spec.Key, spec.Dir, err)
		}
	}
	if path != spec.Path {
		return fmt.Errorf("start %s: exec the init command %s: %w", spec.Key, path, err)
	}
	return fmt.Errorf("exec %s: %w", path, err)
}

// awaitInit reads the init's status pipe: EOF alone means the task's exec
// succeeded; anything written is the error.
func (s *server) awaitInit(r *startReq, fd int) {
	f := os.NewFile(uintptr(fd), "init-status")
	msg, _ := io.ReadAll(io.LimitReader(f, 64<<10))
	f.Close()
	if len(msg) > 0 {
		// The init exits by itself (127); its exit is ignored.
		s.dropStarting(r.e)
		r.c.send(&message{ID: r.id, Error: strings.TrimSpace(string(msg))})
		return
	}
	s.finishStart(r)
}

// finishStart records the process, replies, then lets its exit (if it
// already came) or a Kill that came meanwhile through.
func (s *server) finishStart(r *startReq) {
	e := r.e
	s.mu.Lock()
	pid, startedAt, ticks := e.pid, e.startedAt, e.startTicks
	s.mu.Unlock()
	// The spec is kept for the operator's eyes (re-adoption needs only
	// the pid, its start time, cgroup and namespace), without the
	// environment: it may hold secrets, and it is most of the bytes.
	spec := *r.spec
	spec.Env = nil
	rec := procRecord{Key: e.key, PID: pid, StartTicks: ticks, StartedAt: startedAt, Cgroup: e.cgroup, PIDNS: e.pidns, Spec: spec}
	if err := s.journal.append(&journalLine{Start: &rec}); err != nil {
		// Unrecorded, it could not be re-adopted: do not let it run.
		s.mu.Lock()
		e.failed = true
		if s.procs[e.key] == e {
			delete(s.procs, e.key)
		}
		if s.byPID[pid] == e {
			unix.Kill(-pid, syscall.SIGKILL)
			unix.Kill(pid, syscall.SIGKILL)
		}
		s.mu.Unlock()
		r.c.send(&message{ID: r.id, Error: fmt.Sprintf("start %s: record the process: %v", e.key, err)})
		return
	}
	// Recorded, it may be signalled and listed, even by a client that has
	// its reply before the flag below is set.
	s.mu.Lock()
	e.recorded = true
	s.mu.Unlock()
	p := Proc{Key: e.key, PID: pid, StartedAt: startedAt, Cgroup: e.cgroup}
	r.c.send(&message{ID: r.id, Proc: &p})
	s.mu.Lock()
	e.replied = true
	pending := e.pending
	e.pending = nil
	startKill := e.startKill
	s.mu.Unlock()
	if pending != nil {
		s.recordExit(e, pending)
	} else if startKill >= 0 {
		s.kill(e, startKill)
	}
}

// initArgv builds the init command line (see RunInit).
func initArgv(initCmd []string, spec *StartSpec, argv []string, cred *syscall.Credential) []string {
	a := append([]string(nil), initCmd...)
	a = append(a, "--status-fd", "3")
	if spec.NewPIDNamespace {
		a = append(a, "--pid-ns")
	}
	for _, m := range spec.Mounts {
		mode := "rw"
		if m.ReadOnly {
			mode = "ro"
		}
		a = append(a, "--bind", m.Source, m.Target, mode)
	}
	if cred != nil {
		a = append(a, "--uid", strconv.FormatUint(uint64(cred.Uid), 10), "--gid", strconv.FormatUint(uint64(cred.Gid), 10))
		if len(cred.Groups) > 0 {
			gs := make([]string, len(cred.Groups))
			for i, g := range cred.Groups {
				gs[i] = strconv.FormatUint(uint64(g), 10)
			}
			a = append(a, "--groups", strings.Join(gs, ","))
		}
	}
	a = append(a, "--", spec.Path)
	return append(a, argv...)
}

// credential looks a user up (cached); "" is nil: run as the supervisor.
func (s *server) credential(name string) (*syscall.Credential, error) {
	if name == "" {
		return nil, nil
	}
	s.mu.Lock()
	c, ok := s.users[name]
	s.mu.Unlock()
	if ok {
		return c, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		if _, nerr := strconv.Atoi(name); nerr == nil {
			u, err = user.LookupId(name)
		}
		if err != nil {
			return nil, fmt.Errorf("user %q: %w", name, err)
		}
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user %q: non-numeric uid/gid %s/%s", name, u.Uid, u.Gid)
	}
	c = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	if gids, err := u.GroupIds(); err == nil {
		for _, g := range gids {
			if v, err := strconv.ParseUint(g, 10, 32); err == nil {
				c.Groups = append(c.Groups, uint32(v))
			}
		}
	}
	s.mu.Lock()
	s.users[name] = c
	s.mu.Unlock()
	return c, nil
}

// procStat reads /proc/<pid>/stat: start time (clock ticks since boot),
// state and process group.
func procStat(pid int) (startTicks uint64, state byte, pgrp int, err error) {
	var buf [512]byte
	fd, err := openRetry("/proc/"+strconv.Itoa(pid)+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, 0, err
	}
	n, err := readRetry(fd, buf[:])
	unix.Close(fd)
	if err != nil {
		return 0, 0, 0, err
	}
	b := buf[:n]
	// The command may contain spaces and parentheses: fields start after the last ')'.
	i := len(b) - 1
	for i >= 0 && b[i] != ')' {
		i--
	}
	if i < 0 {
		return 0, 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(b[i+1:]))
	// fields[0] is field 3 (state): field N is fields[N-3].
	if len(fields) < 20 {
		return 0, 0, 0, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(fields))
	}
	startTicks, err = strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	pgrp, _ = strconv.Atoi(fields[2])
	return startTicks, fields[0][0], pgrp, nil
}

// openRetry, writeRetry and readRetry retry on EINTR (the Go runtime
// signals its threads; some filesystems let a pending signal interrupt).
func openRetry(path string, flags int, perm uint32) (int, error) {
	for {
		fd, err := unix.Open(path, flags, perm)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

func writeRetry(fd int, b []byte) (int, error) {
	for {
		n, err := unix.Write(fd, b)
		if err != unix.EINTR {
			return n, err
		}
	}
}

func readRetry(fd int, b []byte) (int, error) {
	for {
		n, err := unix.Read(fd, b)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// writeAtomic writes a file through a temporary file and a rename, so a
// reader sees the old or the new content, never a part. No fsync: see
// README.md ("Durability").
func writeAtomic(path string, data []byte, perm uint32) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	fd, err := openRetry(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, perm)
	if err != nil {
		return &os.PathError{Op: "open", Path: tmp, Err: err}
	}
	for len(data) > 0 {
		n, err := writeRetry(fd, data)
		if err != nil {
			unix.Close(fd)
			unix.Unlink(tmp)
			return &os.PathError{Op: "write", Path: tmp, Err: err}
		}
		data = data[n:]
	}
	if err := unix.Close(fd); err != nil {
		unix.Unlink(tmp)
		return &os.PathError{Op: "close", Path: tmp, Err: err}
	}
	if err := unix.Rename(tmp, path); err != nil {
		unix.Unlink(tmp)
		return &os.PathError{Op: "rename", Path: path, Err: err}
	}
	return nil
}
