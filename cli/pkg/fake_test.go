package pkg

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/deployment"
	"github.com/cairn-dc/cairn/cli/deployment/deploymenttest"
	"github.com/cairn-dc/cairn/packaging"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

const (
	helloDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	oldDigest   = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	testRepoURI = "oci://127.0.0.1:5000/cairn"
	testPoll    = 5 * time.Millisecond
)

// helloSchema: port must be >= 1024 (the fake checks it), instances
// defaults to 1.
const helloSchema = `{"type":"object","properties":{"port":{"type":"integer","minimum":1024,"default":8080},"instances":{"type":"integer","default":1}}}`

func helloDetails(version, digest string) packageapi.PackageDetails {
	return packageapi.PackageDetails{
		Manifest: packaging.Manifest{
			Name: "hello", Version: version, Kind: packaging.KindService,
			Description: "A tiny HTTP server that says hello.\nSecond line.", Maintainer: "Cairn developers <dev@cairn.invalid>",
			Tags: []string{"example", "http"}, UpgradesFrom: []string{"0.9.0"},
			PreInstallNotes:    "hello listens on one port.\nIt needs 32 MiB.",
			PostInstallNotes:   "hello is running: curl its port.",
			PostUninstallNotes: "hello leaves nothing behind.",
			Licenses:           []packaging.License{{Name: "Apache-2.0", URL: "https://www.apache.org/licenses/LICENSE-2.0"}},
		},
		Repository: "builtin", Source: testRepoURI,
		Artifact: testRepoURI + "/hello@" + digest, Digest: digest,
		Config: json.RawMessage(helloSchema),
		Files: []packageapi.FileInfo{
			{Name: "hello", Platform: "linux/amd64", Executable: true, Digest: "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Size: 1536},
			{Name: "README.txt", Digest: "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", Size: 29},
		},
	}
}

// fakeAPI is a master serving the package API from memory; with a
// deploymenttest.Master behind it, installs and uninstalls go to its
// services framework (so --wait can follow their deployments), and every
// other path is served by it.
type fakeAPI struct {
	*httptest.Server
	t      *testing.T
	master *deploymenttest.Master

	// running: installs add the app to the master already running,
	// and answer no deployment id.
	running bool

	mu        sync.Mutex
	packages  map[string][]packageapi.PackageDetails // newest first
	installed []packageapi.Installed
	repos     []packageapi.Repository
	requests  []string // "path body"
}

func newFakeAPI(t *testing.T, master *deploymenttest.Master) *fakeAPI {
	t.Helper()
	a := &fakeAPI{t: t, master: master,
		packages: map[string][]packageapi.PackageDetails{"hello": {helloDetails("1.0.0", helloDigest), helloDetails("0.9.0", oldDigest)}},
		repos:    []packageapi.Repository{{Name: "builtin", URI: testRepoURI, Priority: 0, BuiltIn: true}},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /package/{rest...}", a.serve)
	if master != nil {
		mux.Handle("/", master.Config.Handler)
	}
	a.Server = httptest.NewServer(mux)
	t.Cleanup(a.Close)
	return a
}

// Requests are the package API calls so far: "path body".
func (a *fakeAPI) Requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.requests)
}

func (a *fakeAPI) request(path string) string {
	for _, r := range a.Requests() {
		if p, body, _ := strings.Cut(r, " "); p == path {
			return body
		}
	}
	return ""
}

func (a *fakeAPI) install(in packageapi.Installed) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.installed = append(a.installed, in)
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code int, typ, msg string, errs ...string) {
	reply(w, code, packageapi.Error{Type: typ, Message: msg, Errors: errs})
}

// find returns a package version ("" is the highest).
func (a *fakeAPI) find(w http.ResponseWriter, name, version string) (packageapi.PackageDetails, bool) {
	vs, ok := a.packages[name]
	if !ok {
		fail(w, 404, packageapi.ErrPackageNotFound, fmt.Sprintf("no repository has package %q", name))
		return packageapi.PackageDetails{}, false
	}
	for _, p := range vs {
		if version == "" || p.Version == version {
			return p, true
		}
	}
	fail(w, 404, packageapi.ErrVersionNotFound, fmt.Sprintf("package %s has no version %s", name, version))
	return packageapi.PackageDetails{}, false
}

// checkOptions is the fake's schema: /port >= 1024, no unknown option.
func checkOptions(opts map[string]any) []string {
	var errs []string
	if p, ok := opts["port"].(float64); ok && p < 1024 {
		errs = append(errs, fmt.Sprintf("/port: must be >= 1024 but found %v", p))
	}
	for k := range opts {
		if k != "port" && k != "instances" {
			errs = append(errs, fmt.Sprintf("/%s: additional property not allowed", k))
		}
	}
	slices.Sort(errs)
	return errs
}

func (a *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests = append(a.requests, r.URL.Path+" "+string(body))
	dec := func(v any) bool {
		if err := json.Unmarshal(body, v); err != nil {
			fail(w, 400, packageapi.ErrBadRequest, err.Error())
			return false
		}
		return true
	}
	switch r.URL.Path {
	case packageapi.PathSearch:
		var req packageapi.SearchRequest
		if !dec(&req) {
			return
		}
		out := packageapi.SearchResponse{Packages: []packageapi.PackageSummary{}}
		for name, vs := range a.packages {
			if !strings.Contains(name, req.Query) && req.Query != "*" {
				continue
			}
			n := 0
			for _, in := range a.installed {
				if in.PackageName == name {
					n++
				}
			}
			var versions []string
			for _, v := range vs {
				versions = append(versions, v.Version)
			}
			out.Packages = append(out.Packages, packageapi.PackageSummary{Name: name, CurrentVersion: vs[0].Version, Versions: versions,
				Description: vs[0].Description, Tags: vs[0].Tags, Kind: string(vs[0].Kind), Repository: vs[0].Repository, Installed: n})
		}
		reply(w, 200, out)
	case packageapi.PathDescribe:
		var req packageapi.DescribeRequest
		if !dec(&req) {
			return
		}
		if p, ok := a.find(w, req.PackageName, req.PackageVersion); ok {
			reply(w, 200, packageapi.DescribeResponse{Package: p})
		}
	case packageapi.PathListVersions:
		var req packageapi.ListVersionsRequest
		if !dec(&req) {
			return
		}
		if _, ok := a.find(w, req.PackageName, ""); ok {
			var vs []string
			for _, p := range a.packages[req.PackageName] {
				vs = append(vs, p.Version)
			}
			reply(w, 200, packageapi.ListVersionsResponse{Versions: vs})
		}
	case packageapi.PathRender:
		var req packageapi.RenderRequest
		if !dec(&req) {
			return
		}
		p, ok := a.find(w, req.PackageName, req.PackageVersion)
		if !ok {
			return
		}
		if errs := checkOptions(req.Options); len(errs) > 0 {
			fail(w, 400, packageapi.ErrOptionsInvalid, "the options do not match the schema", errs...)
			return
		}
		app, _ := json.Marshal(a.app(p, req.AppID, req.Options))
		reply(w, 200, packageapi.RenderResponse{App: app, ResolvedOptions: resolved(req.Options)})
	case packageapi.PathInstall:
		var req packageapi.InstallRequest
		if !dec(&req) {
			return
		}
		a.serveInstall(w, req)
	case packageapi.PathUninstall:
		var req packageapi.UninstallRequest
		if !dec(&req) {
			return
		}
		a.serveUninstall(w, req)
	case packageapi.PathList:
		var req packageapi.ListRequest
		if !dec(&req) {
			return
		}
		out := packageapi.ListResponse{Packages: []packageapi.Installed{}}
		for _, in := range a.installed {
			if (req.PackageName == "" || in.PackageName == req.PackageName) && (req.AppID == "" || in.AppID == req.AppID) {
				if a.master != nil {
					if st, ok := a.master.App(in.AppID); ok {
						in.TasksRunning = st.TasksRunning
					}
				}
				out.Packages = append(out.Packages, in)
			}
		}
		reply(w, 200, out)
	case packageapi.PathServiceDescribe:
		var req packageapi.ServiceDescribeRequest
		if !dec(&req) {
			return
		}
		in, ok := a.installedApp(w, req.AppID)
		if !ok {
			return
		}
		p, _ := a.find(w, in.PackageName, in.PackageVersion)
		out := packageapi.ServiceDescribeResponse{Package: p, UpgradesTo: []string{}, DowngradesTo: []string{},
			UserProvidedOptions: in.Options, ResolvedOptions: resolved(in.Options)}
		for _, v := range a.packages[in.PackageName] {
			if v.Version > in.PackageVersion && slices.Contains(v.UpgradesFrom, in.PackageVersion) {
				out.UpgradesTo = append(out.UpgradesTo, v.Version)
			}
		}
		reply(w, 200, out)
	case packageapi.PathServiceUpdate:
		var req packageapi.ServiceUpdateRequest
		if !dec(&req) {
			return
		}
		a.serveServiceUpdate(w, req)
	case packageapi.PathRepositoryList:
		reply(w, 200, packageapi.RepositoryListResponse{Repositories: a.repos})
	default:
		fail(w, 404, packageapi.ErrBadRequest, "no such endpoint "+r.URL.Path)
	}
}

func resolved(opts map[string]any) map[string]any {
	out := map[string]any{"port": 8080.0, "instances": 1.0}
	for k, v := range opts {
		out[k] = v
	}
	return out
}

// app renders a package: the fake's launch template.
func (a *fakeAPI) app(p packageapi.PackageDetails, appID string, opts map[string]any) map[string]any {
	if appID == "" {
		appID = "/" + p.Name
	}
	o := resolved(opts)
	return map[string]any{
		"id": appID, "cmd": fmt.Sprintf("./hello --port %v", o["port"]), "cpus": 0.1, "mem": 32, "instances": o["instances"],
		"labels": map[string]string{packageapi.LabelName: p.Name, packageapi.LabelVersion: p.Version, packageapi.LabelDigest: p.Digest},
	}
}

func (a *fakeAPI) serveInstall(w http.ResponseWriter, req packageapi.InstallRequest) {
	p, ok := a.find(w, req.PackageName, req.PackageVersion)
	if !ok {
		return
	}
	if errs := checkOptions(req.Options); len(errs) > 0 {
		fail(w, 400, packageapi.ErrOptionsInvalid, "the options do not match the schema", errs...)
		return
	}
	appID := req.AppID
	if appID == "" {
		appID = "/" + p.Name
	}
	for _, in := range a.installed {
		if in.AppID == appID {
			fail(w, 409, packageapi.ErrAppAlreadyInstalled, "an app with id "+appID+" exists")
			return
		}
	}
	res := packageapi.InstallResponse{PackageName: p.Name, PackageVersion: p.Version, AppID: appID, Digest: p.Digest,
		Source: p.Source, PostInstallNotes: p.PostInstallNotes}
	app := a.app(p, appID, req.Options)
	if a.master != nil && a.running {
		def, _ := json.Marshal(app)
		a.master.AddApp(string(def), int(app["instances"].(float64)))
	} else if a.master != nil {
		var created struct {
			Deployments []struct {
				ID string `json:"id"`
			} `json:"deployments"`
		}
		if err := a.services(http.MethodPost, "/v2/apps", app, &created); err != nil {
			fail(w, 503, packageapi.ErrServicesUnavailable, err.Error())
			return
		}
		res.DeploymentID = created.Deployments[0].ID
	}
	inst, _ := app["instances"].(float64)
	a.installed = append(a.installed, packageapi.Installed{AppID: appID, PackageName: p.Name, PackageVersion: p.Version,
		Source: p.Source, Digest: p.Digest, Options: req.Options, Instances: int(inst), Kind: string(p.Kind)})
	reply(w, 200, res)
}

func (a *fakeAPI) serveUninstall(w http.ResponseWriter, req packageapi.UninstallRequest) {
	var match []int
	for i, in := range a.installed {
		if in.PackageName == req.PackageName && (req.AppID == "" || in.AppID == req.AppID) {
			match = append(match, i)
		}
	}
	switch {
	case len(match) == 0:
		fail(w, 404, packageapi.ErrAppNotFound, "package "+req.PackageName+" is not installed")
		return
	case len(match) > 1 && !req.All && req.AppID == "":
		fail(w, 409, packageapi.ErrAmbiguousApp, "package "+req.PackageName+" is installed several times")
		return
	}
	out := packageapi.UninstallResponse{Results: []packageapi.UninstallResult{}}
	for _, i := range match {
		in := a.installed[i]
		p, _ := a.find(w, in.PackageName, in.PackageVersion)
		r := packageapi.UninstallResult{PackageName: in.PackageName, PackageVersion: in.PackageVersion, AppID: in.AppID,
			PostUninstallNotes: p.PostUninstallNotes}
		if a.master != nil {
			var res struct {
				DeploymentID string `json:"deploymentId"`
			}
			if err := a.services(http.MethodDelete, "/v2/apps"+in.AppID, nil, &res); err != nil {
				fail(w, 503, packageapi.ErrServicesUnavailable, err.Error())
				return
			}
			r.DeploymentID = res.DeploymentID
		}
		out.Results = append(out.Results, r)
	}
	a.installed = slices.DeleteFunc(a.installed, func(in packageapi.Installed) bool {
		return slices.ContainsFunc(out.Results, func(r packageapi.UninstallResult) bool { return r.AppID == in.AppID })
	})
	reply(w, 200, out)
}

func (a *fakeAPI) installedApp(w http.ResponseWriter, appID string) (*packageapi.Installed, bool) {
	for i := range a.installed {
		if a.installed[i].AppID == appID {
			return &a.installed[i], true
		}
	}
	fail(w, 404, packageapi.ErrAppNotFound, "no app "+appID+" installed from a package")
	return nil, false
}

// serveServiceUpdate: a newer version must name the installed one in its
// upgradesFrom (the fake never allows going back); options merge unless
// replaced.
func (a *fakeAPI) serveServiceUpdate(w http.ResponseWriter, req packageapi.ServiceUpdateRequest) {
	in, ok := a.installedApp(w, req.AppID)
	if !ok {
		return
	}
	version := cmp.Or(req.PackageVersion, in.PackageVersion)
	p, ok := a.find(w, in.PackageName, version)
	if !ok {
		return
	}
	if version != in.PackageVersion && (version < in.PackageVersion || !slices.Contains(p.UpgradesFrom, in.PackageVersion)) {
		fail(w, 400, packageapi.ErrUpgradeNotAllowed, fmt.Sprintf("%s %s cannot replace %s", p.Name, version, in.PackageVersion))
		return
	}
	opts := maps.Clone(in.Options)
	if req.Replace || opts == nil {
		opts = map[string]any{}
	}
	maps.Copy(opts, req.Options)
	if errs := checkOptions(opts); len(errs) > 0 {
		fail(w, 400, packageapi.ErrOptionsInvalid, "the options do not match the schema", errs...)
		return
	}
	in.PackageVersion, in.Digest, in.Options = p.Version, p.Digest, opts
	reply(w, 200, packageapi.ServiceUpdateResponse{Package: p, ResolvedOptions: resolved(opts), DeploymentID: "dep-update"})
}

// services calls the fake master's services framework.
func (a *fakeAPI) services(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, _ := json.Marshal(in)
		body = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, a.master.URL+"/service/services"+path, body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode > 299 {
		return fmt.Errorf("%s %s: %s", method, path, data)
	}
	return json.Unmarshal(data, out)
}

// deploymentConfig is a --wait's progress in tests: none, fast polls.
func deploymentConfig() deployment.Config { return deployment.Config{PollInterval: testPoll} }

// result is what a command printed, and its error.
type result struct {
	out, errOut string
	err         error
}

// run runs "cairn package ARGS" against the master at url, stdin as its
// standard input; terminal says whether that is a terminal (for install
// and uninstall's question).
func run(t *testing.T, url, stdin string, terminal bool, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	f := cmdutil.NewFactory(cmdutil.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}, func(k string) string {
		if k == cmdutil.EnvURL {
			return url
		}
		return ""
	})
	cmd := cmdutil.NewNounCmd("package", "", "")
	cmd.AddCommand(
		NewCmdSearch(f, nil),
		NewCmdDescribe(f, nil),
		NewCmdInstall(f, func(ctx context.Context, o *InstallOptions) error {
			o.InIsTerminal, o.PollInterval = terminal, testPoll
			return installRun(ctx, o)
		}),
		NewCmdUninstall(f, func(ctx context.Context, o *UninstallOptions) error {
			o.InIsTerminal, o.PollInterval = terminal, testPoll
			return uninstallRun(ctx, o)
		}),
		NewCmdUpdate(f, func(ctx context.Context, o *UpdateOptions) error {
			o.InIsTerminal, o.PollInterval = terminal, testPoll
			return updateRun(ctx, o)
		}),
		NewCmdList(f, nil),
		NewCmdBuild(f, nil),
		NewCmdPush(f, nil),
		NewCmdVerify(f, nil),
	)
	cmd.SetArgs(args)
	cmd.SetIn(f.IOStreams.In)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetFlagErrorFunc(cmdutil.FlagErrorFunc)
	err := cmd.ExecuteContext(context.Background())
	return result{out: out.String(), errOut: errOut.String(), err: err}
}
