package repository

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"

	"github.com/cairn-dc/cairn/modules/host/moduleapi"
	"github.com/cairn-dc/cairn/packaging"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

// Modules is what the package API needs of the module host to install
// module packages (kind "module"): the host runs each as a module whose
// Spec.Package names the package. The composition root adapts the master's
// module host to it.
//
// Errors: a module that does not exist wraps ErrModuleNotFound, one whose
// name is taken wraps ErrModuleExists, a binary or spec the host refuses
// wraps ErrModuleInvalid; anything else is the host being unavailable.
type Modules interface {
	// List is every module of the host, with its status.
	List(ctx context.Context) ([]moduleapi.Status, error)
	// Install writes the module's binary (read from binary, which the
	// implementation must check against spec.SHA256 before trusting it)
	// where the host keeps package binaries, sets spec.Path and starts the
	// module. A module of that name must not exist.
	Install(ctx context.Context, spec moduleapi.Spec, binary io.Reader) (moduleapi.Status, error)
	// Update replaces a module installed from a package (same name) with
	// spec and its binary, as Install does, and restarts it; the old
	// binary is deleted once the new module is in place.
	Update(ctx context.Context, spec moduleapi.Spec, binary io.Reader) (moduleapi.Status, error)
	// Remove stops the module, forgets it and deletes its binary.
	Remove(ctx context.Context, name string) (moduleapi.Status, error)
}

// Errors a Modules implementation wraps.
var (
	ErrModuleNotFound = errors.New("module not found")
	ErrModuleExists   = errors.New("module already exists")
	ErrModuleInvalid  = errors.New("module refused")
)

// modulesError turns a Modules failure into its answer.
func modulesError(err error, doing string) error {
	switch {
	case errors.Is(err, ErrModuleExists):
		return newAPIError(http.StatusConflict, packageapi.ErrAppAlreadyInstalled, err, "%s: %v", doing, err)
	case errors.Is(err, ErrModuleNotFound):
		return newAPIError(http.StatusNotFound, packageapi.ErrAppNotFound, err, "%s: %v", doing, err)
	case errors.Is(err, ErrModuleInvalid):
		return newAPIError(http.StatusBadGateway, packageapi.ErrArtifactInvalid, err, "%s: %v", doing, err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w", doing, err)
	}
	return newAPIError(http.StatusServiceUnavailable, packageapi.ErrModulesUnavailable, err,
		"%s: the module host did not answer: %v", doing, err)
}

// moduleName is the module a module package installs as: appId without
// its leading "/" (one segment), or the package's name.
func moduleName(appID, pkg string) (string, error) {
	name := strings.TrimPrefix(strings.TrimSpace(appID), "/")
	if name == "" {
		name = pkg
	}
	if err := moduleapi.ValidateName(name); err != nil {
		return "", badRequest("appId: %q does not name a module: %v", appID, strings.TrimPrefix(err.Error(), "name: "))
	}
	return name, nil
}

// installModule installs a resolved module package on the module host:
// options checked against the schema (with defaults) become the module's
// configuration; the binary for the host's platform is fetched by digest.
func (s *Server) installModule(ctx context.Context, r resolved, req *packageapi.InstallRequest) (*packageapi.InstallResponse, error) {
	m := r.pkg.Manifest
	if s.modules == nil {
		return nil, newAPIError(http.StatusServiceUnavailable, packageapi.ErrModulesUnavailable, nil,
			"%s is a module package, and this master runs no module host to install it on: run it on a master that runs its module host (cairn up and cairn master do)", m.Name)
	}
	name, err := moduleName(req.AppID, m.Name)
	if err != nil {
		return nil, err
	}
	spec, bin, err := s.moduleSpec(r, name, req.Options)
	if err != nil {
		return nil, err
	}
	mods, err := s.modules.List(ctx)
	if err != nil {
		return nil, modulesError(err, "listing modules")
	}
	if i := slices.IndexFunc(mods, func(st moduleapi.Status) bool { return st.Name == name }); i >= 0 {
		how := "uninstall it first, or install under another name with appId"
		if p := mods[i].Package; p != nil {
			how = fmt.Sprintf("it is package %s %s: uninstall it first, update it, or install under another name with appId", p.Name, p.Version)
		}
		return nil, newAPIError(http.StatusConflict, packageapi.ErrAppAlreadyInstalled, nil, "a module %s exists (%s): %s", name, mods[i].Source, how)
	}
	rc, err := r.e.repo.FetchFile(ctx, m.Name, bin)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	st, err := s.modules.Install(ctx, spec, rc)
	if err != nil {
		return nil, modulesError(err, fmt.Sprintf("installing module %s from %s %s", name, m.Name, m.Version))
	}
	s.log.Info("module package installed", "package", m.Name, "version", m.Version, "module", name,
		"digest", r.desc.Digest.String(), "binary", bin.Digest, "state", st.State)
	return &packageapi.InstallResponse{
		PackageName:      m.Name,
		PackageVersion:   m.Version,
		Module:           name,
		Digest:           r.desc.Digest.String(),
		Source:           r.e.repo.URI(),
		PostInstallNotes: m.PostInstallNotes,
	}, nil
}

// moduleSpec is the module a resolved module package runs as: its options
// checked against the schema (with the defaults) as the configuration, and
// the binary for the module host's platform.
func (s *Server) moduleSpec(r resolved, name string, userOptions map[string]any) (moduleapi.Spec, packaging.File, error) {
	m := r.pkg.Manifest
	if m.Module == nil {
		return moduleapi.Spec{}, packaging.File{}, newAPIError(http.StatusBadGateway, packageapi.ErrArtifactInvalid, nil,
			"module package %s %s has no \"module\" object in its manifest: push a valid package", m.Name, m.Version)
	}
	opts, err := packageOptions(r, userOptions)
	if err != nil {
		return moduleapi.Spec{}, packaging.File{}, err
	}
	bin, ok := r.pkg.ModuleBinary(s.platform)
	if !ok {
		var have []string
		for _, f := range r.pkg.ModuleBinaries() {
			have = append(have, f.Platform)
		}
		return moduleapi.Spec{}, packaging.File{}, newAPIError(http.StatusBadRequest, packageapi.ErrBadRequest, nil,
			"module package %s %s has no binary for this master's platform %s (it has: %s): install a version built for %s",
			m.Name, m.Version, s.platform, strings.Join(have, ", "), s.platform)
	}
	config, err := json.Marshal(opts)
	if err != nil {
		return moduleapi.Spec{}, packaging.File{}, badRequest("options: %v", err)
	}
	return moduleapi.Spec{
		Name: name, Kind: m.Module.Kind, SHA256: bin.Digest, Config: config,
		Package: &moduleapi.PackageRef{Name: m.Name, Version: m.Version, Source: r.e.repo.URI(),
			Digest: r.desc.Digest.String(), Options: userOptions},
	}, bin, nil
}

// updateModule replaces a module installed from a package with target
// (another version, or other options).
func (s *Server) updateModule(ctx context.Context, cur moduleapi.Status, from string, target resolved, user map[string]any) (*packageapi.ServiceUpdateResponse, error) {
	spec, bin, err := s.moduleSpec(target, cur.Name, user)
	if err != nil {
		return nil, err
	}
	rc, err := target.e.repo.FetchFile(ctx, target.pkg.Manifest.Name, bin)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	m := target.pkg.Manifest
	if _, err := s.modules.Update(ctx, spec, rc); err != nil {
		return nil, modulesError(err, fmt.Sprintf("updating module %s to %s %s", cur.Name, m.Name, m.Version))
	}
	opts, _ := packageOptions(target, user) // checked by moduleSpec
	s.log.Info("installed module package updated", "module", cur.Name, "package", m.Name, "from", from,
		"to", m.Version, "digest", target.desc.Digest.String())
	return &packageapi.ServiceUpdateResponse{Package: details(target), ResolvedOptions: opts, Module: cur.Name}, nil
}

// packageModules lists the modules installed from package name ("" for
// all); nil without a module host.
func (s *Server) packageModules(ctx context.Context, name string) ([]moduleapi.Status, error) {
	if s.modules == nil {
		return nil, nil
	}
	mods, err := s.modules.List(ctx)
	if err != nil {
		return nil, modulesError(err, "listing module packages")
	}
	mods = slices.DeleteFunc(mods, func(st moduleapi.Status) bool {
		return st.Package == nil || name != "" && st.Package.Name != name
	})
	slices.SortFunc(mods, func(a, b moduleapi.Status) int { return strings.Compare(a.Name, b.Name) })
	return mods, nil
}

// installedModule is a module as the Package API lists it.
func installedModule(st moduleapi.Status) packageapi.Installed {
	return packageapi.Installed{
		Module:         st.Name,
		ModuleState:    string(st.State),
		PackageName:    st.Package.Name,
		PackageVersion: st.Package.Version,
		Source:         st.Package.Source,
		Digest:         st.Package.Digest,
		Options:        st.Package.Options,
		Kind:           string(packaging.KindModule),
	}
}

// uninstallModule removes one module installed from a package.
func (s *Server) uninstallModule(ctx context.Context, st moduleapi.Status) (packageapi.UninstallResult, error) {
	if _, err := s.modules.Remove(ctx, st.Name); err != nil && !errors.Is(err, ErrModuleNotFound) {
		return packageapi.UninstallResult{}, modulesError(err, "removing module "+st.Name)
	}
	p := st.Package
	s.log.Info("module package uninstalled", "package", p.Name, "version", p.Version, "module", st.Name)
	return packageapi.UninstallResult{
		PackageName:        p.Name,
		PackageVersion:     p.Version,
		Module:             st.Name,
		PostUninstallNotes: s.uninstallNotes(ctx, installState{name: p.Name, version: p.Version, source: p.Source}),
	}, nil
}

// hostPlatform is the platform module binaries are picked for: the
// master's own, since its module host runs them.
func hostPlatform() string { return runtime.GOOS + "/" + runtime.GOARCH }
