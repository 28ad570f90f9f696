// Package packageapi holds the wire types of the package API (Cosmos-like,
// JSON over HTTP), served by package repository under /package/ on the
// master's HTTP endpoint. Clients (the CLI, the TUI, scripts) import only
// this package.
//
// Every endpoint is POST with a JSON body (an empty body is an empty
// request) and answers JSON. Errors answer a non-2xx status with an Error.
//
//	POST /package/search              SearchRequest         → SearchResponse
//	POST /package/describe            DescribeRequest       → DescribeResponse
//	POST /package/list-versions       ListVersionsRequest   → ListVersionsResponse
//	POST /package/render              RenderRequest         → RenderResponse
//	POST /package/install             InstallRequest        → InstallResponse
//	POST /package/uninstall           UninstallRequest      → UninstallResponse
//	POST /package/list                ListRequest           → ListResponse
//	POST /package/repository/list     RepositoryListRequest → RepositoryListResponse
//	POST /package/repository/add      RepositoryAddRequest  → RepositoryListResponse
//	POST /package/repository/delete   RepositoryDeleteRequest → RepositoryListResponse
//	POST /package/service/describe    ServiceDescribeRequest → ServiceDescribeResponse
//	POST /package/service/update      ServiceUpdateRequest  → ServiceUpdateResponse
package packageapi

import (
	"encoding/json"

	"github.com/cairn-dc/cairn/packaging"
)

// Labels kept on an installed app: the install state lives on the app
// itself, as Cosmos did (no second database to drift).
const (
	LabelName    = "CAIRN_PACKAGE_NAME"
	LabelVersion = "CAIRN_PACKAGE_VERSION"
	LabelSource  = "CAIRN_PACKAGE_SOURCE"  // the repository's URI, "oci://host:port/ns"
	LabelDigest  = "CAIRN_PACKAGE_DIGEST"  // the artifact's manifest digest, "sha256:..."
	LabelOptions = "CAIRN_PACKAGE_OPTIONS" // base64 (std) of the user-provided options JSON
)

// Paths of the endpoints.
const (
	PathSearch           = "/package/search"
	PathDescribe         = "/package/describe"
	PathListVersions     = "/package/list-versions"
	PathRender           = "/package/render"
	PathInstall          = "/package/install"
	PathUninstall        = "/package/uninstall"
	PathList             = "/package/list"
	PathRepositoryList   = "/package/repository/list"
	PathRepositoryAdd    = "/package/repository/add"
	PathRepositoryDelete = "/package/repository/delete"
	PathServiceDescribe  = "/package/service/describe"
	PathServiceUpdate    = "/package/service/update"
)

// Error types (Error.Type).
const (
	ErrPackageNotFound       = "PackageNotFound"          // 404: no repository has the package
	ErrVersionNotFound       = "VersionNotFound"          // 404: the package has no such version
	ErrOptionsInvalid        = "JsonSchemaMismatch"       // 400: options fail the schema (Errors lists them)
	ErrBadRequest            = "BadRequest"               // 400: malformed request (Message names the field)
	ErrRepositoryUnreachable = "RepositoryUnreachable"    // 502: a registry did not answer
	ErrUnauthorized          = "RepositoryUnauthorized"   // 502: a registry refused the credentials
	ErrArtifactInvalid       = "ArtifactInvalid"          // 502: a digest or the package's content is wrong
	ErrAppAlreadyInstalled   = "AppAlreadyInstalled"      // 409: an app with that id exists
	ErrAppNotFound           = "AppNotFound"              // 404: no installed app matches
	ErrAmbiguousApp          = "AmbiguousAppId"           // 409: several installs of the package: name one with appId or all
	ErrRepositoryExists      = "RepositoryAlreadyPresent" // 409
	ErrRepositoryNotFound    = "RepositoryNotFound"       // 404
	ErrUpgradeNotAllowed     = "UpgradeNotAllowed"        // 400: the version's upgradesFrom does not allow it
	ErrServicesUnavailable   = "ServicesUnavailable"      // 503: the services framework did not answer
	ErrAppInvalid            = "AppInvalid"               // 422: the services framework refused the rendered app (Message lists why)
	ErrAppLocked             = "AppLocked"                // 409: a deployment in progress holds the app: wait for it, or stop it
	ErrMethodNotAllowed      = "MethodNotAllowed"         // 405: every endpoint is POST
	ErrEndpointNotFound      = "EndpointNotFound"         // 404: no such endpoint under /package/
	ErrRequestTooLarge       = "RequestTooLarge"          // 413: request bodies are at most 1 MiB
	ErrModulesUnavailable    = "ModulesUnavailable"       // 503: no module host takes module packages here, or it did not answer
	ErrInternal              = "InternalError"            // 500: a bug, or the repository store failed (Message says which)
)

// Error is the body of every non-2xx answer.
type Error struct {
	Type    string `json:"type"`
	Message string `json:"message"` // says what failed and what to do
	// Errors are the failing options ("/port: must be >= 1024") of a
	// JsonSchemaMismatch.
	Errors []string `json:"errors,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// PackageSummary is one package of a search.
type PackageSummary struct {
	Name           string   `json:"name"`
	CurrentVersion string   `json:"currentVersion"` // the highest version
	Versions       []string `json:"versions"`       // newest first
	Description    string   `json:"description"`
	Tags           []string `json:"tags,omitempty"`
	Kind           string   `json:"kind"`
	Repository     string   `json:"repository"` // the repository's name
	// Installed counts the apps installed from the package.
	Installed int `json:"installed"`
}

// SearchRequest: Query matches names, descriptions and tags (case-
// insensitive substring; "*" or "" matches all).
type SearchRequest struct {
	Query string `json:"query,omitempty"`
}

type SearchResponse struct {
	Packages []PackageSummary `json:"packages"`
}

// PackageDetails is a package version in full.
type PackageDetails struct {
	packaging.Manifest
	Repository string `json:"repository"` // the repository's name
	Source     string `json:"source"`     // the repository's URI
	// Artifact is the pinned reference, "oci://host:port/ns/name@sha256:...".
	Artifact string          `json:"artifact"`
	Digest   string          `json:"digest"`
	Config   json.RawMessage `json:"config,omitempty"` // the options JSON Schema
	Files    []FileInfo      `json:"files,omitempty"`
}

type FileInfo struct {
	Name       string `json:"name"`
	Platform   string `json:"platform,omitempty"`
	Executable bool   `json:"executable,omitempty"`
	Digest     string `json:"digest"`
	Size       int64  `json:"size"`
}

// DescribeRequest: PackageVersion empty means the highest version.
type DescribeRequest struct {
	PackageName    string `json:"packageName"`
	PackageVersion string `json:"packageVersion,omitempty"`
}

type DescribeResponse struct {
	Package PackageDetails `json:"package"`
}

type ListVersionsRequest struct {
	PackageName string `json:"packageName"`
}

type ListVersionsResponse struct {
	Versions []string `json:"versions"` // newest first
}

// RenderRequest renders the launch template without installing.
type RenderRequest struct {
	PackageName    string         `json:"packageName"`
	PackageVersion string         `json:"packageVersion,omitempty"`
	AppID          string         `json:"appId,omitempty"` // default "/<name>"
	Options        map[string]any `json:"options,omitempty"`
}

type RenderResponse struct {
	// App is the services app definition, labels included.
	App json.RawMessage `json:"app"`
	// ResolvedOptions are the options with the schema's defaults applied.
	ResolvedOptions map[string]any `json:"resolvedOptions"`
}

type InstallRequest struct {
	PackageName    string `json:"packageName"`
	PackageVersion string `json:"packageVersion,omitempty"`
	// AppID is the app to install as ("/<name>" by default); for a module
	// package, the module's name (the package's name by default).
	AppID   string         `json:"appId,omitempty"`
	Options map[string]any `json:"options,omitempty"`
}

type InstallResponse struct {
	PackageName      string `json:"packageName"`
	PackageVersion   string `json:"packageVersion"`
	AppID            string `json:"appId"`
	Digest           string `json:"digest"`
	Source           string `json:"source"`
	DeploymentID     string `json:"deploymentId,omitempty"`
	PostInstallNotes string `json:"postInstallNotes,omitempty"`
	// Module is the module's name when the package is a module (AppID is
	// then empty): the master's module host runs it (GET /v1/modules).
	Module string `json:"module,omitempty"`
}

// UninstallRequest: with AppID empty and All false, the package must be
// installed exactly once.
type UninstallRequest struct {
	PackageName string `json:"packageName"`
	AppID       string `json:"appId,omitempty"`
	All         bool   `json:"all,omitempty"`
}

type UninstallResult struct {
	PackageName        string `json:"packageName"`
	PackageVersion     string `json:"packageVersion"`
	AppID              string `json:"appId"`
	DeploymentID       string `json:"deploymentId,omitempty"`
	PostUninstallNotes string `json:"postUninstallNotes,omitempty"`
	Module             string `json:"module,omitempty"` // for a module package (AppID is then empty)
}

type UninstallResponse struct {
	Results []UninstallResult `json:"results"`
}

// ListRequest filters installed packages (both optional).
type ListRequest struct {
	PackageName string `json:"packageName,omitempty"`
	AppID       string `json:"appId,omitempty"`
}

// Installed is a package installed as an app, read from the app's labels,
// or as a module (Module set, AppID empty), read from the module host.
type Installed struct {
	AppID          string         `json:"appId"`
	PackageName    string         `json:"packageName"`
	PackageVersion string         `json:"packageVersion"`
	Source         string         `json:"source"`
	Digest         string         `json:"digest"`
	Options        map[string]any `json:"options,omitempty"` // user-provided
	Instances      int            `json:"instances"`
	TasksRunning   int            `json:"tasksRunning"`
	TasksHealthy   int            `json:"tasksHealthy"`
	Kind           string         `json:"kind,omitempty"`
	Description    string         `json:"description,omitempty"`
	// Module and ModuleState, for a module package: its name and state
	// on the master's module host (starting, running, backoff, failed).
	Module      string `json:"module,omitempty"`
	ModuleState string `json:"moduleState,omitempty"`
}

type ListResponse struct {
	Packages []Installed `json:"packages"`
}

// Repository is a configured package repository. Repositories are
// searched in order: the first one holding a package wins.
type Repository struct {
	Name     string `json:"name"`
	URI      string `json:"uri"`      // "oci://host:port/namespace"
	Priority int    `json:"priority"` // its position: 0 is searched first
	// Username for the registry; the password is never returned.
	Username       string `json:"username,omitempty"`
	HasCredentials bool   `json:"hasCredentials,omitempty"`
	// PlainHTTP talks http:// to the registry (default: only for loopback hosts).
	PlainHTTP bool `json:"plainHTTP,omitempty"`
	BuiltIn   bool `json:"builtIn,omitempty"` // the embedded registry's repository
}

type RepositoryListRequest struct{}

type RepositoryListResponse struct {
	Repositories []Repository `json:"repositories"`
}

// RepositoryAddRequest: Index is the position to insert at (nil: last).
// The repository is checked to answer before it is added.
type RepositoryAddRequest struct {
	Name      string `json:"name"`
	URI       string `json:"uri"`
	Index     *int   `json:"index,omitempty"`
	Username  string `json:"username,omitempty"`
	Password  string `json:"password,omitempty"`
	PlainHTTP bool   `json:"plainHTTP,omitempty"`
}

type RepositoryDeleteRequest struct {
	Name string `json:"name"`
}

type ServiceDescribeRequest struct {
	AppID string `json:"appId"`
}

type ServiceDescribeResponse struct {
	Package             PackageDetails `json:"package"`
	UpgradesTo          []string       `json:"upgradesTo"`   // versions allowed by their upgradesFrom
	DowngradesTo        []string       `json:"downgradesTo"` // versions the installed one's upgradesFrom names
	ResolvedOptions     map[string]any `json:"resolvedOptions"`
	UserProvidedOptions map[string]any `json:"userProvidedOptions"`
}

// ServiceUpdateRequest upgrades (or re-configures) an installed app.
// PackageVersion empty keeps the version; Options nil keeps the user's
// options, unless Replace is set (then Options replace them; otherwise
// they are merged over them).
type ServiceUpdateRequest struct {
	AppID          string         `json:"appId"`
	PackageVersion string         `json:"packageVersion,omitempty"`
	Options        map[string]any `json:"options,omitempty"`
	Replace        bool           `json:"replace,omitempty"`
}

type ServiceUpdateResponse struct {
	Package         PackageDetails `json:"package"`
	ResolvedOptions map[string]any `json:"resolvedOptions"`
	DeploymentID    string         `json:"deploymentId,omitempty"`
	// Module is set when the install is a module (restarted with the new
	// version or options; there is no deployment).
	Module string `json:"module,omitempty"`
}
