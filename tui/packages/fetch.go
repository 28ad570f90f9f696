package packages

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/repository/packageapi"
	"github.com/cairn-dc/cairn/tui/internal/listpage"
)

// The page's own messages (unexported, so other pages ignore them).
type (
	// debounceMsg: the quiet time after events is over.
	debounceMsg struct{}
	listedMsg   struct {
		pkgs []packageapi.Installed
		err  error
	}
	searchedMsg struct {
		query string
		pkgs  []packageapi.PackageSummary
		err   error
	}
	describedMsg struct {
		name, version string
		details       packageapi.PackageDetails
		versions      []string
		err           error
	}
)

// list returns the command reading the installed packages. The page calls
// it only when its Refresher says so: one at a time.
func (p *page) list() tea.Cmd {
	ctx, client := p.env.Ctx, p.env.Client
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		res, err := client.PackageList(ctx, packageapi.ListRequest{})
		if err != nil {
			return listedMsg{err: err}
		}
		slices.SortFunc(res.Packages, func(a, b packageapi.Installed) int {
			if c := strings.Compare(a.PackageName, b.PackageName); c != 0 {
				return c
			}
			return strings.Compare(installedAs(a), installedAs(b))
		})
		return listedMsg{pkgs: res.Packages}
	}
}

func (p *page) listed(m listedMsg) tea.Cmd {
	var cmd tea.Cmd
	if p.refresh.Done() {
		cmd = p.list()
	}
	p.loaded = true
	p.err = m.err
	if m.err == nil {
		p.cursor = listpage.Keep(p.installed, m.pkgs, p.cursor, installedAs)
		p.installed = m.pkgs
	}
	return cmd
}

// searchCmd searches the repositories.
func (p *page) searchCmd(query string) tea.Cmd {
	ctx, client := p.env.Ctx, p.env.Client
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		res, err := client.PackageSearch(ctx, packageapi.SearchRequest{Query: query})
		return searchedMsg{query: query, pkgs: res.Packages, err: err}
	}
}

func (p *page) searched(m searchedMsg) {
	if m.query != p.query {
		return // an older search's answer
	}
	p.searching = false
	p.results, p.resultsErr = m.pkgs, m.err
	p.resultCursor = listpage.Clamp(p.resultCursor, len(p.results))
}

// describeCmd reads a package version in full and the package's versions.
func (p *page) describeCmd(name, version string) tea.Cmd {
	ctx, client := p.env.Ctx, p.env.Client
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		m := describedMsg{name: name, version: version}
		d, err := client.PackageDescribe(ctx, packageapi.DescribeRequest{PackageName: name, PackageVersion: version})
		if err != nil {
			m.err = err
			return m
		}
		m.details = d.Package
		if vs, err := client.PackageListVersions(ctx, packageapi.ListVersionsRequest{PackageName: name}); err == nil {
			m.versions = vs.Versions
		}
		return m
	}
}

func (p *page) described(m describedMsg) tea.Cmd {
	if m.name != p.descName || m.version != p.descVersion {
		return nil // an older description's answer
	}
	p.descErr = m.err
	if m.err != nil {
		p.installAfterDescribe = false
		return nil
	}
	p.details, p.versions = &m.details, m.versions
	if p.installAfterDescribe {
		p.installAfterDescribe = false
		return p.openForm()
	}
	return nil
}

// installedAs is what a package is installed as: its app, or its module.
func installedAs(in packageapi.Installed) string {
	if in.AppID != "" {
		return in.AppID
	}
	return in.Module
}

// errorText says what went wrong with the package API and what to do.
func errorText(err error, name, version string) string {
	switch apiclient.PackageErrorType(err) {
	case packageapi.ErrPackageNotFound:
		return fmt.Sprintf("no repository has package %q: search again (/), or see cairn repo list for the repositories searched", name)
	case packageapi.ErrVersionNotFound:
		return fmt.Sprintf("package %s has no version %q: describe it for its versions", name, version)
	case packageapi.ErrServicesUnavailable:
		return "the services framework did not answer: it starts with cairn up; see cairn framework list (" + err.Error() + ")"
	case "":
		var ae *apiclient.APIError
		if errors.As(err, &ae) && (ae.StatusCode == http.StatusNotFound || ae.StatusCode == http.StatusMethodNotAllowed) {
			return "the master does not serve the package API (" + ae.Status + "): is it a Cairn master started by cairn up?"
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return "the package API did not answer in time: is a repository slow? press ctrl+r to try again"
		}
	}
	return err.Error()
}
