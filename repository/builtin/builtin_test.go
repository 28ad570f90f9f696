package builtin

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/packaging"
	"github.com/cairn-dc/cairn/repository/registry"
	"github.com/cairn-dc/cairn/repository/remote"
)

// helloDir assembles the hello package (its real definition) under dir
// with a stand-in binary.
func helloDir(t *testing.T, dir string) string {
	t.Helper()
	return definitionDir(t, dir, "hello", "hello")
}

// definitionDir assembles the built-in package name (its real definition)
// under dir with a stand-in binary called bin.
func definitionDir(t *testing.T, dir, name, bin string) string {
	t.Helper()
	pkg := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Join(pkg, "bin", "linux-amd64"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"package.json", "options.schema.json", "app.json.tmpl"} {
		data, err := os.ReadFile(filepath.Join(name, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pkg, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(pkg, "bin", "linux-amd64", bin), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return pkg
}

func TestHelloDefinitionRenders(t *testing.T) {
	p, err := packaging.Load(os.DirFS(helloDir(t, t.TempDir())))
	if err != nil {
		t.Fatal(err)
	}
	opts, err := p.Options(map[string]any{"instances": 3, "message": `say "hi"`})
	if err != nil {
		t.Fatal(err)
	}
	app, err := p.Render(packaging.RenderData{Options: opts, Artifact: "oci://127.0.0.1:5000/cairn/hello@sha256:" + strings.Repeat("a", 64)})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"id": "/hello"`, `"instances": 3`, `"HELLO_MESSAGE": "say \"hi\""`, `?file=hello"`} {
		if !strings.Contains(string(app), want) {
			t.Errorf("rendered app lacks %s:\n%s", want, app)
		}
	}
	if _, err := p.Options(map[string]any{"mem": 1}); err == nil || !strings.Contains(err.Error(), "/mem") {
		t.Errorf("mem below the minimum: %v", err)
	}
}

func TestServicesDefinitionRenders(t *testing.T) {
	p, err := packaging.Load(os.DirFS(definitionDir(t, t.TempDir(), "services", "cairn")))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	opts, err := p.Options(map[string]any{"name": "team-a", "role": "team-a/web"})
	if err != nil {
		t.Fatal(err)
	}
	app, err := p.Render(packaging.RenderData{AppID: "/frameworks/team-a", Options: opts, Artifact: "oci://127.0.0.1:5000/cairn/services@sha256:" + strings.Repeat("a", 64)})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"id": "/frameworks/team-a"`, `"SERVICES_NAME": "team-a"`, `"SERVICES_ROLE": "team-a/web"`,
		`./cairn framework run services`, `?file=cairn"`, `"cpus": 0.5`, `"path": "/ping"`} {
		if !strings.Contains(string(app), want) {
			t.Errorf("rendered app lacks %s:\n%s", want, app)
		}
	}
	for opt, bad := range map[string]any{"name": "services", "role": "a b", "mem": 8} {
		if _, err := p.Options(map[string]any{opt: bad}); err == nil || !strings.Contains(err.Error(), "/"+opt) {
			t.Errorf("option %s=%v: %v", opt, bad, err)
		}
	}
	if _, err := p.Options(map[string]any{"name": "Team A"}); err == nil || !strings.Contains(err.Error(), "/name") {
		t.Errorf("a name that is not a DNS label: %v", err)
	}
}

func TestCronDefinitionRenders(t *testing.T) {
	p, err := packaging.Load(os.DirFS(definitionDir(t, t.TempDir(), "cron", "cairn")))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	opts, err := p.Options(nil)
	if err != nil {
		t.Fatal(err)
	}
	app, err := p.Render(packaging.RenderData{Options: opts, Artifact: "oci://127.0.0.1:5000/cairn/cron@sha256:" + strings.Repeat("b", 64)})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"id": "/cron"`, `"CRON_NAME": "cron"`, `./cairn framework run cron`, `?file=cairn"`, `"path": "/ping"`} {
		if !strings.Contains(string(app), want) {
			t.Errorf("rendered app lacks %s:\n%s", want, app)
		}
	}
	for _, name := range []string{"services", "run", "Cron"} {
		if _, err := p.Options(map[string]any{"name": name}); err == nil || !strings.Contains(err.Error(), "/name") {
			t.Errorf("name %q: %v", name, err)
		}
	}
}

func TestSeedPushesOnce(t *testing.T) {
	ctx := context.Background()
	reg, err := registry.Start(ctx, registry.Config{RootDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close(ctx)
	repo, err := remote.Open(remote.Config{URI: "oci://" + reg.Addr() + "/cairn"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	helloDir(t, dir)
	if err := os.Mkdir(filepath.Join(dir, "not-a-package"), 0o755); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	first, err := Seed(ctx, repo, dir, log)
	if err != nil || len(first) != 1 || !first[0].Pushed || first[0].Name != "hello" || first[0].Version != "1.0.0" {
		t.Fatalf("first seed: %+v %v", first, err)
	}
	// Packages build reproducibly: a restart pushes nothing.
	again, err := Seed(ctx, repo, dir, log)
	if err != nil || len(again) != 1 || again[0].Pushed || again[0].Digest != first[0].Digest {
		t.Fatalf("second seed: %+v %v", again, err)
	}
	idx, err := repo.Index(ctx)
	if err != nil || len(idx.Packages) != 1 || idx.Packages[0].Name != "hello" {
		t.Fatalf("index after seeding: %+v %v", idx, err)
	}
	// A broken package is named.
	if err := os.WriteFile(filepath.Join(dir, "hello", "package.json"), []byte(`{"name": "hello"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Seed(ctx, repo, dir, log); err == nil || !strings.Contains(err.Error(), "built-in package hello") {
		t.Fatalf("broken package: %v", err)
	}
	if _, err := Seed(ctx, repo, filepath.Join(dir, "missing"), log); err == nil || !strings.Contains(err.Error(), "make packages") {
		t.Fatalf("missing dir: %v", err)
	}
}
