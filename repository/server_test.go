package repository

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/repository/packageapi"
	"github.com/cairn-dc/cairn/repository/remote"
)

func TestSearch(t *testing.T) {
	e := newEnv(t)
	var resp packageapi.SearchResponse
	e.mustCall(packageapi.PathSearch, nil, &resp)
	if len(resp.Packages) != 2 {
		t.Fatalf("search all = %+v", resp.Packages)
	}
	g, h := resp.Packages[0], resp.Packages[1]
	if g.Name != "greeter" || g.CurrentVersion != "0.1.0" || g.Repository != "builtin" {
		t.Errorf("greeter = %+v", g)
	}
	if h.Name != "hello" || h.CurrentVersion != "2.0.0" || !slices.Equal(h.Versions, []string{"2.0.0", "1.1.0", "1.0.0"}) ||
		h.Kind != "service" || h.Description == "" || h.Installed != 0 {
		t.Errorf("hello = %+v", h)
	}
	for query, want := range map[string][]string{
		"*":        {"greeter", "hello"},
		"greet":    {"greeter"},
		"WEB":      {"hello"}, // a tag, case-insensitive
		"says":     {"hello"}, // the description
		"no-match": {},
	} {
		var r packageapi.SearchResponse
		e.mustCall(packageapi.PathSearch, packageapi.SearchRequest{Query: query}, &r)
		got := []string{}
		for _, p := range r.Packages {
			got = append(got, p.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("search %q = %v, want %v", query, got, want)
		}
	}
	e.mustCall(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "hello"}, nil)
	e.mustCall(packageapi.PathSearch, packageapi.SearchRequest{Query: "hello"}, &resp)
	if len(resp.Packages) != 1 || resp.Packages[0].Installed != 1 {
		t.Errorf("after an install: %+v", resp.Packages)
	}
	// The services framework down: search still works.
	e.svc.setFail(errors.New("connection refused"))
	e.mustCall(packageapi.PathSearch, packageapi.SearchRequest{Query: "hello"}, &resp)
	if len(resp.Packages) != 1 || resp.Packages[0].Installed != 0 {
		t.Errorf("with the services framework down: %+v", resp.Packages)
	}
}

func TestSearchAndResolveFollowPriority(t *testing.T) {
	e := newEnv(t)
	other := "oci://" + e.addr + "/other"
	pushPackages(t, remote.Config{URI: other}, "hello-1.0.0")
	zero := 0
	var list packageapi.RepositoryListResponse
	e.mustCall(packageapi.PathRepositoryAdd, packageapi.RepositoryAddRequest{Name: "other", URI: other, Index: &zero}, &list)

	var resp packageapi.SearchResponse
	e.mustCall(packageapi.PathSearch, nil, &resp)
	if len(resp.Packages) != 2 {
		t.Fatalf("search = %+v", resp.Packages)
	}
	if h := resp.Packages[1]; h.Repository != "other" || !slices.Equal(h.Versions, []string{"1.0.0"}) {
		t.Errorf("hello comes from the first repository holding it: %+v", h)
	}
	if g := resp.Packages[0]; g.Repository != "builtin" {
		t.Errorf("greeter from %s", g.Repository)
	}
	var d packageapi.DescribeResponse
	e.mustCall(packageapi.PathDescribe, packageapi.DescribeRequest{PackageName: "hello"}, &d)
	if d.Package.Repository != "other" || d.Package.Version != "1.0.0" || d.Package.Source != other {
		t.Errorf("describe hello = %s %s %s", d.Package.Repository, d.Package.Version, d.Package.Source)
	}
	// A version the first repository lacks is found in the next one.
	e.mustCall(packageapi.PathDescribe, packageapi.DescribeRequest{PackageName: "hello", PackageVersion: "1.1.0"}, &d)
	if d.Package.Repository != "builtin" || d.Package.Version != "1.1.0" {
		t.Errorf("describe hello 1.1.0 = %s %s", d.Package.Repository, d.Package.Version)
	}
	// A version no repository has.
	e.wantError(packageapi.PathDescribe, packageapi.DescribeRequest{PackageName: "hello", PackageVersion: "9.0.0"}, http.StatusNotFound, packageapi.ErrVersionNotFound)
	var lv packageapi.ListVersionsResponse
	e.mustCall(packageapi.PathListVersions, packageapi.ListVersionsRequest{PackageName: "hello"}, &lv)
	if !slices.Equal(lv.Versions, []string{"1.0.0"}) {
		t.Errorf("list-versions = %v", lv.Versions)
	}
	// Removing it invalidates the cached indexes.
	e.mustCall(packageapi.PathRepositoryDelete, packageapi.RepositoryDeleteRequest{Name: "other"}, &list)
	e.mustCall(packageapi.PathSearch, packageapi.SearchRequest{Query: "hello"}, &resp)
	if len(resp.Packages) != 1 || resp.Packages[0].Repository != "builtin" || resp.Packages[0].CurrentVersion != "2.0.0" {
		t.Errorf("after removing other: %+v", resp.Packages)
	}
}

func TestUnreachableRepositories(t *testing.T) {
	e := newEnv(t)
	down := StoredRepository{Repository: packageapi.Repository{Name: "down", URI: "oci://" + closedAddr(t) + "/cairn"}}
	repos, rev, err := e.store.Load(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Save(testContext(t), append([]StoredRepository{down}, repos...), rev); err != nil {
		t.Fatal(err)
	}
	// Skipped, with the other repositories still answering.
	var resp packageapi.SearchResponse
	e.mustCall(packageapi.PathSearch, nil, &resp)
	if len(resp.Packages) != 2 {
		t.Errorf("search with one repository down = %+v", resp.Packages)
	}
	var d packageapi.DescribeResponse
	e.mustCall(packageapi.PathDescribe, packageapi.DescribeRequest{PackageName: "hello"}, &d)
	if d.Package.Repository != "builtin" {
		t.Errorf("describe from %s", d.Package.Repository)
	}
	// A package nobody has: the failure is the answer (it may be there).
	ae := e.wantError(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "nope"}, http.StatusBadGateway, packageapi.ErrRepositoryUnreachable)
	if !strings.Contains(ae.Message, "unreachable") || !strings.Contains(ae.Message, "check the repository URI") {
		t.Errorf("message: %s", ae.Message)
	}
	// Only the unreachable one.
	e.mustCall(packageapi.PathRepositoryDelete, packageapi.RepositoryDeleteRequest{Name: "builtin"}, nil)
	e.wantError(packageapi.PathSearch, nil, http.StatusBadGateway, packageapi.ErrRepositoryUnreachable)
	e.wantError(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "hello"}, http.StatusBadGateway, packageapi.ErrRepositoryUnreachable)
	if n := e.svc.count(); n != 0 {
		t.Errorf("%d apps left behind", n)
	}
}

func TestUnauthorizedRepository(t *testing.T) {
	e := newEnv(t)
	addr := startRegistry(t, map[string]string{"alice": "s3cret"})
	uri := "oci://" + addr + "/cairn"
	pushPackages(t, remote.Config{URI: uri, Username: "alice", Password: "s3cret"}, "greeter-0.1.0")

	e.wantError(packageapi.PathRepositoryAdd, packageapi.RepositoryAddRequest{Name: "private", URI: uri, Username: "alice", Password: "wrong"},
		http.StatusBadGateway, packageapi.ErrUnauthorized)
	var list packageapi.RepositoryListResponse
	e.mustCall(packageapi.PathRepositoryList, nil, &list)
	if len(list.Repositories) != 1 {
		t.Fatalf("a refused repository was saved: %+v", list.Repositories)
	}
	// Good credentials: added; the password is never returned.
	zero := 0
	status, ae := e.call(packageapi.PathRepositoryAdd, packageapi.RepositoryAddRequest{Name: "private", URI: uri, Username: "alice", Password: "s3cret", Index: &zero}, &list)
	if ae != nil {
		t.Fatalf("add with good credentials: %d %+v", status, ae)
	}
	p := list.Repositories[0]
	if p.Name != "private" || p.Username != "alice" || !p.HasCredentials || p.Priority != 0 {
		t.Errorf("listed = %+v", p)
	}
	raw := listRaw(t, e)
	if strings.Contains(raw, "s3cret") || strings.Contains(raw, "password") {
		t.Errorf("the list shows the password: %s", raw)
	}
	var d packageapi.DescribeResponse
	e.mustCall(packageapi.PathDescribe, packageapi.DescribeRequest{PackageName: "greeter"}, &d)
	if d.Package.Repository != "private" {
		t.Errorf("greeter from %s", d.Package.Repository)
	}
	// The credentials are then changed on the registry's side: simulate
	// with a stored wrong password.
	repos, rev, _ := e.store.Load(testContext(t))
	repos[0].Password = "wrong"
	if _, err := e.store.Save(testContext(t), repos, rev); err != nil {
		t.Fatal(err)
	}
	e.mustCall(packageapi.PathRepositoryDelete, packageapi.RepositoryDeleteRequest{Name: "builtin"}, nil)
	e.wantError(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "greeter"}, http.StatusBadGateway, packageapi.ErrUnauthorized)
	if n := e.svc.count(); n != 0 {
		t.Errorf("%d apps left behind", n)
	}
}

func listRaw(t *testing.T, e *env) string {
	t.Helper()
	var raw json.RawMessage
	e.mustCall(packageapi.PathRepositoryList, nil, &raw)
	return string(raw)
}

func TestDescribe(t *testing.T) {
	e := newEnv(t)
	var d packageapi.DescribeResponse
	e.mustCall(packageapi.PathDescribe, packageapi.DescribeRequest{PackageName: "hello"}, &d)
	p := d.Package
	dg := e.digests["hello-2.0.0"].Digest.String()
	if p.Name != "hello" || p.Version != "2.0.0" || p.Digest != dg || p.Source != e.uri || p.Repository != "builtin" ||
		p.Artifact != e.uri+"/hello@"+dg || !slices.Equal(p.UpgradesFrom, []string{"1.1.0"}) {
		t.Errorf("describe = %+v", p)
	}
	var schema map[string]any
	if err := json.Unmarshal(p.Config, &schema); err != nil || schema["properties"] == nil {
		t.Errorf("config = %s (%v)", p.Config, err)
	}
	if len(p.Files) != 2 {
		t.Errorf("files = %+v", p.Files)
	}
	e.mustCall(packageapi.PathDescribe, packageapi.DescribeRequest{PackageName: "hello", PackageVersion: "1.0.0"}, &d)
	if d.Package.Version != "1.0.0" || d.Package.Digest != e.digests["hello-1.0.0"].Digest.String() {
		t.Errorf("describe 1.0.0 = %s %s", d.Package.Version, d.Package.Digest)
	}
	e.wantError(packageapi.PathDescribe, packageapi.DescribeRequest{PackageName: "nope"}, http.StatusNotFound, packageapi.ErrPackageNotFound)
	ae := e.wantError(packageapi.PathDescribe, packageapi.DescribeRequest{PackageName: "hello", PackageVersion: "3.0.0"}, http.StatusNotFound, packageapi.ErrVersionNotFound)
	if !strings.Contains(ae.Message, "2.0.0, 1.1.0, 1.0.0") {
		t.Errorf("message should list the versions: %s", ae.Message)
	}
	ae = e.wantError(packageapi.PathDescribe, packageapi.DescribeRequest{PackageName: "hello", PackageVersion: "v1"}, http.StatusBadRequest, packageapi.ErrBadRequest)
	if !strings.HasPrefix(ae.Message, "packageVersion: ") {
		t.Errorf("message should name the field: %s", ae.Message)
	}
	ae = e.wantError(packageapi.PathDescribe, packageapi.DescribeRequest{}, http.StatusBadRequest, packageapi.ErrBadRequest)
	if !strings.HasPrefix(ae.Message, "packageName: ") {
		t.Errorf("message should name the field: %s", ae.Message)
	}
	e.wantError(packageapi.PathDescribe, packageapi.DescribeRequest{PackageName: "Bad Name"}, http.StatusBadRequest, packageapi.ErrBadRequest)

	var lv packageapi.ListVersionsResponse
	e.mustCall(packageapi.PathListVersions, packageapi.ListVersionsRequest{PackageName: "hello"}, &lv)
	if !slices.Equal(lv.Versions, []string{"2.0.0", "1.1.0", "1.0.0"}) {
		t.Errorf("list-versions = %v", lv.Versions)
	}
	e.wantError(packageapi.PathListVersions, packageapi.ListVersionsRequest{PackageName: "nope"}, http.StatusNotFound, packageapi.ErrPackageNotFound)
}

// labelsOf decodes an app definition's labels.
func labelsOf(t *testing.T, app json.RawMessage) map[string]string {
	t.Helper()
	var a struct {
		Labels map[string]string `json:"labels"`
	}
	if err := json.Unmarshal(app, &a); err != nil {
		t.Fatalf("app %s: %v", app, err)
	}
	return a.Labels
}

func optionsLabel(t *testing.T, labels map[string]string) map[string]any {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(labels[packageapi.LabelOptions])
	if err != nil {
		t.Fatalf("options label %q: %v", labels[packageapi.LabelOptions], err)
	}
	var o map[string]any
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatalf("options label %s: %v", raw, err)
	}
	return o
}

func TestRender(t *testing.T) {
	e := newEnv(t)
	var r packageapi.RenderResponse
	e.mustCall(packageapi.PathRender, packageapi.RenderRequest{PackageName: "hello", PackageVersion: "1.0.0", AppID: "web/hello", Options: map[string]any{"port": 9090}}, &r)
	app, warnings, err := marathon.ParseApp(r.App)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("rendered app %s: %v %v", r.App, err, warnings)
	}
	dg := e.digests["hello-1.0.0"].Digest.String()
	if app.ID != "/web/hello" || app.Cmd == nil || *app.Cmd != "./hello --port 9090" || app.Env["HELLO_MESSAGE"] != "hello" {
		t.Errorf("app = %s", r.App)
	}
	if len(app.Fetch) != 1 || app.Fetch[0].URI != e.uri+"/hello@"+dg+"?file=hello" {
		t.Errorf("fetch = %+v", app.Fetch)
	}
	labels := labelsOf(t, r.App)
	want := map[string]string{
		"team":                  "tests", // the template's own
		packageapi.LabelName:    "hello",
		packageapi.LabelVersion: "1.0.0",
		packageapi.LabelSource:  e.uri,
		packageapi.LabelDigest:  dg,
	}
	for k, v := range want {
		if labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, labels[k], v)
		}
	}
	if o := optionsLabel(t, labels); len(o) != 1 || o["port"] != float64(9090) {
		t.Errorf("options label = %v (want only what the user gave)", o)
	}
	if r.ResolvedOptions["port"] != float64(9090) || r.ResolvedOptions["instances"] != float64(1) || r.ResolvedOptions["message"] != "hello" {
		t.Errorf("resolved options = %v", r.ResolvedOptions)
	}
	if n := e.svc.count(); n != 0 {
		t.Errorf("render created %d apps", n)
	}
	e.wantError(packageapi.PathRender, packageapi.RenderRequest{PackageName: "hello", AppID: "/"}, http.StatusBadRequest, packageapi.ErrBadRequest)
}

func TestInstall(t *testing.T) {
	e := newEnv(t)
	var resp packageapi.InstallResponse
	e.mustCall(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "hello", PackageVersion: "1.0.0", AppID: "web/hello", Options: map[string]any{"message": "hi"}}, &resp)
	dg := e.digests["hello-1.0.0"].Digest.String()
	want := packageapi.InstallResponse{PackageName: "hello", PackageVersion: "1.0.0", AppID: "/web/hello", Digest: dg, Source: e.uri,
		DeploymentID: "dep-1", PostInstallNotes: "hello 1.0.0 is starting."}
	if resp != want {
		t.Errorf("install = %+v, want %+v", resp, want)
	}
	app, ok := e.svc.app("/web/hello")
	if !ok {
		t.Fatal("no app created")
	}
	if app.Labels[packageapi.LabelDigest] != dg || app.Labels[packageapi.LabelName] != "hello" || app.Labels[packageapi.LabelSource] != e.uri ||
		app.Labels[packageapi.LabelVersion] != "1.0.0" || app.Labels["team"] != "tests" {
		t.Errorf("labels = %v", app.Labels)
	}
	if o := optionsLabel(t, app.Labels); len(o) != 1 || o["message"] != "hi" {
		t.Errorf("options label = %v", o)
	}
	// The latest version by default, as /<name>.
	e.mustCall(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "hello"}, &resp)
	if resp.AppID != "/hello" || resp.PackageVersion != "2.0.0" {
		t.Errorf("default install = %+v", resp)
	}
	ae := e.wantError(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "hello", AppID: "/web/hello"}, http.StatusConflict, packageapi.ErrAppAlreadyInstalled)
	if !strings.Contains(ae.Message, "/web/hello") {
		t.Errorf("message: %s", ae.Message)
	}

	// Nothing is left behind by a failed install.
	before := e.svc.count()
	ae = e.wantError(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "hello", AppID: "bad", Options: map[string]any{"port": 80, "instances": 0, "nope": true}},
		http.StatusBadRequest, packageapi.ErrOptionsInvalid)
	joined := strings.Join(ae.Errors, "\n")
	for _, p := range []string{"/port", "/instances", "/nope"} {
		if !strings.Contains(joined, p) {
			t.Errorf("errors %q do not name %s", ae.Errors, p)
		}
	}
	e.wantError(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "nope"}, http.StatusNotFound, packageapi.ErrPackageNotFound)
	e.wantError(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "hello", PackageVersion: "9.0.0"}, http.StatusNotFound, packageapi.ErrVersionNotFound)
	e.wantError(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "hello", AppID: "/a b"}, http.StatusBadRequest, packageapi.ErrBadRequest)
	if n := e.svc.count(); n != before {
		t.Errorf("failed installs left %d apps", n-before)
	}

	// The services framework down or refusing.
	e.svc.setFail(errors.New("dial tcp: connection refused"))
	e.wantError(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "greeter"}, http.StatusServiceUnavailable, packageapi.ErrServicesUnavailable)
	e.wantError(packageapi.PathList, nil, http.StatusServiceUnavailable, packageapi.ErrServicesUnavailable)
	e.svc.setFail(nil)
	if n := e.svc.count(); n != before {
		t.Errorf("failed installs left %d apps", n-before)
	}
}

func TestUninstallAndList(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"/a", "/b"} {
		e.mustCall(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "hello", PackageVersion: "1.0.0", AppID: id, Options: map[string]any{"instances": 2}}, nil)
	}
	e.mustCall(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "greeter"}, nil)
	e.svc.add(marathon.App{ID: "/unrelated", Labels: map[string]string{"x": "y"}})

	var list packageapi.ListResponse
	e.mustCall(packageapi.PathList, nil, &list)
	if len(list.Packages) != 3 {
		t.Fatalf("list = %+v", list.Packages)
	}
	a := list.Packages[0]
	if a.AppID != "/a" || a.PackageName != "hello" || a.PackageVersion != "1.0.0" || a.Source != e.uri ||
		a.Digest != e.digests["hello-1.0.0"].Digest.String() || a.Instances != 2 || a.TasksRunning != 2 || a.TasksHealthy != 2 ||
		a.Kind != "service" || a.Description == "" || a.Options["instances"] != float64(2) {
		t.Errorf("list[0] = %+v", a)
	}
	list = packageapi.ListResponse{}
	e.mustCall(packageapi.PathList, packageapi.ListRequest{PackageName: "greeter"}, &list)
	if len(list.Packages) != 1 || list.Packages[0].AppID != "/greeter" || len(list.Packages[0].Options) != 0 {
		t.Errorf("list greeter = %+v", list.Packages)
	}
	e.mustCall(packageapi.PathList, packageapi.ListRequest{AppID: "b"}, &list)
	if len(list.Packages) != 1 || list.Packages[0].AppID != "/b" {
		t.Errorf("list /b = %+v", list.Packages)
	}

	ae := e.wantError(packageapi.PathUninstall, packageapi.UninstallRequest{PackageName: "hello"}, http.StatusConflict, packageapi.ErrAmbiguousApp)
	if !strings.Contains(ae.Message, "/a, /b") {
		t.Errorf("message: %s", ae.Message)
	}
	e.wantError(packageapi.PathUninstall, packageapi.UninstallRequest{PackageName: "hello", AppID: "/greeter"}, http.StatusNotFound, packageapi.ErrAppNotFound)
	e.wantError(packageapi.PathUninstall, packageapi.UninstallRequest{PackageName: "nope"}, http.StatusNotFound, packageapi.ErrAppNotFound)

	var un packageapi.UninstallResponse
	e.mustCall(packageapi.PathUninstall, packageapi.UninstallRequest{PackageName: "hello", AppID: "a"}, &un)
	want := []packageapi.UninstallResult{{PackageName: "hello", PackageVersion: "1.0.0", AppID: "/a", DeploymentID: un.Results[0].DeploymentID, PostUninstallNotes: "hello 1.0.0 is gone."}}
	if !slices.Equal(un.Results, want) || un.Results[0].DeploymentID == "" {
		t.Errorf("uninstall /a = %+v", un.Results)
	}
	e.mustCall(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "hello", AppID: "/c"}, nil)
	e.mustCall(packageapi.PathUninstall, packageapi.UninstallRequest{PackageName: "hello", All: true}, &un)
	if len(un.Results) != 2 || un.Results[0].AppID != "/b" || un.Results[1].AppID != "/c" {
		t.Errorf("uninstall all = %+v", un.Results)
	}
	e.mustCall(packageapi.PathList, nil, &list)
	if len(list.Packages) != 1 || list.Packages[0].PackageName != "greeter" {
		t.Errorf("list after = %+v", list.Packages)
	}
	if _, ok := e.svc.app("/unrelated"); !ok {
		t.Error("an unrelated app was removed")
	}
}

func TestRepositories(t *testing.T) {
	e := newEnv(t)
	var list packageapi.RepositoryListResponse
	e.mustCall(packageapi.PathRepositoryList, nil, &list)
	want := []packageapi.Repository{{Name: "builtin", URI: e.uri, Priority: 0, BuiltIn: true}}
	if !slices.Equal(list.Repositories, want) {
		t.Fatalf("list = %+v", list.Repositories)
	}
	pushPackages(t, remote.Config{URI: "oci://" + e.addr + "/second"}, "greeter-0.1.0")
	zero, one, nine, minus := 0, 1, 9, -1
	e.mustCall(packageapi.PathRepositoryAdd, packageapi.RepositoryAddRequest{Name: "second", URI: "oci://" + e.addr + "/second/", Index: &zero}, &list)
	e.mustCall(packageapi.PathRepositoryAdd, packageapi.RepositoryAddRequest{Name: "third", URI: "oci://" + e.addr + "/third", Index: &one}, &list)
	e.mustCall(packageapi.PathRepositoryAdd, packageapi.RepositoryAddRequest{Name: "last", URI: "oci://" + e.addr + "/last"}, &list)
	var names []string
	for i, r := range list.Repositories {
		names = append(names, r.Name)
		if r.Priority != i {
			t.Errorf("%s has priority %d at %d", r.Name, r.Priority, i)
		}
	}
	if !slices.Equal(names, []string{"second", "third", "builtin", "last"}) {
		t.Errorf("order = %v", names)
	}
	if list.Repositories[0].URI != "oci://"+e.addr+"/second" {
		t.Errorf("URI not normalised: %s", list.Repositories[0].URI)
	}

	for _, tc := range []struct {
		req    packageapi.RepositoryAddRequest
		status int
		typ    string
		prefix string
	}{
		{packageapi.RepositoryAddRequest{Name: "second", URI: "oci://" + e.addr + "/x"}, http.StatusConflict, packageapi.ErrRepositoryExists, ""},
		{packageapi.RepositoryAddRequest{Name: "again", URI: "oci://" + e.addr + "/second"}, http.StatusConflict, packageapi.ErrRepositoryExists, ""},
		{packageapi.RepositoryAddRequest{Name: "down", URI: "oci://" + closedAddr(t) + "/x"}, http.StatusBadGateway, packageapi.ErrRepositoryUnreachable, ""},
		{packageapi.RepositoryAddRequest{Name: "Bad_Name", URI: "oci://" + e.addr + "/x"}, http.StatusBadRequest, packageapi.ErrBadRequest, "name: "},
		{packageapi.RepositoryAddRequest{URI: "oci://" + e.addr + "/x"}, http.StatusBadRequest, packageapi.ErrBadRequest, "name: "},
		{packageapi.RepositoryAddRequest{Name: "x", URI: "https://example.com"}, http.StatusBadRequest, packageapi.ErrBadRequest, "uri: "},
		{packageapi.RepositoryAddRequest{Name: "x"}, http.StatusBadRequest, packageapi.ErrBadRequest, "uri: "},
		{packageapi.RepositoryAddRequest{Name: "x", URI: "oci://" + e.addr + "/x", Index: &nine}, http.StatusBadRequest, packageapi.ErrBadRequest, "index: "},
		{packageapi.RepositoryAddRequest{Name: "x", URI: "oci://" + e.addr + "/x", Index: &minus}, http.StatusBadRequest, packageapi.ErrBadRequest, "index: "},
		{packageapi.RepositoryAddRequest{Name: "x", URI: "oci://" + e.addr + "/x", Password: "p"}, http.StatusBadRequest, packageapi.ErrBadRequest, "username: "},
	} {
		ae := e.wantError(packageapi.PathRepositoryAdd, tc.req, tc.status, tc.typ)
		if !strings.HasPrefix(ae.Message, tc.prefix) {
			t.Errorf("add %+v: message %q does not start with %q", tc.req, ae.Message, tc.prefix)
		}
	}
	e.mustCall(packageapi.PathRepositoryList, nil, &list)
	if len(list.Repositories) != 4 {
		t.Errorf("failed adds changed the list: %+v", list.Repositories)
	}

	e.mustCall(packageapi.PathRepositoryDelete, packageapi.RepositoryDeleteRequest{Name: "third"}, &list)
	e.wantError(packageapi.PathRepositoryDelete, packageapi.RepositoryDeleteRequest{Name: "third"}, http.StatusNotFound, packageapi.ErrRepositoryNotFound)
	e.wantError(packageapi.PathRepositoryDelete, nil, http.StatusBadRequest, packageapi.ErrBadRequest)
	e.mustCall(packageapi.PathRepositoryDelete, packageapi.RepositoryDeleteRequest{Name: "builtin"}, &list)
	names = nil
	for _, r := range list.Repositories {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"second", "last"}) || list.Repositories[1].Priority != 1 {
		t.Errorf("after deletes = %+v", list.Repositories)
	}
	// A removed built-in repository stays removed across restarts.
	e.start()
	e.mustCall(packageapi.PathRepositoryList, nil, &list)
	if len(list.Repositories) != 2 {
		t.Errorf("after a restart = %+v", list.Repositories)
	}
	e.mustCall(packageapi.PathRepositoryDelete, packageapi.RepositoryDeleteRequest{Name: "second"}, nil)
	e.mustCall(packageapi.PathRepositoryDelete, packageapi.RepositoryDeleteRequest{Name: "last"}, nil)
	e.start()
	e.mustCall(packageapi.PathRepositoryList, nil, &list)
	if len(list.Repositories) != 0 {
		t.Errorf("with every repository removed, after a restart = %+v", list.Repositories)
	}
	e.wantError(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "hello"}, http.StatusNotFound, packageapi.ErrPackageNotFound)
	var sr packageapi.SearchResponse
	e.mustCall(packageapi.PathSearch, nil, &sr)
	if len(sr.Packages) != 0 {
		t.Errorf("search without repositories = %+v", sr.Packages)
	}
}

func TestServiceDescribeAndUpdate(t *testing.T) {
	e := newEnv(t)
	e.mustCall(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "hello", PackageVersion: "1.0.0", AppID: "/svc", Options: map[string]any{"message": "hi"}}, nil)

	var d packageapi.ServiceDescribeResponse
	e.mustCall(packageapi.PathServiceDescribe, packageapi.ServiceDescribeRequest{AppID: "svc"}, &d)
	if d.Package.Version != "1.0.0" || d.Package.Digest != e.digests["hello-1.0.0"].Digest.String() {
		t.Errorf("describe = %s %s", d.Package.Version, d.Package.Digest)
	}
	if !slices.Equal(d.UpgradesTo, []string{"1.1.0"}) || len(d.DowngradesTo) != 0 {
		t.Errorf("upgradesTo %v downgradesTo %v", d.UpgradesTo, d.DowngradesTo)
	}
	if d.UserProvidedOptions["message"] != "hi" || len(d.UserProvidedOptions) != 1 || d.ResolvedOptions["port"] != float64(8080) {
		t.Errorf("options: user %v resolved %v", d.UserProvidedOptions, d.ResolvedOptions)
	}

	// 2.0.0 only upgrades from 1.1.0.
	ae := e.wantError(packageapi.PathServiceUpdate, packageapi.ServiceUpdateRequest{AppID: "/svc", PackageVersion: "2.0.0"}, http.StatusBadRequest, packageapi.ErrUpgradeNotAllowed)
	if !strings.Contains(ae.Message, "1.1.0") {
		t.Errorf("message: %s", ae.Message)
	}
	e.wantError(packageapi.PathServiceUpdate, packageapi.ServiceUpdateRequest{AppID: "/svc", PackageVersion: "1.1.0", Options: map[string]any{"port": 1}}, http.StatusBadRequest, packageapi.ErrOptionsInvalid)
	e.wantError(packageapi.PathServiceUpdate, packageapi.ServiceUpdateRequest{AppID: "/svc", PackageVersion: "7.0.0"}, http.StatusNotFound, packageapi.ErrVersionNotFound)
	if app, _ := e.svc.app("/svc"); app.Labels[packageapi.LabelVersion] != "1.0.0" {
		t.Fatalf("a refused update changed the app: %v", app.Labels)
	}

	var u packageapi.ServiceUpdateResponse
	e.mustCall(packageapi.PathServiceUpdate, packageapi.ServiceUpdateRequest{AppID: "/svc", PackageVersion: "1.1.0", Options: map[string]any{"port": 9000}}, &u)
	if u.Package.Version != "1.1.0" || u.DeploymentID == "" || u.ResolvedOptions["port"] != float64(9000) || u.ResolvedOptions["message"] != "hi" {
		t.Errorf("update = %+v", u)
	}
	app, _ := e.svc.app("/svc")
	if app.Labels[packageapi.LabelVersion] != "1.1.0" || app.Labels[packageapi.LabelDigest] != e.digests["hello-1.1.0"].Digest.String() ||
		*app.Cmd != "./hello --port 9000" || app.Env["HELLO_VERSION"] != "1.1.0" {
		t.Errorf("updated app = %+v", app.App)
	}
	if o := optionsLabel(t, app.Labels); len(o) != 2 || o["message"] != "hi" || o["port"] != float64(9000) {
		t.Errorf("merged options = %v", o)
	}
	e.mustCall(packageapi.PathServiceDescribe, packageapi.ServiceDescribeRequest{AppID: "/svc"}, &d)
	if !slices.Equal(d.UpgradesTo, []string{"2.0.0"}) || !slices.Equal(d.DowngradesTo, []string{"1.0.0"}) {
		t.Errorf("after the upgrade: upgradesTo %v downgradesTo %v", d.UpgradesTo, d.DowngradesTo)
	}
	// Re-configure only, replacing the options.
	e.mustCall(packageapi.PathServiceUpdate, packageapi.ServiceUpdateRequest{AppID: "/svc", Options: map[string]any{"instances": 3}, Replace: true}, &u)
	app, _ = e.svc.app("/svc")
	if o := optionsLabel(t, app.Labels); len(o) != 1 || o["instances"] != float64(3) || *app.Instances != 3 || app.Labels[packageapi.LabelVersion] != "1.1.0" {
		t.Errorf("replaced options = %v, instances %d", o, *app.Instances)
	}
	// Back to 1.0.0: 1.1.0's upgradesFrom names it.
	e.mustCall(packageapi.PathServiceUpdate, packageapi.ServiceUpdateRequest{AppID: "/svc", PackageVersion: "1.0.0"}, &u)
	if app, _ := e.svc.app("/svc"); app.Labels[packageapi.LabelVersion] != "1.0.0" {
		t.Errorf("downgrade: %v", app.Labels)
	}

	e.svc.add(marathon.App{ID: "/plain"})
	e.wantError(packageapi.PathServiceDescribe, packageapi.ServiceDescribeRequest{AppID: "/plain"}, http.StatusNotFound, packageapi.ErrAppNotFound)
	e.wantError(packageapi.PathServiceDescribe, packageapi.ServiceDescribeRequest{AppID: "/none"}, http.StatusNotFound, packageapi.ErrAppNotFound)
	e.wantError(packageapi.PathServiceUpdate, packageapi.ServiceUpdateRequest{AppID: "/none"}, http.StatusNotFound, packageapi.ErrAppNotFound)
	e.wantError(packageapi.PathServiceDescribe, packageapi.ServiceDescribeRequest{}, http.StatusBadRequest, packageapi.ErrBadRequest)
}

func TestHTTP(t *testing.T) {
	e := newEnv(t)
	status, ae := call(t, e.h, http.MethodGet, packageapi.PathSearch, nil, nil)
	if status != http.StatusMethodNotAllowed || ae.Type != packageapi.ErrMethodNotAllowed {
		t.Errorf("GET: %d %+v", status, ae)
	}
	e.wantError("/package/nope", nil, http.StatusNotFound, packageapi.ErrEndpointNotFound)
	e.wantError(packageapi.PathSearch, strings.Repeat(" ", MaxRequestBytes+1), http.StatusRequestEntityTooLarge, packageapi.ErrRequestTooLarge)
	for body, want := range map[string]string{
		`{"query": "x", "bogus": 1}`: `unknown field "bogus"`,
		`{"query": 3}`:               "field query: want a string",
		`{"query": "x"} {}`:          "unexpected data after the JSON object",
		`{"query": `:                 "ends too early",
		`[1]`:                        "want a JSON object",
		`{"query" "x"}`:              "not valid JSON",
	} {
		ae := e.wantError(packageapi.PathSearch, body, http.StatusBadRequest, packageapi.ErrBadRequest)
		if !strings.Contains(ae.Message, want) {
			t.Errorf("body %s: message %q, want %q", body, ae.Message, want)
		}
	}
	ae = e.wantError(packageapi.PathInstall, `{"packageName": "hello", "options": {"port": 1}, "extra": true}`, http.StatusBadRequest, packageapi.ErrBadRequest)
	if !strings.Contains(ae.Message, `"extra"`) {
		t.Errorf("message %q", ae.Message)
	}
	if n := e.svc.count(); n != 0 {
		t.Errorf("%d apps", n)
	}
	// Empty bodies and null are empty requests.
	e.mustCall(packageapi.PathSearch, "", nil)
	e.mustCall(packageapi.PathSearch, "null", nil)
}

func TestConcurrentRequests(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			for range 5 {
				var resp packageapi.SearchResponse
				if _, ae := e.call(packageapi.PathSearch, nil, &resp); ae != nil {
					t.Errorf("search: %+v", ae)
					return
				}
			}
			if i%2 == 0 {
				if _, ae := e.call(packageapi.PathDescribe, packageapi.DescribeRequest{PackageName: "hello"}, nil); ae != nil {
					t.Errorf("describe: %+v", ae)
				}
			}
		})
	}
	names := []string{"r1", "r2", "r3"}
	for _, n := range names {
		wg.Go(func() {
			if _, ae := e.call(packageapi.PathRepositoryAdd, packageapi.RepositoryAddRequest{Name: n, URI: "oci://" + e.addr + "/" + n}, nil); ae != nil {
				t.Errorf("add %s: %+v", n, ae)
			}
		})
	}
	wg.Wait()
	var list packageapi.RepositoryListResponse
	e.mustCall(packageapi.PathRepositoryList, nil, &list)
	if len(list.Repositories) != 4 {
		t.Errorf("concurrent adds: %+v", list.Repositories)
	}
}
