package repository

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/modules/host/moduleapi"
	"github.com/cairn-dc/cairn/packaging"
	"github.com/cairn-dc/cairn/repository/packageapi"
	"github.com/cairn-dc/cairn/repository/remote"
)

// installedApp reads an installed app and resolves its pinned package
// (by digest, from the repository it came from).
func (s *Server) installedApp(ctx context.Context, rawID string) (marathon.AppStatus, installState, resolved, error) {
	var none resolved
	if rawID == "" {
		return marathon.AppStatus{}, installState{}, none, badRequest("appId: required: the installed app (see %s)", packageapi.PathList)
	}
	id, err := marathon.CanonicalID(rawID)
	if err != nil {
		return marathon.AppStatus{}, installState{}, none, badRequest("appId: %v", err)
	}
	app, err := s.services.App(ctx, id)
	if err != nil {
		if errors.Is(err, ErrAppNotFound) {
			return app, installState{}, none, newAPIError(http.StatusNotFound, packageapi.ErrAppNotFound, err,
				"no app %s: list the installed packages with %s", id, packageapi.PathList)
		}
		return app, installState{}, none, servicesError(err, "reading app "+id)
	}
	st, ok, err := readLabels(app.Labels)
	if !ok {
		return app, st, none, newAPIError(http.StatusNotFound, packageapi.ErrAppNotFound, nil,
			"app %s was not installed from a package (it has no %s label)", id, packageapi.LabelName)
	}
	if err != nil {
		return app, st, none, newAPIError(http.StatusBadGateway, packageapi.ErrArtifactInvalid, err, "app %s: %v", id, err)
	}
	e, err := s.sourceRepository(ctx, st.source)
	if err != nil {
		return app, st, none, err
	}
	pkg, desc, err := e.repo.ResolveDigest(ctx, st.name, st.digest)
	if err != nil {
		return app, st, none, fmt.Errorf("app %s: its package %s %s: %w", id, st.name, st.version, err)
	}
	return app, st, resolved{e: e, pkg: pkg, desc: desc}, nil
}

// allows says whether a list of upgradesFrom names version.
func allows(upgradesFrom []string, version string) bool {
	for _, v := range upgradesFrom {
		if v == "*" || v == version {
			return true
		}
	}
	return false
}

// upgradeManifestConcurrency bounds the versions read at once.
const upgradeManifestConcurrency = 4

// upgradesTo lists the versions newer than the installed one whose
// upgradesFrom allows it, newest first.
func (s *Server) upgradesTo(ctx context.Context, e entry, name, installed string, versions []string) ([]string, error) {
	var newer []string
	for _, v := range versions {
		if packaging.CompareVersions(v, installed) > 0 {
			newer = append(newer, v)
		}
	}
	ok := make([]bool, len(newer))
	errs := make([]error, len(newer))
	sem := make(chan struct{}, upgradeManifestConcurrency)
	var wg sync.WaitGroup
	for i, v := range newer {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			m, _, err := e.repo.Manifest(ctx, name, v)
			if err != nil {
				errs[i] = err
				return
			}
			ok[i] = allows(m.UpgradesFrom, installed)
		})
	}
	wg.Wait()
	out := []string{}
	for i, v := range newer {
		if err := errs[i]; err != nil {
			if errors.Is(err, remote.ErrUnreachable) || errors.Is(err, remote.ErrUnauthorized) || ctx.Err() != nil {
				return nil, err
			}
			s.log.Warn("skipping an unreadable version", "package", name, "version", v, "err", err)
			continue
		}
		if ok[i] {
			out = append(out, v)
		}
	}
	return out, nil
}

// downgradesTo lists the older versions the installed one's upgradesFrom
// names, newest first.
func downgradesTo(installed packaging.Manifest, versions []string) []string {
	out := []string{}
	for _, v := range versions {
		if packaging.CompareVersions(v, installed.Version) < 0 && allows(installed.UpgradesFrom, v) {
			out = append(out, v)
		}
	}
	return out
}

// anInstalled is an installed package found by its app id or module name,
// with its pinned package resolved.
type anInstalled struct {
	what string             // "app /web" or "module dns", for messages
	app  marathon.AppStatus // when an app
	mod  *moduleapi.Status  // when a module
	st   installState
	r    resolved
}

// installedPackage finds what rawID names: a module installed from a
// package ("dns", "/dns"), else an app installed from one.
func (s *Server) installedPackage(ctx context.Context, rawID string) (anInstalled, error) {
	if name := strings.TrimPrefix(strings.TrimSpace(rawID), "/"); name != "" && s.modules != nil {
		mods, err := s.packageModules(ctx, "")
		if err != nil {
			return anInstalled{}, err
		}
		for i, m := range mods {
			if m.Name != name {
				continue
			}
			p := m.Package
			st := installState{name: p.Name, version: p.Version, source: p.Source, digest: p.Digest, options: p.Options}
			e, err := s.sourceRepository(ctx, st.source)
			if err != nil {
				return anInstalled{}, err
			}
			pkg, desc, err := e.repo.ResolveDigest(ctx, st.name, st.digest)
			if err != nil {
				return anInstalled{}, fmt.Errorf("module %s: its package %s %s: %w", name, st.name, st.version, err)
			}
			return anInstalled{what: "module " + name, mod: &mods[i], st: st, r: resolved{e: e, pkg: pkg, desc: desc}}, nil
		}
	}
	app, st, r, err := s.installedApp(ctx, rawID)
	if err != nil {
		return anInstalled{}, err
	}
	return anInstalled{what: "app " + app.ID, app: app, st: st, r: r}, nil
}

func (s *Server) serviceDescribe(ctx context.Context, req *packageapi.ServiceDescribeRequest) (*packageapi.ServiceDescribeResponse, error) {
	in, err := s.installedPackage(ctx, req.AppID)
	if err != nil {
		return nil, err
	}
	st, r := in.st, in.r
	versions, err := r.e.repo.Versions(ctx, st.name)
	if err != nil && !errors.Is(err, remote.ErrPackageNotFound) {
		return nil, err
	}
	up, err := s.upgradesTo(ctx, r.e, st.name, r.pkg.Manifest.Version, versions)
	if err != nil {
		return nil, err
	}
	resolvedOpts, err := r.pkg.Options(st.options)
	if err != nil {
		s.log.Warn("an installed package's options no longer validate", "install", in.what, "err", err)
		resolvedOpts = st.options
	}
	return &packageapi.ServiceDescribeResponse{
		Package:             details(r),
		UpgradesTo:          up,
		DowngradesTo:        downgradesTo(r.pkg.Manifest, versions),
		ResolvedOptions:     resolvedOpts,
		UserProvidedOptions: st.options,
	}, nil
}

func (s *Server) serviceUpdate(ctx context.Context, req *packageapi.ServiceUpdateRequest) (*packageapi.ServiceUpdateResponse, error) {
	if req.PackageVersion != "" && !packaging.ValidVersion(req.PackageVersion) {
		return nil, badRequest("packageVersion: %q is not a semantic version (such as 1.2.0)", req.PackageVersion)
	}
	in, err := s.installedPackage(ctx, req.AppID)
	if err != nil {
		return nil, err
	}
	st, cur := in.st, in.r
	target := cur
	from := cur.pkg.Manifest
	if req.PackageVersion != "" && req.PackageVersion != from.Version {
		pkg, desc, err := cur.e.repo.Resolve(ctx, st.name, req.PackageVersion)
		if err != nil {
			return nil, err
		}
		target = resolved{e: cur.e, pkg: pkg, desc: desc}
		to := pkg.Manifest
		if packaging.CompareVersions(to.Version, from.Version) > 0 {
			if !allows(to.UpgradesFrom, from.Version) {
				return nil, newAPIError(http.StatusBadRequest, packageapi.ErrUpgradeNotAllowed, nil,
					"%s %s cannot replace %s on %s: its upgradesFrom is [%s]: see the allowed versions with %s",
					to.Name, to.Version, from.Version, in.what, strings.Join(to.UpgradesFrom, ", "), packageapi.PathServiceDescribe)
			}
		} else if !allows(from.UpgradesFrom, to.Version) {
			return nil, newAPIError(http.StatusBadRequest, packageapi.ErrUpgradeNotAllowed, nil,
				"%s cannot go back from %s %s to %s: the installed version's upgradesFrom is [%s]: see the allowed versions with %s",
				in.what, from.Name, from.Version, to.Version, strings.Join(from.UpgradesFrom, ", "), packageapi.PathServiceDescribe)
		}
		if (to.Kind == packaging.KindModule) != (in.mod != nil) {
			return nil, newAPIError(http.StatusBadRequest, packageapi.ErrUpgradeNotAllowed, nil,
				"%s %s is a %s package and cannot replace %s: uninstall it and install the new version", to.Name, to.Version, to.Kind, in.what)
		}
	}
	user := st.options
	switch {
	case req.Replace:
		user = nonNilOptions(req.Options)
	case req.Options != nil:
		user = mergeOptions(st.options, req.Options)
	}
	if in.mod != nil {
		return s.updateModule(ctx, *in.mod, from.Version, target, user)
	}
	out, err := renderApp(target, in.app.ID, user)
	if err != nil {
		return nil, err
	}
	dep, err := s.services.UpdateApp(ctx, in.app.ID, out.app)
	if err != nil {
		return nil, servicesError(err, fmt.Sprintf("updating app %s to %s %s", in.app.ID, target.pkg.Manifest.Name, target.pkg.Manifest.Version))
	}
	s.log.Info("installed package updated", "appId", in.app.ID, "package", st.name, "from", from.Version,
		"to", target.pkg.Manifest.Version, "digest", target.desc.Digest.String(), "deployment", dep)
	return &packageapi.ServiceUpdateResponse{
		Package:         details(target),
		ResolvedOptions: out.options,
		DeploymentID:    dep,
	}, nil
}

// mergeOptions merges over into base, recursively for objects (a new
// map; base and over are not modified).
func mergeOptions(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		bo, ok1 := out[k].(map[string]any)
		oo, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			out[k] = mergeOptions(bo, oo)
			continue
		}
		out[k] = v
	}
	return out
}
