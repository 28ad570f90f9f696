package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/cairn-dc/cairn/modules/host"
	"github.com/cairn-dc/cairn/modules/host/moduleapi"
	"github.com/cairn-dc/cairn/repository"
)

// maxModuleBinary bounds a module package's binary (a hostile registry
// could serve an endless one).
const maxModuleBinary = 1 << 30

// modulePackages is repository.Modules over the master's module host:
// the binary of a module package is written under dir/<module>/<sha256>,
// checked against its digest, then added to the host (which keeps it in
// its store, so it survives a restart, and checks the digest again before
// every start).
type modulePackages struct {
	dir  string
	host *lateHost
	mu   sync.Mutex // one install or removal at a time
}

func (m *modulePackages) running() (*host.Host, error) {
	h := m.host.h.Load()
	if h == nil {
		return nil, errors.New("the module host is not running yet: retry in a moment")
	}
	return h, nil
}

// List is every module of the host.
func (m *modulePackages) List(context.Context) ([]moduleapi.Status, error) {
	h, err := m.running()
	if err != nil {
		return nil, err
	}
	return h.List(), nil
}

// Install writes the binary, checks it, and adds the module.
func (m *modulePackages) Install(ctx context.Context, spec moduleapi.Spec, binary io.Reader) (moduleapi.Status, error) {
	return m.put(ctx, spec, binary, func(h *host.Host) (string, error) {
		if _, err := h.Get(spec.Name); err == nil {
			return "", fmt.Errorf("%w: a module named %s runs on this host", repository.ErrModuleExists, spec.Name)
		}
		return "", nil
	})
}

// Update replaces a module installed from a package: the new binary is
// written beside the old one, the host restarts the module with it, then
// the old binary goes.
func (m *modulePackages) Update(ctx context.Context, spec moduleapi.Spec, binary io.Reader) (moduleapi.Status, error) {
	return m.put(ctx, spec, binary, func(h *host.Host) (string, error) {
		old, err := h.Get(spec.Name)
		if err != nil {
			return "", fmt.Errorf("%w: %w", repository.ErrModuleNotFound, err)
		}
		if old.Package == nil {
			return "", fmt.Errorf("%w: module %s was not installed from a package", repository.ErrModuleExists, spec.Name)
		}
		return old.Path, nil
	})
}

// put checks the module's place (check returns the path of the binary it
// replaces, if any), writes the binary, adds the module to the host, and
// deletes whichever binary is not in use afterwards.
func (m *modulePackages) put(ctx context.Context, spec moduleapi.Spec, binary io.Reader, check func(*host.Host) (string, error)) (moduleapi.Status, error) {
	h, err := m.running()
	if err != nil {
		return moduleapi.Status{}, err
	}
	sum, err := moduleapi.NormalizeSHA256(spec.SHA256)
	if err != nil {
		return moduleapi.Status{}, fmt.Errorf("%w: %w", repository.ErrModuleInvalid, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	oldPath, err := check(h)
	if err != nil {
		return moduleapi.Status{}, err
	}
	path, err := m.write(spec.Name, sum, binary)
	if err != nil {
		return moduleapi.Status{}, err
	}
	spec.Path, spec.SHA256 = path, sum
	st, _, err := h.Add(ctx, spec)
	if err != nil {
		switch {
		case oldPath == "":
			os.RemoveAll(filepath.Dir(path))
		case path != oldPath:
			os.Remove(path)
		}
		switch {
		case errors.Is(err, host.ErrInvalid):
			return st, fmt.Errorf("%w: %w", repository.ErrModuleInvalid, err)
		case errors.Is(err, host.ErrConflict):
			return st, fmt.Errorf("%w: %w", repository.ErrModuleExists, err)
		}
		return st, err
	}
	if oldPath != "" && oldPath != path && strings.HasPrefix(oldPath, m.dir+string(filepath.Separator)) {
		os.Remove(oldPath)
	}
	return st, nil
}

// write copies the binary to dir/<name>/<sum>, executable, and checks
// its SHA-256 on the way: nothing is left behind when it does not match.
func (m *modulePackages) write(name, sum string, binary io.Reader) (string, error) {
	dir := filepath.Join(m.dir, name)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("module package binaries: %w", err)
	}
	final := filepath.Join(dir, sum)
	tmp, err := os.CreateTemp(dir, ".download-*")
	if err != nil {
		return "", fmt.Errorf("module package binaries: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	hash := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, hash), io.LimitReader(binary, maxModuleBinary+1))
	if err == nil && n > maxModuleBinary {
		err = fmt.Errorf("%w: the module binary is larger than %d bytes", repository.ErrModuleInvalid, maxModuleBinary)
	}
	if err == nil {
		if got := hex.EncodeToString(hash.Sum(nil)); got != sum {
			err = fmt.Errorf("%w: the module binary's SHA-256 is %s, but its package says %s: the registry served other bytes", repository.ErrModuleInvalid, got, sum)
		}
	}
	if err == nil {
		err = tmp.Chmod(0o755)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), final)
	}
	if err != nil {
		return "", fmt.Errorf("writing module %s's binary: %w", name, err)
	}
	return final, nil
}

// Remove stops and forgets the module, and deletes its binaries.
func (m *modulePackages) Remove(ctx context.Context, name string) (moduleapi.Status, error) {
	h, err := m.running()
	if err != nil {
		return moduleapi.Status{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st, err := h.Remove(ctx, name)
	if err != nil {
		if errors.Is(err, host.ErrNotFound) {
			return st, fmt.Errorf("%w: %w", repository.ErrModuleNotFound, err)
		}
		return st, err
	}
	if st.Package != nil && strings.HasPrefix(st.Path, m.dir+string(filepath.Separator)) {
		if err := os.RemoveAll(filepath.Join(m.dir, name)); err != nil {
			return st, fmt.Errorf("module %s is removed, but not its binary: %w", name, err)
		}
	}
	return st, nil
}
