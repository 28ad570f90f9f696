package remote

import (
	"context"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"

	"github.com/cairn-dc/cairn/packaging"
)

// Push copies a built package artifact (desc in src, e.g. an oci-layout
// store or a memory store from packaging.Build) to ns/<name>, tags it with
// its version and updates the repository index. progress, if not nil, is
// told of each blob copied.
//
// Pushing a version again replaces its tag (installed apps keep their
// pinned digest). The index update is read-modify-write, retried once if
// another push changed the index meanwhile; beyond that the last writer
// wins.
func (r *Repo) Push(ctx context.Context, src content.ReadOnlyStorage, desc ocispec.Descriptor, progress func(ocispec.Descriptor)) error {
	pkg, err := packaging.Read(ctx, src, desc)
	if err != nil {
		return newError(ErrInvalid, err, "reading the package to push (%s): %v: build it again with 'cairn package build'", desc.Digest, err)
	}
	m := pkg.Manifest
	if !ValidPackageName(m.Name) {
		return newError(ErrInvalid, nil, "package name %q cannot be pushed: names are lowercase letters, digits and dashes (and not %q)", m.Name, IndexRepository)
	}
	if !packaging.ValidVersion(m.Version) {
		return newError(ErrInvalid, nil, "package %s: version %q is not a semantic version", m.Name, m.Version)
	}
	dst, err := r.repository(m.Name)
	if err != nil {
		return err
	}
	opts := oras.DefaultCopyGraphOptions
	if progress != nil {
		tell := func(_ context.Context, d ocispec.Descriptor) error {
			progress(d)
			return nil
		}
		opts.PostCopy = tell
		opts.OnCopySkipped = tell
	}
	doing := fmt.Sprintf("pushing package %s %s to %s", m.Name, m.Version, r.uri)
	if err := oras.CopyGraph(ctx, src, dst, desc, opts); err != nil {
		return r.fail(err, doing)
	}
	if err := dst.Tag(ctx, desc, packaging.VersionTag(m.Version)); err != nil {
		return r.fail(err, doing)
	}
	if err := r.updateIndex(ctx, func(idx *Index) { idx.upsert(m, desc.Digest.String()) }); err != nil {
		return fmt.Errorf("package %s %s is pushed but the repository index was not updated (push again to retry): %w", m.Name, m.Version, err)
	}
	return nil
}
