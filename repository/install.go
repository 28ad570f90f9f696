package repository

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/modules/host/moduleapi"
	"github.com/cairn-dc/cairn/packaging"
	"github.com/cairn-dc/cairn/repository/packageapi"
	"github.com/cairn-dc/cairn/repository/remote"
)

// install resolves the package, validates the options, renders the app
// and creates it. Everything that can fail is checked before the app is
// created: a failed install leaves nothing behind.
func (s *Server) install(ctx context.Context, req *packageapi.InstallRequest) (*packageapi.InstallResponse, error) {
	if err := checkPackageName(req.PackageName); err != nil {
		return nil, err
	}
	r, err := s.resolve(ctx, req.PackageName, req.PackageVersion)
	if err != nil {
		return nil, err
	}
	if r.pkg.Manifest.Kind == packaging.KindModule {
		return s.installModule(ctx, r, req)
	}
	id, err := appID(req.AppID, req.PackageName)
	if err != nil {
		return nil, err
	}
	out, err := renderApp(r, id, req.Options)
	if err != nil {
		return nil, err
	}
	switch _, err := s.services.App(ctx, id); {
	case err == nil:
		return nil, newAPIError(http.StatusConflict, packageapi.ErrAppAlreadyInstalled, nil,
			"an app %s exists: install with another appId, or update it with %s", id, packageapi.PathServiceUpdate)
	case errors.Is(err, ErrAppNotFound):
	default:
		return nil, servicesError(err, "checking app "+id)
	}
	dep, err := s.services.CreateApp(ctx, out.app)
	if err != nil {
		if errors.Is(err, ErrAppExists) {
			return nil, newAPIError(http.StatusConflict, packageapi.ErrAppAlreadyInstalled, err,
				"an app %s exists: install with another appId, or update it with %s", id, packageapi.PathServiceUpdate)
		}
		return nil, servicesError(err, fmt.Sprintf("creating app %s for %s %s", id, r.pkg.Manifest.Name, r.pkg.Manifest.Version))
	}
	s.log.Info("package installed", "package", r.pkg.Manifest.Name, "version", r.pkg.Manifest.Version,
		"appId", id, "digest", r.desc.Digest.String(), "repository", r.e.Name, "deployment", dep)
	return &packageapi.InstallResponse{
		PackageName:      r.pkg.Manifest.Name,
		PackageVersion:   r.pkg.Manifest.Version,
		AppID:            id,
		Digest:           r.desc.Digest.String(),
		Source:           r.e.repo.URI(),
		DeploymentID:     dep,
		PostInstallNotes: r.pkg.Manifest.PostInstallNotes,
	}, nil
}

// installState is what an installed app's labels say.
type installState struct {
	name, version, source, digest string
	options                       map[string]any // user-provided
}

// readLabels reads the install state of an app; ok is false if the app
// was not installed from a package.
func readLabels(labels map[string]string) (installState, bool, error) {
	st := installState{
		name:    labels[packageapi.LabelName],
		version: labels[packageapi.LabelVersion],
		source:  labels[packageapi.LabelSource],
		digest:  labels[packageapi.LabelDigest],
	}
	if st.name == "" {
		return st, false, nil
	}
	if enc := labels[packageapi.LabelOptions]; enc != "" {
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return st, true, fmt.Errorf("label %s is not base64: %w", packageapi.LabelOptions, err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&st.options); err != nil {
			return st, true, fmt.Errorf("label %s is not a JSON object: %w", packageapi.LabelOptions, err)
		}
	}
	if st.options == nil {
		st.options = map[string]any{}
	}
	return st, true, nil
}

// installedApps lists the apps installed from a package ("" for all).
func (s *Server) installedApps(ctx context.Context, name string) ([]marathon.AppStatus, error) {
	sel := packageapi.LabelName
	if name != "" {
		sel += "==" + name
	}
	apps, err := s.services.Apps(ctx, sel)
	if err != nil {
		return nil, servicesError(err, "listing installed packages")
	}
	// The selector is the services framework's job; check it anyway.
	apps = slices.DeleteFunc(apps, func(a marathon.AppStatus) bool {
		n := a.Labels[packageapi.LabelName]
		return n == "" || name != "" && n != name
	})
	slices.SortFunc(apps, func(a, b marathon.AppStatus) int { return strings.Compare(a.ID, b.ID) })
	return apps, nil
}

// anInstall is one install of a package: an app, or a module.
type anInstall struct {
	id  string // the app's id, or the module's name
	app marathon.AppStatus
	mod *moduleapi.Status
}

// installs lists the installs of package name: its apps, then its modules.
func (s *Server) installs(ctx context.Context, name string) ([]anInstall, error) {
	apps, err := s.installedApps(ctx, name)
	if err != nil {
		return nil, err
	}
	mods, err := s.packageModules(ctx, name)
	if err != nil {
		return nil, err
	}
	out := make([]anInstall, 0, len(apps)+len(mods))
	for _, a := range apps {
		out = append(out, anInstall{id: a.ID, app: a})
	}
	for i := range mods {
		out = append(out, anInstall{id: mods[i].Name, mod: &mods[i]})
	}
	return out, nil
}

func (s *Server) uninstall(ctx context.Context, req *packageapi.UninstallRequest) (*packageapi.UninstallResponse, error) {
	if err := checkPackageName(req.PackageName); err != nil {
		return nil, err
	}
	if req.AppID != "" && req.All {
		return nil, badRequest("appId and all: give one of them")
	}
	installs, err := s.installs(ctx, req.PackageName)
	if err != nil {
		return nil, err
	}
	if req.AppID != "" {
		// An app id ("/web") or a module's name ("dns", "/dns").
		id, idErr := appID(req.AppID, req.PackageName)
		modName := strings.TrimPrefix(strings.TrimSpace(req.AppID), "/")
		installs = slices.DeleteFunc(installs, func(in anInstall) bool {
			if in.mod != nil {
				return in.id != modName
			}
			return idErr != nil || in.id != id
		})
		if len(installs) == 0 {
			if idErr != nil {
				return nil, idErr
			}
			return nil, newAPIError(http.StatusNotFound, packageapi.ErrAppNotFound, nil,
				"package %q is not installed as %s: list the installs with %s", req.PackageName, strings.TrimSpace(req.AppID), packageapi.PathList)
		}
	}
	switch {
	case len(installs) == 0:
		return nil, newAPIError(http.StatusNotFound, packageapi.ErrAppNotFound, nil, "package %q is not installed", req.PackageName)
	case len(installs) > 1 && !req.All:
		ids := make([]string, len(installs))
		for i, in := range installs {
			ids[i] = in.id
		}
		return nil, newAPIError(http.StatusConflict, packageapi.ErrAmbiguousApp, nil,
			"package %q is installed %d times (%s): name one with appId, or uninstall all", req.PackageName, len(installs), strings.Join(ids, ", "))
	}
	out := &packageapi.UninstallResponse{Results: []packageapi.UninstallResult{}}
	for _, in := range installs {
		var res packageapi.UninstallResult
		var err error
		if in.mod != nil {
			res, err = s.uninstallModule(ctx, *in.mod)
		} else {
			res, err = s.uninstallApp(ctx, in.app)
		}
		if err != nil {
			if len(out.Results) > 0 {
				done := make([]string, len(out.Results))
				for i, r := range out.Results {
					done[i] = cmp.Or(r.AppID, r.Module)
				}
				return nil, fmt.Errorf("%w (already uninstalled: %s)", err, strings.Join(done, ", "))
			}
			return nil, err
		}
		out.Results = append(out.Results, res)
	}
	return out, nil
}

// uninstallApp removes one app installed from a package.
func (s *Server) uninstallApp(ctx context.Context, a marathon.AppStatus) (packageapi.UninstallResult, error) {
	st, _, _ := readLabels(a.Labels)
	dep, err := s.services.DeleteApp(ctx, a.ID)
	if err != nil && !errors.Is(err, ErrAppNotFound) { // already gone: done
		return packageapi.UninstallResult{}, servicesError(err, "removing app "+a.ID)
	}
	s.log.Info("package uninstalled", "package", st.name, "version", st.version, "appId", a.ID, "deployment", dep)
	return packageapi.UninstallResult{
		PackageName:        st.name,
		PackageVersion:     st.version,
		AppID:              a.ID,
		DeploymentID:       dep,
		PostUninstallNotes: s.uninstallNotes(ctx, st),
	}, nil
}

// uninstallNotes reads the installed version's postUninstallNotes; best
// effort (the registry may be gone: the app is removed anyway).
func (s *Server) uninstallNotes(ctx context.Context, st installState) string {
	e, err := s.sourceRepository(ctx, st.source)
	if err != nil {
		return ""
	}
	m, _, err := e.repo.Manifest(ctx, st.name, st.version)
	if err != nil {
		s.log.Debug("no post-uninstall notes", "package", st.name, "version", st.version, "err", err)
		return ""
	}
	return m.PostUninstallNotes
}

func (s *Server) list(ctx context.Context, req *packageapi.ListRequest) (*packageapi.ListResponse, error) {
	if req.PackageName != "" {
		if err := checkPackageName(req.PackageName); err != nil {
			return nil, err
		}
	}
	var id string
	if req.AppID != "" {
		cid, err := marathon.CanonicalID(req.AppID)
		if err != nil {
			return nil, badRequest("appId: %v", err)
		}
		id = cid
	}
	apps, err := s.installedApps(ctx, req.PackageName)
	if err != nil {
		return nil, err
	}
	mods, err := s.packageModules(ctx, req.PackageName)
	if err != nil {
		return nil, err
	}
	out := &packageapi.ListResponse{Packages: []packageapi.Installed{}}
	var entries []entry
	if len(apps) > 0 {
		entries, _ = s.entries(ctx) // for kinds and descriptions, best effort
	}
	for _, a := range apps {
		if id != "" && a.ID != id {
			continue
		}
		st, _, err := readLabels(a.Labels)
		if err != nil {
			s.log.Warn("an installed app has a bad options label", "appId", a.ID, "err", err)
		}
		inst := packageapi.Installed{
			AppID:          a.ID,
			PackageName:    st.name,
			PackageVersion: st.version,
			Source:         st.source,
			Digest:         st.digest,
			Options:        st.options,
			TasksRunning:   a.TasksRunning,
			TasksHealthy:   a.TasksHealthy,
		}
		if a.Instances != nil {
			inst.Instances = *a.Instances
		}
		if ie, ok := s.cachedEntry(ctx, entries, st.source, st.name); ok {
			inst.Kind, inst.Description = ie.Kind, ie.Description
		}
		out.Packages = append(out.Packages, inst)
	}
	if len(mods) > 0 && entries == nil {
		entries, _ = s.entries(ctx)
	}
	for _, m := range mods {
		if req.AppID != "" && m.Name != strings.TrimPrefix(strings.TrimSpace(req.AppID), "/") {
			continue
		}
		inst := installedModule(m)
		if ie, ok := s.cachedEntry(ctx, entries, inst.Source, inst.PackageName); ok {
			inst.Description = ie.Description
		}
		out.Packages = append(out.Packages, inst)
	}
	return out, nil
}

// cachedEntry finds a package in the (cached) index of the configured
// repository with the given URI; best effort.
func (s *Server) cachedEntry(ctx context.Context, entries []entry, source, name string) (remote.IndexEntry, bool) {
	for _, e := range entries {
		if e.repo.URI() != canonicalURI(source) {
			continue
		}
		idx, err := s.index(ctx, e)
		if err != nil {
			return remote.IndexEntry{}, false
		}
		return idx.Entry(name)
	}
	return remote.IndexEntry{}, false
}

// sourceRepository is the repository an app was installed from: the
// configured one with that URI (and its credentials), or, if it was
// removed since, the URI opened with the Docker credentials.
func (s *Server) sourceRepository(ctx context.Context, source string) (entry, error) {
	if source == "" {
		return entry{}, fmt.Errorf("the app has no %s label: %w", packageapi.LabelSource, remote.ErrPackageNotFound)
	}
	uri := canonicalURI(source)
	entries, err := s.entries(ctx)
	if err != nil {
		return entry{}, err
	}
	for _, e := range entries {
		if e.repo.URI() == uri {
			return e, nil
		}
	}
	st := StoredRepository{Repository: packageapi.Repository{URI: uri}}
	repo, err := s.open(st)
	if err != nil {
		return entry{}, newAPIError(http.StatusBadGateway, packageapi.ErrArtifactInvalid, err,
			"the app's %s label %q: %v", packageapi.LabelSource, source, err)
	}
	return entry{StoredRepository: st, repo: repo, key: openKey(st)}, nil
}
