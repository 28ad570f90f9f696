package pkg

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/deployment/deploymenttest"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

func installed2(api *fakeAPI) {
	api.install(packageapi.Installed{AppID: "/hello", PackageName: "hello", PackageVersion: "1.0.0", Digest: helloDigest})
	api.install(packageapi.Installed{AppID: "/demo/hello", PackageName: "hello", PackageVersion: "0.9.0", Digest: oldDigest})
}

func TestUninstall(t *testing.T) {
	api := newFakeAPI(t, nil)
	api.install(packageapi.Installed{AppID: "/hello", PackageName: "hello", PackageVersion: "1.0.0", Digest: helloDigest})
	r := run(t, api.URL, "", false, "uninstall", "hello", "--yes")
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := "Uninstalled package hello version 1.0.0 (app /hello)\nPost-uninstall notes:\n  hello leaves nothing behind.\n"
	if r.out != want || r.errOut != "" {
		t.Errorf("out %q stderr %q", r.out, r.errOut)
	}
	// The one app listed (and confirmed) is the one named to the API.
	if body := api.request(packageapi.PathUninstall); body != `{"packageName":"hello","appId":"/hello"}` {
		t.Errorf("uninstall body %q", body)
	}
	r = run(t, api.URL, "", false, "uninstall", "hello", "--yes")
	if r.err == nil || r.err.Error() != "package hello is not installed: see cairn package list" {
		t.Errorf("again: %v", r.err)
	}
	r = run(t, api.URL, "", false, "uninstall", "hello", "--yes", "--app-id", "/x")
	if r.err == nil || r.err.Error() != "package hello is not installed as app /x: see cairn package list hello" {
		t.Errorf("--app-id: %v", r.err)
	}
}

func TestUninstallSeveral(t *testing.T) {
	api := newFakeAPI(t, nil)
	installed2(api)
	r := run(t, api.URL, "", false, "uninstall", "hello", "--yes")
	if r.err == nil || r.err.Error() != "package hello is installed 2 times (/demo/hello, /hello): name one with --app-id, or pass --all to remove them all" {
		t.Errorf("ambiguous: %v", r.err)
	}
	if api.request(packageapi.PathUninstall) != "" {
		t.Error("uninstall called for an ambiguous name")
	}
	r = run(t, api.URL, "", false, "uninstall", "hello", "--yes", "--app-id", "demo/hello")
	if r.err != nil || !strings.HasPrefix(r.out, "Uninstalled package hello version 0.9.0 (app /demo/hello)\n") {
		t.Errorf("--app-id: %v %q", r.err, r.out)
	}
	api = newFakeAPI(t, nil)
	installed2(api)
	r = run(t, api.URL, "", false, "uninstall", "hello", "--yes", "--all", "--json")
	if r.err != nil {
		t.Fatal(r.err)
	}
	var res packageapi.UninstallResponse
	if err := json.Unmarshal([]byte(r.out), &res); err != nil || len(res.Results) != 2 {
		t.Errorf("--all --json: %q %v", r.out, err)
	}
	if body := api.request(packageapi.PathUninstall); body != `{"packageName":"hello","all":true}` {
		t.Errorf("uninstall body %q", body)
	}
	if !strings.Contains(r.errOut, "Post-uninstall notes:") {
		t.Errorf("notes go to stderr with --json: %q", r.errOut)
	}
	if r := run(t, api.URL, "", false, "uninstall", "hello", "--all", "--app-id", "/hello", "--yes"); !cmdutil.IsUsageError(r.err) {
		t.Errorf("--all with --app-id: %v", r.err)
	}
}

func TestUninstallConfirm(t *testing.T) {
	api := newFakeAPI(t, nil)
	installed2(api)
	r := run(t, api.URL, "", false, "uninstall", "hello", "--all")
	if !cmdutil.IsUsageError(r.err) || !strings.Contains(r.err.Error(), "pass --yes") {
		t.Errorf("off terminal: %v", r.err)
	}
	if len(api.Requests()) != 0 {
		t.Errorf("requests %q", api.Requests())
	}
	r = run(t, api.URL, "\n", true, "uninstall", "hello", "--all")
	if r.err == nil || r.err.Error() != "cancelled: package hello not uninstalled" {
		t.Errorf("no: %v", r.err)
	}
	want := "App /demo/hello (package hello 0.9.0) will be removed.\nApp /hello (package hello 1.0.0) will be removed.\nContinue uninstalling? [y/N] "
	if r.errOut != want {
		t.Errorf("stderr %q\nwant   %q", r.errOut, want)
	}
	r = run(t, api.URL, "y\n", true, "uninstall", "hello", "--all")
	if r.err != nil || strings.Count(r.out, "Uninstalled package hello") != 2 {
		t.Errorf("yes: %v %q", r.err, r.out)
	}
}

func TestUninstallWait(t *testing.T) {
	m := deploymenttest.New(t)
	api := newFakeAPI(t, m)
	if r := run(t, api.URL, "", false, "install", "hello", "--yes", "--wait"); r.err != nil {
		t.Fatal(r.err)
	}
	r := run(t, api.URL, "", false, "uninstall", "hello", "--yes", "--wait")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !strings.HasSuffix(r.out, "Deployment dep-2 succeeded: app /hello is removed\n") {
		t.Errorf("out %q", r.out)
	}
	if _, ok := m.App("/hello"); ok {
		t.Error("the app is still there")
	}
}
