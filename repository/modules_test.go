package repository

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-dc/cairn/modules/host/moduleapi"
	"github.com/cairn-dc/cairn/repository/packageapi"
	"github.com/cairn-dc/cairn/repository/remote"
)

// fakeModules is an in-memory module host that checks binaries as the real
// adapter does.
type fakeModules struct {
	mu       sync.Mutex
	mods     map[string]moduleapi.Status
	binaries map[string][]byte
	fail     error
}

func newFakeModules() *fakeModules {
	return &fakeModules{mods: map[string]moduleapi.Status{}, binaries: map[string][]byte{}}
}

func (f *fakeModules) List(context.Context) ([]moduleapi.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	var out []moduleapi.Status
	for _, m := range f.mods {
		out = append(out, m)
	}
	return out, nil
}

func (f *fakeModules) Install(_ context.Context, spec moduleapi.Spec, binary io.Reader) (moduleapi.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.mods[spec.Name]; ok {
		return moduleapi.Status{}, fmt.Errorf("%w: %s", ErrModuleExists, spec.Name)
	}
	b, err := io.ReadAll(binary)
	if err != nil {
		return moduleapi.Status{}, err
	}
	sum := sha256.Sum256(b)
	if "sha256:"+hex.EncodeToString(sum[:]) != spec.SHA256 {
		return moduleapi.Status{}, fmt.Errorf("%w: checksum", ErrModuleInvalid)
	}
	spec.Path = "/modules/" + spec.Name
	if _, err := spec.Normalize(); err != nil {
		return moduleapi.Status{}, fmt.Errorf("%w: %w", ErrModuleInvalid, err)
	}
	st := moduleapi.Status{Name: spec.Name, Kind: spec.Kind, Path: spec.Path, SHA256: spec.SHA256,
		Source: moduleapi.SourcePackage, Package: spec.Package, State: moduleapi.Running}
	f.mods[spec.Name] = st
	f.binaries[spec.Name] = b
	cfg, _ := json.Marshal(json.RawMessage(spec.Config))
	f.binaries[spec.Name+".config"] = cfg
	return st, nil
}

func (f *fakeModules) Update(ctx context.Context, spec moduleapi.Spec, binary io.Reader) (moduleapi.Status, error) {
	f.mu.Lock()
	old, ok := f.mods[spec.Name]
	if ok && old.Package != nil {
		delete(f.mods, spec.Name)
	}
	f.mu.Unlock()
	if !ok {
		return old, fmt.Errorf("%w: %s", ErrModuleNotFound, spec.Name)
	}
	if old.Package == nil {
		return old, fmt.Errorf("%w: not a package's", ErrModuleExists)
	}
	return f.Install(ctx, spec, binary)
}

func (f *fakeModules) Remove(_ context.Context, name string) (moduleapi.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.mods[name]
	if !ok {
		return st, fmt.Errorf("%w: %s", ErrModuleNotFound, name)
	}
	delete(f.mods, name)
	return st, nil
}

func (f *fakeModules) add(st moduleapi.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mods[st.Name] = st
}

func (f *fakeModules) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.mods)
}

// newModuleEnv is newEnv with the notify module package pushed and a
// module host for the given platform.
func newModuleEnv(t *testing.T, platform string) (*env, *fakeModules) {
	t.Helper()
	e := newEnv(t)
	for k, v := range pushPackages(t, remote.Config{URI: e.uri}, "notify-0.1.0", "notify-0.2.0") {
		e.digests[k] = v
	}
	mods := newFakeModules()
	srv, err := NewServer(testContext(t), Config{Services: e.svc, Modules: mods, Platform: platform, Store: e.store,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e.srv, e.h = srv, srv.Handler()
	return e, mods
}

func TestInstallModulePackage(t *testing.T) {
	e, mods := newModuleEnv(t, "linux/arm64")
	var resp packageapi.InstallResponse
	e.mustCall(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "notify", PackageVersion: "0.1.0", Options: map[string]any{"channel": "#cairn"}}, &resp)
	dg := e.digests["notify-0.1.0"].Digest.String()
	want := packageapi.InstallResponse{PackageName: "notify", PackageVersion: "0.1.0", Module: "notify", Digest: dg, Source: e.uri,
		PostInstallNotes: "notify is watching."}
	if resp != want {
		t.Errorf("install = %+v, want %+v", resp, want)
	}
	// The host got the binary of its platform, checked, with the options
	// (and the schema's defaults) as the module's configuration.
	wantBin, err := os.ReadFile(filepath.Join(packagesDir, "notify-0.1.0/bin/linux-arm64/notify"))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(mods.binaries["notify"]); got != string(wantBin) {
		t.Errorf("binary = %q, want the linux-arm64 one %q", got, wantBin)
	}
	if got := string(mods.binaries["notify.config"]); got != `{"channel":"#cairn","level":"info"}` {
		t.Errorf("config = %s", got)
	}
	st := mods.mods["notify"]
	if st.Kind != moduleapi.KindWatcher || st.Package == nil || st.Package.Digest != dg || st.Package.Version != "0.1.0" ||
		st.Package.Source != e.uri || st.Package.Options["channel"] != "#cairn" {
		t.Errorf("module = %+v, package %+v", st, st.Package)
	}

	// A second install under the same name is refused; under another
	// name (appId) it is a second module.
	ae := e.wantError(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "notify"}, http.StatusConflict, packageapi.ErrAppAlreadyInstalled)
	if !strings.Contains(ae.Message, "a module notify exists") {
		t.Errorf("conflict message: %s", ae.Message)
	}
	e.mustCall(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "notify", PackageVersion: "0.1.0", AppID: "/notify-2"}, &resp)
	if resp.Module != "notify-2" || resp.AppID != "" {
		t.Errorf("second install = %+v", resp)
	}

	// Listed with the apps, by the module host's state.
	e.mustCall(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "greeter"}, nil)
	var list packageapi.ListResponse
	e.mustCall(packageapi.PathList, nil, &list)
	var got []string
	for _, p := range list.Packages {
		got = append(got, p.PackageName+":"+p.AppID+":"+p.Module+":"+p.ModuleState+":"+p.Kind)
	}
	if strings.Join(got, " ") != "greeter:/greeter:::service notify::notify:running:module notify::notify-2:running:module" {
		t.Errorf("list = %v", got)
	}
	e.mustCall(packageapi.PathList, packageapi.ListRequest{PackageName: "notify", AppID: "notify-2"}, &list)
	if len(list.Packages) != 1 || list.Packages[0].Module != "notify-2" || list.Packages[0].Description == "" {
		t.Errorf("list notify-2 = %+v", list.Packages)
	}

	// Describe and update it as any installed package, by module name.
	var desc packageapi.ServiceDescribeResponse
	e.mustCall(packageapi.PathServiceDescribe, packageapi.ServiceDescribeRequest{AppID: "notify"}, &desc)
	if desc.Package.Version != "0.1.0" || strings.Join(desc.UpgradesTo, ",") != "0.2.0" || desc.UserProvidedOptions["channel"] != "#cairn" ||
		desc.ResolvedOptions["level"] != "info" {
		t.Errorf("describe = %+v", desc)
	}
	var upd packageapi.ServiceUpdateResponse
	e.mustCall(packageapi.PathServiceUpdate, packageapi.ServiceUpdateRequest{AppID: "/notify", PackageVersion: "0.2.0",
		Options: map[string]any{"level": "warn"}}, &upd)
	if upd.Module != "notify" || upd.Package.Version != "0.2.0" || upd.ResolvedOptions["channel"] != "#cairn" || upd.ResolvedOptions["level"] != "warn" {
		t.Errorf("update = %+v", upd)
	}
	if st := mods.mods["notify"]; st.Package.Version != "0.2.0" || st.Package.Digest != e.digests["notify-0.2.0"].Digest.String() ||
		!strings.Contains(string(mods.binaries["notify"]), "0.2.0 arm64") || string(mods.binaries["notify.config"]) != `{"channel":"#cairn","level":"warn"}` {
		t.Errorf("updated module = %+v, binary %q, config %s", st, mods.binaries["notify"], mods.binaries["notify.config"])
	}
	e.wantError(packageapi.PathServiceUpdate, packageapi.ServiceUpdateRequest{AppID: "notify", Options: map[string]any{"level": "loud"}},
		http.StatusBadRequest, packageapi.ErrOptionsInvalid)
	// Back to 0.1.0 (0.2.0's upgradesFrom is "*"), with the options replaced.
	e.mustCall(packageapi.PathServiceUpdate, packageapi.ServiceUpdateRequest{AppID: "notify", PackageVersion: "0.1.0", Replace: true}, &upd)
	if st := mods.mods["notify"]; st.Package.Version != "0.1.0" || string(mods.binaries["notify.config"]) != `{"channel":"#ops","level":"info"}` {
		t.Errorf("downgraded module = %+v, config %s", st, mods.binaries["notify.config"])
	}

	// Uninstall: ambiguous without appId, then by module name.
	e.wantError(packageapi.PathUninstall, packageapi.UninstallRequest{PackageName: "notify"}, http.StatusConflict, packageapi.ErrAmbiguousApp)
	var un packageapi.UninstallResponse
	e.mustCall(packageapi.PathUninstall, packageapi.UninstallRequest{PackageName: "notify", AppID: "notify-2"}, &un)
	if len(un.Results) != 1 || un.Results[0].Module != "notify-2" || un.Results[0].PostUninstallNotes != "notify is gone." {
		t.Errorf("uninstall = %+v", un)
	}
	e.wantError(packageapi.PathUninstall, packageapi.UninstallRequest{PackageName: "notify", AppID: "notify-2"}, http.StatusNotFound, packageapi.ErrAppNotFound)
	e.mustCall(packageapi.PathUninstall, packageapi.UninstallRequest{PackageName: "notify"}, &un)
	if mods.count() != 0 {
		t.Errorf("%d modules left", mods.count())
	}
}

func TestInstallModulePackageErrors(t *testing.T) {
	e, mods := newModuleEnv(t, "linux/riscv64")
	ae := e.wantError(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "notify"}, http.StatusBadRequest, packageapi.ErrBadRequest)
	if !strings.Contains(ae.Message, "no binary for this master's platform linux/riscv64 (it has: linux/amd64, linux/arm64)") {
		t.Errorf("platform message: %s", ae.Message)
	}

	e, mods = newModuleEnv(t, "linux/amd64")
	ae = e.wantError(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "notify", Options: map[string]any{"level": "debug"}},
		http.StatusBadRequest, packageapi.ErrOptionsInvalid)
	if !strings.Contains(strings.Join(ae.Errors, " "), "/level") {
		t.Errorf("options errors %q do not name /level", ae.Errors)
	}
	e.wantError(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "notify", AppID: "/team/notify"}, http.StatusBadRequest, packageapi.ErrBadRequest)
	// A module of that name that is not a package's.
	mods.add(moduleapi.Status{Name: "notify", Kind: moduleapi.KindHook, Source: "config", State: moduleapi.Running})
	ae = e.wantError(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "notify"}, http.StatusConflict, packageapi.ErrAppAlreadyInstalled)
	if !strings.Contains(ae.Message, "(config)") {
		t.Errorf("conflict message: %s", ae.Message)
	}
	// Not a package's: neither listed nor uninstalled as one.
	var list packageapi.ListResponse
	e.mustCall(packageapi.PathList, nil, &list)
	if len(list.Packages) != 0 {
		t.Errorf("list = %+v", list.Packages)
	}
	e.wantError(packageapi.PathUninstall, packageapi.UninstallRequest{PackageName: "notify"}, http.StatusNotFound, packageapi.ErrAppNotFound)

	// The host down.
	mods.mu.Lock()
	mods.fail = fmt.Errorf("connection refused")
	mods.mu.Unlock()
	e.wantError(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "notify", AppID: "other"}, http.StatusServiceUnavailable, packageapi.ErrModulesUnavailable)
	e.wantError(packageapi.PathList, nil, http.StatusServiceUnavailable, packageapi.ErrModulesUnavailable)

	// No module host at all (the default env).
	plain := newEnv(t)
	pushPackages(t, remote.Config{URI: plain.uri}, "notify-0.1.0")
	ae = plain.wantError(packageapi.PathInstall, packageapi.InstallRequest{PackageName: "notify"}, http.StatusServiceUnavailable, packageapi.ErrModulesUnavailable)
	if !strings.Contains(ae.Message, "no module host") {
		t.Errorf("message: %s", ae.Message)
	}
}
