package supervisor

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// siginfoChld is the SIGCHLD view of siginfo_t (x86-64 and arm64 layout,
// 128 bytes like unix.Siginfo).
type siginfoChld struct {
	Signo  int32
	Errno  int32
	Code   int32
	_      int32
	Pid    int32
	Uid    uint32
	Status int32
	_      [100]byte
}

var _ [unsafe.Sizeof(unix.Siginfo{}) - unsafe.Sizeof(siginfoChld{})]byte // same size

func waitid(idtype, id int, info *siginfoChld, options int) error {
	*info = siginfoChld{}
	return unix.Waitid(idtype, id, (*unix.Siginfo)(unsafe.Pointer(info)), options, nil)
}

// reaper reaps children on SIGCHLD.
func (s *server) reaper(sig chan os.Signal) {
	defer s.wg.Done()
	s.reapAll()
	for {
		select {
		case <-sig:
			s.reapAll()
		case <-s.stop:
			return
		}
	}
}

// reapAll reaps every child that has exited. It peeks (WNOWAIT) first so
// that a task's process group can be killed while its leader's pid, and so
// the group id, cannot be reused yet.
func (s *server) reapAll() {
	for {
		var info siginfoChld
		err := waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT)
		if err == unix.EINTR {
			continue
		}
		if err != nil || info.Pid == 0 {
			return
		}
		s.reapOne(int(info.Pid))
	}
}

func (s *server) reapOne(pid int) {
	s.mu.Lock()
	e := s.byPID[pid]
	if e == nil {
		// Perhaps a fork whose pid is not registered yet: wait for the
		// forks in flight, then look again.
		s.mu.Unlock()
		s.forkRW.Lock()
		s.forkRW.Unlock()
		s.mu.Lock()
		e = s.byPID[pid]
	}
	if e != nil && !e.pidns {
		// The task ends with its leader: kill what is left of its group.
		unix.Kill(-pid, syscall.SIGKILL)
	}
	var ws syscall.WaitStatus
	got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	for err == syscall.EINTR {
		got, err = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	}
	if e == nil || got != pid {
		// An orphan that came to us as subreaper (or already reaped).
		s.mu.Unlock()
		return
	}
	delete(s.byPID, pid)
	ex := &Exit{Code: -1, Time: time.Now(), KillRequested: e.killReq}
	switch {
	case ws.Exited():
		ex.Code = ws.ExitStatus()
	case ws.Signaled():
		ex.Signal = unix.SignalName(ws.Signal())
	}
	s.exited(e, ex) // unlocks
}

// exited handles the exit of e's leader; s.mu is held and released.
func (s *server) exited(e *entry, ex *Exit) {
	if e.failed {
		s.mu.Unlock()
		return
	}
	if !e.replied {
		e.pending = ex
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.recordExit(e, ex)
}

// recordExit writes Dir/exits/<key>.json, then announces the exit.
func (s *server) recordExit(e *entry, ex *Exit) {
	s.mu.Lock()
	if e.exit != nil {
		s.mu.Unlock()
		return
	}
	if e.killTimer != nil {
		e.killTimer.Stop()
		e.killTimer = nil
	}
	ex.KillRequested = ex.KillRequested || e.killReq
	p := e.proc()
	p.Exit = ex
	cg := e.cgroup
	s.mu.Unlock()
	if err := s.journal.append(&journalLine{Exit: &p}); err != nil {
		s.log.Error("cannot record an exit: a supervisor restart will report it as unknown", "key", e.key, "err", err)
	}
	s.mu.Lock()
	e.exit = ex
	s.mu.Unlock()
	s.broadcast(p)
	if cg != "" {
		s.killCgroupRest(cg)
	}
}

// killCgroupRest kills whatever is left in a task's cgroup once its leader
// is gone (a daemonized grandchild, say), in the background.
func (s *server) killCgroupRest(name string) {
	c, err := s.cfg.Cgroups.Open(name)
	if err != nil {
		return
	}
	if pids, err := c.Procs(); err != nil || len(pids) == 0 {
		return
	}
	go func() {
		if err := c.Kill(30 * time.Second); err != nil && !errors.Is(err, errors.ErrUnsupported) {
			s.log.Warn("kill the rest of a cgroup", "cgroup", name, "err", err)
		}
	}()
}

// signalLeader sends sig to e's process group (the leader's group: the
// task and the children it did not move elsewhere). s.mu is held, so a
// pid we reap cannot be reused meanwhile.
func (s *server) signalLeader(e *entry, sig syscall.Signal) error {
	if e.adopted && e.pidfd >= 0 {
		// Not our child, so its pid could have been reused: check through
		// the pidfd (signal 0) that the leader is still that process.
		if err := unix.PidfdSendSignal(e.pidfd, 0, nil, 0); err == unix.ESRCH {
			return nil
		}
	}
	err := unix.Kill(-e.pid, sig)
	if err == unix.ESRCH {
		// The leader left its group (setpgid): signal it alone.
		err = unix.Kill(e.pid, sig)
	}
	if err == unix.ESRCH {
		return nil
	}
	return err
}

// signalCgroupRest sends sig to the processes of the cgroup that are not
// in the leader's process group (those got it already): each process gets
// the signal once.
func (s *server) signalCgroupRest(name string, leader int, sig syscall.Signal) {
	c, err := s.cfg.Cgroups.Open(name)
	if err != nil {
		return
	}
	pids, err := c.Procs()
	if err != nil {
		return
	}
	for _, p := range pids {
		if _, _, pgrp, err := procStat(p); err == nil && pgrp != leader {
			unix.Kill(p, sig)
		}
	}
}

func (s *server) signalKey(key string, sig syscall.Signal) error {
	if sig <= 0 || sig > 64 {
		return fmt.Errorf("signal %s: invalid signal %d", key, int(sig))
	}
	s.mu.Lock()
	e := s.procs[key]
	switch {
	case e == nil || e.failed:
		s.mu.Unlock()
		return fmt.Errorf("signal %s: no such process", key)
	case e.exit != nil:
		s.mu.Unlock()
		return fmt.Errorf("signal %s: the process has exited (%s)", key, e.exit)
	case e.pid == 0 || !e.recorded:
		s.mu.Unlock()
		return fmt.Errorf("signal %s: the process is still starting", key)
	}
	err := s.signalLeader(e, sig)
	cg, pidns, pid := e.cgroup, e.pidns, e.pid
	s.mu.Unlock()
	// In a PID namespace the init forwards signals to the task's group.
	if cg != "" && !pidns {
		s.signalCgroupRest(cg, pid, sig)
	}
	if err != nil {
		return fmt.Errorf("signal %s: %w", key, err)
	}
	return nil
}

func (s *server) killKey(key string, grace time.Duration) error {
	s.mu.Lock()
	e := s.procs[key]
	if e == nil || !e.live() {
		s.mu.Unlock()
		return nil
	}
	e.killReq = true
	if e.pid == 0 || !e.replied {
		// Still starting: killed as soon as it is.
		if e.startKill < 0 || grace < e.startKill {
			e.startKill = max(grace, 0)
		}
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	s.kill(e, grace)
	return nil
}

// kill sends SIGTERM now and SIGKILL after grace (at once if grace <= 0).
func (s *server) kill(e *entry, grace time.Duration) {
	if grace <= 0 {
		s.sigkill(e)
		return
	}
	s.mu.Lock()
	if !e.live() {
		s.mu.Unlock()
		return
	}
	e.killReq = true
	at := time.Now().Add(grace)
	if e.killTimer == nil || at.Before(e.killAt) {
		if e.killTimer != nil {
			e.killTimer.Stop()
		}
		e.killAt = at
		e.killTimer = time.AfterFunc(grace, func() { s.sigkill(e) })
	}
	s.signalLeader(e, syscall.SIGTERM)
	cg, pidns, pid := e.cgroup, e.pidns, e.pid
	s.mu.Unlock()
	if cg != "" && !pidns {
		s.signalCgroupRest(cg, pid, syscall.SIGTERM)
	}
}

// sigkill SIGKILLs the process group and the whole cgroup.
func (s *server) sigkill(e *entry) {
	s.mu.Lock()
	e.killReq = true
	if e.live() {
		s.signalLeader(e, syscall.SIGKILL)
	}
	cg := e.cgroup
	s.mu.Unlock()
	if cg != "" {
		c, err := s.cfg.Cgroups.Open(cg)
		if err != nil {
			return
		}
		go func() {
			if err := c.Kill(30 * time.Second); err != nil && !errors.Is(err, errors.ErrUnsupported) {
				s.log.Warn("kill a cgroup", "cgroup", cg, "err", err)
			}
		}()
	}
}

// pidfdWatcher waits, with one epoll set, for the exits of re-adopted
// processes (they are not our children: no SIGCHLD, no status).
type pidfdWatcher struct {
	s    *server
	epfd int
	evfd int
	byFD map[int32]*entry // guarded by s.mu
}

func newPidfdWatcher(s *server) (*pidfdWatcher, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	evfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(evfd)}); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	return &pidfdWatcher{s: s, epfd: epfd, evfd: evfd, byFD: map[int32]*entry{}}, nil
}

// add watches e.pidfd; s.mu is held.
func (w *pidfdWatcher) add(e *entry) error {
	w.byFD[int32(e.pidfd)] = e
	return unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, e.pidfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(e.pidfd)})
}

func (w *pidfdWatcher) run() {
	defer w.s.wg.Done()
	events := make([]unix.EpollEvent, 64)
	for {
		n, err := unix.EpollWait(w.epfd, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			w.s.log.Error("epoll_wait", "err", err)
			return
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == w.evfd {
				return
			}
			w.exited(ev.Fd)
		}
	}
}

func (w *pidfdWatcher) exited(fd int32) {
	s := w.s
	s.mu.Lock()
	e := w.byFD[fd]
	delete(w.byFD, fd)
	unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
	if e == nil {
		s.mu.Unlock()
		return
	}
	ex := &Exit{Code: -1, Unknown: true, Time: time.Now(), KillRequested: e.killReq}
	// If it happens to be our child after all (a supervisor restarted in
	// the same process), its status is there to take.
	var info siginfoChld
	if waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG) == nil && int(info.Pid) == e.pid {
		ex.Unknown = false
		switch info.Code {
		case 1: // CLD_EXITED
			ex.Code = int(info.Status)
		default: // CLD_KILLED, CLD_DUMPED
			ex.Signal = unix.SignalName(syscall.Signal(info.Status))
		}
	}
	unix.Close(int(fd))
	e.pidfd = -1
	if s.byPID[e.pid] != e {
		s.mu.Unlock()
		return
	}
	delete(s.byPID, e.pid)
	s.exited(e, ex)
}

// close stops run (the caller waits for it) and releases the descriptors
// once it has.
func (w *pidfdWatcher) close() {
	var one = [8]byte{1}
	unix.Write(w.evfd, one[:])
}

func (w *pidfdWatcher) release() {
	unix.Close(w.epfd)
	unix.Close(w.evfd)
}
