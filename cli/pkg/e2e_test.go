package pkg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/deployment"
	"github.com/cairn-dc/cairn/cli/deployment/deploymenttest"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/repository"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

// servicesAdapter is repository.Services over the services framework's
// API, as the master wires it (here: the fake master's).
type servicesAdapter struct{ c *apiclient.Client }

func (s servicesAdapter) Apps(ctx context.Context, selector string) ([]marathon.AppStatus, error) {
	apps, err := s.c.Apps(ctx, "")
	if err != nil {
		return nil, err
	}
	key, value, eq := strings.Cut(selector, "==")
	var out []marathon.AppStatus
	for _, a := range apps {
		if v, ok := a.Labels[key]; ok && (!eq || v == value) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (s servicesAdapter) App(ctx context.Context, id string) (marathon.AppStatus, error) {
	a, err := s.c.App(ctx, id)
	return a, servicesErr(err)
}

func (s servicesAdapter) CreateApp(ctx context.Context, def json.RawMessage) (string, error) {
	created, err := s.c.CreateApp(ctx, def)
	return created.DeploymentID(), servicesErr(err)
}

func (s servicesAdapter) UpdateApp(ctx context.Context, id string, def json.RawMessage) (string, error) {
	res, err := s.c.UpdateApp(ctx, id, def, false)
	return res.DeploymentID, servicesErr(err)
}

func (s servicesAdapter) DeleteApp(ctx context.Context, id string) (string, error) {
	res, err := s.c.DeleteApp(ctx, id, false)
	return res.DeploymentID, servicesErr(err)
}

func servicesErr(err error) error {
	var ae *apiclient.APIError
	var invalid *apiclient.AppInvalidError
	var locked *apiclient.AppLockedError
	switch {
	case err == nil:
		return nil
	case deployment.IsNotFound(err):
		return fmt.Errorf("%w: %w", repository.ErrAppNotFound, err)
	case errors.As(err, &invalid):
		return fmt.Errorf("%w: %w", repository.ErrAppInvalid, err)
	case errors.As(err, &locked):
		return fmt.Errorf("%w: %w", repository.ErrAppLocked, err)
	case errors.As(err, &ae) && ae.StatusCode == http.StatusConflict:
		return fmt.Errorf("%w: %w", repository.ErrAppExists, err)
	}
	return err
}

// TestEndToEnd runs the commands against the real package API
// (repository.Server), an embedded registry and the fake master's
// services framework: publish, find, describe, install, list, uninstall.
func TestEndToEnd(t *testing.T) {
	addr := startRegistry(t, nil)
	repoURI := "oci://" + addr + "/cairn"
	if r := localRun(t, "", "push", tinyDir, "--repo", repoURI); r.err != nil {
		t.Fatalf("push: %v", r.err)
	}
	m := deploymenttest.New(t)
	mc, err := apiclient.New(m.URL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := repository.NewServer(t.Context(), repository.Config{
		Services: servicesAdapter{mc},
		BuiltIn:  &packageapi.Repository{Name: "builtin", URI: repoURI},
		IndexTTL: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/package/", srv.Handler())
	mux.Handle("/", m.Config.Handler)
	master := httptest.NewServer(mux)
	t.Cleanup(master.Close)
	url := master.URL

	r := run(t, url, "", false, "search")
	if r.err != nil || !strings.Contains(r.out, "tiny   0.1.0     service   builtin") {
		t.Fatalf("search: %v\n%s", r.err, r.out)
	}
	r = run(t, url, "", false, "describe", "tiny")
	if r.err != nil || !strings.HasPrefix(r.out, "tiny 0.1.0 · service\n") || !strings.Contains(r.out, "index.html") ||
		!strings.Contains(r.out, "instances, mem (see cairn package describe tiny --version 0.1.0 --config)") {
		t.Errorf("describe: %v\n%s", r.err, r.out)
	}
	r = run(t, url, "", false, "describe", "tiny", "--render", "--app-id", "/demo/tiny")
	var app map[string]any
	if err := json.Unmarshal([]byte(r.out), &app); err != nil || app["id"] != "/demo/tiny" || app["mem"] != 16.0 {
		t.Errorf("render: %v %v\n%s", r.err, err, r.out)
	}
	r = run(t, url, "", false, "install", "tiny", "--yes", "--options", writeFile(t, "o.json", `{"mem": 4, "colour": "red"}`))
	if r.err == nil || !strings.HasPrefix(r.err.Error(), "invalid options for package tiny 0.1.0") ||
		!strings.Contains(r.errOut, "/mem") || !strings.Contains(r.errOut, "colour") {
		t.Errorf("bad options: %v\n%s", r.err, r.errOut)
	}

	r = run(t, url, "", false, "install", "tiny", "--yes", "--wait", "--options", writeFile(t, "o.json", `{"instances": 2}`))
	if r.err != nil {
		t.Fatalf("install: %v (stderr %q)", r.err, r.errOut)
	}
	if !strings.Contains(r.out, "Installed package tiny version 0.1.0 as app /tiny (digest sha256:") ||
		!strings.Contains(r.out, "Post-install notes:\n  tiny is running.\n") ||
		!strings.HasSuffix(r.out, "app /tiny has 2/2 tasks running\n") {
		t.Errorf("install: %q", r.out)
	}
	r = run(t, url, "", false, "install", "tiny", "--yes")
	if r.err == nil || !strings.HasPrefix(r.err.Error(), "app /tiny already exists") {
		t.Errorf("install twice: %v", r.err)
	}
	r = run(t, url, "", false, "list")
	if r.err != nil || !strings.Contains(r.out, "/tiny   tiny   0.1.0     2           2         sha256:") {
		t.Errorf("list: %v\n%s", r.err, r.out)
	}
	r = run(t, url, "", false, "uninstall", "tiny", "--yes", "--wait")
	if r.err != nil || !strings.HasPrefix(r.out, "Uninstalled package tiny version 0.1.0 (app /tiny)\n") ||
		!strings.HasSuffix(r.out, "app /tiny is removed\n") {
		t.Errorf("uninstall: %v %q", r.err, r.out)
	}
	r = run(t, url, "", false, "list")
	if r.err != nil || !strings.HasPrefix(r.out, "No packages installed") {
		t.Errorf("list after: %v %q", r.err, r.out)
	}
	r = run(t, url, "", false, "install", "nope", "--yes")
	if r.err == nil || !strings.HasPrefix(r.err.Error(), `no repository has package "nope"`) {
		t.Errorf("not found: %v", r.err)
	}
}
