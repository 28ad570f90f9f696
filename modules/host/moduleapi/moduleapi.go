// Package moduleapi is the wire model of the module host's HTTP API, which
// the master serves at /v1/modules:
//
//	GET    /v1/modules         → []Status
//	GET    /v1/modules/{name}  → Status
//	POST   /v1/modules         Spec → 201 Status (added) or 200 Status (replaced)
//	DELETE /v1/modules/{name}  → 200 Status (its last status)
//
// Errors are {"message": "..."} with a 4xx/5xx status. It has no
// dependencies beyond the standard library, so clients (the CLI) import it
// without the host.
package moduleapi

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Paths of the API.
const (
	PathModules = "/v1/modules"
)

// Kinds of modules (as sdk.Kind).
const (
	KindWatcher = "watcher"
	KindHook    = "hook"
)

// Spec says how to run one module.
type Spec struct {
	// Name identifies the module: lower-case letters, digits and '-', at
	// most 63 characters (as a package name).
	Name string `json:"name"`
	// Kind is "watcher" or "hook".
	Kind string `json:"kind"`
	// Path is the module binary's absolute path on the host's machine.
	Path string `json:"path"`
	// SHA256 is the binary's SHA-256, in hex: the host refuses to start a
	// binary with another checksum.
	SHA256 string `json:"sha256"`
	// Config is handed to the module's Configure: a JSON object (or any
	// JSON value) is passed as its JSON text; a JSON string is passed as
	// the string's bytes (for modules that read another format).
	Config json.RawMessage `json:"config,omitempty"`
	// Package, when set, says the module was installed from a package of
	// the repository (POST /package/install of a module package): its
	// binary was fetched by digest, and the Package API lists and
	// uninstalls it.
	Package *PackageRef `json:"package,omitempty"`
}

// SourcePackage is the Status.Source of modules installed from packages.
const SourcePackage = "package"

// PackageRef is the package a module was installed from.
type PackageRef struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Source is the repository's URI ("oci://host/namespace").
	Source string `json:"source"`
	// Digest is the package artifact's manifest digest ("sha256:...").
	Digest string `json:"digest"`
	// Options are the options the user gave (the config holds them with
	// the schema's defaults applied).
	Options map[string]any `json:"options,omitempty"`
}

// State is where a module is in its life.
type State string

const (
	// Starting: its process is being started (handshake, Configure).
	Starting State = "starting"
	// Running: it runs and answers health checks.
	Running State = "running"
	// Backoff: it crashed or failed to start; it is started again at
	// NextStart.
	Backoff State = "backoff"
	// Failed: it will not be started again until its spec changes: its
	// binary is missing or has the wrong checksum, or it does not serve its
	// kind. LastError says why and what to do.
	Failed State = "failed"
	// Stopped: the host is shutting it down.
	Stopped State = "stopped"
)

// Status is a module as the host runs it.
type Status struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	// Source says where the module is configured: "config" (the host's
	// configuration, read-only), "api" (added through POST /v1/modules),
	// "package" (installed from a package of the repository).
	Source string `json:"source"`
	// Package is the package the module was installed from, if any.
	Package *PackageRef `json:"package,omitempty"`
	State   State       `json:"state"`
	// PID is the module process's id while it runs (0 otherwise).
	PID int `json:"pid,omitempty"`
	// Restarts counts the times the host started the module again after
	// it stopped or failed to start.
	Restarts int `json:"restarts"`
	// LastError is why the module last stopped or failed to start.
	LastError string `json:"last_error,omitempty"`
	// StartedAt is when the running process started.
	StartedAt *time.Time `json:"started_at,omitempty"`
	// NextStart is when a module in backoff is started again.
	NextStart *time.Time `json:"next_start,omitempty"`
	// SDKVersion is the SDK version the running module was built with.
	SDKVersion string `json:"sdk_version,omitempty"`
}

// Error is the body of an error answer.
type Error struct {
	Message string `json:"message"`
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// ValidateName checks a module name.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("name: missing; give the module a name such as dns")
	}
	if len(name) > 63 || !nameRE.MatchString(name) {
		return fmt.Errorf("name: %q is not a module name: use lower-case letters, digits and '-' (not at the ends), at most 63 characters", name)
	}
	return nil
}

// NormalizeSHA256 returns the lower-case hex form of a SHA-256 given as
// hex, optionally prefixed "sha256:".
func NormalizeSHA256(s string) (string, error) {
	h := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "sha256:")
	if h == "" {
		return "", fmt.Errorf("sha256: missing; give the binary's SHA-256 (sha256sum PATH)")
	}
	if len(h) != 64 {
		return "", fmt.Errorf("sha256: %q is not a SHA-256: want 64 hex digits (sha256sum PATH)", s)
	}
	if _, err := hex.DecodeString(h); err != nil {
		return "", fmt.Errorf("sha256: %q is not a SHA-256: want 64 hex digits (sha256sum PATH)", s)
	}
	return h, nil
}

// Normalize checks a spec and returns it in canonical form (SHA-256 in
// lower-case hex, path cleaned, config compacted). Every error names the
// field.
func (s Spec) Normalize() (Spec, error) {
	if err := ValidateName(s.Name); err != nil {
		return s, err
	}
	switch s.Kind {
	case KindWatcher, KindHook:
	case "":
		return s, fmt.Errorf("module %s: kind: missing; give %q or %q", s.Name, KindWatcher, KindHook)
	default:
		return s, fmt.Errorf("module %s: kind: %q is not a module kind; give %q or %q", s.Name, s.Kind, KindWatcher, KindHook)
	}
	if s.Path == "" {
		return s, fmt.Errorf("module %s: path: missing; give the absolute path of the module's binary", s.Name)
	}
	if !filepath.IsAbs(s.Path) {
		return s, fmt.Errorf("module %s: path: %q is not absolute; give the binary's absolute path", s.Name, s.Path)
	}
	s.Path = filepath.Clean(s.Path)
	sum, err := NormalizeSHA256(s.SHA256)
	if err != nil {
		return s, fmt.Errorf("module %s: %w", s.Name, err)
	}
	s.SHA256 = sum
	if p := s.Package; p != nil {
		switch {
		case p.Name == "":
			return s, fmt.Errorf("module %s: package.name: missing; give the package the module was installed from", s.Name)
		case p.Version == "":
			return s, fmt.Errorf("module %s: package.version: missing; give the installed package's version", s.Name)
		case !strings.HasPrefix(p.Digest, "sha256:"):
			return s, fmt.Errorf("module %s: package.digest: %q is not a sha256 digest (sha256:...)", s.Name, p.Digest)
		}
	}
	if len(bytes.TrimSpace(s.Config)) == 0 || bytes.Equal(bytes.TrimSpace(s.Config), []byte("null")) {
		s.Config = nil
	} else {
		var buf bytes.Buffer
		if err := json.Compact(&buf, s.Config); err != nil {
			return s, fmt.Errorf("module %s: config: not valid JSON: %w", s.Name, err)
		}
		s.Config = buf.Bytes()
	}
	return s, nil
}

// ConfigBytes is what the module's Configure receives: a JSON string's
// bytes, else the JSON text itself (nil when there is no config).
func (s Spec) ConfigBytes() []byte {
	c := bytes.TrimSpace(s.Config)
	if len(c) == 0 || bytes.Equal(c, []byte("null")) {
		return nil
	}
	if c[0] == '"' {
		var str string
		if json.Unmarshal(c, &str) == nil {
			return []byte(str)
		}
	}
	return append([]byte(nil), c...)
}
