package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/cli"
	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/repository"
	"github.com/cairn-dc/cairn/repository/packageapi"
	"github.com/cairn-dc/cairn/repository/registry"
)

// buildHello assembles the built-in hello package under dir/hello, as make
// packages does, with its binary for this machine only. extra, if any, is
// appended to the binary (it still runs) to give it a digest no cache knows.
func buildHello(t testing.TB, dir, version string, extra []byte) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("building the hello package needs the go tool: %v", err)
	}
	pkg := filepath.Join(dir, "hello")
	src := filepath.Join("..", "..", "repository", "builtin", "hello")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"package.json", "options.schema.json", "app.json.tmpl"} {
		data, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "package.json" && version != "" {
			data = bytes.Replace(data, []byte(`"version": "1.0.0"`), []byte(`"version": "`+version+`"`), 1)
		}
		if err := os.WriteFile(filepath.Join(pkg, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(pkg, "bin", runtime.GOOS+"-"+runtime.GOARCH, "hello")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -buildid=", "-o", bin, "./server")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building hello: %v\n%s", err, out)
	}
	if len(extra) > 0 {
		f, err := os.OpenFile(bin, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.Write(extra)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return pkg
}

// testCluster is a `cairn up` run by the test.
type testCluster struct {
	API      string
	Registry string // host:port of the embedded registry
	NATS     string // the embedded NATS's URL
	stop     func()
}

// startTestCluster runs `cairn up` with one agent, the built-in packages
// from packagesDir, the embedded registry on registryAddr and every other
// listener on a free port.
func startTestCluster(t testing.TB, dataDir, packagesDir, registryAddr string, extra ...string) *testCluster {
	t.Helper()
	if len(extra) == 0 {
		extra = []string{"--dns", "none"}
	}
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"up", "--data-dir", dataDir, "--http", "127.0.0.1:0", "--nats-port", "-1", "--agents", "1",
			"--registry", registryAddr, "--packages-dir", packagesDir}, extra...),
			cli.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}, func(string) string { return "" })
	}()
	api := regexp.MustCompile(`operator API\s+(http://\S+)`)
	reg := regexp.MustCompile(`registry\s+oci://(\S+)/cairn`)
	if registryAddr == "none" {
		reg = regexp.MustCompile(`(packages)\s+/package/ \(no embedded registry`)
	}
	for deadline := time.Now().Add(60 * time.Second); api.FindStringSubmatch(out.String()) == nil || reg.FindStringSubmatch(out.String()) == nil; time.Sleep(10 * time.Millisecond) {
		select {
		case code := <-done:
			cancel()
			t.Fatalf("cairn up exited %d: %s", code, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("cairn up printed no API URL or registry: %s %s", out.String(), errOut.String())
		}
	}
	c := &testCluster{API: api.FindStringSubmatch(out.String())[1], Registry: reg.FindStringSubmatch(out.String())[1]}
	if m := regexp.MustCompile(`NATS\s+((?:nats|tls)://\S+)`).FindStringSubmatch(out.String()); m != nil {
		c.NATS = m[1]
	}
	c.stop = func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("cairn up exited %d after Ctrl-C: %s", code, errOut.String())
		}
	}
	return c
}

// cairn runs the CLI against the cluster; stdin feeds the command.
func (c *testCluster) cairn(t testing.TB, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	// --url goes before a "--" (after which everything is the task's).
	args = slices.Clone(args)
	at := len(args)
	if i := slices.Index(args, "--"); i >= 0 {
		at = i
	}
	args = slices.Insert(args, at, "--url", c.API)
	code := run(context.Background(), args, cli.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut},
		func(string) string { return "" })
	return code, out.String(), errOut.String()
}

func (c *testCluster) mustCairn(t testing.TB, args ...string) string {
	t.Helper()
	code, out, errOut := c.cairn(t, "", args...)
	if code != 0 {
		t.Fatalf("cairn %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func (c *testCluster) app(t testing.TB, id string) (marathon.AppStatus, bool) {
	t.Helper()
	code, out, _ := c.cairn(t, "", "app", "show", id, "--json")
	var app marathon.AppStatus
	if code != 0 || json.Unmarshal([]byte(out), &app) != nil {
		return app, false
	}
	return app, true
}

func (c *testCluster) installed(t testing.TB) []packageapi.Installed {
	t.Helper()
	var list []packageapi.Installed
	if err := json.Unmarshal([]byte(c.mustCairn(t, "package", "list", "--json")), &list); err != nil {
		t.Fatalf("cairn package list --json: %v", err)
	}
	return list
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
	}
}

// get answers the body of an HTTP GET, or "" on any failure.
func get(url string) string {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return ""
	}
	return string(b)
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestPackagesEndToEnd: the built-in hello package is installed from the
// embedded registry and serves HTTP; the same package pushed to a second
// registry is installed from it after cairn repo add, and any OCI client
// (the oras CLI) reads it; installs are pinned (a tampered blob is
// refused by the agent); bad input leaves nothing behind.
func TestPackagesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs a cluster and builds the hello package")
	}
	work := t.TempDir()
	builtins := filepath.Join(work, "packages")
	buildHello(t, builtins, "", nil)
	// A fixed registry address, as in real use: installed apps fetch from
	// it after the restart below.
	regAddr := freeAddr(t)
	c := startTestCluster(t, filepath.Join(work, "data"), builtins, regAddr)
	defer func() { c.stop() }()

	if out := c.mustCairn(t, "package", "search"); !regexp.MustCompile(`(?m)^hello\s+1\.0\.0\s+service\s+builtin`).MatchString(out) {
		t.Fatalf("cairn package search:\n%s", out)
	}

	// Install, serve, list, uninstall.
	out := c.mustCairn(t, "package", "install", "hello", "--yes", "--wait")
	if !strings.Contains(out, "as app /hello") || !strings.Contains(out, "sha256:") {
		t.Fatalf("install output:\n%s", out)
	}
	app, _ := c.app(t, "/hello")
	if app.Labels[packageapi.LabelName] != "hello" || app.Labels[packageapi.LabelVersion] != "1.0.0" ||
		!strings.HasPrefix(app.Labels[packageapi.LabelDigest], "sha256:") || app.Labels[packageapi.LabelSource] != "oci://"+c.Registry+"/cairn" {
		t.Fatalf("installed app labels: %v", app.Labels)
	}
	if len(app.Tasks) != 1 || len(app.Tasks[0].Ports) != 1 {
		t.Fatalf("hello tasks: %+v", app.Tasks)
	}
	url := fmt.Sprintf("http://%s:%d/", app.Tasks[0].Host, app.Tasks[0].Ports[0])
	waitFor(t, 20*time.Second, "hello answering at "+url, func() bool { return strings.HasPrefix(get(url), "Hello from Cairn!") })
	if l := c.installed(t); len(l) != 1 || l[0].AppID != "/hello" || l[0].PackageName != "hello" || l[0].TasksRunning != 1 {
		t.Fatalf("package list: %+v", l)
	}
	c.mustCairn(t, "package", "uninstall", "hello", "--yes", "--wait")
	if l := c.installed(t); len(l) != 0 {
		t.Fatalf("package list after uninstall: %+v", l)
	}
	waitFor(t, 20*time.Second, "hello's task killed", func() bool { return get(url) == "" })

	// A second registry, standing in for an external one.
	reg2, err := registry.Start(context.Background(), registry.Config{RootDir: filepath.Join(work, "registry2")})
	if err != nil {
		t.Fatal(err)
	}
	defer reg2.Close(context.Background())
	ext := filepath.Join(work, "ext")
	extPkg := buildHello(t, ext, "1.1.0", []byte("second registry"))
	repo2 := "oci://" + reg2.Addr() + "/acme"
	out = c.mustCairn(t, "package", "push", extPkg, "--repo", repo2)
	if !strings.Contains(out, repo2+"/hello@sha256:") {
		t.Fatalf("push output:\n%s", out)
	}
	c.mustCairn(t, "repo", "add", "acme", repo2, "--index", "0")
	if out := c.mustCairn(t, "repo", "list"); !regexp.MustCompile(`(?m)^acme\s+0\s`).MatchString(out) {
		t.Fatalf("repo list:\n%s", out)
	}
	c.mustCairn(t, "package", "install", "hello", "--app-id", "/ext/hello", "--yes", "--wait")
	app, _ = c.app(t, "/ext/hello")
	if app.Labels[packageapi.LabelSource] != repo2 || app.Labels[packageapi.LabelVersion] != "1.1.0" {
		t.Fatalf("installed from the second registry: labels %v", app.Labels)
	}
	url = fmt.Sprintf("http://%s:%d/", app.Tasks[0].Host, app.Tasks[0].Ports[0])
	waitFor(t, 20*time.Second, "hello from the second registry answering", func() bool { return get(url) != "" })
	c.mustCairn(t, "package", "uninstall", "hello", "--app-id", "/ext/hello", "--yes")

	// Any OCI client reads the repository: the oras CLI.
	checkWithOras(t, work, reg2.Addr()+"/acme/hello:1.1.0", filepath.Join(extPkg, "bin", runtime.GOOS+"-"+runtime.GOARCH, "hello"))

	// Pinned: a blob changed in the registry is refused by the agent.
	tampered := buildHello(t, filepath.Join(work, "tampered"), "1.2.0", []byte("never fetched before"))
	c.mustCairn(t, "package", "push", tampered, "--repo", repo2)
	blob, err := os.ReadFile(filepath.Join(tampered, "bin", runtime.GOOS+"-"+runtime.GOARCH, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(blob)
	hexSum := hex.EncodeToString(sum[:])
	data := filepath.Join(work, "registry2", "docker", "registry", "v2", "blobs", "sha256", hexSum[:2], hexSum, "data")
	bad := bytes.Clone(blob)
	copy(bad[len(bad)-20:], "tampered with!!!!!!!")
	if err := os.WriteFile(data, bad, 0o644); err != nil {
		t.Fatalf("tampering with the blob: %v", err)
	}
	c.mustCairn(t, "package", "install", "hello", "--version", "1.2.0", "--app-id", "/tampered", "--yes")
	waitFor(t, 30*time.Second, "the agent refusing the tampered blob", func() bool {
		app, ok := c.app(t, "/tampered")
		return ok && app.LastTaskFailure != nil && strings.Contains(app.LastTaskFailure.Message, "digest")
	})
	if app, _ := c.app(t, "/tampered"); app.TasksRunning != 0 {
		t.Fatalf("a tampered package runs: %+v", app)
	}
	c.mustCairn(t, "package", "uninstall", "hello", "--app-id", "/tampered", "--yes")

	// Bad input: a clear error, and nothing left behind.
	appsBefore := len(c.installed(t))
	for _, tc := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"package", "install", "nope", "--yes"}, "", `no repository has package "nope"`},
		{[]string{"package", "install", "hello", "--version", "9.9.9", "--yes"}, "", `no version "9.9.9"`},
		{[]string{"package", "install", "hello", "--options", "-", "--yes"}, `{"instances": -1}`, "/instances"},
		{[]string{"repo", "add", "dead", "oci://" + freeAddr(t) + "/x"}, "", "unreachable"},
	} {
		code, out, errOut := c.cairn(t, tc.stdin, tc.args...)
		if code == 0 || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("cairn %s: exit %d, want an error with %q:\n%s%s", strings.Join(tc.args, " "), code, tc.want, out, errOut)
		}
	}
	if n := len(c.installed(t)); n != appsBefore {
		t.Errorf("failed installs left %d apps", n-appsBefore)
	}
	if out := c.mustCairn(t, "repo", "list"); strings.Contains(out, "dead") {
		t.Errorf("an unreachable repository was added:\n%s", out)
	}

	// Bad credentials: refused, nothing saved.
	reg3, err := registry.Start(context.Background(), registry.Config{RootDir: filepath.Join(work, "registry3"), Users: map[string]string{"alice": "s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	defer reg3.Close(context.Background())
	code, out, errOut := c.cairn(t, "wrong\n", "repo", "add", "private", "oci://"+reg3.Addr()+"/p", "--username", "alice", "--password-stdin")
	if code == 0 || !strings.Contains(strings.ToLower(out+errOut), "credentials") {
		t.Errorf("repo add with a wrong password: exit %d:\n%s%s", code, out, errOut)
	}
	code, out, errOut = c.cairn(t, "s3cret\n", "repo", "add", "private", "oci://"+reg3.Addr()+"/p", "--username", "alice", "--password-stdin")
	if code != 0 {
		t.Errorf("repo add with the right password: exit %d:\n%s%s", code, out, errOut)
	}
	if out := c.mustCairn(t, "repo", "list"); !strings.Contains(out, "private") {
		t.Errorf("repo list after adding a private repository:\n%s", out)
	}

	// An install survives a restart of the cluster.
	c.mustCairn(t, "package", "install", "hello", "--version", "1.0.0", "--yes", "--wait")
	c.stop()
	c = startTestCluster(t, filepath.Join(work, "data"), builtins, regAddr)
	if l := c.installed(t); len(l) != 1 || l[0].AppID != "/hello" || l[0].PackageVersion != "1.0.0" {
		t.Fatalf("package list after a restart: %+v", l)
	}
	if out := c.mustCairn(t, "repo", "list"); !strings.Contains(out, "private") || !strings.Contains(out, "acme") {
		t.Errorf("repositories after a restart:\n%s", out)
	}
	waitFor(t, 30*time.Second, "hello serving again after the restart", func() bool {
		app, ok := c.app(t, "/hello")
		return ok && app.TasksRunning == 1 && len(app.Tasks) == 1 && len(app.Tasks[0].Ports) == 1 &&
			get(fmt.Sprintf("http://%s:%d/", app.Tasks[0].Host, app.Tasks[0].Ports[0])) != ""
	})

	// New options for the installed package: redeployed, labels follow.
	code, out, errOut = c.cairn(t, `{"message": "Updated!"}`, "package", "update", "hello", "--options", "-", "--yes", "--wait")
	if code != 0 || !strings.Contains(out, "Updated app /hello to package hello version 1.0.0") {
		t.Fatalf("cairn package update: exit %d:\n%s%s", code, out, errOut)
	}
	app, _ = c.app(t, "/hello")
	if opts, _ := base64.StdEncoding.DecodeString(app.Labels[packageapi.LabelOptions]); len(app.Tasks) != 1 || len(app.Tasks[0].Ports) != 1 ||
		string(opts) != `{"message":"Updated!"}` {
		t.Fatalf("hello after the update: labels %v tasks %+v", app.Labels, app.Tasks)
	}
	url = fmt.Sprintf("http://%s:%d/", app.Tasks[0].Host, app.Tasks[0].Ports[0])
	waitFor(t, 20*time.Second, "hello answering with its new message", func() bool { return strings.HasPrefix(get(url), "Updated!") })
	if out := c.mustCairn(t, "package", "update", "hello"); !strings.Contains(out, `"message": "Updated!"`) {
		t.Errorf("cairn package update without changes:\n%s", out)
	}
}

// checkWithOras fetches the manifest and pulls the artifact at ref with
// the oras CLI (oras.land/oras, a tool of go.mod) and checks the pulled
// binary is the one pushed.
func checkWithOras(t *testing.T, work, ref, binary string) {
	t.Helper()
	oras := filepath.Join(work, "oras")
	cmd := exec.Command("go", "build", "-o", oras, "oras.land/oras/cmd/oras")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the oras CLI: %v\n%s", err, out)
	}
	out, err := exec.Command(oras, "manifest", "fetch", "--plain-http", ref).Output()
	if err != nil {
		t.Fatalf("oras manifest fetch %s: %v", ref, err)
	}
	var m struct {
		ArtifactType string `json:"artifactType"`
		Layers       []struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(out, &m); err != nil || m.ArtifactType != "application/vnd.cairn.package.v1" {
		t.Fatalf("oras manifest fetch: %v: %s", err, out)
	}
	dir := filepath.Join(work, "pulled")
	if out, err := exec.Command(oras, "pull", "--plain-http", "-o", dir, ref).CombinedOutput(); err != nil {
		t.Fatalf("oras pull %s: %v\n%s", ref, err, out)
	}
	want, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	// Titles are paths in the package directory: oras recreates it.
	got, err := os.ReadFile(filepath.Join(dir, "bin", runtime.GOOS+"-"+runtime.GOARCH, "hello"))
	if err != nil || !bytes.Equal(got, want) {
		entries, _ := os.ReadDir(dir)
		t.Fatalf("oras pull: hello not pulled intact (%v); pulled %v", err, entries)
	}
}

func TestServicesErrorMapping(t *testing.T) {
	api := func(code int) *apiclient.APIError {
		return &apiclient.APIError{StatusCode: code, Status: http.StatusText(code)}
	}
	for _, tc := range []struct {
		err  error
		want error
	}{
		{api(404), repository.ErrAppNotFound},
		{api(409), repository.ErrAppExists},
		{&apiclient.AppLockedError{Deployments: []string{"d"}, Err: api(409)}, repository.ErrAppLocked},
		{&apiclient.AppInvalidError{Err: api(422)}, repository.ErrAppInvalid},
		{api(422), repository.ErrAppInvalid},
	} {
		if got := servicesError(tc.err); !errors.Is(got, tc.want) {
			t.Errorf("servicesError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	// The services framework not running is no "app not found": it stays
	// unmapped (the package API answers 503).
	absent := &apiclient.NoServiceError{Name: "services", Err: api(404)}
	if got := servicesError(absent); errors.Is(got, repository.ErrAppNotFound) {
		t.Errorf("no services framework mapped to %v", got)
	}
	if servicesError(nil) != nil {
		t.Error("nil error mapped")
	}
}
