package repository

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/packaging"
	"github.com/cairn-dc/cairn/repository/packageapi"
	"github.com/cairn-dc/cairn/repository/remote"
)

func (s *Server) search(ctx context.Context, req *packageapi.SearchRequest) (*packageapi.SearchResponse, error) {
	entries, err := s.entries(ctx)
	if err != nil {
		return nil, err
	}
	out := &packageapi.SearchResponse{Packages: []packageapi.PackageSummary{}}
	if len(entries) == 0 {
		return out, nil
	}
	indexes := make([]*remote.Index, len(entries))
	errs := make([]error, len(entries))
	var wg sync.WaitGroup
	for i, e := range entries {
		wg.Go(func() { indexes[i], errs[i] = s.index(ctx, e) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var firstErr error
	failed := 0
	seen := map[string]bool{}
	query := strings.ToLower(strings.TrimSpace(req.Query))
	for i, e := range entries {
		if errs[i] != nil {
			failed++
			if firstErr == nil {
				firstErr = fmt.Errorf("repository %q: %w", e.Name, errs[i])
			}
			s.log.Warn("search skips a repository", "repository", e.Name, "uri", e.URI, "err", errs[i])
			continue
		}
		for _, p := range indexes[i].Packages {
			if seen[p.Name] {
				continue // a repository searched earlier has it
			}
			seen[p.Name] = true
			if !matches(query, p) {
				continue
			}
			sum := packageapi.PackageSummary{
				Name:        p.Name,
				Description: p.Description,
				Tags:        p.Tags,
				Kind:        p.Kind,
				Repository:  e.Name,
				Versions:    make([]string, 0, len(p.Versions)),
			}
			for _, v := range p.Versions {
				sum.Versions = append(sum.Versions, v.Version)
			}
			if len(sum.Versions) > 0 {
				sum.CurrentVersion = sum.Versions[0]
			}
			out.Packages = append(out.Packages, sum)
		}
	}
	if failed == len(entries) {
		return nil, fmt.Errorf("searching: every repository failed; the first: %w", firstErr)
	}
	if len(out.Packages) > 0 {
		counts := s.installedCounts(ctx)
		for i := range out.Packages {
			out.Packages[i].Installed = counts[out.Packages[i].Name]
		}
	}
	slices.SortFunc(out.Packages, func(a, b packageapi.PackageSummary) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// matches: case-insensitive substring of the name, description or a tag;
// "" and "*" match everything.
func matches(query string, p remote.IndexEntry) bool {
	if query == "" || query == "*" {
		return true
	}
	if strings.Contains(p.Name, query) || strings.Contains(strings.ToLower(p.Description), query) {
		return true
	}
	for _, t := range p.Tags {
		if strings.Contains(strings.ToLower(t), query) {
			return true
		}
	}
	return false
}

// installedCounts counts the installed apps of each package; a services
// framework that does not answer counts nothing (search still works).
func (s *Server) installedCounts(ctx context.Context) map[string]int {
	apps, err := s.services.Apps(ctx, packageapi.LabelName)
	if err != nil {
		s.log.Warn("search cannot count installed packages: the services framework did not answer", "err", err)
		return nil
	}
	counts := map[string]int{}
	for _, a := range apps {
		if n := a.Labels[packageapi.LabelName]; n != "" {
			counts[n]++
		}
	}
	return counts
}

// checkPackageName validates the packageName field of a request.
func checkPackageName(name string) error {
	if name == "" {
		return badRequest("packageName: required: name the package (see %s)", packageapi.PathSearch)
	}
	if !remote.ValidPackageName(name) {
		return badRequest("packageName: %q is not a package name (lowercase letters, digits and dashes)", name)
	}
	return nil
}

// inRepositories runs try on each repository in priority order until one
// holds the package: the first repository holding a name wins. A
// repository holding the package but not the version asked (try answers
// ErrVersionNotFound) passes the turn to the next one, as Cosmos did: a
// version is found wherever it is. Repositories that fail (unreachable,
// refusing credentials) are skipped with a warning; if none holds the
// package and some failed, the first failure is the answer (the package
// may be there).
func (s *Server) inRepositories(ctx context.Context, name string, try func(e entry) error) (entry, error) {
	entries, err := s.entries(ctx)
	if err != nil {
		return entry{}, err
	}
	if len(entries) == 0 {
		return entry{}, fmt.Errorf("package %q not found: no package repositories are configured: add one with %s: %w",
			name, packageapi.PathRepositoryAdd, remote.ErrPackageNotFound)
	}
	var failed, noVersion error
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name)
		err := try(e)
		switch {
		case err == nil:
			return e, nil
		case errors.Is(err, remote.ErrPackageNotFound):
			continue
		case errors.Is(err, remote.ErrVersionNotFound):
			if noVersion == nil {
				noVersion = fmt.Errorf("repository %q: %w", e.Name, err)
			}
			continue
		case errors.Is(err, remote.ErrUnreachable), errors.Is(err, remote.ErrUnauthorized):
			if ctx.Err() != nil {
				return entry{}, err
			}
			s.log.Warn("skipping a repository that failed", "repository", e.Name, "package", name, "err", err)
			if failed == nil {
				failed = fmt.Errorf("repository %q: %w", e.Name, err)
			}
			continue
		default:
			return entry{}, fmt.Errorf("repository %q: %w", e.Name, err)
		}
	}
	if failed != nil {
		return entry{}, failed
	}
	if noVersion != nil {
		return entry{}, noVersion
	}
	return entry{}, fmt.Errorf("package %q is in none of the repositories (%s): search with %s: %w",
		name, strings.Join(names, ", "), packageapi.PathSearch, remote.ErrPackageNotFound)
}

// resolved is a package version found in a repository.
type resolved struct {
	e    entry
	pkg  *packaging.Package
	desc ocispec.Descriptor
}

func (r resolved) artifact() string {
	return r.e.repo.Artifact(r.pkg.Manifest.Name, r.desc.Digest.String())
}

// resolve finds name at version ("" = the highest) in the first
// repository holding the package.
func (s *Server) resolve(ctx context.Context, name, version string) (resolved, error) {
	if err := checkPackageName(name); err != nil {
		return resolved{}, err
	}
	if version != "" && !packaging.ValidVersion(version) {
		return resolved{}, badRequest("packageVersion: %q is not a semantic version (such as 1.2.0)", version)
	}
	var r resolved
	e, err := s.inRepositories(ctx, name, func(e entry) error {
		pkg, desc, err := e.repo.Resolve(ctx, name, version)
		if err == nil {
			r.pkg, r.desc = pkg, desc
		}
		return err
	})
	if err != nil {
		return resolved{}, err
	}
	r.e = e
	return r, nil
}

// details describes a resolved package version.
func details(r resolved) packageapi.PackageDetails {
	d := packageapi.PackageDetails{
		Manifest:   r.pkg.Manifest,
		Repository: r.e.Name,
		Source:     r.e.repo.URI(),
		Artifact:   r.artifact(),
		Digest:     r.desc.Digest.String(),
	}
	if len(r.pkg.Schema) > 0 && json.Valid(r.pkg.Schema) {
		var buf bytes.Buffer
		if json.Compact(&buf, r.pkg.Schema) == nil {
			d.Config = buf.Bytes()
		}
	}
	for _, f := range r.pkg.Files {
		d.Files = append(d.Files, packageapi.FileInfo{Name: f.Name, Platform: f.Platform, Executable: f.Executable, Digest: f.Digest, Size: f.Size})
	}
	return d
}

func (s *Server) describe(ctx context.Context, req *packageapi.DescribeRequest) (*packageapi.DescribeResponse, error) {
	r, err := s.resolve(ctx, req.PackageName, req.PackageVersion)
	if err != nil {
		return nil, err
	}
	return &packageapi.DescribeResponse{Package: details(r)}, nil
}

func (s *Server) listVersions(ctx context.Context, req *packageapi.ListVersionsRequest) (*packageapi.ListVersionsResponse, error) {
	if err := checkPackageName(req.PackageName); err != nil {
		return nil, err
	}
	var versions []string
	_, err := s.inRepositories(ctx, req.PackageName, func(e entry) error {
		v, err := e.repo.Versions(ctx, req.PackageName)
		if err == nil {
			versions = v
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &packageapi.ListVersionsResponse{Versions: versions}, nil
}

// appID checks and makes canonical the appId of a request ("" means
// "/<package name>").
func appID(id, name string) (string, error) {
	if id == "" {
		id = "/" + name
	}
	cid, err := marathon.CanonicalID(id)
	if err != nil {
		return "", badRequest("appId: %v", err)
	}
	return cid, nil
}

// rendered is an app definition rendered from a package, labels included.
type rendered struct {
	app     json.RawMessage
	options map[string]any // resolved
}

// renderApp validates the options, renders the launch template and
// records the install state in the app's labels. userOptions are what the
// user gave (kept in the options label).
func renderApp(r resolved, id string, userOptions map[string]any) (rendered, error) {
	opts, err := packageOptions(r, userOptions)
	if err != nil {
		return rendered{}, err
	}
	artifact := r.artifact()
	out, err := r.pkg.Render(packaging.RenderData{
		Package:  r.pkg.Manifest,
		Options:  opts,
		AppID:    id,
		Artifact: artifact,
		Files:    r.pkg.FileURIs(artifact),
	})
	if err != nil {
		return rendered{}, newAPIError(http.StatusBadGateway, packageapi.ErrArtifactInvalid, err,
			"rendering the launch template of %s %s: %v", r.pkg.Manifest.Name, r.pkg.Manifest.Version, err)
	}
	user, err := json.Marshal(nonNilOptions(userOptions))
	if err != nil {
		return rendered{}, badRequest("options: %v", err)
	}
	app, err := withLabels(out, id, map[string]string{
		packageapi.LabelName:    r.pkg.Manifest.Name,
		packageapi.LabelVersion: r.pkg.Manifest.Version,
		packageapi.LabelSource:  r.e.repo.URI(),
		packageapi.LabelDigest:  r.desc.Digest.String(),
		packageapi.LabelOptions: base64.StdEncoding.EncodeToString(user),
	})
	if err != nil {
		return rendered{}, newAPIError(http.StatusBadGateway, packageapi.ErrArtifactInvalid, err,
			"the launch template of %s %s: %v", r.pkg.Manifest.Name, r.pkg.Manifest.Version, err)
	}
	return rendered{app: app, options: opts}, nil
}

// packageOptions checks the user's options against the package's schema
// and returns them with the schema's defaults.
func packageOptions(r resolved, userOptions map[string]any) (map[string]any, error) {
	opts, err := r.pkg.Options(userOptions)
	if err == nil {
		return opts, nil
	}
	var oe *packaging.OptionsError
	if errors.As(err, &oe) {
		return nil, &apiError{status: http.StatusBadRequest, cause: err, body: packageapi.Error{
			Type:    packageapi.ErrOptionsInvalid,
			Message: fmt.Sprintf("options of %s %s do not match its schema: %s", r.pkg.Manifest.Name, r.pkg.Manifest.Version, strings.Join(oe.Errors, "; ")),
			Errors:  oe.Errors,
		}}
	}
	return nil, newAPIError(http.StatusBadGateway, packageapi.ErrArtifactInvalid, err,
		"package %s %s has a bad options schema: %v", r.pkg.Manifest.Name, r.pkg.Manifest.Version, err)
}

func nonNilOptions(o map[string]any) map[string]any {
	if o == nil {
		return map[string]any{}
	}
	return o
}

// withLabels sets the app's id and merges labels into its "labels"
// object (the template's own labels are kept).
func withLabels(app []byte, id string, labels map[string]string) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(app, &obj); err != nil {
		return nil, fmt.Errorf("rendered app is not a JSON object: %w", err)
	}
	merged := map[string]string{}
	if raw, ok := obj["labels"]; ok && string(bytes.TrimSpace(raw)) != "null" {
		if err := json.Unmarshal(raw, &merged); err != nil {
			return nil, fmt.Errorf("it renders \"labels\" that are not an object of strings: %w", err)
		}
	}
	for k, v := range labels {
		merged[k] = v
	}
	var err error
	if obj["labels"], err = marshalNoEscape(merged); err != nil {
		return nil, err
	}
	if obj["id"], err = marshalNoEscape(id); err != nil {
		return nil, err
	}
	return marshalNoEscape(obj)
}

func marshalNoEscape(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}

func (s *Server) render(ctx context.Context, req *packageapi.RenderRequest) (*packageapi.RenderResponse, error) {
	if err := checkPackageName(req.PackageName); err != nil {
		return nil, err
	}
	id, err := appID(req.AppID, req.PackageName)
	if err != nil {
		return nil, err
	}
	r, err := s.resolve(ctx, req.PackageName, req.PackageVersion)
	if err != nil {
		return nil, err
	}
	out, err := renderApp(r, id, req.Options)
	if err != nil {
		return nil, err
	}
	return &packageapi.RenderResponse{App: out.app, ResolvedOptions: out.options}, nil
}
