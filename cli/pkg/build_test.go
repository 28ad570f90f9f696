package pkg

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"oras.land/oras-go/v2/content/memory"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/packaging"
	"github.com/cairn-dc/cairn/repository/registry"
)

// tinyDir is a package directory: a shell script for two platforms, a
// resource, a schema with defaults.
const tinyDir = "testdata/tiny"

var digestRE = regexp.MustCompile(`sha256:[0-9a-f]{64}`)

// startRegistry runs an embedded OCI registry on a free loopback port
// (users: basic-auth accounts, none for anonymous access) and returns
// its address.
func startRegistry(t *testing.T, users map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	r, err := registry.Start(ctx, registry.Config{Addr: "127.0.0.1:0", RootDir: t.TempDir(), Users: users, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("start registry: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.Close(ctx); err != nil {
			t.Errorf("close registry: %v", err)
		}
	})
	return r.Addr()
}

// localRun runs a command that needs no master.
func localRun(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return run(t, "http://127.0.0.1:1", stdin, false, args...)
}

func TestBuildToLayoutAndVerify(t *testing.T) {
	layout := filepath.Join(t.TempDir(), "tiny.oci")
	r := localRun(t, "", "build", tinyDir, "-o", layout)
	if r.err != nil {
		t.Fatalf("%v (stderr %q)", r.err, r.errOut)
	}
	digest := digestRE.FindString(r.out)
	if want := "Built package tiny 0.1.0 into " + layout + " (digest " + digest + ")\n"; digest == "" || r.out != want {
		t.Errorf("out %q, want %q", r.out, want)
	}
	if _, err := os.Stat(filepath.Join(layout, "oci-layout")); err != nil {
		t.Errorf("no OCI layout: %v", err)
	}
	// Reproducible: the same digest again, in another layout.
	r = localRun(t, "", "build", tinyDir, "-o", filepath.Join(t.TempDir(), "again.oci"), "--json")
	var b built
	if err := json.Unmarshal([]byte(r.out), &b); err != nil || b.Digest != digest || b.Name != "tiny" || b.Version != "0.1.0" || b.Reference != "" {
		t.Errorf("again: %v %q (want digest %s)", err, r.out, digest)
	}

	for _, src := range []string{layout, layout + ":0.1.0", layout + "@" + digest} {
		r = localRun(t, "", "verify", src)
		if r.err != nil || r.out != "Verified tiny 0.1.0 (3 files, digest "+digest+")\n" {
			t.Errorf("verify %s: %v %q", src, r.err, r.out)
		}
	}
	r = localRun(t, "", "verify", layout, "--json")
	var v verified
	if err := json.Unmarshal([]byte(r.out), &v); err != nil || v.Digest != digest || len(v.Files) != 3 || v.Kind != "service" {
		t.Errorf("verify --json: %v %q", err, r.out)
	}
	r = localRun(t, "", "verify", layout+":9.9.9")
	if r.err == nil || !strings.Contains(r.err.Error(), `has no artifact "9.9.9"`) || !strings.Contains(r.err.Error(), "its tags are 0.1.0") {
		t.Errorf("verify a missing tag: %v", r.err)
	}
}

func TestBuildPlatformsAndDefaultDir(t *testing.T) {
	pkgDir, err := filepath.Abs(tinyDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	r := localRun(t, "", "build", pkgDir, "--platform", "linux/amd64")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !strings.HasPrefix(r.out, "Built package tiny 0.1.0 into tiny-0.1.0.oci (digest sha256:") {
		t.Errorf("out %q", r.out)
	}
	r = localRun(t, "", "verify", "tiny-0.1.0.oci")
	if r.err != nil || !strings.HasPrefix(r.out, "Verified tiny 0.1.0 (2 files,") {
		t.Errorf("verify: %v %q", r.err, r.out)
	}
	// A directory holding something else is not built into.
	if err := os.WriteFile("notes.txt", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r = localRun(t, "", "build", pkgDir, "-o", ".")
	if r.err == nil || !strings.Contains(r.err.Error(), "is not empty and not an OCI layout") {
		t.Errorf("-o a used directory: %v", r.err)
	}
}

func TestVerifyCorrupted(t *testing.T) {
	layout := filepath.Join(t.TempDir(), "tiny.oci")
	if r := localRun(t, "", "build", tinyDir, "-o", layout); r.err != nil {
		t.Fatal(r.err)
	}
	// Corrupt the largest file blob: a binary.
	blobs := filepath.Join(layout, "blobs", "sha256")
	entries, err := os.ReadDir(blobs)
	if err != nil {
		t.Fatal(err)
	}
	var victim string
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(blobs, e.Name()))
		if strings.HasPrefix(string(data), "#!/bin/sh") {
			victim = filepath.Join(blobs, e.Name())
		}
	}
	if victim == "" {
		t.Fatal("no binary blob in the layout")
	}
	if err := os.WriteFile(victim, []byte("#!/bin/sh\nrm -rf /\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := localRun(t, "", "verify", layout)
	if r.err == nil || !strings.Contains(r.err.Error(), "did not verify") || !strings.Contains(r.err.Error(), filepath.Base(victim)) {
		t.Errorf("corrupted: %v", r.err)
	}
}

func TestBuildErrors(t *testing.T) {
	dir := t.TempDir()
	r := localRun(t, "", "build", filepath.Join(dir, "nope"))
	if r.err == nil || !strings.Contains(r.err.Error(), "is not a directory: give a package directory (with package.json)") {
		t.Errorf("missing dir: %v", r.err)
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name": "Bad Name", "version": "1.x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r = localRun(t, "", "build", dir, "-o", filepath.Join(t.TempDir(), "x.oci"))
	if r.err == nil || !strings.Contains(r.err.Error(), "package.json") {
		t.Errorf("bad package: %v", r.err)
	}
	r = localRun(t, "", "verify", dir)
	if r.err == nil || !strings.Contains(r.err.Error(), "is a package directory: build it first") {
		t.Errorf("verify a package dir: %v", r.err)
	}
	for _, args := range [][]string{
		{"build"},
		{"build", tinyDir, "--push", "https://r.example/ns"},
		{"build", tinyDir, "--plain-http"},
		{"push", tinyDir},
		{"push", tinyDir, "--repo", "r.example/ns"},
		{"push", tinyDir, "--repo", "oci://r.example/ns", "--password-stdin"},
		{"verify", "oci://127.0.0.1:5000/cairn/tiny"},
		{"verify", "tiny.oci", "--plain-http"},
	} {
		if r := localRun(t, "", args...); !cmdutil.IsUsageError(r.err) {
			t.Errorf("%q: %v, want a usage error", args, r.err)
		}
	}
}

func TestPushAndVerifyRemote(t *testing.T) {
	addr := startRegistry(t, nil)
	repo := "oci://" + addr + "/cairn"
	layout := filepath.Join(t.TempDir(), "tiny.oci")
	r := localRun(t, "", "build", tinyDir, "-o", layout)
	if r.err != nil {
		t.Fatal(r.err)
	}
	digest := digestRE.FindString(r.out)

	r = localRun(t, "", "push", layout, "--repo", repo)
	if r.err != nil {
		t.Fatalf("%v (stderr %q)", r.err, r.errOut)
	}
	ref := repo + "/tiny@" + digest
	if r.out != "Pushed package tiny 0.1.0: "+ref+"\n" {
		t.Errorf("out %q, want the pinned reference %s", r.out, ref)
	}
	// Progress, a line per blob when stderr is not a terminal.
	if !strings.Contains(r.errOut, "pushing tiny 0.1.0 sha256:") || !strings.Contains(r.errOut, "7/7 blobs") {
		t.Errorf("stderr %q", r.errOut)
	}

	for _, src := range []string{repo + "/tiny:0.1.0", ref} {
		r = localRun(t, "", "verify", src)
		if r.err != nil || r.out != "Verified tiny 0.1.0 (3 files, digest "+digest+")\n" {
			t.Errorf("verify %s: %v %q", src, r.err, r.out)
		}
	}
	r = localRun(t, "", "verify", repo+"/tiny:7.0.0")
	if r.err == nil || !strings.Contains(r.err.Error(), "finding "+repo+"/tiny:7.0.0") {
		t.Errorf("verify a missing version: %v", r.err)
	}

	// From the package directory, built on the fly; and build --push.
	r = localRun(t, "", "push", tinyDir, "--repo", repo, "--json")
	var b built
	if err := json.Unmarshal([]byte(r.out), &b); err != nil || b.Digest != digest || b.Reference != ref {
		t.Errorf("push a directory: %v %q", err, r.out)
	}
	r = localRun(t, "", "build", tinyDir, "--push", repo)
	if r.err != nil || r.out != "Pushed package tiny 0.1.0: "+ref+"\n" {
		t.Errorf("build --push: %v %q", r.err, r.out)
	}
}

func TestPushCredentials(t *testing.T) {
	addr := startRegistry(t, map[string]string{"alice": "s3cret"})
	repo := "oci://" + addr + "/cairn"
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials there
	r := localRun(t, "", "push", tinyDir, "--repo", repo)
	if r.err == nil || !strings.Contains(r.err.Error(), "pass --username and --password-stdin") {
		t.Errorf("anonymous: %v", r.err)
	}
	r = localRun(t, "wrong\n", "push", tinyDir, "--repo", repo, "--username", "alice", "--password-stdin")
	if r.err == nil || !strings.Contains(r.err.Error(), "pass --username and --password-stdin") {
		t.Errorf("wrong password: %v", r.err)
	}
	r = localRun(t, "s3cret\n", "push", tinyDir, "--repo", repo, "--username", "alice", "--password-stdin")
	if r.err != nil || !strings.HasPrefix(r.out, "Pushed package tiny 0.1.0: "+repo+"/tiny@sha256:") {
		t.Fatalf("push: %v %q", r.err, r.out)
	}
	r = localRun(t, "s3cret\n", "verify", repo+"/tiny:0.1.0", "--username", "alice", "--password-stdin")
	if r.err != nil || !strings.HasPrefix(r.out, "Verified tiny 0.1.0") {
		t.Errorf("verify with credentials: %v %q", r.err, r.out)
	}
	r = localRun(t, "", "verify", repo+"/tiny:0.1.0")
	if r.err == nil {
		t.Error("verify without credentials passed")
	}
}

func TestPushProgressTerminal(t *testing.T) {
	p, files, err := loadPackage(tinyDir)
	if err != nil {
		t.Fatal(err)
	}
	store := memory.New()
	desc, err := packaging.Build(t.Context(), p, files, store, packaging.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	prog := newPushProgress(t.Context(), &buf, true, "pushing tiny 0.1.0", store, desc)
	if prog.blobs != 7 {
		t.Errorf("blobs %d, want 7 (manifest, config, schema, template, 3 files)", prog.blobs)
	}
	prog.copied(desc)
	prog.done()
	out := buf.String()
	if !strings.Contains(out, "\r\x1b[K⠋ pushing tiny 0.1.0: 0/7 blobs, 0 B/") || !strings.Contains(out, "1/7 blobs") ||
		!strings.HasSuffix(out, "\r\x1b[K") || strings.Contains(out, "\n") {
		t.Errorf("status line %q", out)
	}
}
