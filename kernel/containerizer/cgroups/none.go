package cgroups

import (
	"fmt"
	"syscall"
	"time"
)

// None is the Manager used when cgroups are unavailable: Create returns a
// Cgroup whose Start just forks, Stats are empty, Signal/Kill fail with
// ErrUnsupported (the caller kills the process group instead).
func None() Manager { return noneManager{} }

type noneManager struct{}

func (noneManager) Version() string { return "none" }

func (noneManager) Create(name string, _ Limits) (Cgroup, error) {
	if err := validName(name); err != nil {
		return nil, fmt.Errorf("cgroups: create: %w", err)
	}
	return noneCgroup{name}, nil
}

func (noneManager) Open(name string) (Cgroup, error) {
	if err := validName(name); err != nil {
		return nil, fmt.Errorf("cgroups: open: %w", err)
	}
	return noneCgroup{name}, nil
}

func (n noneManager) Named(name string) (Cgroup, error) { return n.Open(name) }

func (noneManager) List() ([]string, error) { return nil, nil }

func (noneManager) Spare(int) {}

type noneCgroup struct{ name string }

func (c noneCgroup) Name() string { return c.name }

func (noneCgroup) Start(_ *syscall.SysProcAttr, fork func() (int, error)) (int, error) {
	return fork()
}

func (noneCgroup) Add(int) error               { return ErrUnsupported }
func (noneCgroup) Procs() ([]int, error)       { return nil, ErrUnsupported }
func (noneCgroup) Stats() (Stats, error)       { return Stats{Timestamp: time.Now()}, nil }
func (noneCgroup) Signal(syscall.Signal) error { return ErrUnsupported }
func (noneCgroup) Kill(time.Duration) error    { return ErrUnsupported }
func (noneCgroup) Destroy() error              { return nil }
