package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/cairn-dc/cairn/repository/packageapi"
)

// The package API (Cosmos-like) is served by the master under /package/:
// every call is a POST with a JSON body, answered with JSON; errors are
// packageapi.Error bodies, returned as *PackageError.

// PackageError is a non-2xx answer of the package API carrying a
// packageapi.Error: its Type (packageapi.ErrPackageNotFound ...), its
// Message (what failed and what to do) and, for a JsonSchemaMismatch, the
// failing options in Errors.
type PackageError struct {
	Type    string
	Message string
	// Errors are the failing options ("/port: must be >= 1024").
	Errors []string
	// Err is the HTTP answer (status, URL, body).
	Err *APIError
}

// Error is the API's message, followed by the failing options if any.
func (e *PackageError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Err.Error()
	}
	if len(e.Errors) > 0 {
		msg += ": " + strings.Join(e.Errors, "; ")
	}
	return msg
}

func (e *PackageError) Unwrap() error { return e.Err }

// PackageErrorType is the Type of the *PackageError in err's chain, or ""
// when there is none.
func PackageErrorType(err error) string {
	var pe *PackageError
	if errors.As(err, &pe) {
		return pe.Type
	}
	return ""
}

// packageError turns an *APIError whose body is a packageapi.Error (it has
// a type) into a *PackageError; other errors are returned as they are (the
// master's own 401, or a 404 from a master without the package API).
func packageError(err error) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return err
	}
	var body packageapi.Error
	if json.Unmarshal(ae.Body, &body) != nil || body.Type == "" {
		return err
	}
	return &PackageError{Type: body.Type, Message: oneLine(body.Message, 2000), Errors: body.Errors, Err: ae}
}

// packageCall POSTs in to the package API's path and decodes the answer
// into out.
func (c *Client) packageCall(ctx context.Context, path string, in, out any) error {
	return packageError(c.sendJSON(ctx, http.MethodPost, path, nil, in, out))
}

// PackageSearch is POST /package/search: the packages of every
// repository whose name, description or tags contain the query ("" or
// "*": all).
func (c *Client) PackageSearch(ctx context.Context, req packageapi.SearchRequest) (packageapi.SearchResponse, error) {
	var out packageapi.SearchResponse
	if err := c.packageCall(ctx, packageapi.PathSearch, req, &out); err != nil {
		return out, err
	}
	if out.Packages == nil {
		out.Packages = []packageapi.PackageSummary{}
	}
	return out, nil
}

// PackageDescribe is POST /package/describe: a package version in full
// (the highest when req.PackageVersion is empty).
func (c *Client) PackageDescribe(ctx context.Context, req packageapi.DescribeRequest) (packageapi.DescribeResponse, error) {
	var out packageapi.DescribeResponse
	err := c.packageCall(ctx, packageapi.PathDescribe, req, &out)
	return out, err
}

// PackageListVersions is POST /package/list-versions: a package's
// versions, newest first.
func (c *Client) PackageListVersions(ctx context.Context, req packageapi.ListVersionsRequest) (packageapi.ListVersionsResponse, error) {
	var out packageapi.ListVersionsResponse
	if err := c.packageCall(ctx, packageapi.PathListVersions, req, &out); err != nil {
		return out, err
	}
	if out.Versions == nil {
		out.Versions = []string{}
	}
	return out, nil
}

// PackageRender is POST /package/render: the app a package would be
// installed as, without installing it.
func (c *Client) PackageRender(ctx context.Context, req packageapi.RenderRequest) (packageapi.RenderResponse, error) {
	var out packageapi.RenderResponse
	err := c.packageCall(ctx, packageapi.PathRender, req, &out)
	return out, err
}

// PackageInstall is POST /package/install: install a package as an app of
// the services framework. It returns once the app is submitted (its
// deployment then starts its tasks).
func (c *Client) PackageInstall(ctx context.Context, req packageapi.InstallRequest) (packageapi.InstallResponse, error) {
	var out packageapi.InstallResponse
	err := c.packageCall(ctx, packageapi.PathInstall, req, &out)
	return out, err
}

// PackageUninstall is POST /package/uninstall: remove the app(s) installed
// from a package.
func (c *Client) PackageUninstall(ctx context.Context, req packageapi.UninstallRequest) (packageapi.UninstallResponse, error) {
	var out packageapi.UninstallResponse
	if err := c.packageCall(ctx, packageapi.PathUninstall, req, &out); err != nil {
		return out, err
	}
	if out.Results == nil {
		out.Results = []packageapi.UninstallResult{}
	}
	return out, nil
}

// PackageList is POST /package/list: the installed packages (apps with
// package labels), optionally only those of a package or an app.
func (c *Client) PackageList(ctx context.Context, req packageapi.ListRequest) (packageapi.ListResponse, error) {
	var out packageapi.ListResponse
	if err := c.packageCall(ctx, packageapi.PathList, req, &out); err != nil {
		return out, err
	}
	if out.Packages == nil {
		out.Packages = []packageapi.Installed{}
	}
	return out, nil
}

// RepositoryList is POST /package/repository/list: the configured
// repositories, in the order they are searched.
func (c *Client) RepositoryList(ctx context.Context) (packageapi.RepositoryListResponse, error) {
	var out packageapi.RepositoryListResponse
	err := c.packageCall(ctx, packageapi.PathRepositoryList, packageapi.RepositoryListRequest{}, &out)
	return normRepos(out), err
}

// RepositoryAdd is POST /package/repository/add: add a repository (the
// master checks it answers first). The answer is the new list.
func (c *Client) RepositoryAdd(ctx context.Context, req packageapi.RepositoryAddRequest) (packageapi.RepositoryListResponse, error) {
	var out packageapi.RepositoryListResponse
	err := c.packageCall(ctx, packageapi.PathRepositoryAdd, req, &out)
	return normRepos(out), err
}

// RepositoryDelete is POST /package/repository/delete. The answer is the
// new list.
func (c *Client) RepositoryDelete(ctx context.Context, req packageapi.RepositoryDeleteRequest) (packageapi.RepositoryListResponse, error) {
	var out packageapi.RepositoryListResponse
	err := c.packageCall(ctx, packageapi.PathRepositoryDelete, req, &out)
	return normRepos(out), err
}

func normRepos(r packageapi.RepositoryListResponse) packageapi.RepositoryListResponse {
	if r.Repositories == nil {
		r.Repositories = []packageapi.Repository{}
	}
	return r
}

// ServiceDescribe is POST /package/service/describe: the package an app
// was installed from, its options and the versions it may move to.
func (c *Client) ServiceDescribe(ctx context.Context, req packageapi.ServiceDescribeRequest) (packageapi.ServiceDescribeResponse, error) {
	var out packageapi.ServiceDescribeResponse
	err := c.packageCall(ctx, packageapi.PathServiceDescribe, req, &out)
	return out, err
}

// ServiceUpdate is POST /package/service/update: upgrade or re-configure
// an installed app.
func (c *Client) ServiceUpdate(ctx context.Context, req packageapi.ServiceUpdateRequest) (packageapi.ServiceUpdateResponse, error) {
	var out packageapi.ServiceUpdateResponse
	err := c.packageCall(ctx, packageapi.PathServiceUpdate, req, &out)
	return out, err
}
