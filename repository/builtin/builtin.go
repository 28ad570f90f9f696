// Package builtin seeds a repository with the distribution's built-in
// packages: each is a package directory (package.json, options schema,
// launch template and bin/<os>-<arch>/ binaries) assembled by `make
// packages` under bin/packages/<name>. The package definitions live here,
// beside the sources of their binaries (hello/server).
package builtin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"

	"oras.land/oras-go/v2/content/memory"

	"github.com/cairn-dc/cairn/packaging"
	"github.com/cairn-dc/cairn/repository/remote"
)

// Result is what Seed did with one package.
type Result struct {
	Name, Version, Digest string
	// Pushed is false when the repository already held that version at
	// that digest (packages build reproducibly, so a restart pushes nothing).
	Pushed bool
}

// Seed builds every package directory under dir and pushes it to repo,
// unless repo already holds the version at the same digest. A directory
// without package.json is skipped. It stops at the first package that
// fails, naming it.
func Seed(ctx context.Context, repo *remote.Repo, dir string, log *slog.Logger) ([]Result, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("built-in packages: %w: build them with make packages", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			if _, err := os.Stat(filepath.Join(dir, e.Name(), "package.json")); err == nil {
				names = append(names, e.Name())
			}
		}
	}
	sort.Strings(names)
	var out []Result
	for _, n := range names {
		r, err := seedOne(ctx, repo, filepath.Join(dir, n))
		if err != nil {
			return out, fmt.Errorf("built-in package %s: %w", n, err)
		}
		log.Info("built-in package", "name", r.Name, "version", r.Version, "digest", r.Digest, "pushed", r.Pushed)
		out = append(out, r)
	}
	return out, nil
}

func seedOne(ctx context.Context, repo *remote.Repo, dir string) (Result, error) {
	files := os.DirFS(dir)
	p, err := packaging.Load(files)
	if err != nil {
		return Result{}, err
	}
	if err := p.Validate(); err != nil {
		return Result{}, err
	}
	store := memory.New()
	desc, err := packaging.Build(ctx, p, files, store, packaging.BuildOptions{})
	if err != nil {
		return Result{}, err
	}
	r := Result{Name: p.Manifest.Name, Version: p.Manifest.Version, Digest: desc.Digest.String()}
	_, have, err := repo.Resolve(ctx, r.Name, r.Version)
	switch {
	case err == nil && have.Digest == desc.Digest:
		return r, nil
	case err != nil && !errors.Is(err, remote.ErrPackageNotFound) && !errors.Is(err, remote.ErrVersionNotFound):
		return r, err
	}
	if err := repo.Push(ctx, store, desc, nil); err != nil {
		return r, err
	}
	r.Pushed = true
	return r, nil
}
