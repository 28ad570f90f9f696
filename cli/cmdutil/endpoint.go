package cmdutil

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cairn-dc/cairn/cli/config/configfile"
)

// Endpoint is the master a command talks to, and where that came from.
type Endpoint struct {
	URL   string
	Token string
	// Source says where URL came from, for error messages: "--url",
	// "$CAIRN_URL", `cluster "prod"`, "the default".
	Source string
	// Cluster is the config file's cluster that gave URL or Token ("" for
	// none).
	Cluster string
}

// NoConfigDirError says where the config directory is cannot be told
// (no $HOME, say).
type NoConfigDirError struct{ Err error }

func (e *NoConfigDirError) Error() string {
	return "finding the cairn config directory: " + e.Err.Error()
}
func (e *NoConfigDirError) Unwrap() error { return e.Err }

// ConfigPath is the CLI's config file: config.json in ConfigDir. An error
// finding the directory is a *NoConfigDirError.
func (f *Factory) ConfigPath() (string, error) {
	if f.ConfigDir == nil {
		return "", &NoConfigDirError{Err: fmt.Errorf("set %s", EnvConfigDir)}
	}
	dir, err := f.ConfigDir()
	if err != nil {
		return "", &NoConfigDirError{Err: err}
	}
	return configfile.Path(dir), nil
}

// LoadConfig reads the CLI's config file (an empty configuration when
// there is none) and returns it with its path.
func (f *Factory) LoadConfig() (*configfile.File, string, error) {
	path, err := f.ConfigPath()
	if err != nil {
		return nil, "", err
	}
	cfg, err := configfile.Load(path)
	return cfg, path, err
}

// ClusterName is the cluster named on the command line or in the
// environment: --cluster, else $CAIRN_CLUSTER ("" for none).
func (f *Factory) ClusterName() string {
	if c := strings.TrimSpace(f.Cluster); c != "" {
		return c
	}
	return strings.TrimSpace(f.Getenv(EnvCluster))
}

// Endpoint resolves the master's URL and token, first found first:
//
//  1. --url and --token;
//  2. $CAIRN_URL and $CAIRN_TOKEN;
//  3. the cluster --cluster or $CAIRN_CLUSTER names in the config file;
//  4. the config file's current cluster ("cairn config use");
//  5. DefaultURL, without a token.
//
// URL and token are resolved one by one, with one exception: the current
// cluster's token is sent only to the current cluster's URL, never to a
// URL given by --url or $CAIRN_URL (it belongs to another master). The
// config file is read only when needed, so a broken file does not stop a
// command given --url.
func (f *Factory) Endpoint() (Endpoint, error) {
	var ep Endpoint
	switch {
	case strings.TrimSpace(f.URL) != "":
		ep.URL, ep.Source = strings.TrimSpace(f.URL), "--url"
	case strings.TrimSpace(f.Getenv(EnvURL)) != "":
		ep.URL, ep.Source = strings.TrimSpace(f.Getenv(EnvURL)), "$"+EnvURL
	}
	ep.Token = f.BearerToken()

	name := f.ClusterName()
	explicit := name != ""
	if ep.URL == "" || (explicit && ep.Token == "") {
		cfg, path, err := f.LoadConfig()
		switch {
		case err != nil && explicit:
			return ep, fmt.Errorf("cluster %q: %w", name, err)
		case err != nil && ep.URL == "":
			// A config that cannot be found (no $HOME) is no config; one
			// that cannot be read or parsed is an error: which master to
			// use would be a guess.
			var nd *NoConfigDirError
			if errors.As(err, &nd) {
				break
			}
			return ep, err
		case err == nil:
			if !explicit {
				name = cfg.Current
			}
			if name != "" {
				c, ok := cfg.Clusters[name]
				if !ok {
					return ep, unknownClusterError(name, path, cfg)
				}
				ep.Cluster = name
				if ep.URL == "" {
					ep.URL, ep.Source = c.URL, fmt.Sprintf("cluster %q", name)
					if ep.Token == "" {
						ep.Token = c.Token
					}
				} else if explicit && ep.Token == "" {
					ep.Token = c.Token
				}
			}
		}
	}
	if ep.URL == "" {
		ep.URL, ep.Source = DefaultURL, "the default"
	}
	return ep, nil
}

func unknownClusterError(name, path string, cfg *configfile.File) error {
	known := "it names none yet: add one with cairn config set-cluster NAME --url URL"
	if names := cfg.Names(); len(names) > 0 {
		known = "it has " + strings.Join(names, ", ") + " (see cairn config list)"
	}
	return fmt.Errorf("no cluster %q in the cairn config file %s: %s", name, path, known)
}
