package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	orasremote "oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/cairn-dc/cairn/packaging"
)

// Size bounds of what is read from a registry.
const (
	maxManifestBytes = 4 << 20
	maxConfigBytes   = 4 << 20
	maxIndexBytes    = 64 << 20
)

// Versions lists a package's versions (its semver tags; referrer tags
// "sha256-..." and other tags are skipped), newest first. A package
// with no versions is ErrPackageNotFound.
func (r *Repo) Versions(ctx context.Context, name string) ([]string, error) {
	if !ValidPackageName(name) {
		return nil, newError(ErrPackageNotFound, nil, "package %q not found in %s: package names are lowercase letters, digits and dashes", name, r.uri)
	}
	repo, err := r.repository(name)
	if err != nil {
		return nil, err
	}
	var versions []string
	err = repo.Tags(ctx, "", func(tags []string) error {
		for _, t := range tags {
			if strings.HasPrefix(t, "sha256-") { // referrers of registries without the referrers API
				continue
			}
			if v := packaging.VersionFromTag(t); packaging.ValidVersion(v) {
				versions = append(versions, v)
			}
		}
		return nil
	})
	if err != nil {
		if isNotFound(err) {
			return nil, newError(ErrPackageNotFound, err, "package %q not found in %s: search the repositories with 'cairn package search'", name, r.uri)
		}
		return nil, r.fail(err, fmt.Sprintf("listing the versions of package %q in %s", name, r.uri))
	}
	if len(versions) == 0 {
		return nil, newError(ErrPackageNotFound, nil, "package %q not found in %s: its repository %s holds no versions", name, r.uri, r.repoPath(name))
	}
	packaging.SortVersionsDesc(versions)
	return versions, nil
}

// Resolve finds name at version ("" = the highest) and reads the package
// (manifest, schema, template; files listed, not fetched), verifying
// digests. Errors wrap ErrPackageNotFound, ErrVersionNotFound,
// ErrUnreachable, ErrUnauthorized or ErrInvalid.
func (r *Repo) Resolve(ctx context.Context, name, version string) (*packaging.Package, ocispec.Descriptor, error) {
	repo, desc, err := r.resolveTag(ctx, name, version)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	if version == "" {
		version = desc.Annotations[ocispec.AnnotationRefName]
		delete(desc.Annotations, ocispec.AnnotationRefName)
		if len(desc.Annotations) == 0 {
			desc.Annotations = nil
		}
	}
	pkg, err := r.read(ctx, repo, desc, name, version)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	return pkg, desc, nil
}

// ResolveDigest reads the artifact of package name with the manifest
// digest dgst ("sha256:..."), as Resolve does: how an installed package is
// found again, pinned.
func (r *Repo) ResolveDigest(ctx context.Context, name, dgst string) (*packaging.Package, ocispec.Descriptor, error) {
	if !ValidPackageName(name) {
		return nil, ocispec.Descriptor{}, newError(ErrPackageNotFound, nil, "package %q not found in %s: package names are lowercase letters, digits and dashes", name, r.uri)
	}
	if _, err := digest.Parse(dgst); err != nil {
		return nil, ocispec.Descriptor{}, newError(ErrVersionNotFound, err, "package %q: %q is not a digest (sha256:...)", name, dgst)
	}
	repo, err := r.repository(name)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	desc, err := repo.Resolve(ctx, dgst)
	if err != nil {
		if isNotFound(err) {
			return nil, ocispec.Descriptor{}, newError(ErrVersionNotFound, err, "package %q has no artifact %s in %s: it was deleted from the registry; install a version it holds", name, dgst, r.uri)
		}
		return nil, ocispec.Descriptor{}, r.fail(err, fmt.Sprintf("resolving package %s@%s in %s", name, dgst, r.uri))
	}
	pkg, err := r.read(ctx, repo, desc, name, "")
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	return pkg, desc, nil
}

// resolveTag finds the manifest descriptor of name at version ("": the
// highest, whose tag is then in the descriptor's ref name annotation).
func (r *Repo) resolveTag(ctx context.Context, name, version string) (*orasremote.Repository, ocispec.Descriptor, error) {
	var none ocispec.Descriptor
	if !ValidPackageName(name) {
		return nil, none, newError(ErrPackageNotFound, nil, "package %q not found in %s: package names are lowercase letters, digits and dashes", name, r.uri)
	}
	repo, err := r.repository(name)
	if err != nil {
		return nil, none, err
	}
	latest := version == ""
	if latest {
		versions, err := r.Versions(ctx, name)
		if err != nil {
			return nil, none, err
		}
		version = versions[0]
	} else if !packaging.ValidVersion(version) {
		return nil, none, newError(ErrVersionNotFound, nil, "package %q has no version %q: versions are semantic versions such as 1.2.0", name, version)
	}
	desc, err := repo.Resolve(ctx, packaging.VersionTag(version))
	if err != nil {
		if !isNotFound(err) {
			return nil, none, r.fail(err, fmt.Sprintf("resolving package %s %s in %s", name, version, r.uri))
		}
		versions, verr := r.Versions(ctx, name)
		if verr != nil {
			return nil, none, verr
		}
		return nil, none, newError(ErrVersionNotFound, err, "package %q has no version %s in %s: it has %s", name, version, r.uri, strings.Join(versions, ", "))
	}
	if latest {
		if desc.Annotations == nil {
			desc.Annotations = map[string]string{}
		}
		desc.Annotations[ocispec.AnnotationRefName] = version
	}
	return repo, desc, nil
}

// read reads a package artifact and checks it is the package asked for.
func (r *Repo) read(ctx context.Context, repo *orasremote.Repository, desc ocispec.Descriptor, name, version string) (*packaging.Package, error) {
	pkg, err := packaging.Read(ctx, repo, desc)
	if err != nil {
		if registryTrouble(err) {
			return nil, r.fail(err, fmt.Sprintf("reading package %s %s from %s", name, version, r.uri))
		}
		return nil, newError(ErrInvalid, err, "package %s %s in %s (%s) is invalid: %v: push a good artifact again with 'cairn package push'",
			name, version, r.uri, desc.Digest, err)
	}
	if pkg.Manifest.Name != name || (version != "" && pkg.Manifest.Version != version) {
		return nil, newError(ErrInvalid, nil, "artifact %s tagged %s:%s holds package %s %s: push the right artifact again with 'cairn package push'",
			desc.Digest, r.repoPath(name), version, pkg.Manifest.Name, pkg.Manifest.Version)
	}
	if pkg.Digest == "" {
		pkg.Digest = desc.Digest.String()
	}
	return pkg, nil
}

// registryTrouble says whether err is the registry's or the network's
// fault (rather than the artifact's).
func registryTrouble(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var dce *dockerConfigError
	if errors.As(err, &dce) || errors.Is(err, auth.ErrBasicCredentialNotFound) {
		return true
	}
	var er *errcode.ErrorResponse
	if errors.As(err, &er) {
		return er.StatusCode == http.StatusUnauthorized || er.StatusCode == http.StatusForbidden ||
			er.StatusCode >= 500 || er.StatusCode == http.StatusTooManyRequests
	}
	var ue *url.Error
	return errors.As(err, &ue) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// Manifest reads only the package manifest (the artifact's config) of
// name at version, and the artifact's descriptor: cheaper than Resolve
// when only the metadata is needed (upgradesFrom, description).
func (r *Repo) Manifest(ctx context.Context, name, version string) (packaging.Manifest, ocispec.Descriptor, error) {
	repo, desc, err := r.resolveTag(ctx, name, version)
	if err != nil {
		return packaging.Manifest{}, ocispec.Descriptor{}, err
	}
	if version == "" {
		version = desc.Annotations[ocispec.AnnotationRefName]
	}
	m, err := r.readConfig(ctx, repo, desc, name, version)
	return m, desc, err
}

// readConfig reads the package manifest of an artifact, verifying digests.
func (r *Repo) readConfig(ctx context.Context, repo *orasremote.Repository, desc ocispec.Descriptor, name, version string) (packaging.Manifest, error) {
	var m packaging.Manifest
	doing := fmt.Sprintf("reading package %s %s from %s", name, version, r.uri)
	invalid := func(err error, why string) error {
		return newError(ErrInvalid, err, "package %s %s in %s (%s) is invalid: %s: push a good artifact again with 'cairn package push'",
			name, version, r.uri, desc.Digest, why)
	}
	if desc.Size > maxManifestBytes {
		return m, invalid(nil, fmt.Sprintf("its manifest is %d bytes (more than %d)", desc.Size, maxManifestBytes))
	}
	data, err := content.FetchAll(ctx, repo, desc)
	if err != nil {
		if registryTrouble(err) {
			return m, r.fail(err, doing)
		}
		return m, invalid(err, err.Error())
	}
	var man ocispec.Manifest
	if err := json.Unmarshal(data, &man); err != nil {
		return m, invalid(err, "its manifest is not JSON: "+err.Error())
	}
	if man.ArtifactType != packaging.ArtifactType && man.Config.MediaType != packaging.ConfigMediaType {
		return m, invalid(nil, fmt.Sprintf("it is not a Cairn package (artifact type %q, config %q)", man.ArtifactType, man.Config.MediaType))
	}
	if man.Config.Size > maxConfigBytes {
		return m, invalid(nil, fmt.Sprintf("its config is %d bytes (more than %d)", man.Config.Size, maxConfigBytes))
	}
	cfg, err := content.FetchAll(ctx, repo, man.Config)
	if err != nil {
		if registryTrouble(err) {
			return m, r.fail(err, doing)
		}
		return m, invalid(err, "reading its config: "+err.Error())
	}
	if err := json.Unmarshal(cfg, &m); err != nil {
		return m, invalid(err, "its config is not a package manifest: "+err.Error())
	}
	if m.Name != name || (version != "" && m.Version != version) {
		return m, invalid(nil, fmt.Sprintf("it holds package %s %s", m.Name, m.Version))
	}
	return m, nil
}

// FetchFile opens a file (a layer) of package name's artifact: its bytes
// as the registry serves them, which the caller must check against
// f.Digest (content.NewVerifyReader) before trusting them.
func (r *Repo) FetchFile(ctx context.Context, name string, f packaging.File) (io.ReadCloser, error) {
	d, err := digest.Parse(f.Digest)
	if err != nil {
		return nil, newError(ErrInvalid, err, "package %s: file %s has a bad digest %q", name, f.Name, f.Digest)
	}
	repo, err := r.repository(name)
	if err != nil {
		return nil, err
	}
	rc, err := repo.Blobs().Fetch(ctx, ocispec.Descriptor{MediaType: packaging.FileMediaType, Digest: d, Size: f.Size})
	if err != nil {
		return nil, r.fail(err, fmt.Sprintf("fetching %s (%s) of package %s from %s", f.Path(), f.Digest, name, r.uri))
	}
	return rc, nil
}
