package pkg

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

func TestDescribe(t *testing.T) {
	api := newFakeAPI(t, nil)
	r := run(t, api.URL, "", false, "describe", "hello")
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := "" +
		"hello 1.0.0 · service\n" +
		"A tiny HTTP server that says hello.\n" +
		"Second line.\n" +
		"\n" +
		"Maintainer:      Cairn developers <dev@cairn.invalid>\n" +
		"Licences:        Apache-2.0 (https://www.apache.org/licenses/LICENSE-2.0)\n" +
		"Tags:            example, http\n" +
		"Versions:        1.0.0, 0.9.0\n" +
		"Upgrades from:   0.9.0\n" +
		"Repository:      builtin (oci://127.0.0.1:5000/cairn)\n" +
		"Artifact:        oci://127.0.0.1:5000/cairn/hello@" + helloDigest + "\n" +
		"Digest:          " + helloDigest + "\n" +
		"Options:         instances, port (see cairn package describe hello --version 1.0.0 --config)\n" +
		"\n" +
		"Pre-install notes:\n" +
		"  hello listens on one port.\n" +
		"  It needs 32 MiB.\n" +
		"\n" +
		"FILE         PLATFORM      EXECUTABLE   SIZE      DIGEST\n" +
		"hello        linux/amd64   yes          1.5 KiB   sha256:aaaaaaaaaaaa\n" +
		"README.txt   -             -            29 B      sha256:bbbbbbbbbbbb\n"
	if r.out != want {
		t.Errorf("describe:\n%s\nwant:\n%s", r.out, want)
	}

	r = run(t, api.URL, "", false, "describe", "hello", "--version", "0.9.0", "--json")
	var d description
	if err := json.Unmarshal([]byte(r.out), &d); err != nil || d.Package.Version != "0.9.0" || d.Package.Digest != oldDigest || len(d.Versions) != 2 {
		t.Errorf("--json: %v %q", err, r.out)
	}
	if body := api.request(packageapi.PathDescribe); body != `{"packageName":"hello"}` {
		t.Errorf("describe body %q", body)
	}

	r = run(t, api.URL, "", false, "describe", "nope")
	if r.err == nil || !strings.HasPrefix(r.err.Error(), `no repository has package "nope": see cairn package search`) {
		t.Errorf("not found: %v", r.err)
	}
}

func TestDescribeConfig(t *testing.T) {
	api := newFakeAPI(t, nil)
	r := run(t, api.URL, "", false, "describe", "hello", "--config")
	if r.err != nil {
		t.Fatal(r.err)
	}
	var schema map[string]any
	if err := json.Unmarshal([]byte(r.out), &schema); err != nil || schema["type"] != "object" || !strings.Contains(r.out, "\n  \"properties\": {\n") {
		t.Errorf("--config: %v %q", err, r.out)
	}
	api.packages["bare"] = []packageapi.PackageDetails{{}}
	api.packages["bare"][0].Name, api.packages["bare"][0].Version = "bare", "1.0.0"
	r = run(t, api.URL, "", false, "describe", "bare", "--config")
	if r.err != nil || r.out != "" || r.errOut != "Package bare 1.0.0 takes no options.\n" {
		t.Errorf("no schema: %v %q %q", r.err, r.out, r.errOut)
	}
}

func TestDescribeRender(t *testing.T) {
	api := newFakeAPI(t, nil)
	opts := writeFile(t, "o.json", `{"port": 9000}`)
	r := run(t, api.URL, "", false, "describe", "hello", "--render", "--options", opts, "--app-id", "demo/hello")
	if r.err != nil {
		t.Fatal(r.err)
	}
	var app map[string]any
	if err := json.Unmarshal([]byte(r.out), &app); err != nil || app["id"] != "/demo/hello" || app["cmd"] != "./hello --port 9000" {
		t.Errorf("--render: %v %q", err, r.out)
	}
	if body := api.request(packageapi.PathRender); body != `{"packageName":"hello","appId":"/demo/hello","options":{"port":9000}}` {
		t.Errorf("render body %q", body)
	}
	r = run(t, api.URL, "", false, "describe", "hello", "--render", "--json")
	var res packageapi.RenderResponse
	if err := json.Unmarshal([]byte(r.out), &res); err != nil || res.ResolvedOptions["port"] != 8080.0 {
		t.Errorf("--render --json: %v %q", err, r.out)
	}
	// Bad options: each one listed.
	r = run(t, api.URL, `{"port": 1}`, false, "describe", "hello", "--render", "--options", "-")
	if r.err == nil || !strings.HasPrefix(r.err.Error(), "invalid options for package hello (1 above): fix them (see the schema with cairn package describe hello --config)") {
		t.Errorf("bad options: %v", r.err)
	}
	if r.errOut != "The options in the standard input do not match the options schema of package hello:\n  /port: must be >= 1024 but found 1\n" {
		t.Errorf("stderr %q", r.errOut)
	}
	for _, args := range [][]string{
		{"describe", "hello", "--config", "--render"},
		{"describe", "hello", "--options", opts},
		{"describe", "hello", "--app-id", "/x"},
		{"describe"},
	} {
		if r := run(t, api.URL, "", false, args...); !cmdutil.IsUsageError(r.err) {
			t.Errorf("%q: %v, want a usage error", args, r.err)
		}
	}
}
