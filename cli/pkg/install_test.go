package pkg

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/deployment/deploymenttest"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInstallWithOptions(t *testing.T) {
	api := newFakeAPI(t, nil)
	opts := writeFile(t, "hello.json", `{"port": 9000, "instances": 12345678901234567890}`)
	if r := run(t, api.URL, "", false, "install", "hello", "--options", opts, "--yes"); r.err != nil {
		t.Fatal(r.err)
	}
	// Numbers go as they were written, not through a float64.
	if body := api.request(packageapi.PathInstall); !strings.Contains(body, `"instances":12345678901234567890`) {
		t.Errorf("install body %q: want the number as written", body)
	}

	api = newFakeAPI(t, nil)
	opts = writeFile(t, "hello.json", `{"port": 9000}`)
	r := run(t, api.URL, "", false, "install", "hello", "--options", opts, "--yes", "--app-id", "demo/hello")
	if r.err != nil {
		t.Fatalf("%v (stderr %q)", r.err, r.errOut)
	}
	want := "Pre-install notes:\n  hello listens on one port.\n  It needs 32 MiB.\n" +
		"Installed package hello version 1.0.0 as app /demo/hello (digest " + helloDigest + ")\n" +
		"Post-install notes:\n  hello is running: curl its port.\n"
	if r.out != want {
		t.Errorf("out:\n%s\nwant:\n%s", r.out, want)
	}
	if r.errOut != "" {
		t.Errorf("stderr %q: no question with --yes", r.errOut)
	}
	var req packageapi.InstallRequest
	if err := json.Unmarshal([]byte(api.request(packageapi.PathInstall)), &req); err != nil {
		t.Fatal(err)
	}
	// The version described (whose notes were shown) is pinned.
	if req.PackageName != "hello" || req.PackageVersion != "1.0.0" || req.AppID != "/demo/hello" || req.Options["port"] != 9000.0 {
		t.Errorf("install request %+v", req)
	}
}

func TestInstallVersionAndJSON(t *testing.T) {
	api := newFakeAPI(t, nil)
	r := run(t, api.URL, `{"port": 2000}`, false, "install", "hello", "--version", "0.9.0", "--options", "-", "--yes", "--json")
	if r.err != nil {
		t.Fatal(r.err)
	}
	var res packageapi.InstallResponse
	if err := json.Unmarshal([]byte(r.out), &res); err != nil {
		t.Fatalf("stdout is not only the JSON: %q (%v)", r.out, err)
	}
	if res.PackageVersion != "0.9.0" || res.Digest != oldDigest || res.AppID != "/hello" {
		t.Errorf("answer %+v", res)
	}
	// Notes go to stderr with --json.
	if !strings.Contains(r.errOut, "Pre-install notes:") || !strings.Contains(r.errOut, "Post-install notes:") {
		t.Errorf("stderr %q", r.errOut)
	}
	// Options from stdin need --yes: nothing is left there to answer.
	r = run(t, api.URL, `{}`, true, "install", "hello", "--options", "-")
	if !cmdutil.IsUsageError(r.err) || !strings.Contains(r.err.Error(), "pass --yes") {
		t.Errorf("--options - without --yes: %v", r.err)
	}
}

func TestInstallSchemaError(t *testing.T) {
	api := newFakeAPI(t, nil)
	opts := writeFile(t, "bad.json", `{"port": 80, "colour": "red"}`)
	r := run(t, api.URL, "", false, "install", "hello", "--options", opts, "--yes")
	if r.err == nil || cmdutil.IsUsageError(r.err) {
		t.Fatalf("error %v", r.err)
	}
	wantErr := "invalid options for package hello 1.0.0 (2 above): fix them (see the schema with cairn package describe hello --version 1.0.0 --config)"
	if r.err.Error() != wantErr {
		t.Errorf("error %q\nwant  %q", r.err, wantErr)
	}
	want := "The options in " + opts + " do not match the options schema of package hello 1.0.0:\n" +
		"  /colour: additional property not allowed\n" +
		"  /port: must be >= 1024 but found 80\n"
	if r.errOut != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.errOut, want)
	}
	if strings.Contains(r.out, "Installed") {
		t.Errorf("out %q", r.out)
	}
	var pe *apiclient.PackageError
	if !errors.As(r.err, &pe) || pe.Type != packageapi.ErrOptionsInvalid {
		t.Errorf("the API's error is not in the chain: %#v", r.err)
	}
	// Bad JSON is caught before any request, with where it breaks.
	n := len(api.Requests())
	r = run(t, api.URL, "", false, "install", "hello", "--options", writeFile(t, "broken.json", "{\n \"port\": 80,\n}"), "--yes")
	if r.err == nil || !strings.Contains(r.err.Error(), "are not a JSON object (line 3, column 1: invalid character '}'") {
		t.Errorf("broken JSON: %v", r.err)
	}
	r = run(t, api.URL, "", false, "install", "hello", "--options", writeFile(t, "array.json", "[1]"), "--yes")
	if r.err == nil || !strings.Contains(r.err.Error(), "not a JSON object") {
		t.Errorf("array: %v", r.err)
	}
	r = run(t, api.URL, "", false, "install", "hello", "--options", "/no/such.json", "--yes")
	if r.err == nil || !strings.Contains(r.err.Error(), "reading the options: open /no/such.json") {
		t.Errorf("missing file: %v", r.err)
	}
	if got := api.Requests(); len(got) != n {
		t.Errorf("requests for bad options: %q", got[n:])
	}
}

func TestInstallNeedsYesOffTerminal(t *testing.T) {
	api := newFakeAPI(t, nil)
	r := run(t, api.URL, "y\n", false, "install", "hello")
	if !cmdutil.IsUsageError(r.err) || !strings.Contains(r.err.Error(), "pass --yes") ||
		!strings.Contains(r.err.Error(), "the standard input is not a terminal") {
		t.Errorf("error %v", r.err)
	}
	if reqs := api.Requests(); len(reqs) != 0 {
		t.Errorf("requests %q: nothing should be asked of the master", reqs)
	}
}

func TestInstallConfirm(t *testing.T) {
	api := newFakeAPI(t, nil)
	r := run(t, api.URL, "n\n", true, "install", "hello")
	if r.err == nil || r.err.Error() != "cancelled: package hello not installed" {
		t.Errorf("no: %v", r.err)
	}
	if api.request(packageapi.PathInstall) != "" {
		t.Error("installed after a no")
	}
	if r.out != "Pre-install notes:\n  hello listens on one port.\n  It needs 32 MiB.\n" {
		t.Errorf("out %q", r.out)
	}
	if r.errOut != "Package hello 1.0.0 will be installed as app /hello.\nContinue installing? [y/N] " {
		t.Errorf("stderr %q", r.errOut)
	}
	r = run(t, api.URL, "yes\n", true, "install", "hello")
	if r.err != nil || !strings.Contains(r.out, "Installed package hello version 1.0.0 as app /hello") {
		t.Errorf("yes: %v %q", r.err, r.out)
	}
}

func TestInstallErrors(t *testing.T) {
	api := newFakeAPI(t, nil)
	r := run(t, api.URL, "", false, "install", "nope", "--yes")
	if r.err == nil || r.err.Error() != `no repository has package "nope": see cairn package search (and cairn repo list for the repositories searched)` {
		t.Errorf("not found: %v", r.err)
	}
	r = run(t, api.URL, "", false, "install", "hello", "--version", "7.0.0", "--yes")
	if r.err == nil || r.err.Error() != `package hello has no version "7.0.0": see cairn package describe hello for its versions` {
		t.Errorf("no version: %v", r.err)
	}
	api.install(packageapi.Installed{AppID: "/hello", PackageName: "hello", PackageVersion: "1.0.0"})
	r = run(t, api.URL, "", false, "install", "hello", "--yes")
	if r.err == nil || !strings.HasPrefix(r.err.Error(), "app /hello already exists: install under another id with --app-id ID") {
		t.Errorf("exists: %v", r.err)
	}
	for _, args := range [][]string{
		{"install"},
		{"install", "a", "b"},
		{"install", "he llo", "--yes"},
		{"install", "hello", "--app-id", "Bad_Id", "--yes"},
		{"install", "hello", "--bogus"},
	} {
		if r := run(t, api.URL, "", false, args...); !cmdutil.IsUsageError(r.err) {
			t.Errorf("%q: %v, want a usage error", args, r.err)
		}
	}
}

func TestInstallNoPackageAPI(t *testing.T) {
	m := deploymenttest.New(t) // a master without /package/
	r := run(t, m.URL, "", false, "install", "hello", "--yes")
	if r.err == nil || !strings.Contains(r.err.Error(), "the master does not serve the package API") {
		t.Errorf("error %v", r.err)
	}
}

func TestInstallWait(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings deploymenttest.Settings
		want     string
		wantErr  string
	}{
		{name: "success", settings: deploymenttest.Settings{Outcome: deploymenttest.Succeed},
			want: "Deployment dep-1 succeeded: app /hello has 2/2 tasks running"},
		{name: "success, polling", settings: deploymenttest.Settings{Outcome: deploymenttest.Succeed, NoEvents: true},
			want: "Deployment dep-1 succeeded: app /hello has 2/2 tasks running"},
		{name: "failure", settings: deploymenttest.Settings{Outcome: deploymenttest.Fail, FailReason: "no offers"},
			wantErr: "deployment dep-1 of app /hello failed: no offers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := deploymenttest.New(t)
			m.Configure(tc.settings)
			api := newFakeAPI(t, m)
			r := run(t, api.URL, "", false, "install", "hello", "--yes", "--wait", "--options", writeFile(t, "o.json", `{"instances": 2}`))
			if r.errOut != "" {
				t.Errorf("stderr %q: no progress when it is not a terminal", r.errOut)
			}
			if !strings.Contains(r.out, "Installed package hello version 1.0.0 as app /hello") {
				t.Errorf("out %q", r.out)
			}
			if tc.wantErr != "" {
				if r.err == nil || r.err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", r.err, tc.wantErr)
				}
				return
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			if !strings.HasSuffix(r.out, "Post-install notes:\n  hello is running: curl its port.\n"+tc.want+"\n") {
				t.Errorf("out %q, want it to end with %q", r.out, tc.want)
			}
			if a, ok := m.App("/hello"); !ok || a.TasksRunning != 2 || a.Labels[packageapi.LabelName] != "hello" {
				t.Errorf("app %+v", a)
			}
		})
	}
}

func TestInstallWaitWithoutDeployment(t *testing.T) {
	// A package API that answers no deployment id: --wait polls the app.
	m := deploymenttest.New(t)
	api := newFakeAPI(t, m)
	api.running = true
	r := run(t, api.URL, "", false, "install", "hello", "--yes", "--wait")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !strings.HasSuffix(r.out, "App /hello is running: 1/1 tasks\n") {
		t.Errorf("out %q", r.out)
	}
	client, err := apiclient.New(m.URL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := waitRunning(t.Context(), client, "/gone", deploymentConfig()); err == nil ||
		!strings.Contains(err.Error(), "app /gone no longer exists") {
		t.Errorf("waitRunning for a missing app: %v", err)
	}
	m.Configure(deploymenttest.Settings{NoServices: true})
	if _, err := waitRunning(t.Context(), client, "/hello", deploymentConfig()); err == nil ||
		!strings.Contains(err.Error(), "the services framework is not running") {
		t.Errorf("waitRunning without services: %v", err)
	}
}
