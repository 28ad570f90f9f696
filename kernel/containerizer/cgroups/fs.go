package cgroups

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// writeFile writes data to an existing cgroup file in one write(2).
func writeFile(path, data string) error {
	return writeBytes(path, []byte(data))
}

// writeInt writes a decimal number to a cgroup file without allocating.
func writeInt(path string, v int64) error {
	var buf [24]byte
	return writeBytes(path, strconv.AppendInt(buf[:0], v, 10))
}

// writeBytes opens, writes and closes, retrying on EINTR: the Go runtime
// signals its threads (preemption), and some cgroup writes (a memory
// limit that needs reclaim) give up with EINTR when a signal is pending.
func writeBytes(path string, b []byte) error {
	fd, err := openRetry(path, unix.O_WRONLY|unix.O_CLOEXEC)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	err = writeRetry(fd, b)
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", b, path, err)
	}
	return nil
}

func openRetry(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

func writeRetry(fd int, b []byte) error {
	for {
		_, err := unix.Write(fd, b)
		if err != unix.EINTR {
			return err
		}
	}
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	s := string(bytes.TrimSpace(b))
	if s == "max" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", path, err)
	}
	return v, nil
}

// readKV reads a "key value" per line file (cpu.stat, memory.events ...)
// and returns the value of each wanted key (missing keys stay 0; ok[i]
// tells whether key i was found).
func readKV(path string, keys ...string) (vals []int64, ok []bool, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	vals = make([]int64, len(keys))
	ok = make([]bool, len(keys))
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		sp := bytes.IndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		k := line[:sp]
		for i, want := range keys {
			if string(k) == want {
				v, err := strconv.ParseInt(string(bytes.TrimSpace(line[sp+1:])), 10, 64)
				if err == nil {
					vals[i], ok[i] = v, true
				}
			}
		}
	}
	return vals, ok, nil
}

// readProcs reads a cgroup.procs file, leaving out the calling process and
// spare (0: none).
func readProcs(path string, spare int) ([]int, error) {
	pids, _, err := readProcsSparing(path, spare)
	return pids, err
}

// readProcsSparing is readProcs, and whether it left a process out.
func readProcsSparing(path string, spare int) ([]int, bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	self := os.Getpid()
	spared := false
	var out []int
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(line) == 0 {
			continue
		}
		pid, err := strconv.Atoi(string(line))
		if err != nil {
			return nil, false, fmt.Errorf("parse %s: %w", path, err)
		}
		if pid == self || (spare > 0 && pid == spare) {
			spared = true
			continue
		}
		out = append(out, pid)
	}
	return out, spared, nil
}

// signalAll sends sig to each pid, ignoring those already gone.
func signalAll(pids []int, sig syscall.Signal) error {
	var errs []error
	for _, p := range pids {
		if err := unix.Kill(p, sig); err != nil && err != unix.ESRCH {
			errs = append(errs, fmt.Errorf("signal %d: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// mkdirAll creates dir and its missing parents (mode 0755).
func mkdirAll(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return nil
}

// removeTree removes a cgroup directory and any cgroups nested inside it
// (deepest first; cgroupfs only allows rmdir). rmdir of a cgroup whose
// last processes are still exiting fails with EBUSY for a moment: retry
// until deadline.
func removeTree(dir string, deadline time.Time) error {
	wait := 100 * time.Microsecond
	for {
		err := unix.Rmdir(dir)
		if err == nil || err == unix.ENOENT {
			return nil
		}
		if err != unix.EBUSY && err != unix.ENOTEMPTY {
			return &os.PathError{Op: "rmdir", Path: dir, Err: err}
		}
		// Nested cgroups (a task may create its own) go first.
		entries, rerr := os.ReadDir(dir)
		if rerr != nil && !os.IsNotExist(rerr) {
			return rerr
		}
		nested := false
		for _, e := range entries {
			if e.IsDir() {
				nested = true
				if err := removeTree(filepath.Join(dir, e.Name()), deadline); err != nil {
					return err
				}
			}
		}
		if nested {
			continue
		}
		if time.Now().After(deadline) {
			return &os.PathError{Op: "rmdir", Path: dir, Err: err}
		}
		time.Sleep(wait)
		if wait < 10*time.Millisecond {
			wait *= 2
		}
	}
}

// backoff sleeps a little longer each call, up to 10ms.
type backoff struct{ d time.Duration }

func (b *backoff) wait() {
	if b.d == 0 {
		b.d = 50 * time.Microsecond
	}
	time.Sleep(b.d)
	if b.d < 10*time.Millisecond {
		b.d *= 2
	}
}
