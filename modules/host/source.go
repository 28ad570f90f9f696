package host

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/cairn-dc/cairn/modules/host/moduleapi"
)

// Source is where the host finds modules to run. The host reads its
// sources when it starts; names must be unique across them.
//
// Today there are two: the host's configuration (StaticSource) and the
// modules added through the HTTP API (Store). Module packages installed
// from the package repository are kept in the Store too, their spec
// naming the package (Spec.Package; Status.Source "package").
type Source interface {
	// Name says where modules come from; it is each module's
	// Status.Source ("config", "api").
	Name() string
	// Modules lists the source's modules.
	Modules(ctx context.Context) ([]moduleapi.Spec, error)
}

// SourceConfig is the name of StaticSource's modules.
const SourceConfig = "config"

// SourceAPI is the name of the Store's modules.
const SourceAPI = "api"

// StaticSource is a fixed list of modules: the host's configuration.
func StaticSource(specs ...moduleapi.Spec) Source {
	return staticSource{specs: slices.Clone(specs)}
}

type staticSource struct{ specs []moduleapi.Spec }

func (staticSource) Name() string { return SourceConfig }

func (s staticSource) Modules(context.Context) ([]moduleapi.Spec, error) {
	return slices.Clone(s.specs), nil
}

// DecodeSpecs reads a JSON list of module specs ([{"name": ..., "kind":
// ..., "path": ..., "sha256": ..., "config": ...}], or {"modules": [...]}),
// strictly: unknown fields are errors. Every spec is checked.
func DecodeSpecs(data []byte) ([]moduleapi.Spec, error) {
	data = bytes.TrimSpace(data)
	var specs []moduleapi.Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if len(data) > 0 && data[0] == '{' {
		var file storeFile
		if err := dec.Decode(&file); err != nil {
			return nil, fmt.Errorf("module list: %w", err)
		}
		specs = file.Modules
	} else if err := dec.Decode(&specs); err != nil {
		return nil, fmt.Errorf("module list: %w (want a JSON array of {\"name\", \"kind\", \"path\", \"sha256\", \"config\"})", err)
	}
	seen := map[string]bool{}
	for i, s := range specs {
		n, err := s.Normalize()
		if err != nil {
			return nil, fmt.Errorf("module list [%d]: %w", i, err)
		}
		if seen[n.Name] {
			return nil, fmt.Errorf("module list [%d]: name %q is used twice: give each module its own name", i, n.Name)
		}
		seen[n.Name] = true
		specs[i] = n
	}
	return specs, nil
}

// storeFile is the Store's file.
type storeFile struct {
	Modules []moduleapi.Spec `json:"modules"`
}

// Store is a Source that can change: the modules added with POST
// /v1/modules, kept in a JSON file so that they survive a restart. The
// file is written atomically (a temporary file renamed over it) with mode
// 0600, since module configurations may hold secrets.
type Store struct {
	path string
	mu   sync.Mutex
}

// OpenStore returns the store kept in path, creating its directory. A
// missing file is an empty store; an unreadable or invalid one is an error.
func OpenStore(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("module store: the file path is empty: give the path of a JSON file the host may write")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("module store: creating the directory of %s: %w", path, err)
	}
	s := &Store{path: path}
	if _, err := s.read(); err != nil {
		return nil, err
	}
	return s, nil
}

// Name is SourceAPI.
func (s *Store) Name() string { return SourceAPI }

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// Modules lists the stored modules, by name.
func (s *Store) Modules(context.Context) ([]moduleapi.Spec, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read()
}

// Put adds spec, or replaces the module of the same name.
func (s *Store) Put(_ context.Context, spec moduleapi.Spec) error {
	spec, err := spec.Normalize()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	specs, err := s.read()
	if err != nil {
		return err
	}
	specs = slices.DeleteFunc(specs, func(x moduleapi.Spec) bool { return x.Name == spec.Name })
	return s.write(append(specs, spec))
}

// Delete removes the named module; it reports whether it was there.
func (s *Store) Delete(_ context.Context, name string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	specs, err := s.read()
	if err != nil {
		return false, err
	}
	n := len(specs)
	specs = slices.DeleteFunc(specs, func(x moduleapi.Spec) bool { return x.Name == name })
	if len(specs) == n {
		return false, nil
	}
	return true, s.write(specs)
}

func (s *Store) read() ([]moduleapi.Spec, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("module store: reading %s: %w", s.path, err)
	}
	specs, err := DecodeSpecs(data)
	if err != nil {
		return nil, fmt.Errorf("module store %s: %w (fix or remove the file)", s.path, err)
	}
	return specs, nil
}

func (s *Store) write(specs []moduleapi.Spec) error {
	slices.SortFunc(specs, func(a, b moduleapi.Spec) int { return cmp.Compare(a.Name, b.Name) })
	if specs == nil {
		specs = []moduleapi.Spec{}
	}
	data, err := json.MarshalIndent(storeFile{Modules: specs}, "", "  ")
	if err != nil {
		return fmt.Errorf("module store: encoding: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), "."+filepath.Base(s.path)+".*")
	if err != nil {
		return fmt.Errorf("module store: writing %s: %w", s.path, err)
	}
	_, werr := tmp.Write(append(data, '\n'))
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o600)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), s.path)
	}
	if werr != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("module store: writing %s: %w", s.path, werr)
	}
	return nil
}
