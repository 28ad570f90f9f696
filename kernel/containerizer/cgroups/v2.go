package cgroups

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// leafName is the cgroup v2 leaf that this process (and the other
// processes of its own cgroup) move to when the "no internal processes"
// rule forbids enabling controllers for the own cgroup's children.
const leafName = "cairn-leaf"

type v2Manager struct {
	parent string
	base   string   // <own>/<parent>
	ctrls  []string // controllers enabled for task cgroups ("cpu", "memory", "pids")
	swap   bool     // memory.swap.max exists
	// spare is only listed out: on v2 no thread joins a task cgroup (Start
	// forks straight into it), so none of a spared process can be inside.
	spare atomic.Int64
}

func (m *v2Manager) Spare(pid int) { m.spare.Store(int64(pid)) }

func detectV2(h *host, parent string) (Manager, string) {
	mnt, own, ok := h.v2Mount()
	if !ok {
		return nil, ""
	}
	// A process that moved itself to the leaf nests task cgroups beside it.
	if filepath.Base(own) == leafName {
		own = filepath.Dir(own)
	}
	avail, err := os.ReadFile(filepath.Join(own, "cgroup.controllers"))
	if err != nil {
		return nil, fmt.Sprintf("cannot read %s/cgroup.controllers: %v", own, err)
	}
	have := strings.Fields(string(avail))
	for _, c := range []string{"cpu", "memory"} {
		if !slices.Contains(have, c) {
			root, _ := os.ReadFile(filepath.Join(mnt.point, "cgroup.controllers"))
			return nil, fmt.Sprintf("the %s controller is not available in %s (controllers there: %q; at the root: %q)",
				c, own, strings.TrimSpace(string(avail)), strings.TrimSpace(string(root)))
		}
	}
	ctrls := []string{"cpu", "memory"}
	if slices.Contains(have, "pids") {
		ctrls = append(ctrls, "pids")
	}
	m, err := newV2(own, parent, ctrls)
	if err != nil {
		return nil, err.Error()
	}
	return m, ""
}

// newV2 prepares <own>/<parent> with ctrls enabled for its children.
func newV2(own, parent string, ctrls []string) (*v2Manager, error) {
	m := &v2Manager{parent: parent, base: filepath.Join(own, filepath.FromSlash(parent)), ctrls: ctrls}
	if err := enableControllers(own, ctrls, true); err != nil {
		return nil, err
	}
	dir := own
	for _, comp := range strings.Split(parent, "/") {
		dir = filepath.Join(dir, comp)
		if err := unix.Mkdir(dir, 0o755); err != nil && err != unix.EEXIST {
			return nil, fmt.Errorf("cannot create %s: %v", dir, err)
		}
		if err := enableControllers(dir, ctrls, false); err != nil {
			return nil, err
		}
	}
	if len(ctrls) > 0 && slices.Contains(ctrls, "memory") {
		if _, err := os.Stat(filepath.Join(own, leafName, "memory.swap.max")); err == nil {
			m.swap = true
		} else if _, err := os.Stat(filepath.Join(m.base, "memory.swap.max")); err == nil {
			m.swap = true
		}
	}
	return m, nil
}

// enableControllers writes "+c" for each controller into dir's
// cgroup.subtree_control. If the cgroup has processes of its own (and is
// not the root), the kernel refuses (EBUSY): with mayMove the processes
// are first moved into the leaf dir/cairn-leaf.
func enableControllers(dir string, ctrls []string, mayMove bool) error {
	if len(ctrls) == 0 {
		return nil
	}
	cur, _ := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	var want []string
	for _, c := range ctrls {
		if !slices.Contains(strings.Fields(string(cur)), c) {
			want = append(want, "+"+c)
		}
	}
	if len(want) == 0 {
		return nil
	}
	f := filepath.Join(dir, "cgroup.subtree_control")
	err := writeFile(f, strings.Join(want, " "))
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EBUSY) || !mayMove {
		return fmt.Errorf("cannot enable %s in %s: %v", strings.Join(want, " "), f, errors.Unwrap(err))
	}
	leaf := filepath.Join(dir, leafName)
	if err := unix.Mkdir(leaf, 0o755); err != nil && err != unix.EEXIST {
		return fmt.Errorf("cannot create %s for the processes of %s (no internal processes rule): %v", leaf, dir, err)
	}
	// Move every process (this one included) out of dir, a few rounds in
	// case some fork meanwhile.
	for round := 0; round < 10; round++ {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil {
			return err
		}
		pids := strings.Fields(string(b))
		if len(pids) == 0 {
			break
		}
		for _, p := range pids {
			// A process may exit meanwhile: ignore ESRCH.
			if err := writeFile(filepath.Join(leaf, "cgroup.procs"), p); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("cannot move process %s of %s into %s: %v", p, dir, leaf, errors.Unwrap(err))
			}
		}
	}
	if err := writeFile(f, strings.Join(want, " ")); err != nil {
		return fmt.Errorf("cannot enable %s in %s even after moving its processes to %s: %v", strings.Join(want, " "), f, leaf, errors.Unwrap(err))
	}
	return nil
}

func (m *v2Manager) Version() string { return "v2" }

func (m *v2Manager) has(c string) bool { return slices.Contains(m.ctrls, c) }

func (m *v2Manager) Create(name string, lim Limits) (Cgroup, error) {
	if err := validName(name); err != nil {
		return nil, fmt.Errorf("cgroups: create: %w", err)
	}
	if err := lim.validate(); err != nil {
		return nil, fmt.Errorf("cgroups: create %s: %w", name, err)
	}
	c := &v2Cgroup{m: m, name: name, dir: filepath.Join(m.base, name)}
	created := false
	if err := unix.Mkdir(c.dir, 0o755); err == nil {
		created = true
	} else if err != unix.EEXIST {
		return nil, fmt.Errorf("cgroups: create %s: %w", c.dir, err)
	}
	if err := c.apply(lim, created); err != nil {
		if created {
			unix.Rmdir(c.dir)
		}
		return nil, fmt.Errorf("cgroups: create %s: %w", name, err)
	}
	return c, nil
}

func (m *v2Manager) Open(name string) (Cgroup, error) {
	if err := validName(name); err != nil {
		return nil, fmt.Errorf("cgroups: open: %w", err)
	}
	c := &v2Cgroup{m: m, name: name, dir: filepath.Join(m.base, name)}
	if _, err := os.Stat(c.dir); err != nil {
		return nil, fmt.Errorf("cgroups: open %s: %w", name, err)
	}
	return c, nil
}

func (m *v2Manager) Named(name string) (Cgroup, error) {
	if err := validName(name); err != nil {
		return nil, fmt.Errorf("cgroups: open: %w", err)
	}
	return &v2Cgroup{m: m, name: name, dir: filepath.Join(m.base, name)}, nil
}

func (m *v2Manager) List() ([]string, error) { return listDirs(m.base) }

type v2Cgroup struct {
	m    *v2Manager
	name string
	dir  string
}

func (c *v2Cgroup) Name() string { return c.name }

func (c *v2Cgroup) file(f string) string { return c.dir + "/" + f }

// sharesToWeight maps cpu.shares [2, 262144] onto cpu.weight [1, 10000]
// (the conversion runc and Kubernetes use).
func sharesToWeight(shares uint64) int64 {
	if shares == 0 {
		return 100
	}
	shares = min(max(shares, 2), 262144)
	return int64(1 + ((shares-2)*9999)/262142)
}

func (c *v2Cgroup) apply(lim Limits, fresh bool) error {
	m := c.m
	if fresh && lim == (Limits{}) {
		return nil // the defaults
	}
	if m.has("cpu") {
		if err := writeInt(c.file("cpu.weight"), sharesToWeight(lim.CPUShares)); err != nil {
			return err
		}
		period := lim.CPUPeriod
		if period <= 0 {
			period = 100 * time.Millisecond
		}
		quota := "max"
		if lim.CPUQuota > 0 {
			quota = fmt.Sprint(max(lim.CPUQuota.Microseconds(), 1000))
		}
		if err := writeFile(c.file("cpu.max"), fmt.Sprintf("%s %d", quota, max(period.Microseconds(), 1000))); err != nil {
			return err
		}
	} else if lim.CPUShares > 0 || lim.CPUQuota > 0 {
		return errors.New("cpu limits were asked but the cpu controller is not enabled")
	}
	if m.has("memory") {
		v := "max"
		if lim.MemoryBytes > 0 {
			v = fmt.Sprint(lim.MemoryBytes)
		}
		if m.swap {
			sv := "max"
			if lim.MemoryBytes > 0 {
				sv = "0"
			}
			if err := writeFile(c.file("memory.swap.max"), sv); err != nil {
				return err
			}
		}
		if err := writeFile(c.file("memory.max"), v); err != nil {
			return err
		}
	} else if lim.MemoryBytes > 0 {
		return errors.New("a memory limit was asked but the memory controller is not enabled")
	}
	if m.has("pids") {
		v := "max"
		if lim.PidsMax > 0 {
			v = fmt.Sprint(lim.PidsMax)
		}
		if err := writeFile(c.file("pids.max"), v); err != nil {
			return err
		}
	} else if lim.PidsMax > 0 {
		return errors.New("a pids limit was asked but the pids controller is not enabled")
	}
	return nil
}

func (c *v2Cgroup) Start(attr *syscall.SysProcAttr, fork func() (int, error)) (int, error) {
	fd, err := unix.Open(c.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("cgroups: open %s: %w", c.dir, err)
	}
	defer unix.Close(fd)
	attr.UseCgroupFD = true
	attr.CgroupFD = fd
	pid, err := fork()
	attr.UseCgroupFD = false
	attr.CgroupFD = 0
	return pid, err
}

func (c *v2Cgroup) Add(pid int) error {
	if err := writeInt(c.file("cgroup.procs"), int64(pid)); err != nil {
		return fmt.Errorf("cgroups: add %d to %s: %w", pid, c.name, err)
	}
	return nil
}

func (c *v2Cgroup) Procs() ([]int, error) {
	return readProcs(c.file("cgroup.procs"), int(c.m.spare.Load()))
}

func (c *v2Cgroup) Stats() (Stats, error) {
	s := Stats{Timestamp: time.Now()}
	var errs []error
	if v, _, err := readKV(c.file("cpu.stat"), "user_usec", "system_usec"); err == nil {
		s.CPUUser = time.Duration(v[0]) * time.Microsecond
		s.CPUSystem = time.Duration(v[1]) * time.Microsecond
	} else {
		errs = append(errs, err)
	}
	if c.m.has("memory") {
		var err error
		if s.MemoryUsage, err = readInt(c.file("memory.current")); err != nil {
			errs = append(errs, err)
		}
		s.MemoryMaxUsage, _ = readInt(c.file("memory.peak")) // Linux 5.19+
		if s.MemoryLimit, err = readInt(c.file("memory.max")); err != nil {
			errs = append(errs, err)
		}
		if v, ok, err := readKV(c.file("memory.events"), "oom_kill"); err == nil && ok[0] {
			s.OOMKills = v[0]
		}
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

func (c *v2Cgroup) Signal(sig syscall.Signal) error {
	pids, err := c.Procs()
	if err != nil {
		return fmt.Errorf("cgroups: signal %s: %w", c.name, err)
	}
	return signalAll(pids, sig)
}

func (c *v2Cgroup) Kill(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	useKill := true
	var bo backoff
	for {
		pids, err := c.Procs()
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
		// cgroup.kill (Linux 5.14+) kills every process atomically, forks
		// included; before that, freeze, kill, thaw.
		if useKill && writeFile(c.file("cgroup.kill"), "1") != nil {
			useKill = false
		}
		if !useKill {
			if writeFile(c.file("cgroup.freeze"), "1") == nil {
				c.waitFrozen(deadline)
				pids, _ = c.Procs()
				signalAll(pids, syscall.SIGKILL)
				writeFile(c.file("cgroup.freeze"), "0")
			} else {
				signalAll(pids, syscall.SIGKILL)
			}
		}
		bo.wait()
	}
}

func (c *v2Cgroup) waitFrozen(deadline time.Time) {
	limit := time.Now().Add(100 * time.Millisecond)
	if limit.After(deadline) {
		limit = deadline
	}
	var bo backoff
	for {
		b, err := os.ReadFile(c.file("cgroup.events"))
		if err != nil || bytes.Contains(b, []byte("frozen 1")) || time.Now().After(limit) {
			return
		}
		bo.wait()
	}
}

func (c *v2Cgroup) Destroy() error {
	var errs []error
	if err := c.Kill(10 * time.Second); err != nil {
		errs = append(errs, err)
	}
	if err := removeTree(c.dir, time.Now().Add(5*time.Second)); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cgroups: destroy %s: %w", c.name, err)
	}
	return nil
}
