package packaging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
)

// ErrNotPackage is returned (wrapped) by Read and Verify for an artifact
// that is not a Cairn package.
var ErrNotPackage = errors.New("not a Cairn package")

// DefaultCreated is the org.opencontainers.image.created annotation of a
// build without BuildOptions.Created: fixed, so builds are reproducible.
const DefaultCreated = "1970-01-01T00:00:00Z"

// Build packs the package into target as an OCI artifact (image manifest
// with ArtifactType, config = manifest JSON, layers = schema, template,
// files), tags it with its version, and returns the manifest descriptor.
// Identical inputs give identical digests.
//
// files is the package directory (as given to Load); each file is read
// twice, once to digest it and once to push it, never held in memory.
// Blobs the target already has (if it can tell: content.ReadOnlyStorage)
// are not pushed again. If target is a content.Tagger (an oci-layout
// store, a memory store, a remote repository), the manifest is tagged
// VersionTag(version); otherwise callers tag it themselves (oras.Tag).
// On success p.Digest and the Digest and Size of p.Files are set; with
// opts.Platforms, p.Files becomes the files packed.
func Build(ctx context.Context, p *Package, files fs.FS, target content.Pusher, opts BuildOptions) (ocispec.Descriptor, error) {
	if p == nil {
		return ocispec.Descriptor{}, errors.New("build: no package")
	}
	if err := p.Validate(); err != nil {
		return ocispec.Descriptor{}, err
	}
	created := opts.Created
	if created == "" {
		created = DefaultCreated
	} else if _, err := time.Parse(time.RFC3339, created); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("build: created time %q is not RFC 3339 (e.g. 2026-01-02T15:04:05Z)", created)
	}
	packed, err := selectFiles(p.Files, opts.Platforms)
	if err != nil {
		return ocispec.Descriptor{}, err
	}

	var layers []ocispec.Descriptor
	pushBytes := func(what string, desc ocispec.Descriptor, data []byte) error {
		return pushBlob(ctx, target, what, desc, func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		})
	}
	if p.Schema != nil {
		desc := content.NewDescriptorFromBytes(SchemaMediaType, p.Schema)
		desc.Annotations = map[string]string{ocispec.AnnotationTitle: SchemaFile}
		if err := pushBytes(SchemaFile, desc, p.Schema); err != nil {
			return ocispec.Descriptor{}, err
		}
		layers = append(layers, desc)
	}
	if p.Template != "" {
		desc := content.NewDescriptorFromBytes(TemplateMediaType, []byte(p.Template))
		desc.Annotations = map[string]string{ocispec.AnnotationTitle: TemplateFile}
		if err := pushBytes(TemplateFile, desc, []byte(p.Template)); err != nil {
			return ocispec.Descriptor{}, err
		}
		layers = append(layers, desc)
	}
	for i, f := range packed {
		if err := ctx.Err(); err != nil {
			return ocispec.Descriptor{}, err
		}
		path := f.Path()
		dgst, size, err := digestFile(files, path)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		desc := ocispec.Descriptor{
			MediaType: FileMediaType,
			Digest:    dgst,
			Size:      size,
			// The title is the file's path in the package directory, so
			// `oras pull` recreates the directory (binaries of several
			// platforms share a name); AnnotationFile is its sandbox name.
			Annotations: map[string]string{ocispec.AnnotationTitle: path, AnnotationFile: f.Name},
		}
		if f.Platform != "" {
			desc.Annotations[AnnotationPlatform] = f.Platform
		}
		if f.Executable {
			desc.Annotations[AnnotationExecutable] = "true"
		}
		if err := pushBlob(ctx, target, path, desc, func() (io.ReadCloser, error) { return files.Open(path) }); err != nil {
			return ocispec.Descriptor{}, err
		}
		packed[i].Digest, packed[i].Size = dgst.String(), size
		layers = append(layers, desc)
	}

	config, err := json.Marshal(p.Manifest)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("build: encode %s: %w", ManifestFile, err)
	}
	configDesc := content.NewDescriptorFromBytes(ConfigMediaType, config)
	if err := pushBytes("config ("+ManifestFile+")", configDesc, config); err != nil {
		return ocispec.Descriptor{}, err
	}

	annotations := manifestAnnotations(p.Manifest, created)
	manifest := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: ArtifactType,
		Config:       configDesc,
		Layers:       layers,
		Annotations:  annotations,
	}
	mb, err := json.Marshal(manifest)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("build: encode the manifest: %w", err)
	}
	if len(mb) > MaxManifestSize {
		return ocispec.Descriptor{}, fmt.Errorf("build: the OCI manifest is %d bytes, more than the %d readers accept: pack fewer files", len(mb), MaxManifestSize)
	}
	desc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, mb)
	desc.ArtifactType = ArtifactType
	desc.Annotations = annotations
	if err := pushBytes("manifest", desc, mb); err != nil {
		return ocispec.Descriptor{}, err
	}
	if tagger, ok := target.(content.Tagger); ok {
		tag := VersionTag(p.Manifest.Version)
		if err := tagger.Tag(ctx, desc, tag); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("build: tag %s as %s: %w", desc.Digest, tag, err)
		}
	}
	p.Files = packed
	p.Digest = desc.Digest.String()
	return desc, nil
}

// manifestAnnotations are the OCI manifest's annotations; empty values are
// left out.
func manifestAnnotations(m Manifest, created string) map[string]string {
	var licenses []string
	for _, l := range m.Licenses {
		licenses = append(licenses, l.Name)
	}
	a := map[string]string{
		ocispec.AnnotationCreated:     created,
		ocispec.AnnotationTitle:       m.Name,
		ocispec.AnnotationVersion:     m.Version,
		ocispec.AnnotationDescription: m.Description,
		ocispec.AnnotationAuthors:     m.Maintainer,
		ocispec.AnnotationLicenses:    strings.Join(licenses, " AND "),
		ocispec.AnnotationURL:         m.Website,
		AnnotationKind:                string(m.Kind),
	}
	for k, v := range a {
		if v == "" {
			delete(a, k)
		}
	}
	return a
}

// selectFiles copies the files to pack, sorted: resources and the binaries
// of the given platforms (all when none are given).
func selectFiles(files []File, platforms []string) ([]File, error) {
	for _, pl := range platforms {
		if !platformRE.MatchString(pl) {
			return nil, fmt.Errorf("build: platform %q is not OS/ARCH (e.g. linux/amd64)", pl)
		}
		if !slices.ContainsFunc(files, func(f File) bool { return f.Platform == pl }) {
			return nil, fmt.Errorf("build: the package has no binaries for platform %s (add them under bin/%s/)", pl, platformDir(pl))
		}
	}
	var out []File
	for _, f := range files {
		if f.Platform == "" || len(platforms) == 0 || slices.Contains(platforms, f.Platform) {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, compareFiles)
	return out, nil
}

// digestFile reads a file once to find its digest and size.
func digestFile(files fs.FS, path string) (digest.Digest, int64, error) {
	if files == nil {
		return "", 0, fmt.Errorf("build: %s: no package directory given to read files from", path)
	}
	f, err := files.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("build: %w", err)
	}
	defer f.Close()
	d := digest.SHA256.Digester()
	n, err := io.Copy(d.Hash(), f)
	if err != nil {
		return "", 0, fmt.Errorf("build: read %s: %w", path, err)
	}
	return d.Digest(), n, nil
}

// pushBlob pushes one blob unless the target has it already.
func pushBlob(ctx context.Context, target content.Pusher, what string, desc ocispec.Descriptor, open func() (io.ReadCloser, error)) error {
	if s, ok := target.(content.ReadOnlyStorage); ok {
		exists, err := s.Exists(ctx, desc)
		if err != nil {
			return fmt.Errorf("build: check for %s (%s) in the target: %w", what, desc.Digest, err)
		}
		if exists {
			return nil
		}
	}
	rc, err := open()
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	defer rc.Close()
	if err := target.Push(ctx, desc, rc); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return fmt.Errorf("build: push %s (%s): %w (did the file change during the build?)", what, desc.Digest, err)
	}
	return nil
}

// Read reads a package artifact's manifest, config, schema and template
// (not the files' contents) from a store, verifying every digest and
// bounding every size. An artifact of another type gives an error
// wrapping ErrNotPackage. The package is not validated: see Verify.
func Read(ctx context.Context, src content.Fetcher, desc ocispec.Descriptor) (*Package, error) {
	p, _, err := read(ctx, src, desc)
	return p, err
}

func read(ctx context.Context, src content.Fetcher, desc ocispec.Descriptor) (*Package, []ocispec.Descriptor, error) {
	if desc.MediaType != "" && desc.MediaType != ocispec.MediaTypeImageManifest {
		return nil, nil, fmt.Errorf("%w (media type %q, want an OCI image manifest)", ErrNotPackage, desc.MediaType)
	}
	if desc.ArtifactType != "" && desc.ArtifactType != ArtifactType {
		return nil, nil, fmt.Errorf("%w (artifactType %q)", ErrNotPackage, desc.ArtifactType)
	}
	if desc.Size < 0 || desc.Size > MaxManifestSize {
		return nil, nil, fmt.Errorf("manifest %s: size %d is out of bounds (at most %d)", desc.Digest, desc.Size, MaxManifestSize)
	}
	mb, err := content.FetchAll(ctx, src, desc)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch manifest %s: %w", desc.Digest, err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, nil, fmt.Errorf("manifest %s: not an OCI image manifest: %w", desc.Digest, err)
	}
	if m.MediaType != "" && m.MediaType != ocispec.MediaTypeImageManifest {
		return nil, nil, fmt.Errorf("%w (manifest media type %q)", ErrNotPackage, m.MediaType)
	}
	if m.ArtifactType != ArtifactType {
		return nil, nil, fmt.Errorf("%w (artifactType %q)", ErrNotPackage, m.ArtifactType)
	}
	if m.SchemaVersion != 2 {
		return nil, nil, fmt.Errorf("manifest %s: schemaVersion %d, want 2", desc.Digest, m.SchemaVersion)
	}
	if m.Config.MediaType != ConfigMediaType {
		return nil, nil, fmt.Errorf("manifest %s: config media type %q, want %s", desc.Digest, m.Config.MediaType, ConfigMediaType)
	}
	config, err := fetchSmall(ctx, src, "config", m.Config, MaxConfigSize)
	if err != nil {
		return nil, nil, err
	}
	man, err := ParseManifest(config)
	if err != nil {
		return nil, nil, fmt.Errorf("config %s: %w", m.Config.Digest, err)
	}
	p := &Package{Manifest: *man, Digest: desc.Digest.String()}
	var fileLayers []ocispec.Descriptor
	var haveSchema, haveTemplate bool
	for i, l := range m.Layers {
		where := fmt.Sprintf("manifest %s: layer %d", desc.Digest, i)
		switch l.MediaType {
		case SchemaMediaType:
			if haveSchema {
				return nil, nil, fmt.Errorf("%s: a second options schema", where)
			}
			haveSchema = true
			if p.Schema, err = fetchSmall(ctx, src, SchemaFile, l, MaxSchemaSize); err != nil {
				return nil, nil, err
			}
		case TemplateMediaType:
			if haveTemplate {
				return nil, nil, fmt.Errorf("%s: a second launch template", where)
			}
			haveTemplate = true
			t, err := fetchSmall(ctx, src, TemplateFile, l, MaxTemplateSize)
			if err != nil {
				return nil, nil, err
			}
			p.Template = string(t)
		case FileMediaType:
			if err := l.Digest.Validate(); err != nil {
				return nil, nil, fmt.Errorf("%s: digest %q: %w", where, l.Digest, err)
			}
			if l.Size < 0 {
				return nil, nil, fmt.Errorf("%s: negative size %d", where, l.Size)
			}
			name := l.Annotations[AnnotationFile]
			if name == "" { // built before AnnotationFile: the title was the name
				name = l.Annotations[ocispec.AnnotationTitle]
			}
			f := File{
				Name:     name,
				Platform: l.Annotations[AnnotationPlatform],
				Digest:   l.Digest.String(),
				Size:     l.Size,
			}
			switch x := l.Annotations[AnnotationExecutable]; x {
			case "true":
				f.Executable = true
			case "", "false":
			default:
				return nil, nil, fmt.Errorf("%s: annotation %s is %q, want \"true\" or \"false\"", where, AnnotationExecutable, x)
			}
			p.Files = append(p.Files, f)
			fileLayers = append(fileLayers, l)
		default:
			return nil, nil, fmt.Errorf("%s: unknown media type %q (is this Cairn too old for the package?)", where, l.MediaType)
		}
	}
	if err := checkFiles(p.Files); err != nil {
		return nil, nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	return p, fileLayers, nil
}

// fetchSmall fetches and verifies a blob of at most limit bytes.
func fetchSmall(ctx context.Context, src content.Fetcher, what string, desc ocispec.Descriptor, limit int64) ([]byte, error) {
	if desc.Size < 0 || desc.Size > limit {
		return nil, fmt.Errorf("%s %s: size %d is out of bounds (at most %d)", what, desc.Digest, desc.Size, limit)
	}
	b, err := content.FetchAll(ctx, src, desc)
	if err != nil {
		return nil, fmt.Errorf("fetch %s %s: %w", what, desc.Digest, err)
	}
	return b, nil
}

// Verify reads the whole artifact (files too), checking every digest and
// the package's validity (see Validate).
func Verify(ctx context.Context, src content.Fetcher, desc ocispec.Descriptor) (*Package, error) {
	p, layers, err := read(ctx, src, desc)
	if err != nil {
		return nil, err
	}
	for i, l := range layers {
		f := p.Files[i]
		if err := verifyBlob(ctx, src, l); err != nil {
			return nil, fmt.Errorf("file %s (%s): %w", f.Path(), l.Digest, err)
		}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// verifyBlob streams a blob to nowhere, checking its size and digest.
func verifyBlob(ctx context.Context, src content.Fetcher, desc ocispec.Descriptor) error {
	rc, err := src.Fetch(ctx, desc)
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	defer rc.Close()
	vr := content.NewVerifyReader(rc, desc)
	if _, err := io.Copy(io.Discard, vr); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	return vr.Verify()
}
