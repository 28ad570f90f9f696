// Package cmdutil holds what every cairn command shares: the Factory that
// hands commands their dependencies, the standard streams, and usage errors.
package cmdutil

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/config/configfile"
)

// Environment variables the CLI reads.
const (
	EnvURL       = "CAIRN_URL"        // operator API base URL, when --url is not given
	EnvToken     = "CAIRN_TOKEN"      // bearer token, when --token is not given
	EnvCluster   = "CAIRN_CLUSTER"    // named cluster of the config file, when --cluster is not given
	EnvConfigDir = "CAIRN_CONFIG_DIR" // the config directory, in place of <user config dir>/cairn
)

// DefaultURL is the operator API of a master on this machine.
const DefaultURL = "http://127.0.0.1:5050"

// IOStreams are a command's standard streams.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// Factory hands commands their dependencies, so tests can swap them (an
// httptest server's URL, buffers for the streams, a fake environment).
type Factory struct {
	IOStreams IOStreams

	// Getenv reads the environment (os.Getenv in the real binary).
	Getenv func(string) string

	// URL and Token are what --url and --token were given; empty means
	// "not given". Read them through BaseURL and BearerToken, which fall
	// back to the environment and defaults.
	URL   string
	Token string

	// Cluster is what --cluster was given: a cluster named in the config
	// file ("" means not given; $CAIRN_CLUSTER, then the file's current
	// cluster, are used then).
	Cluster string

	// ConfigDir returns the directory of the CLI's config file
	// ($CAIRN_CONFIG_DIR, else <user config dir>/cairn). Tests point it at
	// a temporary directory.
	ConfigDir func() (string, error)

	// HTTPClient returns the client for Cairn's HTTP APIs. It has no overall
	// timeout (the event stream is long-lived); commands bound their calls
	// with their context.
	HTTPClient func() *http.Client

	// APIClient returns a client for the master's operator API, built from
	// BaseURL, BearerToken and HTTPClient.
	APIClient func() (*apiclient.Client, error)
}

// NewFactory returns a Factory reading the given streams and environment.
// A nil getenv reads an empty environment.
func NewFactory(streams IOStreams, getenv func(string) string) *Factory {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	f := &Factory{IOStreams: streams, Getenv: getenv}
	f.HTTPClient = sync.OnceValue(NewHTTPClient)
	f.ConfigDir = func() (string, error) {
		if d := strings.TrimSpace(f.Getenv(EnvConfigDir)); d != "" {
			return d, nil
		}
		return configfile.UserDir(runtime.GOOS, f.Getenv)
	}
	f.APIClient = func() (*apiclient.Client, error) {
		ep, err := f.Endpoint()
		if err != nil {
			return nil, err
		}
		c, err := apiclient.New(ep.URL, ep.Token, f.HTTPClient())
		if err != nil {
			if ep.Cluster != "" {
				return nil, fmt.Errorf("cluster %q of the cairn config: %w", ep.Cluster, err)
			}
			return nil, err
		}
		return c.WithSource(ep.Source), nil
	}
	return f
}

// BaseURL is the operator API base URL from the command line and the
// environment only: --url, else $CAIRN_URL, else DefaultURL. Daemons use
// it; CLI commands use Endpoint, which also reads the config file.
func (f *Factory) BaseURL() string {
	if u := strings.TrimSpace(f.URL); u != "" {
		return u
	}
	if u := strings.TrimSpace(f.Getenv(EnvURL)); u != "" {
		return u
	}
	return DefaultURL
}

// BearerToken is the token for the HTTP APIs from the command line and
// the environment only: --token, else $CAIRN_TOKEN, else none. Daemons use
// it (cairn up's master requires it); CLI commands use Endpoint.
func (f *Factory) BearerToken() string {
	if t := strings.TrimSpace(f.Token); t != "" {
		return t
	}
	return strings.TrimSpace(f.Getenv(EnvToken))
}

// NewHTTPClient returns an HTTP client suited to Cairn's APIs: bounded
// connection setup and time to first response byte, no overall timeout (so
// event streams can stay open), proxies from the environment.
func NewHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConns:          10,
		},
	}
}
