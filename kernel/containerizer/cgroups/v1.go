package cgroups

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// hier is one mounted v1 hierarchy (it may carry several controllers,
// e.g. "cpu,cpuacct" on many distributions).
type hier struct {
	controllers []string
	own         string // this process's own cgroup directory
	base        string // own/<parent>: where task cgroups go
	restore     int    // fd of own/tasks, kept open to move threads back
	baseFD      int    // O_PATH descriptor of base: Start opens <name>/tasks relative to it
}

type v1Manager struct {
	parent string
	hiers  []*hier // distinct hierarchies, in the order Start joins them
	// Index into hiers of each controller; pids and freezer may be -1.
	cpu, cpuacct, memory, pids, freezer int
	// lazyPids is pids' index when that hierarchy carries nothing else:
	// a task gets a cgroup there only when it asks for a pids limit (one
	// mkdir, join and rmdir less per task, under the kernel's cgroup lock).
	// Else -1.
	lazyPids int
	memsw    bool // memory.memsw.* present (swap accounting)
	spare    atomic.Int64
}

func detectV1(h *host, parent string) (Manager, string) {
	m := &v1Manager{parent: parent, cpu: -1, cpuacct: -1, memory: -1, pids: -1, freezer: -1, lazyPids: -1}
	byPoint := map[string]int{}
	for _, c := range []string{"memory", "cpu", "cpuacct", "pids", "freezer"} {
		mnt, own, ok := h.v1Mount(c)
		if !ok {
			if c == "pids" || c == "freezer" {
				continue
			}
			return nil, fmt.Sprintf("the %s hierarchy is not mounted", c)
		}
		i, seen := byPoint[mnt.point]
		if !seen {
			i = len(m.hiers)
			byPoint[mnt.point] = i
			m.hiers = append(m.hiers, &hier{own: own, base: filepath.Join(own, filepath.FromSlash(parent)), restore: -1, baseFD: -1})
		}
		m.hiers[i].controllers = append(m.hiers[i].controllers, c)
		switch c {
		case "cpu":
			m.cpu = i
		case "cpuacct":
			m.cpuacct = i
		case "memory":
			m.memory = i
		case "pids":
			m.pids = i
		case "freezer":
			m.freezer = i
		}
	}
	// Start joins the cpu hierarchy last and leaves it first: a thread
	// waiting (on cgroup_mutex) inside a fresh cpu cgroup is slow to run.
	for i, hh := range m.hiers {
		if slices.Contains(hh.controllers, "cpu") && i != len(m.hiers)-1 {
			last := len(m.hiers) - 1
			m.hiers[i], m.hiers[last] = m.hiers[last], m.hiers[i]
			for _, p := range []*int{&m.cpu, &m.cpuacct, &m.memory, &m.pids, &m.freezer} {
				switch *p {
				case i:
					*p = last
				case last:
					*p = i
				}
			}
			break
		}
	}
	for _, hh := range m.hiers {
		if err := mkdirAll(hh.base); err != nil {
			m.close()
			return nil, fmt.Sprintf("cannot create %s: %v", hh.base, errors.Unwrap(err))
		}
		fd, err := unix.Open(filepath.Join(hh.own, "tasks"), unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			m.close()
			return nil, fmt.Sprintf("cannot open %s/tasks: %v", hh.own, err)
		}
		hh.restore = fd
		if hh.baseFD, err = unix.Open(hh.base, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			m.close()
			return nil, fmt.Sprintf("cannot open %s: %v", hh.base, err)
		}
	}
	if m.pids >= 0 && len(m.hiers[m.pids].controllers) == 1 {
		m.lazyPids = m.pids
	}
	if _, err := os.Stat(filepath.Join(m.hiers[m.memory].own, "memory.memsw.limit_in_bytes")); err == nil {
		m.memsw = true
	}
	return m, ""
}

// close releases the kept file descriptors (only on a failed detection: a
// working Manager lives as long as the process).
func (m *v1Manager) close() {
	for _, h := range m.hiers {
		if h.restore >= 0 {
			unix.Close(h.restore)
			h.restore = -1
		}
		if h.baseFD >= 0 {
			unix.Close(h.baseFD)
			h.baseFD = -1
		}
	}
}

func (m *v1Manager) Version() string { return "v1" }

func (m *v1Manager) Spare(pid int) { m.spare.Store(int64(pid)) }

func (m *v1Manager) cgroup(name string) *v1Cgroup {
	c := &v1Cgroup{m: m, name: name, dirs: make([]string, len(m.hiers))}
	for i, h := range m.hiers {
		c.dirs[i] = filepath.Join(h.base, name)
	}
	return c
}

func (m *v1Manager) Create(name string, lim Limits) (Cgroup, error) {
	if err := validName(name); err != nil {
		return nil, fmt.Errorf("cgroups: create: %w", err)
	}
	if err := lim.validate(); err != nil {
		return nil, fmt.Errorf("cgroups: create %s: %w", name, err)
	}
	c := m.cgroup(name)
	var created []string
	tried := 0
	for i, d := range c.dirs {
		if i == m.lazyPids && lim.PidsMax == 0 {
			continue // joined only if it exists (a reset keeps it)
		}
		tried++
		err := unix.Mkdirat(m.hiers[i].baseFD, name, 0o755)
		if err == nil {
			created = append(created, d)
		} else if err != unix.EEXIST {
			for _, d := range created {
				unix.Rmdir(d)
			}
			return nil, fmt.Errorf("cgroups: create %s: %w", d, err)
		}
	}
	if err := c.apply(lim, len(created) == tried); err != nil {
		for _, d := range created {
			unix.Rmdir(d)
		}
		return nil, fmt.Errorf("cgroups: create %s: %w", name, err)
	}
	return c, nil
}

func (m *v1Manager) Open(name string) (Cgroup, error) {
	if err := validName(name); err != nil {
		return nil, fmt.Errorf("cgroups: open: %w", err)
	}
	c := m.cgroup(name)
	if _, err := os.Stat(c.dirs[m.memory]); err != nil {
		return nil, fmt.Errorf("cgroups: open %s: %w", name, err)
	}
	return c, nil
}

func (m *v1Manager) Named(name string) (Cgroup, error) {
	if err := validName(name); err != nil {
		return nil, fmt.Errorf("cgroups: open: %w", err)
	}
	return m.cgroup(name), nil
}

func (m *v1Manager) List() ([]string, error) {
	return listDirs(m.hiers[m.memory].base)
}

func listDirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cgroups: list: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

type v1Cgroup struct {
	m    *v1Manager
	name string
	dirs []string // one per m.hiers
}

func (c *v1Cgroup) Name() string { return c.name }

func (c *v1Cgroup) file(h int, f string) string { return c.dirs[h] + "/" + f }

// writeFile and writeInt write <name>/<f> relative to the hierarchy's kept
// base directory (a short path walk: Create writes several files).
func (c *v1Cgroup) writeFile(h int, f, data string) error {
	return c.write(h, f, []byte(data))
}

func (c *v1Cgroup) writeInt(h int, f string, v int64) error {
	var buf [24]byte
	return c.write(h, f, strconv.AppendInt(buf[:0], v, 10))
}

func (c *v1Cgroup) write(h int, f string, b []byte) error {
	var fd int
	var err error
	for {
		fd, err = unix.Openat(c.m.hiers[h].baseFD, c.name+"/"+f, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return &os.PathError{Op: "open", Path: c.file(h, f), Err: err}
	}
	err = writeRetry(fd, b)
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", b, c.file(h, f), err)
	}
	return nil
}

// apply writes every limit; zero fields reset to the defaults. A fresh
// cgroup has the defaults already: only the other values are written.
func (c *v1Cgroup) apply(lim Limits, fresh bool) error {
	m := c.m
	shares := int64(lim.CPUShares)
	if shares == 0 {
		shares = 1024
	}
	shares = min(max(shares, 2), 262144)
	if !fresh || shares != 1024 {
		if err := c.writeInt(m.cpu, "cpu.shares", shares); err != nil {
			return err
		}
	}
	period := lim.CPUPeriod
	if period <= 0 {
		period = 100 * time.Millisecond
	}
	if !fresh || lim.CPUQuota > 0 || period != 100*time.Millisecond {
		// Lift the quota first so a shorter period is always accepted (a
		// fresh cgroup has none, and the default period).
		if !fresh {
			if err := c.writeInt(m.cpu, "cpu.cfs_quota_us", -1); err != nil {
				return err
			}
		}
		if !fresh || period != 100*time.Millisecond {
			if err := c.writeInt(m.cpu, "cpu.cfs_period_us", max(period.Microseconds(), 1000)); err != nil {
				return err
			}
		}
		if lim.CPUQuota > 0 {
			if err := c.writeInt(m.cpu, "cpu.cfs_quota_us", max(lim.CPUQuota.Microseconds(), 1000)); err != nil {
				return err
			}
		}
	}
	if !fresh || lim.MemoryBytes > 0 {
		if err := c.setMemory(lim.MemoryBytes); err != nil {
			return err
		}
	}
	if m.pids >= 0 {
		if !fresh || lim.PidsMax > 0 {
			v := "max"
			if lim.PidsMax > 0 {
				v = fmt.Sprint(lim.PidsMax)
			}
			err := c.writeFile(m.pids, "pids.max", v)
			if err != nil && !(m.pids == m.lazyPids && lim.PidsMax == 0 && errors.Is(err, os.ErrNotExist)) {
				return err
			}
		}
	} else if lim.PidsMax > 0 {
		return errors.New("a pids limit was asked but the pids hierarchy is not mounted")
	}
	return nil
}

// setMemory sets memory.limit_in_bytes and, with swap accounting,
// memory.memsw.limit_in_bytes to the same value (no swap), keeping
// memsw >= limit at every step as the kernel requires.
func (c *v1Cgroup) setMemory(limit int64) error {
	m := c.m
	const lf, sf = "memory.limit_in_bytes", "memory.memsw.limit_in_bytes"
	if limit <= 0 {
		if m.memsw {
			if err := c.writeInt(m.memory, sf, -1); err != nil {
				return err
			}
		}
		return c.writeInt(m.memory, lf, -1)
	}
	if err := c.writeInt(m.memory, lf, limit); err != nil {
		if !m.memsw || !errors.Is(err, unix.EINVAL) {
			return err
		}
		// memsw is below the new limit: raise it first.
		if err := c.writeInt(m.memory, sf, limit); err != nil {
			return err
		}
		if err := c.writeInt(m.memory, lf, limit); err != nil {
			return err
		}
	}
	if m.memsw {
		return c.writeInt(m.memory, sf, limit)
	}
	return nil
}

var zero = []byte("0")

func (c *v1Cgroup) Start(attr *syscall.SysProcAttr, fork func() (int, error)) (int, error) {
	// The fork happens on a fresh OS thread that joins the task's cgroups
	// and is then thrown away (its goroutine ends locked to it, so the
	// runtime ends the thread) rather than moved back: half the cgroup
	// writes, each of which takes the kernel's global cgroup lock.
	type result struct {
		pid int
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// The main thread is never ended (the runtime parks it
			// instead): on it, move back as before.
			pid, err := c.startAndLeave(fork)
			done <- result{pid, err}
			return
		}
		// Never unlocked: the thread ends with this goroutine.
		if err := c.join(); err != nil {
			done <- result{0, err}
			return
		}
		pid, err := fork()
		done <- result{pid, err}
	}()
	r := <-done
	return r.pid, r.err
}

// startAndLeave forks from the calling locked thread inside the cgroup and
// moves the thread back to its own cgroups; it unlocks the thread unless
// it could not leave (then the thread is discarded with its goroutine).
func (c *v1Cgroup) startAndLeave(fork func() (int, error)) (int, error) {
	pid, err := 0, c.join()
	if err == nil {
		pid, err = fork()
	}
	var rerr error
	for i := len(c.m.hiers) - 1; i >= 0; i-- {
		if e := writeRetry(c.m.hiers[i].restore, zero); e != nil {
			// Try again with a fresh descriptor before giving up.
			if e2 := writeFile(c.m.hiers[i].own+"/tasks", "0"); e2 != nil {
				rerr = errors.Join(rerr, fmt.Errorf("cgroups: move thread back to %s: %w", c.m.hiers[i].own, e2))
			}
		}
	}
	if rerr != nil {
		return pid, errors.Join(err, rerr)
	}
	runtime.UnlockOSThread()
	return pid, err
}

// join moves the calling (locked) thread into every hierarchy's cgroup.
// Writing "0" to a tasks file moves the calling thread; unlike a tid it
// does not take the global threadgroup lock.
func (c *v1Cgroup) join() error {
	rel := c.name + "/tasks"
	for i, h := range c.m.hiers {
		// Relative to the kept base directory: a short path walk.
		var fd int
		var err error
		for {
			fd, err = unix.Openat(h.baseFD, rel, unix.O_WRONLY|unix.O_CLOEXEC, 0)
			if err != unix.EINTR {
				break
			}
		}
		if err == unix.ENOENT && i == c.m.lazyPids {
			continue // no pids limit: no pids cgroup
		}
		if err != nil {
			return fmt.Errorf("cgroups: join %s: %w", c.name, &os.PathError{Op: "open", Path: c.dirs[i] + "/tasks", Err: err})
		}
		err = writeRetry(fd, zero)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("cgroups: join %s: write 0 to %s/tasks: %w", c.name, c.dirs[i], err)
		}
	}
	return nil
}

func (c *v1Cgroup) Add(pid int) error {
	for i, d := range c.dirs {
		if err := writeInt(d+"/cgroup.procs", int64(pid)); err != nil {
			if i == c.m.lazyPids && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return fmt.Errorf("cgroups: add %d to %s: %w", pid, c.name, err)
		}
	}
	return nil
}

func (c *v1Cgroup) Procs() ([]int, error) {
	pids, _, err := c.procs()
	return pids, err
}

// procs is Procs, and whether it left the caller or the spared process out
// (then one of its threads is inside: a Start is forking from it).
func (c *v1Cgroup) procs() ([]int, bool, error) {
	return readProcsSparing(c.file(c.m.memory, "cgroup.procs"), int(c.m.spare.Load()))
}

func (c *v1Cgroup) Stats() (Stats, error) {
	m := c.m
	s := Stats{Timestamp: time.Now()}
	var errs []error
	if u, err := readInt(c.file(m.cpuacct, "cpuacct.usage_user")); err == nil {
		s.CPUUser = time.Duration(u)
		if v, err := readInt(c.file(m.cpuacct, "cpuacct.usage_sys")); err == nil {
			s.CPUSystem = time.Duration(v)
		}
	} else if v, ok, err := readKV(c.file(m.cpuacct, "cpuacct.stat"), "user", "system"); err == nil && ok[0] {
		// USER_HZ is 100 on Linux.
		s.CPUUser = time.Duration(v[0]) * 10 * time.Millisecond
		s.CPUSystem = time.Duration(v[1]) * 10 * time.Millisecond
	} else {
		errs = append(errs, err)
	}
	var err error
	if s.MemoryUsage, err = readInt(c.file(m.memory, "memory.usage_in_bytes")); err != nil {
		errs = append(errs, err)
	}
	s.MemoryMaxUsage, _ = readInt(c.file(m.memory, "memory.max_usage_in_bytes"))
	if s.MemoryLimit, err = readInt(c.file(m.memory, "memory.limit_in_bytes")); err != nil {
		errs = append(errs, err)
	} else if s.MemoryLimit >= 1<<62 {
		s.MemoryLimit = 0
	}
	if v, ok, err := readKV(c.file(m.memory, "memory.oom_control"), "oom_kill"); err == nil && ok[0] {
		s.OOMKills = v[0]
	}
	pids, err := c.Procs()
	if err != nil {
		errs = append(errs, err)
	}
	s.Processes = len(pids)
	if err := errors.Join(errs...); err != nil {
		return s, fmt.Errorf("cgroups: stats of %s: %w", c.name, err)
	}
	return s, nil
}

func (c *v1Cgroup) Signal(sig syscall.Signal) error {
	pids, err := c.Procs()
	if err != nil {
		return fmt.Errorf("cgroups: signal %s: %w", c.name, err)
	}
	return signalAll(pids, sig)
}

func (c *v1Cgroup) Kill(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var bo backoff
	for {
		pids, spared, err := c.procs()
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return fmt.Errorf("cgroups: kill %s: %w", c.name, err)
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroups: kill %s: %d processes still alive after %v", c.name, len(pids), timeout)
		}
		// Never freeze a thread of the caller or of the spared process (a
		// Start forking from inside): it could hold a lock the thaw needs.
		// Its thread leaves in a moment; until then, kill without freezing.
		if c.m.freezer >= 0 && !spared {
			// Frozen processes cannot fork while we kill them; they die
			// once thawed.
			c.freeze(deadline)
			pids, _, _ = c.procs()
			signalAll(pids, syscall.SIGKILL)
			writeFile(c.file(c.m.freezer, "freezer.state"), "THAWED")
		} else {
			signalAll(pids, syscall.SIGKILL)
		}
		bo.wait()
	}
}

// freeze asks the freezer to stop every process and waits (briefly) until
// it has: a process stuck in the kernel may keep the cgroup FREEZING, and
// is then killed anyway.
func (c *v1Cgroup) freeze(deadline time.Time) {
	f := c.file(c.m.freezer, "freezer.state")
	if writeFile(f, "FROZEN") != nil {
		return
	}
	limit := time.Now().Add(100 * time.Millisecond)
	if limit.After(deadline) {
		limit = deadline
	}
	var bo backoff
	for {
		b, err := os.ReadFile(f)
		if err != nil || bytes.HasPrefix(b, []byte("FROZEN")) || time.Now().After(limit) {
			return
		}
		bo.wait()
	}
}

func (c *v1Cgroup) Destroy() error {
	var errs []error
	if err := c.Kill(10 * time.Second); err != nil {
		errs = append(errs, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, d := range c.dirs {
		if err := removeTree(d, deadline); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cgroups: destroy %s: %w", c.name, err)
	}
	return nil
}

func (c *v1Cgroup) String() string {
	return "v1:" + strings.Join(c.dirs, ",")
}
