// Package packaging is what a Cairn package is: a manifest, an options
// schema, a launch template and files (binaries per platform, resources),
// and how it is built into (and read back from) an OCI artifact. No network
// I/O: building writes to an oras-go target (an oci-layout directory, a
// memory store, or a registry the caller opens).
//
// The format is documented for package authors in docs/packaging.md.
package packaging

// Media and artifact types of a Cairn package artifact (see docs/packaging.md).
const (
	ArtifactType      = "application/vnd.cairn.package.v1"
	ConfigMediaType   = "application/vnd.cairn.package.config.v1+json"  // the Manifest, as JSON
	SchemaMediaType   = "application/vnd.cairn.package.options.v1+json" // the options JSON Schema
	TemplateMediaType = "application/vnd.cairn.package.template.v1"     // the launch template (Go text/template)
	FileMediaType     = "application/vnd.cairn.package.file.v1"         // a binary or resource
	// Layer annotations of files (besides org.opencontainers.image.title =
	// the file's path in the package directory, e.g. bin/linux-amd64/hello).
	AnnotationFile       = "io.cairn.package.file"       // the file's name in the sandbox: "hello"
	AnnotationPlatform   = "io.cairn.package.platform"   // "linux/amd64" on binaries
	AnnotationExecutable = "io.cairn.package.executable" // "true" on binaries
	// Manifest annotation (besides the org.opencontainers.image.* ones):
	// the package's Kind, so a repository can list packages by kind
	// without fetching their configs.
	AnnotationKind = "io.cairn.package.kind"
)

// File names inside a package directory, which are also the titles of the
// schema and template layers of an artifact.
const (
	ManifestFile = "package.json"
	SchemaFile   = "options.schema.json"
	TemplateFile = "app.json.tmpl"
)

// Size bounds, enforced when loading a directory and when reading an
// artifact (against hostile registries).
const (
	MaxManifestSize = 4 << 20 // the OCI image manifest
	MaxConfigSize   = 1 << 20 // package.json / the config blob
	MaxSchemaSize   = 1 << 20 // options.schema.json
	MaxTemplateSize = 1 << 20 // app.json.tmpl
	MaxRenderSize   = 1 << 20 // a rendered app definition
)

// Kind of package.
type Kind string

const (
	KindFramework Kind = "framework"
	KindModule    Kind = "module"
	KindService   Kind = "service"
)

// Manifest describes a package (package.json in its directory).
type Manifest struct {
	Name               string    `json:"name"`    // [a-z0-9-]+
	Version            string    `json:"version"` // semver, e.g. "1.2.0"
	Release            int       `json:"release"` // build number of this version (>= 0)
	Description        string    `json:"description"`
	Maintainer         string    `json:"maintainer"`
	Tags               []string  `json:"tags,omitempty"`
	Kind               Kind      `json:"kind"`
	UpgradesFrom       []string  `json:"upgradesFrom,omitempty"` // versions (or "*") this one may replace
	PreInstallNotes    string    `json:"preInstallNotes,omitempty"`
	PostInstallNotes   string    `json:"postInstallNotes,omitempty"`
	PostUninstallNotes string    `json:"postUninstallNotes,omitempty"`
	Licenses           []License `json:"licenses,omitempty"`
	Website            string    `json:"website,omitempty"`
	// Module says how the module host runs a module package (kind
	// module only).
	Module *ModuleInfo `json:"module,omitempty"`
}

// Module kinds (as the module SDK's).
const (
	ModuleWatcher = "watcher"
	ModuleHook    = "hook"
)

// ModuleInfo is the "module" object of a module package's manifest.
type ModuleInfo struct {
	// Kind is "watcher" or "hook".
	Kind string `json:"kind"`
	// Binary is the module's executable: a file the package ships for
	// each platform, as bin/<os>-<arch>/<binary>.
	Binary string `json:"binary"`
}

// License of a package (or of something it ships).
type License struct {
	Name string `json:"name"` // an SPDX identifier where one exists ("Apache-2.0")
	URL  string `json:"url,omitempty"`
}

// File is a binary or resource of a package.
type File struct {
	Name       string // the file's name in the sandbox (AnnotationFile)
	Platform   string // "linux/amd64", "linux/arm64"; empty for platform-independent resources
	Executable bool
	Digest     string // "sha256:..." once built or read
	Size       int64
}

// Path is the file's path in a package directory: bin/<os>-<arch>/<name>
// for a binary, resources/<name> for a resource.
func (f File) Path() string {
	if f.Platform == "" {
		return "resources/" + f.Name
	}
	return "bin/" + platformDir(f.Platform) + "/" + f.Name
}

// Package is a package as read from a directory or an artifact.
type Package struct {
	Manifest Manifest
	Schema   []byte // options JSON Schema (draft 2020-12); nil: the package takes no options
	Template string // launch template; empty only for modules
	Files    []File
	// Digest of the artifact's manifest once pushed or read ("sha256:...").
	Digest string
}

// RenderData is what the launch template sees.
type RenderData struct {
	Package  Manifest
	Options  map[string]any
	AppID    string            // the app id to install as (default "/<name>")
	Artifact string            // "oci://host/ns/name@sha256:..." (the pinned artifact)
	Files    map[string]string // file name → URI to fetch it: Artifact + "?file=<name>" (the agent picks its platform)
}

// BuildOptions for Build.
type BuildOptions struct {
	// Created is the org.opencontainers.image.created annotation (RFC 3339);
	// empty means 1970-01-01T00:00:00Z, so identical inputs give identical
	// digests.
	Created string
	// Platforms limits the binaries packed ("linux/amd64"; default: all
	// found). Resources are always packed.
	Platforms []string
}
