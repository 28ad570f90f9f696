// Package cgroups puts tasks in Linux control groups: v2 (unified) where the
// host delegates cpu and memory there, v1 (cpu, cpuacct, memory, pids,
// freezer hierarchies) otherwise, or "none" when neither is usable (not
// root, no cgroupfs) — the caller then runs plain processes and warns once.
//
// Task cgroups live under the calling process's own cgroup in every
// hierarchy: <mount>/<own path>/<parent>/<name>. See README.md.
package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Limits for a task's cgroup.
type Limits struct {
	// CPUShares weights CPU time: 1024 per cpu (cpu.shares in v1,
	// cpu.weight converted in v2). 0 means the default.
	CPUShares uint64
	// CPUQuota, when > 0, hard-caps CPU: this much CPU time per CPUPeriod
	// (cpu.cfs_quota_us/cpu.cfs_period_us, or cpu.max). Period defaults to 100ms.
	CPUQuota  time.Duration
	CPUPeriod time.Duration
	// MemoryBytes is the hard memory limit (memory.limit_in_bytes, with
	// memsw too where present, or memory.max with memory.swap.max=0); 0 = none.
	MemoryBytes int64
	// PidsMax bounds the number of processes (0: no bound).
	PidsMax int64
}

// MinMemoryBytes is the smallest memory limit Create accepts: below it a
// task could not even be exec'd, and with v1 the thread that forks it
// briefly belongs to the cgroup (see README.md, "Starting inside").
const MinMemoryBytes = 4 << 20

func (l Limits) validate() error {
	switch {
	case l.MemoryBytes < 0 || (l.MemoryBytes > 0 && l.MemoryBytes < MinMemoryBytes):
		return fmt.Errorf("memory limit %d bytes: want 0 (none) or at least %d", l.MemoryBytes, MinMemoryBytes)
	case l.CPUQuota < 0 || l.CPUPeriod < 0:
		return fmt.Errorf("negative cpu quota or period (%v/%v)", l.CPUQuota, l.CPUPeriod)
	case l.PidsMax < 0:
		return fmt.Errorf("negative pids limit %d", l.PidsMax)
	}
	return nil
}

// Stats are a cgroup's counters.
type Stats struct {
	CPUUser, CPUSystem time.Duration
	MemoryUsage        int64 // current usage (bytes)
	MemoryMaxUsage     int64 // high-water mark (0 if unknown)
	MemoryLimit        int64 // 0 when unlimited
	OOMKills           int64 // processes killed by the OOM killer in this cgroup
	Processes          int   // live processes
	Timestamp          time.Time
}

// Manager creates and finds task cgroups under one parent, e.g.
// "cairn/<agent-id>" (nested under the manager's own cgroup in each hierarchy).
// A Manager is safe for concurrent use.
type Manager interface {
	// Version is "v2", "v1" or "none".
	Version() string
	// Create makes (or resets) the cgroup called name with limits. Resetting
	// rewrites every limit (zero fields back to "unlimited"/default); it
	// does not touch processes already inside.
	Create(name string, lim Limits) (Cgroup, error)
	// Open finds an existing cgroup (after an agent or supervisor restart).
	Open(name string) (Cgroup, error)
	// Named is Open without checking that the cgroup exists, for a caller
	// about to Start in it: Start then fails, naming the missing
	// directory. It saves a path walk per task.
	Named(name string) (Cgroup, error)
	// List names the existing task cgroups under the parent.
	List() ([]string, error)
	// Spare keeps the process pid (0: none) out of the task cgroups'
	// Procs, Signal and Kill, as the calling process always is. On v1 a
	// thread of the task supervisor joins a task's cgroups to fork into
	// them, and ends a moment after the fork: another process (the agent)
	// that kills what a cgroup holds in that moment, because the task
	// ended at once or was killed while starting, must not take the
	// supervisor for one of the task's processes. A Kill also does not
	// freeze a cgroup while a spared process (or the caller) is inside.
	Spare(pid int)
}

// Cgroup is one task's control group. Safe for concurrent use.
type Cgroup interface {
	Name() string
	// Start runs fork — which must call syscall.ForkExec (or similar) and
	// return the child's pid — so that the child is born inside the cgroup:
	// v2 sets attr.UseCgroupFD/CgroupFD (CLONE_INTO_CGROUP); v1 forks from
	// a fresh OS thread that joins the cgroup and is then discarded (not
	// moved back: half the writes under the kernel's cgroup lock). No
	// window where the child or its children are outside. fork runs on
	// that other thread: it must not rely on the caller's thread state.
	//
	// If the fork succeeded but a v1 thread that had to be moved back (the
	// main thread is never discarded) could not be, Start returns the
	// child's pid (> 0) together with an error: the child runs, and the
	// thread stays locked until its goroutine exits.
	Start(attr *syscall.SysProcAttr, fork func() (int, error)) (int, error)
	// Add moves an existing process in (re-adoption; not for starting tasks).
	Add(pid int) error
	// Procs lists the processes in the cgroup (the calling process itself
	// is never listed, even while one of its threads is inside for a Start,
	// nor the Manager's spared process).
	Procs() ([]int, error)
	Stats() (Stats, error)
	// Signal sends sig to every process in the cgroup.
	Signal(sig syscall.Signal) error
	// Kill SIGKILLs every process until the cgroup is empty (v2 cgroup.kill;
	// v1 freeze, kill, thaw, repeat), bounded by timeout.
	Kill(timeout time.Duration) error
	// Destroy kills what is left and removes the cgroup.
	Destroy() error
}

// ErrUnsupported is returned by the "none" cgroups for operations they
// cannot do (Signal, Kill, Procs, Add): the caller uses process groups.
var ErrUnsupported = errors.ErrUnsupported

// noLimitsWhy ends every "none" explanation.
const noLimitsWhy = "tasks run as plain processes without resource limits"

// Detect picks the best cgroup setup for tasks under parent (a relative
// path such as "cairn/agent-1"); why explains a "none" choice (e.g. "not
// root: tasks run as plain processes without limits").
//
// The order is: v2 when the unified hierarchy offers cpu and memory to the
// process's own cgroup and the parent can be created there with those
// controllers enabled; else v1 when the cpu, cpuacct and memory hierarchies
// are mounted and writable (pids and freezer are used when mounted); else
// None. err is only for an invalid parent; an unusable host is not an
// error, it yields None and why.
func Detect(parent string) (m Manager, why string, err error) {
	if err := validParent(parent); err != nil {
		return None(), "", err
	}
	h, err := readHost()
	if err != nil {
		return None(), fmt.Sprintf("cannot read the cgroup setup (%v): %s", err, noLimitsWhy), nil
	}
	var reasons []string
	if m2, why2 := detectV2(h, parent); m2 != nil {
		return m2, "", nil
	} else if why2 != "" {
		reasons = append(reasons, "cgroup v2: "+why2)
	}
	if m1, why1 := detectV1(h, parent); m1 != nil {
		return m1, "", nil
	} else if why1 != "" {
		reasons = append(reasons, "cgroup v1: "+why1)
	}
	if os.Geteuid() != 0 {
		return None(), "not root: " + noLimitsWhy, nil
	}
	if len(reasons) == 0 {
		reasons = append(reasons, "no cgroup filesystem mounted")
	}
	return None(), strings.Join(reasons, "; ") + ": " + noLimitsWhy, nil
}

// validParent checks a relative cgroup path such as "cairn/agent-1".
func validParent(parent string) error {
	if parent == "" {
		return errors.New("cgroups: parent is empty: want a relative path such as \"cairn/agent-1\"")
	}
	for _, c := range strings.Split(parent, "/") {
		if err := validName(c); err != nil {
			return fmt.Errorf("cgroups: parent %q: %w", parent, err)
		}
	}
	return nil
}

// validName checks one path component: [A-Za-z0-9_.-]{1,200}, not "." or "..".
func validName(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > 200 {
		return fmt.Errorf("invalid cgroup name %q: want 1-200 characters of [A-Za-z0-9_.-], not \".\" or \"..\"", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return fmt.Errorf("invalid cgroup name %q: character %q is not one of [A-Za-z0-9_.-]", name, c)
		}
	}
	return nil
}

// ValidName reports whether name can name a task cgroup (one path
// component of [A-Za-z0-9_.-], at most 200 bytes, not "." or "..").
func ValidName(name string) error { return validName(name) }

// RemoveAll destroys every task cgroup of m and removes m's parent
// directories (each component of the parent path that is left empty), in
// every hierarchy: for an agent removed for good, and for tests.
func RemoveAll(m Manager) error {
	names, err := m.List()
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		cg, err := m.Open(n)
		if err == nil {
			err = cg.Destroy()
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	var bases []string
	var parent string
	switch mm := m.(type) {
	case *v1Manager:
		parent = mm.parent
		for _, h := range mm.hiers {
			bases = append(bases, h.base)
		}
	case *v2Manager:
		parent = mm.parent
		bases = append(bases, mm.base)
	default:
		return errors.Join(errs...)
	}
	depth := len(strings.Split(parent, "/"))
	for _, b := range bases {
		d := b
		for i := 0; i < depth; i++ {
			// A shared ancestor still in use (EBUSY) stays.
			if err := syscall.Rmdir(d); err != nil && err != syscall.ENOENT && err != syscall.EBUSY && err != syscall.ENOTEMPTY {
				errs = append(errs, fmt.Errorf("cgroups: remove %s: %w", d, err))
			}
			d = filepath.Dir(d)
		}
	}
	return errors.Join(errs...)
}
