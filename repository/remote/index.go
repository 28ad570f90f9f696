package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/cairn-dc/cairn/packaging"
)

// errNoIndex: the repository has no index artifact.
var errNoIndex = errors.New("no repository index")

// Index reads the repository index artifact, or, when the repository has
// none, builds one from the registry's catalog and tags (reading each
// package's config), skipping referrer tags (sha256-...).
func (r *Repo) Index(ctx context.Context) (*Index, error) {
	idx, _, err := r.readIndex(ctx)
	if err == nil {
		return idx, nil
	}
	if !errors.Is(err, errNoIndex) {
		return nil, err
	}
	return r.catalogIndex(ctx)
}

// readIndex reads the index artifact and the digest of its manifest;
// errNoIndex if there is none.
func (r *Repo) readIndex(ctx context.Context) (*Index, ocispec.Descriptor, error) {
	var none ocispec.Descriptor
	repo, err := r.repository(IndexRepository)
	if err != nil {
		return nil, none, err
	}
	doing := "reading the repository index " + r.repoPath(IndexRepository) + ":" + IndexTag
	desc, rc, err := repo.FetchReference(ctx, IndexTag)
	if err != nil {
		if isNotFound(err) {
			return nil, none, fmt.Errorf("%s: %w", r.uri, errNoIndex)
		}
		return nil, none, r.fail(err, doing)
	}
	invalid := func(err error, why string) error {
		return newError(ErrInvalid, err, "the repository index of %s (%s) is invalid: %s: push a package with 'cairn package push' to rewrite it", r.uri, desc.Digest, why)
	}
	if desc.Size > maxManifestBytes {
		rc.Close()
		return nil, none, invalid(nil, fmt.Sprintf("its manifest is %d bytes", desc.Size))
	}
	data, err := content.ReadAll(rc, desc)
	rc.Close()
	if err != nil {
		if registryTrouble(err) {
			return nil, none, r.fail(err, doing)
		}
		return nil, none, invalid(err, err.Error())
	}
	var man ocispec.Manifest
	if err := json.Unmarshal(data, &man); err != nil {
		return nil, none, invalid(err, "its manifest is not JSON")
	}
	if man.ArtifactType != IndexArtifactType {
		return nil, none, invalid(nil, fmt.Sprintf("artifact type %q, not %q", man.ArtifactType, IndexArtifactType))
	}
	var layer *ocispec.Descriptor
	for i := range man.Layers {
		if man.Layers[i].MediaType == IndexMediaType {
			layer = &man.Layers[i]
			break
		}
	}
	if layer == nil {
		return nil, none, invalid(nil, "it has no "+IndexMediaType+" layer")
	}
	if layer.Size > maxIndexBytes {
		return nil, none, invalid(nil, fmt.Sprintf("its index is %d bytes (more than %d)", layer.Size, maxIndexBytes))
	}
	blob, err := content.FetchAll(ctx, repo, *layer)
	if err != nil {
		if registryTrouble(err) {
			return nil, none, r.fail(err, doing)
		}
		return nil, none, invalid(err, err.Error())
	}
	var idx Index
	if err := json.Unmarshal(blob, &idx); err != nil {
		return nil, none, invalid(err, "its index is not JSON: "+err.Error())
	}
	idx.normalise()
	return &idx, desc, nil
}

// normalise sorts packages by name and versions newest first, dropping
// entries that are not packages.
func (idx *Index) normalise() {
	idx.Packages = slices.DeleteFunc(idx.Packages, func(e IndexEntry) bool {
		return !ValidPackageName(e.Name) || len(e.Versions) == 0
	})
	for i := range idx.Packages {
		vs := idx.Packages[i].Versions
		slices.SortStableFunc(vs, func(a, b IndexVersion) int { return packaging.CompareVersions(b.Version, a.Version) })
		idx.Packages[i].Versions = slices.CompactFunc(vs, func(a, b IndexVersion) bool { return a.Version == b.Version })
	}
	slices.SortFunc(idx.Packages, func(a, b IndexEntry) int { return strings.Compare(a.Name, b.Name) })
	idx.Packages = slices.CompactFunc(idx.Packages, func(a, b IndexEntry) bool { return a.Name == b.Name })
	if idx.Packages == nil {
		idx.Packages = []IndexEntry{}
	}
}

// Entry finds a package in the index.
func (idx *Index) Entry(name string) (IndexEntry, bool) {
	for _, e := range idx.Packages {
		if e.Name == name {
			return e, true
		}
	}
	return IndexEntry{}, false
}

// upsert records a package version (replacing the version's digest if it
// was there); the entry's description, tags and kind follow its highest
// version.
func (idx *Index) upsert(m packaging.Manifest, dgst string) {
	i := slices.IndexFunc(idx.Packages, func(e IndexEntry) bool { return e.Name == m.Name })
	if i < 0 {
		idx.Packages = append(idx.Packages, IndexEntry{Name: m.Name})
		i = len(idx.Packages) - 1
	}
	e := &idx.Packages[i]
	e.Versions = slices.DeleteFunc(e.Versions, func(v IndexVersion) bool { return v.Version == m.Version })
	if len(e.Versions) == 0 || packaging.CompareVersions(m.Version, e.Versions[0].Version) >= 0 {
		e.Description, e.Tags, e.Kind = m.Description, slices.Clone(m.Tags), string(m.Kind)
	}
	e.Versions = append(e.Versions, IndexVersion{Version: m.Version, Digest: dgst})
	idx.normalise()
}

// packageOf says which package an OCI repository of the registry is, if
// it is one of this repository's: ns/<name>, directly under the namespace.
func (r *Repo) packageOf(repoName string) (string, bool) {
	name := repoName
	if r.ns != "" {
		var ok bool
		name, ok = strings.CutPrefix(repoName, r.ns+"/")
		if !ok {
			return "", false
		}
	}
	if strings.Contains(name, "/") || !ValidPackageName(name) {
		return "", false
	}
	return name, true
}

// catalogConcurrency bounds the packages read at once by catalogIndex.
const catalogConcurrency = 8

// catalogIndex builds an index from the registry's catalog: the OCI
// repositories under the namespace, their semver tags, and the package
// manifest of each one's highest version. Repositories that are not
// packages are skipped.
func (r *Repo) catalogIndex(ctx context.Context) (*Index, error) {
	var names []string
	err := r.registry().Repositories(ctx, "", func(repos []string) error {
		for _, rn := range repos {
			if name, ok := r.packageOf(rn); ok {
				names = append(names, name)
			}
		}
		return nil
	})
	if err != nil {
		var er *errcode.ErrorResponse
		if isNotFound(err) || errors.Is(err, errdef.ErrUnsupported) || errors.As(err, &er) && er.StatusCode < 500 && er.StatusCode != 401 && er.StatusCode != 403 {
			return nil, newError(nil, err, "%s has no repository index (%s:%s) and registry %s does not list its repositories: push a package with 'cairn package push' to create the index",
				r.uri, r.repoPath(IndexRepository), IndexTag, r.host)
		}
		return nil, r.fail(err, "listing the registry's repositories (it has no repository index)")
	}
	idx := &Index{}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, catalogConcurrency)
	for _, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			e, err := r.catalogEntry(ctx, name)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				idx.Packages = append(idx.Packages, e)
			case errors.Is(err, ErrUnreachable), errors.Is(err, ErrUnauthorized), ctx.Err() != nil:
				if firstErr == nil {
					firstErr = err
				}
			default:
				r.log.Warn("skipping a repository that is not a readable package", "repository", r.uri, "package", name, "err", err)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	idx.normalise()
	return idx, nil
}

// catalogEntry reads one package's versions and its highest version's
// manifest.
func (r *Repo) catalogEntry(ctx context.Context, name string) (IndexEntry, error) {
	versions, err := r.Versions(ctx, name)
	if err != nil {
		return IndexEntry{}, err
	}
	repo, err := r.repository(name)
	if err != nil {
		return IndexEntry{}, err
	}
	e := IndexEntry{Name: name}
	for i, v := range versions {
		desc, err := repo.Resolve(ctx, packaging.VersionTag(v))
		if err != nil {
			if isNotFound(err) { // deleted meanwhile
				continue
			}
			return IndexEntry{}, r.fail(err, fmt.Sprintf("resolving package %s %s in %s", name, v, r.uri))
		}
		if i == 0 || e.Kind == "" {
			m, err := r.readConfig(ctx, repo, desc, name, v)
			if err != nil {
				return IndexEntry{}, err
			}
			e.Description, e.Tags, e.Kind = m.Description, m.Tags, string(m.Kind)
		}
		e.Versions = append(e.Versions, IndexVersion{Version: v, Digest: desc.Digest.String()})
	}
	if len(e.Versions) == 0 {
		return IndexEntry{}, newError(ErrPackageNotFound, nil, "package %q in %s has no versions", name, r.uri)
	}
	return e, nil
}

// writeIndex pushes the index artifact and tags it IndexTag.
func (r *Repo) writeIndex(ctx context.Context, idx *Index) error {
	repo, err := r.repository(IndexRepository)
	if err != nil {
		return err
	}
	doing := "writing the repository index " + r.repoPath(IndexRepository) + ":" + IndexTag
	idx.normalise()
	data, err := json.Marshal(idx)
	if err != nil {
		return fmt.Errorf("encoding the repository index: %w", err)
	}
	layer := content.NewDescriptorFromBytes(IndexMediaType, data)
	if err := pushBlob(ctx, repo, layer, data); err != nil {
		return r.fail(err, doing)
	}
	empty := ocispec.DescriptorEmptyJSON
	if err := pushBlob(ctx, repo, empty, empty.Data); err != nil {
		return r.fail(err, doing)
	}
	empty.Data = nil
	man := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: IndexArtifactType,
		Config:       empty,
		Layers:       []ocispec.Descriptor{layer},
		Annotations:  map[string]string{ocispec.AnnotationCreated: time.Now().UTC().Format(time.RFC3339)},
	}
	mdata, err := json.Marshal(man)
	if err != nil {
		return fmt.Errorf("encoding the repository index manifest: %w", err)
	}
	mdesc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, mdata)
	mdesc.ArtifactType = IndexArtifactType
	if err := repo.PushReference(ctx, mdesc, bytes.NewReader(mdata), IndexTag); err != nil {
		return r.fail(err, doing)
	}
	return nil
}

// pushBlob pushes a blob unless the registry has it.
func pushBlob(ctx context.Context, s content.Storage, desc ocispec.Descriptor, data []byte) error {
	ok, err := s.Exists(ctx, desc)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	if err := s.Push(ctx, desc, bytes.NewReader(data)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return err
	}
	return nil
}

// updateIndex applies change to the repository index: read, modify,
// write. If another writer changed the index meanwhile it starts over,
// once; after that the last writer wins (a lost entry comes back at the
// package's next push, and search falls back to nothing worse than a
// stale list: resolve always asks the registry's tags).
func (r *Repo) updateIndex(ctx context.Context, change func(*Index)) error {
	for attempt := 0; ; attempt++ {
		idx, base, err := r.readIndex(ctx)
		if errors.Is(err, errNoIndex) {
			// First index: start from what the registry holds, if it lists it.
			idx, err = r.catalogIndex(ctx)
			if err != nil {
				if errors.Is(err, ErrUnreachable) || errors.Is(err, ErrUnauthorized) || ctx.Err() != nil {
					return err
				}
				idx = &Index{}
			}
		} else if err != nil {
			if !errors.Is(err, ErrInvalid) {
				return err
			}
			r.log.Warn("rewriting an invalid repository index", "repository", r.uri, "err", err)
			idx = &Index{}
		}
		change(idx)
		if attempt == 0 {
			cur, err := r.indexDigest(ctx)
			if err != nil {
				return err
			}
			if cur != base.Digest.String() {
				continue // changed meanwhile: redo on the new index
			}
		}
		return r.writeIndex(ctx, idx)
	}
}

// indexDigest is the digest of the index manifest ("" if none; base
// descriptors of a missing index have the empty digest too).
func (r *Repo) indexDigest(ctx context.Context) (string, error) {
	repo, err := r.repository(IndexRepository)
	if err != nil {
		return "", err
	}
	desc, err := repo.Resolve(ctx, IndexTag)
	if err != nil {
		if isNotFound(err) {
			return "", nil
		}
		return "", r.fail(err, "resolving the repository index")
	}
	return desc.Digest.String(), nil
}
