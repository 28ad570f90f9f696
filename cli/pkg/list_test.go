package pkg

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

func TestListTable(t *testing.T) {
	api := newFakeAPI(t, nil)
	r := run(t, api.URL, "", false, "list")
	if r.err != nil || r.out != "No packages installed (find some with cairn package search).\n" {
		t.Errorf("empty: %v %q", r.err, r.out)
	}
	api.install(packageapi.Installed{AppID: "/hello", PackageName: "hello", PackageVersion: "1.0.0", Digest: helloDigest,
		Source: testRepoURI, Instances: 2, TasksRunning: 1})
	api.install(packageapi.Installed{AppID: "/demo/hello", PackageName: "hello", PackageVersion: "0.9.0", Digest: oldDigest,
		Source: testRepoURI, Instances: 1, TasksRunning: 1})
	r = run(t, api.URL, "", false, "list")
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := "" +
		"APP           NAME    VERSION   INSTANCES   RUNNING   DIGEST                SOURCE\n" +
		"/demo/hello   hello   0.9.0     1           1         sha256:222222222222   oci://127.0.0.1:5000/cairn\n" +
		"/hello        hello   1.0.0     2           1         sha256:111111111111   oci://127.0.0.1:5000/cairn\n"
	if r.out != want {
		t.Errorf("table:\n%s\nwant:\n%s", r.out, want)
	}
	r = run(t, api.URL, "", false, "list", "--json")
	var got []packageapi.Installed
	if err := json.Unmarshal([]byte(r.out), &got); err != nil || len(got) != 2 || got[1].Digest != helloDigest {
		t.Errorf("--json: %v %q", err, r.out)
	}
	r = run(t, api.URL, "", false, "list", "cron")
	if r.err != nil || r.out != "Package cron is not installed (install it with cairn package install cron).\n" {
		t.Errorf("list cron: %v %q", r.err, r.out)
	}
	if body := api.request(packageapi.PathList); body != `{}` {
		t.Errorf("first list body %q", body)
	}
	if r := run(t, api.URL, "", false, "list", "a", "b"); !cmdutil.IsUsageError(r.err) {
		t.Errorf("two args: %v", r.err)
	}
}

func TestSearch(t *testing.T) {
	api := newFakeAPI(t, nil)
	api.install(packageapi.Installed{AppID: "/hello", PackageName: "hello", PackageVersion: "1.0.0"})
	r := run(t, api.URL, "", false, "search", "hel")
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := "" +
		"NAME    VERSION   KIND      REPOSITORY   INSTALLED   DESCRIPTION\n" +
		"hello   1.0.0     service   builtin      yes         A tiny HTTP server that says hello.\n"
	if r.out != want {
		t.Errorf("table:\n%s\nwant:\n%s", r.out, want)
	}
	if body := api.request(packageapi.PathSearch); body != `{"query":"hel"}` {
		t.Errorf("search body %q", body)
	}
	r = run(t, api.URL, "", false, "search", "nothing")
	if r.err != nil || r.out != "No packages match \"nothing\" (see cairn repo list for the repositories searched).\n" {
		t.Errorf("no match: %v %q", r.err, r.out)
	}
	r = run(t, api.URL, "", false, "search", "--json")
	var got []packageapi.PackageSummary
	if err := json.Unmarshal([]byte(r.out), &got); err != nil || len(got) != 1 || got[0].Installed != 1 ||
		strings.Join(got[0].Versions, ",") != "1.0.0,0.9.0" {
		t.Errorf("--json: %v %q", err, r.out)
	}
	if installed(3) != "yes (3)" || installed(0) != "" {
		t.Error("installed marker")
	}
}
