// Package configfile reads and writes the CLI's configuration file: the
// named clusters "cairn config" manages and which of them is current. It
// lives apart from the "cairn config" commands so that cmdutil's Factory
// can read it without importing them.
package configfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
)

// FileName is the configuration file's name inside the config directory.
const FileName = "config.json"

// maxFileBytes bounds the file read (a config with a thousand clusters is
// far below it).
const maxFileBytes = 1 << 20

// File is the configuration file.
type File struct {
	// Current is the name of the cluster used when neither --cluster nor
	// $CAIRN_CLUSTER names one ("" for none).
	Current string `json:"current,omitempty"`
	// Clusters are the named clusters, by name.
	Clusters map[string]Cluster `json:"clusters"`
}

// Cluster is a named master.
type Cluster struct {
	// URL is the master's operator API, e.g. http://10.0.0.1:5050.
	URL string `json:"url"`
	// Token is the bearer token for its HTTP APIs ("" for none).
	Token string `json:"token,omitempty"`
}

// Path is the configuration file in dir.
func Path(dir string) string { return filepath.Join(dir, FileName) }

// ValidateName checks a cluster name: 1 to 64 letters, digits, '-', '_'
// or '.', starting with a letter or digit.
func ValidateName(name string) error {
	if name == "" {
		return errors.New("the cluster name is empty: give one such as prod or local")
	}
	if len(name) > 64 {
		return fmt.Errorf("cluster name %q is longer than 64 characters", name)
	}
	for i, r := range name {
		ok := r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || (i > 0 && strings.ContainsRune("-_.", r)))
		if !ok {
			return fmt.Errorf("cluster name %q: use letters, digits, '-', '_' and '.', starting with a letter or digit", name)
		}
	}
	return nil
}

// Load reads the file at path. A missing file is an empty configuration;
// a file that cannot be read or parsed is an error naming it.
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{Clusters: map[string]Cluster{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the cairn config file %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the cairn config file %s: %w", path, err)
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("the cairn config file %s is larger than %d KiB: is it the right file?", path, maxFileBytes>>10)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("the cairn config file %s is not valid: %w; fix it or remove it (cairn config set-cluster writes a new one)", path, err)
	}
	return cfg, nil
}

// Parse reads a configuration from JSON. Unknown fields are errors, so a
// misspelt key is not silently ignored; an empty document is an empty
// configuration.
func Parse(data []byte) (*File, error) {
	cfg := &File{}
	if len(bytes.TrimSpace(data)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(cfg); err != nil {
			return nil, jsonError(data, err)
		}
		if dec.More() {
			return nil, errors.New("more than one JSON value")
		}
	}
	if cfg.Clusters == nil {
		cfg.Clusters = map[string]Cluster{}
	}
	for _, name := range cfg.Names() {
		if err := ValidateName(name); err != nil {
			return nil, fmt.Errorf("clusters: %w", err)
		}
		if strings.TrimSpace(cfg.Clusters[name].URL) == "" {
			return nil, fmt.Errorf("clusters.%s.url is empty", name)
		}
	}
	if cfg.Current != "" {
		if _, ok := cfg.Clusters[cfg.Current]; !ok {
			return nil, fmt.Errorf("current is %q, which is not one of the clusters (%s)", cfg.Current, strings.Join(cfg.Names(), ", "))
		}
	}
	return cfg, nil
}

// jsonError says where in data a JSON error is.
func jsonError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var off int64
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the JSON ends too early")
	default:
		return err
	}
	line := 1 + bytes.Count(data[:min(int(off), len(data))], []byte("\n"))
	return fmt.Errorf("line %d: %w", line, err)
}

// Names are the clusters' names, sorted.
func (c *File) Names() []string {
	return slices.Sorted(maps.Keys(c.Clusters))
}

// Save writes the file at path atomically (a temporary file in the same
// directory, synced, then renamed over path), readable only by its owner
// (0600: it may hold tokens). The directory is created (0700) if needed.
func (c *File) Save(path string) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the cairn config: %w", err)
	}
	data = append(data, '\n')
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the cairn config directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+FileName+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing the cairn config file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the cairn config file %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the cairn config file %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the cairn config file %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the cairn config file %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing the cairn config file %s: %w", path, err)
	}
	return nil
}

// UserDir is the default config directory, <user config dir>/cairn, as
// os.UserConfigDir finds it but reading the environment through getenv
// (so tests can give their own): $XDG_CONFIG_HOME or $HOME/.config on
// Unix, $HOME/Library/Application Support on macOS, %AppData% on Windows.
func UserDir(goos string, getenv func(string) string) (string, error) {
	var dir string
	switch goos {
	case "windows":
		dir = getenv("AppData")
		if dir == "" {
			return "", errors.New("%AppData% is not set: set CAIRN_CONFIG_DIR to the directory for the cairn config")
		}
	case "darwin", "ios":
		home := getenv("HOME")
		if home == "" {
			return "", errors.New("$HOME is not set: set CAIRN_CONFIG_DIR to the directory for the cairn config")
		}
		dir = filepath.Join(home, "Library", "Application Support")
	case "plan9":
		home := getenv("home")
		if home == "" {
			return "", errors.New("$home is not set: set CAIRN_CONFIG_DIR to the directory for the cairn config")
		}
		dir = filepath.Join(home, "lib")
	default:
		dir = getenv("XDG_CONFIG_HOME")
		if dir != "" && !filepath.IsAbs(dir) {
			return "", fmt.Errorf("$XDG_CONFIG_HOME is %q, a relative path: make it absolute or set CAIRN_CONFIG_DIR", dir)
		}
		if dir == "" {
			home := getenv("HOME")
			if home == "" {
				return "", errors.New("neither $XDG_CONFIG_HOME nor $HOME is set: set CAIRN_CONFIG_DIR to the directory for the cairn config")
			}
			dir = filepath.Join(home, ".config")
		}
	}
	return filepath.Join(dir, "cairn"), nil
}
