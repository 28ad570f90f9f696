package pkg

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

func TestUpdate(t *testing.T) {
	api := newFakeAPI(t, nil)
	api.install(packageapi.Installed{AppID: "/hello", PackageName: "hello", PackageVersion: "0.9.0", Digest: oldDigest,
		Options: map[string]any{"port": 9000.0}})

	// Nothing to change: what is installed and where it may go.
	r := run(t, api.URL, "", false, "update", "hello")
	if r.err != nil {
		t.Fatal(r.err)
	}
	for _, want := range []string{"App /hello runs package hello 0.9.0 (digest " + oldDigest + ") from " + testRepoURI,
		"Upgrades to:   1.0.0\n", "Downgrades to: none\n", `"port": 9000`, `"instances": 1`,
		"cairn package update hello --app-id /hello --options FILE"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("update without changes lacks %q:\n%s", want, r.out)
		}
	}
	if api.request(packageapi.PathServiceUpdate) != "" {
		t.Fatal("update called without a change")
	}

	// Upgrade.
	r = run(t, api.URL, "", false, "update", "hello", "--version", "1.0.0", "--yes")
	if r.err != nil || r.out != "Updated app /hello to package hello version 1.0.0 (digest "+helloDigest+")\n" {
		t.Fatalf("upgrade: %v %q %q", r.err, r.out, r.errOut)
	}
	if body := api.request(packageapi.PathServiceUpdate); body != `{"appId":"/hello","packageVersion":"1.0.0"}` {
		t.Errorf("update body %q", body)
	}

	// Options are merged over the installed ones.
	r = run(t, api.URL, `{"instances": 3}`, false, "update", "hello", "--options", "-", "--yes", "--json")
	if r.err != nil {
		t.Fatal(r.err)
	}
	var res packageapi.ServiceUpdateResponse
	if err := json.Unmarshal([]byte(r.out), &res); err != nil || res.ResolvedOptions["port"] != 9000.0 || res.ResolvedOptions["instances"] != 3.0 {
		t.Errorf("merged options: %v %q", err, r.out)
	}
	// ... or replace them.
	r = run(t, api.URL, `{"instances": 2}`, false, "update", "hello", "--options", "-", "--replace-options", "--yes", "--json")
	if err := json.Unmarshal([]byte(r.out), &res); r.err != nil || err != nil || res.ResolvedOptions["port"] != 8080.0 || res.ResolvedOptions["instances"] != 2.0 {
		t.Errorf("replaced options: %v %v %q", r.err, err, r.out)
	}

	// Options failing the schema are listed; nothing changes.
	r = run(t, api.URL, `{"port": 80}`, false, "update", "hello", "--options", "-", "--yes")
	if r.err == nil || !strings.Contains(r.errOut, "/port: must be >= 1024") || !strings.Contains(r.err.Error(), "cairn package describe hello --version 1.0.0 --config") {
		t.Errorf("bad options: %v %q", r.err, r.errOut)
	}
	// Going back is refused by the package.
	r = run(t, api.URL, "", false, "update", "hello", "--version", "0.9.0", "--yes")
	if r.err == nil || !strings.Contains(r.err.Error(), "app /hello cannot move from hello 1.0.0 to 0.9.0") {
		t.Errorf("downgrade: %v", r.err)
	}
	r = run(t, api.URL, "", false, "update", "hello", "--version", "7.0.0", "--yes")
	if r.err == nil || !strings.Contains(r.err.Error(), `package hello has no version "7.0.0"`) {
		t.Errorf("unknown version: %v", r.err)
	}
}

func TestUpdateWhichApp(t *testing.T) {
	api := newFakeAPI(t, nil)
	if r := run(t, api.URL, "", false, "update", "hello", "--version", "1.0.0", "--yes"); r.err == nil ||
		r.err.Error() != "package hello is not installed: see cairn package list" {
		t.Errorf("not installed: %v", r.err)
	}
	installed2(api)
	if r := run(t, api.URL, "", false, "update", "hello", "--version", "1.0.0", "--yes"); r.err == nil ||
		r.err.Error() != "package hello is installed 2 times (/demo/hello, /hello): name one with --app-id" {
		t.Errorf("ambiguous: %v", r.err)
	}
	if r := run(t, api.URL, "", false, "update", "hello", "--app-id", "/x", "--version", "1.0.0", "--yes"); r.err == nil ||
		!strings.Contains(r.err.Error(), "not installed as app /x") {
		t.Errorf("unknown app: %v", r.err)
	}
	r := run(t, api.URL, "", false, "update", "hello", "--app-id", "demo/hello", "--version", "1.0.0", "--yes")
	if r.err != nil || !strings.HasPrefix(r.out, "Updated app /demo/hello to package hello version 1.0.0") {
		t.Errorf("--app-id: %v %q", r.err, r.out)
	}
}

func TestUpdateConfirm(t *testing.T) {
	api := newFakeAPI(t, nil)
	api.install(packageapi.Installed{AppID: "/hello", PackageName: "hello", PackageVersion: "0.9.0", Digest: oldDigest})
	if r := run(t, api.URL, "", false, "update", "hello", "--version", "1.0.0"); !cmdutil.IsUsageError(r.err) {
		t.Errorf("no terminal and no --yes: %v", r.err)
	}
	if r := run(t, api.URL, "", false, "update", "hello", "--replace-options", "--yes"); !cmdutil.IsUsageError(r.err) {
		t.Errorf("--replace-options without --options: %v", r.err)
	}
	r := run(t, api.URL, "n\n", true, "update", "hello", "--version", "1.0.0")
	if r.err == nil || r.err.Error() != "cancelled: app /hello not updated" || !strings.Contains(r.errOut, "App /hello: package hello 0.9.0 → 1.0.0.") {
		t.Errorf("answered no: %v %q", r.err, r.errOut)
	}
	if api.request(packageapi.PathServiceUpdate) != "" {
		t.Error("updated after a no")
	}
	r = run(t, api.URL, "y\n", true, "update", "hello", "--version", "1.0.0")
	if r.err != nil || !strings.HasPrefix(r.out, "Updated app /hello") {
		t.Errorf("answered yes: %v %q", r.err, r.out)
	}
}
