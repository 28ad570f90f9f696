package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/repository/packageapi"
)

// packageHandler answers the package API from a table of path → (status,
// body); it checks every call is a JSON POST and records the bodies.
func packageHandler(t *testing.T, answers map[string][2]string, bodies map[string]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s with Content-Type %q: want a JSON POST", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		data, _ := io.ReadAll(r.Body)
		bodies[r.URL.Path] = string(data)
		a, ok := answers[r.URL.Path]
		if !ok {
			t.Errorf("unexpected request %s", r.URL.Path)
			w.WriteHeader(500)
			return
		}
		code := map[string]int{"200": 200, "400": 400, "401": 401, "404": 404, "409": 409, "502": 502}[a[0]]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, a[1])
	})
}

func TestPackageCalls(t *testing.T) {
	bodies := map[string]string{}
	c := newClient(t, packageHandler(t, map[string][2]string{
		packageapi.PathSearch:           {"200", `{"packages":[{"name":"hello","currentVersion":"1.0.0","versions":["1.0.0"],"kind":"service","repository":"builtin","installed":1}]}`},
		packageapi.PathDescribe:         {"200", `{"package":{"name":"hello","version":"1.0.0","kind":"service","preInstallNotes":"hi","digest":"sha256:ab","config":{"type":"object"},"files":[{"name":"hello","digest":"sha256:cd","size":3}]}}`},
		packageapi.PathListVersions:     {"200", `{"versions":null}`},
		packageapi.PathRender:           {"200", `{"app":{"id":"/hello"},"resolvedOptions":{"port":8080}}`},
		packageapi.PathInstall:          {"200", `{"packageName":"hello","packageVersion":"1.0.0","appId":"/hello","digest":"sha256:ab","deploymentId":"d1"}`},
		packageapi.PathUninstall:        {"200", `{"results":[{"packageName":"hello","appId":"/hello"}]}`},
		packageapi.PathList:             {"200", `{}`},
		packageapi.PathRepositoryList:   {"200", `{"repositories":[{"name":"builtin","uri":"oci://127.0.0.1:5000/cairn","priority":0,"builtIn":true}]}`},
		packageapi.PathRepositoryAdd:    {"200", `{"repositories":[{"name":"builtin"},{"name":"mine","priority":1,"username":"u","hasCredentials":true}]}`},
		packageapi.PathRepositoryDelete: {"200", `{"repositories":[]}`},
		packageapi.PathServiceDescribe:  {"200", `{"package":{"name":"hello","version":"1.0.0"},"upgradesTo":["1.1.0"],"userProvidedOptions":{"port":9000}}`},
		packageapi.PathServiceUpdate:    {"200", `{"package":{"name":"hello","version":"1.1.0"},"deploymentId":"d2"}`},
	}, bodies), "tok")
	ctx := context.Background()

	s, err := c.PackageSearch(ctx, packageapi.SearchRequest{Query: "hel"})
	if err != nil || len(s.Packages) != 1 || s.Packages[0].Name != "hello" || s.Packages[0].Installed != 1 {
		t.Errorf("PackageSearch: %+v %v", s, err)
	}
	if bodies[packageapi.PathSearch] != `{"query":"hel"}` {
		t.Errorf("search body %q", bodies[packageapi.PathSearch])
	}
	d, err := c.PackageDescribe(ctx, packageapi.DescribeRequest{PackageName: "hello"})
	if err != nil || d.Package.Name != "hello" || d.Package.PreInstallNotes != "hi" || string(d.Package.Config) != `{"type":"object"}` ||
		len(d.Package.Files) != 1 || d.Package.Files[0].Size != 3 {
		t.Errorf("PackageDescribe: %+v %v", d, err)
	}
	if bodies[packageapi.PathDescribe] != `{"packageName":"hello"}` {
		t.Errorf("describe body %q", bodies[packageapi.PathDescribe])
	}
	if v, err := c.PackageListVersions(ctx, packageapi.ListVersionsRequest{PackageName: "hello"}); err != nil || v.Versions == nil {
		t.Errorf("PackageListVersions: %+v %v", v, err)
	}
	r, err := c.PackageRender(ctx, packageapi.RenderRequest{PackageName: "hello", Options: map[string]any{"port": 8080}})
	if err != nil || string(r.App) != `{"id":"/hello"}` || r.ResolvedOptions["port"] != 8080.0 {
		t.Errorf("PackageRender: %+v %v", r, err)
	}
	if bodies[packageapi.PathRender] != `{"packageName":"hello","options":{"port":8080}}` {
		t.Errorf("render body %q", bodies[packageapi.PathRender])
	}
	in, err := c.PackageInstall(ctx, packageapi.InstallRequest{PackageName: "hello", AppID: "/hello"})
	if err != nil || in.AppID != "/hello" || in.DeploymentID != "d1" {
		t.Errorf("PackageInstall: %+v %v", in, err)
	}
	if u, err := c.PackageUninstall(ctx, packageapi.UninstallRequest{PackageName: "hello", All: true}); err != nil || len(u.Results) != 1 {
		t.Errorf("PackageUninstall: %+v %v", u, err)
	}
	if bodies[packageapi.PathUninstall] != `{"packageName":"hello","all":true}` {
		t.Errorf("uninstall body %q", bodies[packageapi.PathUninstall])
	}
	if l, err := c.PackageList(ctx, packageapi.ListRequest{}); err != nil || l.Packages == nil || len(l.Packages) != 0 {
		t.Errorf("PackageList: %+v %v", l, err)
	}
	if bodies[packageapi.PathList] != `{}` {
		t.Errorf("list body %q", bodies[packageapi.PathList])
	}
	if rl, err := c.RepositoryList(ctx); err != nil || len(rl.Repositories) != 1 || !rl.Repositories[0].BuiltIn {
		t.Errorf("RepositoryList: %+v %v", rl, err)
	}
	if bodies[packageapi.PathRepositoryList] != `{}` {
		t.Errorf("repository list body %q", bodies[packageapi.PathRepositoryList])
	}
	idx := 1
	ra, err := c.RepositoryAdd(ctx, packageapi.RepositoryAddRequest{Name: "mine", URI: "oci://r.example/ns", Index: &idx, Username: "u", Password: "p"})
	if err != nil || len(ra.Repositories) != 2 || !ra.Repositories[1].HasCredentials {
		t.Errorf("RepositoryAdd: %+v %v", ra, err)
	}
	if bodies[packageapi.PathRepositoryAdd] != `{"name":"mine","uri":"oci://r.example/ns","index":1,"username":"u","password":"p"}` {
		t.Errorf("repository add body %q", bodies[packageapi.PathRepositoryAdd])
	}
	if rd, err := c.RepositoryDelete(ctx, packageapi.RepositoryDeleteRequest{Name: "mine"}); err != nil || rd.Repositories == nil {
		t.Errorf("RepositoryDelete: %+v %v", rd, err)
	}
	if sd, err := c.ServiceDescribe(ctx, packageapi.ServiceDescribeRequest{AppID: "/hello"}); err != nil || sd.UpgradesTo[0] != "1.1.0" ||
		sd.UserProvidedOptions["port"] != 9000.0 {
		t.Errorf("ServiceDescribe: %+v %v", sd, err)
	}
	if su, err := c.ServiceUpdate(ctx, packageapi.ServiceUpdateRequest{AppID: "/hello", PackageVersion: "1.1.0"}); err != nil || su.DeploymentID != "d2" {
		t.Errorf("ServiceUpdate: %+v %v", su, err)
	}
}

func TestPackageErrors(t *testing.T) {
	c := newClient(t, packageHandler(t, map[string][2]string{
		packageapi.PathInstall: {"400", `{"type":"JsonSchemaMismatch","message":"options do not match the schema of hello 1.0.0",` +
			`"errors":["/port: must be >= 1024","/name: missing"]}`},
		packageapi.PathDescribe:     {"404", `{"type":"PackageNotFound","message":"no repository has package \"nope\""}`},
		packageapi.PathList:         {"401", `{"message":"missing bearer token"}`},
		packageapi.PathListVersions: {"404", `404 page not found`},
		packageapi.PathSearch:       {"502", `{"type":"RepositoryUnreachable","message":"repository builtin (oci://127.0.0.1:5000/cairn) did not answer"}`},
	}, map[string]string{}), "")
	ctx := context.Background()

	_, err := c.PackageInstall(ctx, packageapi.InstallRequest{PackageName: "hello"})
	var pe *PackageError
	if !errors.As(err, &pe) || pe.Type != packageapi.ErrOptionsInvalid || len(pe.Errors) != 2 || pe.Err.StatusCode != 400 {
		t.Fatalf("schema mismatch: %#v", err)
	}
	if err.Error() != "options do not match the schema of hello 1.0.0: /port: must be >= 1024; /name: missing" {
		t.Errorf("schema mismatch message %q", err)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 {
		t.Errorf("the APIError is not in the chain: %#v", err)
	}
	_, err = c.PackageDescribe(ctx, packageapi.DescribeRequest{PackageName: "nope"})
	if PackageErrorType(err) != packageapi.ErrPackageNotFound || err.Error() != `no repository has package "nope"` {
		t.Errorf("not found: %v", err)
	}
	// Not a package API error: the master's own answers stay APIErrors.
	_, err = c.PackageList(ctx, packageapi.ListRequest{})
	if errors.As(err, &pe) || !errors.As(err, &ae) || !strings.Contains(err.Error(), "the master needs a token") {
		t.Errorf("401: %#v", err)
	}
	_, err = c.PackageListVersions(ctx, packageapi.ListVersionsRequest{PackageName: "x"})
	if PackageErrorType(err) != "" || !errors.As(err, &ae) || ae.StatusCode != 404 {
		t.Errorf("plain 404: %#v", err)
	}
	_, err = c.PackageSearch(ctx, packageapi.SearchRequest{})
	if PackageErrorType(err) != packageapi.ErrRepositoryUnreachable || !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("502: %v", err)
	}
	// The error's JSON is what the API sent.
	if !errors.As(err, &pe) || !json.Valid(pe.Err.Body) {
		t.Errorf("body %q", pe.Err.Body)
	}
}
