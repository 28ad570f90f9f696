package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// buildFrameworkPackage assembles the built-in package name (services,
// cron) under dir/name, as make packages does, with this test binary
// standing in for the cairn binary (TestMain runs "framework run" like
// cairn does).
func buildFrameworkPackage(t testing.TB, dir, name string) {
	t.Helper()
	pkg := filepath.Join(dir, name)
	src := filepath.Join("..", "..", "repository", "builtin", name)
	bin := filepath.Join(pkg, "bin", runtime.GOOS+"-"+runtime.GOARCH)
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"package.json", "options.schema.json", "app.json.tmpl"} {
		copyFile(t, filepath.Join(src, f), filepath.Join(pkg, f), 0o644)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, self, filepath.Join(bin, "cairn"), 0o755)
}

func copyFile(t testing.TB, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestServicesPackage: the built-in services package installs a second
// services framework as an app of the cluster; it finds the cluster from
// its task environment, registers under the name given in the options, and
// its Marathon API, proxied by the master, runs apps of its own.
func TestServicesPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs a cluster and a framework installed as a package")
	}
	work := t.TempDir()
	builtins := filepath.Join(work, "packages")
	buildFrameworkPackage(t, builtins, "services")
	c := startTestCluster(t, filepath.Join(work, "data"), builtins, "127.0.0.1:0")
	defer func() { c.stop() }()

	// "services" is the name of the framework cairn up runs: refused by the schema.
	code, out, errOut := c.cairn(t, `{"name": "services"}`, "package", "install", "services", "--options", "-", "--yes")
	if code == 0 || !strings.Contains(out+errOut, "/name") {
		t.Fatalf("installing a second framework named services: exit %d:\n%s%s", code, out, errOut)
	}

	code, out, errOut = c.cairn(t, `{"name": "team-a", "cpus": 0.2}`, "package", "install", "services", "--app-id", "/frameworks/team-a", "--options", "-", "--yes")
	if code != 0 || !strings.Contains(out, "as app /frameworks/team-a") {
		t.Fatalf("cairn package install services: exit %d:\n%s%s", code, out, errOut)
	}
	waitFor(t, 60*time.Second, "the team-a framework registered", func() bool {
		return strings.Contains(c.mustCairn(t, "framework", "list"), "team-a")
	})

	// Its API through the master's proxy runs an app of its own.
	api := c.API + "/service/team-a/v2/apps"
	waitFor(t, 30*time.Second, "team-a's API proxied by the master", func() bool { return get(api) != "" })
	resp, err := http.Post(api, "application/json", strings.NewReader(`{"id": "/sleeper", "cmd": "sleep 600", "cpus": 0.1, "mem": 32}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %s: %s", api, resp.Status, body)
	}
	waitFor(t, 30*time.Second, "team-a's app running", func() bool {
		var apps struct {
			Apps []struct {
				ID           string `json:"id"`
				TasksRunning int    `json:"tasksRunning"`
			} `json:"apps"`
		}
		return json.Unmarshal([]byte(get(api)), &apps) == nil && len(apps.Apps) == 1 && apps.Apps[0].TasksRunning == 1
	})
	// The framework's own app is the built-in services framework's.
	if app, ok := c.app(t, "/frameworks/team-a"); !ok || app.TasksRunning != 1 || app.Labels["CAIRN_PACKAGE_NAME"] != "services" {
		t.Fatalf("the installed framework's app: %+v", app)
	}

	c.mustCairn(t, "package", "uninstall", "services", "--app-id", "/frameworks/team-a", "--yes", "--wait")
	waitFor(t, 30*time.Second, "team-a's API gone", func() bool { return get(api) == "" })
}

// TestCronPackage: the built-in cron package installs the cron framework
// as an app of the cluster; cairn job drives it through the master, a run
// succeeds, its history counts it and its output is in cairn task log.
func TestCronPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs a cluster and a framework installed as a package")
	}
	work := t.TempDir()
	builtins := filepath.Join(work, "packages")
	buildFrameworkPackage(t, builtins, "cron")
	c := startTestCluster(t, filepath.Join(work, "data"), builtins, "127.0.0.1:0")
	defer func() { c.stop() }()

	if code, out, errOut := c.cairn(t, "", "job", "list"); code == 0 || !strings.Contains(out+errOut, "cairn package install cron") {
		t.Errorf("cairn job list without cron: exit %d:\n%s%s", code, out, errOut)
	}
	c.mustCairn(t, "package", "install", "cron", "--yes", "--wait")
	job := `{"id": "demo.hello", "run": {"cmd": "echo hello from cron; echo run $CAIRN_JOB_RUN_ID", "cpus": 0.1, "mem": 32},
	  "schedules": [{"id": "nightly", "cron": "0 3 * * *", "timezone": "Europe/Paris"}]}`
	var code int
	var out, errOut string
	waitFor(t, 60*time.Second, "cron taking jobs", func() bool {
		code, out, errOut = c.cairn(t, job, "job", "add", "-")
		return code == 0
	})
	if !strings.Contains(out, "Added job demo.hello") || !strings.Contains(out, "nightly") {
		t.Fatalf("cairn job add:\n%s%s", out, errOut)
	}
	code, out, errOut = c.cairn(t, "", "job", "run", "demo.hello", "--wait")
	if code != 0 {
		t.Fatalf("cairn job run --wait: exit %d:\n%s%s", code, out, errOut)
	}
	var hist struct {
		SuccessCount           int `json:"successCount"`
		SuccessfulFinishedRuns []struct {
			ID    string   `json:"id"`
			Tasks []string `json:"tasks"`
		} `json:"successfulFinishedRuns"`
	}
	if err := json.Unmarshal([]byte(c.mustCairn(t, "job", "history", "demo.hello", "--json")), &hist); err != nil ||
		hist.SuccessCount != 1 || len(hist.SuccessfulFinishedRuns) != 1 || len(hist.SuccessfulFinishedRuns[0].Tasks) != 1 {
		t.Fatalf("cairn job history --json: %v %+v", err, hist)
	}
	run := hist.SuccessfulFinishedRuns[0]
	if log := c.mustCairn(t, "task", "log", run.Tasks[0]); !strings.Contains(log, "hello from cron") || !strings.Contains(log, "run "+run.ID) {
		t.Errorf("cairn task log %s:\n%s", run.Tasks[0], log)
	}
	// Bad input names the field; nothing is stored.
	code, out, errOut = c.cairn(t, `{"id": "bad", "run": {"cmd": "date"}, "schedules": [{"id": "s", "cron": "* * * *", "timezone": "Mars/Base"}]}`, "job", "add", "-")
	if code == 0 || !strings.Contains(out+errOut, "/schedules/0/cron") || !strings.Contains(out+errOut, "/schedules/0/timezone") {
		t.Errorf("a bad job: exit %d:\n%s%s", code, out, errOut)
	}
	if out := c.mustCairn(t, "job", "list"); strings.Contains(out, "bad") {
		t.Errorf("a bad job was stored:\n%s", out)
	}
	c.mustCairn(t, "package", "uninstall", "cron", "--yes", "--wait")
}
