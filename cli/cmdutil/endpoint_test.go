package cmdutil

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/config/configfile"
)

func TestEndpoint(t *testing.T) {
	dir := t.TempDir()
	cfg := &configfile.File{Current: "cur", Clusters: map[string]configfile.Cluster{
		"cur":   {URL: "http://cur:5050", Token: "cur-token"},
		"other": {URL: "http://other:5050", Token: "other-token"},
		"bare":  {URL: "http://bare:5050"},
	}}
	if err := cfg.Save(configfile.Path(dir)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name             string
		url, token, clus string
		env              map[string]string
		want             Endpoint
	}{
		{name: "current cluster", want: Endpoint{URL: "http://cur:5050", Token: "cur-token", Source: `cluster "cur"`, Cluster: "cur"}},
		{name: "--url beats the config, and the current token stays home",
			url: "http://flag:1", want: Endpoint{URL: "http://flag:1", Source: "--url"}},
		{name: "$CAIRN_URL beats the config", env: map[string]string{EnvURL: "http://env:1", EnvToken: "env-token"},
			want: Endpoint{URL: "http://env:1", Token: "env-token", Source: "$CAIRN_URL"}},
		{name: "--url beats $CAIRN_URL, --token beats $CAIRN_TOKEN", url: "http://flag:1", token: "flag-token",
			env:  map[string]string{EnvURL: "http://env:1", EnvToken: "env-token"},
			want: Endpoint{URL: "http://flag:1", Token: "flag-token", Source: "--url"}},
		{name: "--cluster beats the current one", clus: "other",
			want: Endpoint{URL: "http://other:5050", Token: "other-token", Source: `cluster "other"`, Cluster: "other"}},
		{name: "$CAIRN_CLUSTER", env: map[string]string{EnvCluster: "bare"},
			want: Endpoint{URL: "http://bare:5050", Source: `cluster "bare"`, Cluster: "bare"}},
		{name: "--cluster beats $CAIRN_CLUSTER", clus: "other", env: map[string]string{EnvCluster: "bare"},
			want: Endpoint{URL: "http://other:5050", Token: "other-token", Source: `cluster "other"`, Cluster: "other"}},
		{name: "--token beats the cluster's token", token: "flag-token",
			want: Endpoint{URL: "http://cur:5050", Token: "flag-token", Source: `cluster "cur"`, Cluster: "cur"}},
		{name: "a named cluster's token goes with --url", url: "http://flag:1", clus: "other",
			want: Endpoint{URL: "http://flag:1", Token: "other-token", Source: "--url", Cluster: "other"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{EnvConfigDir: dir}
			for k, v := range tc.env {
				env[k] = v
			}
			f := NewFactory(IOStreams{}, func(k string) string { return env[k] })
			f.URL, f.Token, f.Cluster = tc.url, tc.token, tc.clus
			got, err := f.Endpoint()
			if err != nil || got != tc.want {
				t.Errorf("Endpoint = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestEndpointWithoutConfig(t *testing.T) {
	// No config file, and no config directory at all: the default.
	for _, env := range []map[string]string{{EnvConfigDir: t.TempDir()}, {}} {
		f := NewFactory(IOStreams{}, func(k string) string { return env[k] })
		got, err := f.Endpoint()
		if want := (Endpoint{URL: DefaultURL, Source: "the default"}); err != nil || got != want {
			t.Errorf("Endpoint = %+v, %v; want %+v", got, err, want)
		}
	}
	// A named cluster without a config directory is an error.
	f := NewFactory(IOStreams{}, func(k string) string { return map[string]string{EnvCluster: "prod"}[k] })
	if _, err := f.Endpoint(); err == nil || !errors.As(err, new(*NoConfigDirError)) {
		t.Errorf("--cluster without a config dir: %v", err)
	}
}

func TestEndpointBadConfig(t *testing.T) {
	dir := t.TempDir()
	path := configfile.Path(dir)
	if err := os.WriteFile(path, []byte(`{"clusters": `), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{EnvConfigDir: dir}
	f := NewFactory(IOStreams{}, func(k string) string { return env[k] })
	if _, err := f.Endpoint(); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a broken config: %v; want an error naming %s", err, path)
	}
	if _, err := f.APIClient(); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("APIClient with a broken config: %v", err)
	}
	// --url does not need the config.
	f.URL = "http://flag:1"
	if ep, err := f.Endpoint(); err != nil || ep.URL != "http://flag:1" {
		t.Errorf("--url with a broken config: %+v, %v", ep, err)
	}

	// An unknown cluster names the known ones.
	good := t.TempDir()
	cfg := &configfile.File{Clusters: map[string]configfile.Cluster{"a": {URL: "http://a"}}}
	if err := cfg.Save(filepath.Join(good, configfile.FileName)); err != nil {
		t.Fatal(err)
	}
	env = map[string]string{EnvConfigDir: good, EnvCluster: "b"}
	f = NewFactory(IOStreams{}, func(k string) string { return env[k] })
	if _, err := f.Endpoint(); err == nil || !strings.Contains(err.Error(), `no cluster "b"`) || !strings.Contains(err.Error(), "it has a") {
		t.Errorf("unknown cluster: %v", err)
	}
}
