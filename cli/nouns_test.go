package cli_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/cli/config"
	"github.com/cairn-dc/cairn/cli/framework"
	"github.com/cairn-dc/cairn/cli/version"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/modules/host/moduleapi"
	"github.com/cairn-dc/cairn/packaging"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

func ptr[T any](v T) *T { return &v }

var testStarted = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func testApps() []marathon.AppStatus {
	return []marathon.AppStatus{{
		App: marathon.App{ID: "/web", Cmd: ptr("python3 -m http.server $PORT0"), Instances: ptr(2),
			CPUs: ptr(0.5), Mem: ptr(512.0), Labels: map[string]string{}, Version: "2026-03-01T09:00:00.000Z"},
		TasksRunning: 2, TasksHealthy: 2,
	}}
}

func testDeployments() []marathon.Deployment {
	return []marathon.Deployment{{
		ID: "01m8as42-5x1n-s0gr-hzzr-dedp35", Version: "2026-03-01T09:00:00.000Z", AffectedApps: []string{"/web"},
		Steps:          []marathon.Step{{Actions: []marathon.Action{{Action: "ScaleApplication", App: "/web"}}}},
		CurrentActions: []marathon.CurrentAction{{Action: "ScaleApplication", App: "/web"}},
		CurrentStep:    1, TotalSteps: 1, Waiting: "no agent has cpus 0.5 free",
	}}
}

func testJobs() []cronapi.Job {
	return []cronapi.Job{{ID: "reports.nightly", Description: "the nightly report",
		Run: cronapi.JobRun{Cmd: "make report", CPUs: 1, Mem: 128}}}
}

func testModules() []moduleapi.Status {
	return []moduleapi.Status{{Name: "dns", Kind: "watcher", Source: "config", State: moduleapi.Running,
		PID: 4242, StartedAt: &testStarted, Path: "/opt/cairn/modules/cairn-dns"}}
}

func testInstalled() []packageapi.Installed {
	return []packageapi.Installed{{AppID: "/hello", PackageName: "hello", PackageVersion: "1.0.0",
		Source: "oci://127.0.0.1:5000/cairn", Digest: "sha256:" + strings.Repeat("a", 64), Instances: 1, TasksRunning: 1}}
}

func testRepos() []packageapi.Repository {
	return []packageapi.Repository{{Name: "builtin", URI: "oci://127.0.0.1:5000/cairn", Priority: 0, PlainHTTP: true, BuiltIn: true}}
}

func testPackage() packageapi.PackageDetails {
	return packageapi.PackageDetails{
		Manifest:   packaging.Manifest{Name: "hello", Version: "1.0.0", Description: "says hello", Maintainer: "cairn", Kind: "service"},
		Repository: "builtin", Source: "oci://127.0.0.1:5000/cairn",
		Artifact: "oci://127.0.0.1:5000/cairn/hello@sha256:" + strings.Repeat("a", 64), Digest: "sha256:" + strings.Repeat("a", 64),
	}
}

// newFakeCluster serves, from canned data, every API the CLI's nouns read:
// the operator API (with /health and /v1/modules), the services and cron
// frameworks' APIs behind /service/<name>/, and the package API.
func newFakeCluster(t *testing.T) *httptest.Server {
	t.Helper()
	m := newFakeMaster(t, "")
	reply := func(v any) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { m.reply(w, r, v) }
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", m.Config.Handler) // agents, frameworks, tasks
	mux.HandleFunc("GET /health", reply(map[string]any{"status": "ok", "leader": true,
		"master": protocol.MasterInfo{ID: "m1", Hostname: "node-a", Version: "v9.9.9"}}))
	mux.HandleFunc("GET /v1/modules", reply(testModules()))
	mux.HandleFunc("GET /v1/modules/dns", reply(testModules()[0]))
	mux.HandleFunc("GET /service/services/v2/apps", reply(map[string]any{"apps": testApps()}))
	mux.HandleFunc("GET /service/services/v2/apps/web", reply(map[string]any{"app": testApps()[0]}))
	mux.HandleFunc("GET /service/services/v2/deployments", reply(testDeployments()))
	mux.HandleFunc("GET /service/services/v2/queue", reply(map[string]any{"queue": []any{}}))
	mux.HandleFunc("GET /service/cron/v1/jobs", reply(testJobs()))
	mux.HandleFunc("GET /service/cron/v1/jobs/reports.nightly", reply(testJobs()[0]))
	mux.HandleFunc("GET /service/cron/v1/jobs/reports.nightly/dependencies", reply(cronapi.Dependencies{Parents: []string{}}))
	mux.HandleFunc("POST "+packageapi.PathList, reply(packageapi.ListResponse{Packages: testInstalled()}))
	mux.HandleFunc("POST "+packageapi.PathSearch, reply(packageapi.SearchResponse{Packages: []packageapi.PackageSummary{
		{Name: "hello", CurrentVersion: "1.0.0", Description: "says hello"}}}))
	mux.HandleFunc("POST "+packageapi.PathDescribe, reply(packageapi.DescribeResponse{Package: testPackage()}))
	mux.HandleFunc("POST "+packageapi.PathListVersions, reply(packageapi.ListVersionsResponse{Versions: []string{"1.0.0"}}))
	mux.HandleFunc("POST "+packageapi.PathRepositoryList, reply(packageapi.RepositoryListResponse{Repositories: testRepos()}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// decode unmarshals a command's --json output into v, strictly: a field
// the wire type does not have is an error.
func decode(t *testing.T, out string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("--json output does not decode into %T: %v\n%s", v, err, out)
	}
}

// TestNouns runs every noun's list and describe against the fake cluster:
// the tables' headers (ids first), and the --json shapes decoded into the
// wire types.
func TestNouns(t *testing.T) {
	srv := newFakeCluster(t)
	for _, tc := range []struct {
		args   []string
		header string // the table's first line, spaces collapsed; or a prefix of a describe view
		check  func(t *testing.T, out string)
	}{
		{args: []string{"agent", "list"}, header: "ID HOSTNAME STATUS CPUS MEM TASKS ATTRIBUTES",
			check: func(t *testing.T, out string) {
				var v []protocol.Agent
				decode(t, out, &v)
				if len(v) != 2 || v[0].ID == "" {
					t.Errorf("agents %+v", v)
				}
			}},
		{args: []string{"agent", "describe", "node-a"}, header: "ID: 01JB8X5Q2M3N4P5R6S7T8V9W0A",
			check: func(t *testing.T, out string) {
				var v struct {
					Agent protocol.Agent  `json:"agent"`
					Tasks []protocol.Task `json:"tasks"`
				}
				decode(t, out, &v)
				if v.Agent.ID != agent1 || len(v.Tasks) != 2 {
					t.Errorf("agent describe %+v", v)
				}
			}},
		{args: []string{"framework", "list"}, header: "ID NAME ROLES CONNECTED TASKS CPUS MEM",
			check: func(t *testing.T, out string) {
				var v []protocol.Framework
				decode(t, out, &v)
				if len(v) != 2 {
					t.Errorf("frameworks %+v", v)
				}
			}},
		{args: []string{"framework", "describe", "services"}, header: "ID: 01JB8X5Q2M3N4P5R6S7T8V9W0F",
			check: func(t *testing.T, out string) {
				var v framework.Description
				decode(t, out, &v)
				if v.Framework.Name != "services" || len(v.Tasks) != 2 {
					t.Errorf("framework describe %+v", v)
				}
			}},
		{args: []string{"task", "list"}, header: "ID NAME FRAMEWORK AGENT STATE HEALTHY",
			check: func(t *testing.T, out string) {
				var v []protocol.Task
				decode(t, out, &v)
				if len(v) != 3 {
					t.Errorf("tasks %+v", v)
				}
			}},
		{args: []string{"task", "describe", "web.1"}, header: "ID: web.1",
			check: func(t *testing.T, out string) {
				var v protocol.Task
				decode(t, out, &v)
				if v.ID != "web.1" || v.FrameworkID != fwWeb {
					t.Errorf("task describe %+v", v)
				}
			}},
		{args: []string{"app", "list"}, header: "ID INSTANCES HEALTHY CPUS MEM DEPLOYMENT CMD",
			check: func(t *testing.T, out string) {
				var v []marathon.AppStatus
				decode(t, out, &v)
				if len(v) != 1 || v[0].ID != "/web" {
					t.Errorf("apps %+v", v)
				}
			}},
		{args: []string{"app", "describe", "web"}, header: "ID: /web",
			check: func(t *testing.T, out string) {
				var v marathon.AppStatus
				decode(t, out, &v)
				if v.ID != "/web" || v.TasksRunning != 2 {
					t.Errorf("app describe %+v", v)
				}
			}},
		{args: []string{"deployment", "list"}, header: "ID APPS ACTION STEP WAITING AGE",
			check: func(t *testing.T, out string) {
				var v []marathon.Deployment
				decode(t, out, &v)
				if len(v) != 1 || v[0].ID != testDeployments()[0].ID {
					t.Errorf("deployments %+v", v)
				}
			}},
		{args: []string{"deployment", "describe", testDeployments()[0].ID}, header: "ID: " + testDeployments()[0].ID,
			check: func(t *testing.T, out string) {
				var v marathon.Deployment
				decode(t, out, &v)
				if v.ID != testDeployments()[0].ID || v.Waiting == "" {
					t.Errorf("deployment describe %+v", v)
				}
			}},
		{args: []string{"job", "list"}, header: "ID SCHEDULES STATUS LAST RUN NEXT RUN",
			check: func(t *testing.T, out string) {
				var v []cronapi.Job
				decode(t, out, &v)
				if len(v) != 1 || v[0].ID != "reports.nightly" {
					t.Errorf("jobs %+v", v)
				}
			}},
		{args: []string{"job", "describe", "reports.nightly"}, header: "ID: reports.nightly",
			check: func(t *testing.T, out string) {
				var v cronapi.Job
				decode(t, out, &v)
				if v.ID != "reports.nightly" || v.Run.Cmd != "make report" {
					t.Errorf("job describe %+v", v)
				}
			}},
		{args: []string{"package", "list"}, header: "APP NAME VERSION INSTANCES RUNNING DIGEST SOURCE",
			check: func(t *testing.T, out string) {
				var v []packageapi.Installed
				decode(t, out, &v)
				if len(v) != 1 || v[0].AppID != "/hello" {
					t.Errorf("packages %+v", v)
				}
			}},
		{args: []string{"package", "describe", "hello"}, header: "hello 1.0.0",
			check: func(t *testing.T, out string) {
				var v struct {
					Package  packageapi.PackageDetails `json:"package"`
					Versions []string                  `json:"versions"`
				}
				decode(t, out, &v)
				if v.Package.Name != "hello" || len(v.Versions) != 1 {
					t.Errorf("package describe %+v", v)
				}
			}},
		{args: []string{"repo", "list"}, header: "NAME PRIORITY URI CREDENTIALS",
			check: func(t *testing.T, out string) {
				var v []packageapi.Repository
				decode(t, out, &v)
				if len(v) != 1 || v[0].Name != "builtin" {
					t.Errorf("repos %+v", v)
				}
			}},
		{args: []string{"repo", "describe", "builtin"}, header: "Name: builtin",
			check: func(t *testing.T, out string) {
				var v packageapi.Repository
				decode(t, out, &v)
				if v.Name != "builtin" || !v.BuiltIn {
					t.Errorf("repo describe %+v", v)
				}
			}},
		{args: []string{"module", "list"}, header: "NAME KIND STATE PID RESTARTS UPTIME LAST ERROR",
			check: func(t *testing.T, out string) {
				var v []moduleapi.Status
				decode(t, out, &v)
				if len(v) != 1 || v[0].Name != "dns" {
					t.Errorf("modules %+v", v)
				}
			}},
		{args: []string{"module", "describe", "dns"}, header: "Name: dns",
			check: func(t *testing.T, out string) {
				var v moduleapi.Status
				decode(t, out, &v)
				if v.Name != "dns" || v.State != moduleapi.Running {
					t.Errorf("module describe %+v", v)
				}
			}},
		{args: []string{"version"}, header: "cairn ",
			check: func(t *testing.T, out string) {
				var v version.Output
				decode(t, out, &v)
				if v.Version == "" || v.Master == nil || v.Master.Version != "v9.9.9" || !v.Master.Leader || v.Master.URL != srv.URL {
					t.Errorf("version %+v", v)
				}
			}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runCLI(t, nil, append(tc.args, "--url", srv.URL)...)
			r.wantCode(t, 0)
			first, _, _ := strings.Cut(r.stdout, "\n")
			if got := strings.Join(strings.Fields(first), " "); !strings.HasPrefix(got, tc.header) {
				t.Errorf("first line %q, want %q\n%s", got, tc.header, r.stdout)
			}
			if r.stderr != "" {
				t.Errorf("stderr %q", r.stderr)
			}
			r = runCLI(t, nil, append(tc.args, "--url", srv.URL, "--json")...)
			r.wantCode(t, 0)
			if !strings.HasPrefix(r.stdout, "[") && !strings.HasPrefix(r.stdout, "{") {
				t.Fatalf("--json printed %q", r.stdout)
			}
			tc.check(t, r.stdout)
		})
	}
}

// TestDescribeAliases checks that describe and show name the same verb
// for every noun that has one.
func TestDescribeAliases(t *testing.T) {
	srv := newFakeCluster(t)
	for _, args := range [][]string{
		{"agent", "node-a"}, {"framework", "cron"}, {"task", "web.2"}, {"app", "/web"},
		{"deployment", testDeployments()[0].ID}, {"job", "reports.nightly"}, {"package", "hello"},
		{"repo", "builtin"}, {"module", "dns"},
	} {
		var outs []string
		for _, verb := range []string{"describe", "show"} {
			r := runCLI(t, nil, args[0], verb, args[1], "--json", "--url", srv.URL)
			r.wantCode(t, 0)
			outs = append(outs, r.stdout)
		}
		if outs[0] != outs[1] {
			t.Errorf("%s: describe and show differ:\n%s\n%s", args[0], outs[0], outs[1])
		}
	}
}

// TestUnreachableEveryNoun checks the one unreachable-master error across
// the operator API, the frameworks' APIs, the package API and the module
// API: which URL, why, what to try; exit code 1.
func TestUnreachableEveryNoun(t *testing.T) {
	u := closedURL(t)
	for _, args := range [][]string{
		{"agent", "describe", "node-a"}, {"framework", "describe", "services"}, {"task", "describe", "web.1"},
		{"app", "list"}, {"deployment", "list"}, {"job", "list", "--json"}, {"package", "list"},
		{"repo", "list"}, {"module", "list"}, {"version"},
	} {
		r := runCLI(t, nil, append(args, "--url", u)...)
		r.wantCode(t, 1)
		for _, want := range []string{"cannot reach the Cairn master at " + u + ":", "connection refused", "cairn up", "--url", "CAIRN_URL", "cairn config use"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%v: stderr %q lacks %q", args, r.stderr, want)
			}
		}
		if n := strings.Count(r.stderr, "\n"); n != 1 {
			t.Errorf("%v: stderr has %d lines, want 1: %q", args, n, r.stderr)
		}
		if args[0] == "version" {
			if !strings.HasPrefix(r.stdout, "cairn ") {
				t.Errorf("version: the client's version is not printed: %q", r.stdout)
			}
		} else if r.stdout != "" {
			t.Errorf("%v: stdout %q", args, r.stdout)
		}
	}
}

// TestConfigRoundTrip drives cairn config through set-cluster, use, list,
// current and remove in a temporary config directory, and commands
// through the clusters it names.
func TestConfigRoundTrip(t *testing.T) {
	srv := newFakeCluster(t)
	dir := filepath.Join(t.TempDir(), "cfg")
	env := map[string]string{"CAIRN_CONFIG_DIR": dir}
	down := closedURL(t)

	r := runCLI(t, env, "config", "list")
	r.wantCode(t, 0)
	if !strings.HasPrefix(r.stdout, "No clusters are configured") {
		t.Errorf("empty list: %q", r.stdout)
	}
	r = runCLI(t, env, "config", "current")
	r.wantCode(t, 1)
	if !strings.Contains(r.stderr, "no current cluster") || !strings.Contains(r.stderr, "cairn config use") {
		t.Errorf("no current: %q", r.stderr)
	}

	r = runCLI(t, env, "config", "set-cluster", "dev", "--url", srv.URL, "--token", "t0k")
	r.wantCode(t, 0)
	if !strings.HasPrefix(r.stdout, `Added cluster "dev"`) {
		t.Errorf("set-cluster: %q", r.stdout)
	}
	r = runCLI(t, env, "config", "set-cluster", "down", "--url", down, "--use")
	r.wantCode(t, 0)
	path := filepath.Join(dir, "config.json")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("config file mode %v, want 0600", st.Mode().Perm())
	}

	r = runCLI(t, env, "config", "list")
	r.wantCode(t, 0)
	want := "NAME URL TOKEN CURRENT\n" +
		"dev " + srv.URL + " yes -\n" +
		"down " + down + " no *\n"
	if got := collapse(r.stdout); got != want {
		t.Errorf("list:\n%s\nwant:\n%s", got, want)
	}
	r = runCLI(t, env, "config", "list", "--json")
	r.wantCode(t, 0)
	var infos []config.ClusterInfo
	decode(t, r.stdout, &infos)
	if len(infos) != 2 || infos[0] != (config.ClusterInfo{Name: "dev", URL: srv.URL, HasToken: true}) || !infos[1].Current {
		t.Errorf("list --json: %+v", infos)
	}
	if strings.Contains(r.stdout, "t0k") {
		t.Error("list --json prints the token")
	}

	// The current cluster is down: the error says which cluster.
	r = runCLI(t, env, "agent", "list")
	r.wantCode(t, 1)
	if !strings.Contains(r.stderr, "cannot reach the Cairn master at "+down+` (cluster "down")`) {
		t.Errorf("current cluster down: %q", r.stderr)
	}
	// --cluster and $CAIRN_CLUSTER pick another; --url and $CAIRN_URL beat them.
	r = runCLI(t, env, "--cluster", "dev", "agent", "list")
	r.wantCode(t, 0)
	r = runCLI(t, with(env, "CAIRN_CLUSTER", "dev"), "agent", "list")
	r.wantCode(t, 0)
	r = runCLI(t, with(env, "CAIRN_URL", srv.URL), "agent", "list")
	r.wantCode(t, 0)
	r = runCLI(t, env, "--cluster", "nope", "agent", "list")
	r.wantCode(t, 1)
	if !strings.Contains(r.stderr, `no cluster "nope"`) || !strings.Contains(r.stderr, "dev, down") {
		t.Errorf("unknown cluster: %q", r.stderr)
	}

	r = runCLI(t, env, "config", "use", "dev")
	r.wantCode(t, 0)
	if r.stdout != "Switched to cluster \"dev\" ("+srv.URL+").\n" {
		t.Errorf("use: %q", r.stdout)
	}
	r = runCLI(t, env, "config", "current")
	r.wantCode(t, 0)
	if r.stdout != "dev\n" {
		t.Errorf("current: %q", r.stdout)
	}
	r = runCLI(t, env, "agent", "list")
	r.wantCode(t, 0)
	r = runCLI(t, with(env, "CAIRN_URL", down), "config", "current")
	r.wantCode(t, 0)
	if r.stdout != "dev\n" || !strings.Contains(r.stderr, `$CAIRN_URL is given: commands use its URL, not cluster "dev"'s`) {
		t.Errorf("current under $CAIRN_URL: %q, %q", r.stdout, r.stderr)
	}
	r = runCLI(t, env, "config", "use", "nope")
	r.wantCode(t, 1)
	if !strings.Contains(r.stderr, "dev, down") {
		t.Errorf("use of an unknown cluster: %q", r.stderr)
	}

	r = runCLI(t, env, "config", "remove", "dev")
	r.wantCode(t, 0)
	if !strings.Contains(r.stdout, "none is current now") {
		t.Errorf("remove of the current cluster: %q", r.stdout)
	}
	r = runCLI(t, env, "config", "list", "--json")
	r.wantCode(t, 0)
	infos = nil
	decode(t, r.stdout, &infos)
	if len(infos) != 1 || infos[0].Name != "down" || infos[0].Current {
		t.Errorf("after remove: %+v", infos)
	}
	r = runCLI(t, env, "config", "remove", "dev")
	r.wantCode(t, 1)

	// Usage mistakes are usage errors.
	for _, args := range [][]string{
		{"config", "set-cluster", "new"},                        // no --url for a new cluster
		{"config", "set-cluster", "bad name", "--url", srv.URL}, // a bad name
		{"config", "set-cluster", "x", "--url", "ftp://x"},      // a bad URL
		{"config", "use"},
	} {
		r = runCLI(t, env, args...)
		r.wantCode(t, 2)
	}

	// A broken file: a clear error naming it, for config and for commands.
	if err := os.WriteFile(path, []byte("{\"clusters\": {\"a\": {\"url\": 1}}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"config", "list"}, {"agent", "list"}} {
		r = runCLI(t, env, args...)
		r.wantCode(t, 1)
		if !strings.Contains(r.stderr, path) || !strings.Contains(r.stderr, "not valid") {
			t.Errorf("%v with a broken config: %q", args, r.stderr)
		}
	}
	// ... but --url does not need the file.
	r = runCLI(t, env, "agent", "list", "--url", srv.URL)
	r.wantCode(t, 0)
}

func with(env map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for kk, vv := range env {
		out[kk] = vv
	}
	return out
}

// collapse joins each line's fields with one space.
func collapse(s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line == "" {
			continue
		}
		b.WriteString(strings.Join(strings.Fields(line), " "))
		b.WriteString("\n")
	}
	return b.String()
}

// TestCompletionScripts checks the scripts look like each shell's.
func TestCompletionScripts(t *testing.T) {
	for shell, want := range map[string][]string{
		"bash":       {"# bash completion V2 for cairn", "__start_cairn", "complete -o default -F __start_cairn cairn"},
		"zsh":        {"#compdef cairn", "compdef _cairn cairn"},
		"fish":       {"# fish completion for cairn", "complete -c cairn"},
		"powershell": {"Register-ArgumentCompleter", "cairn"},
	} {
		r := runCLI(t, nil, "completion", shell)
		r.wantCode(t, 0)
		if len(r.stdout) < 1000 {
			t.Errorf("%s: a %d-byte script", shell, len(r.stdout))
		}
		for _, w := range want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%s script lacks %q", shell, w)
			}
		}
		r = runCLI(t, nil, "completion", shell, "--help")
		r.wantCode(t, 0)
		if !strings.Contains(r.stdout, "cairn completion "+shell) {
			t.Errorf("%s --help does not say how to install: %q", shell, r.stdout)
		}
	}
	r := runCLI(t, nil, "completion", "tcsh")
	r.wantCode(t, 2)
}

// TestDynamicCompletion checks ids come from the master, quietly.
func TestDynamicCompletion(t *testing.T) {
	srv := newFakeCluster(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"task", "log", ""}, []string{"web.1\tweb RUNNING", "web.2\tweb RUNNING", "backup.1\tbackup FAILED"}},
		{[]string{"task", "kill", "web"}, []string{"web.1", "web.2"}},
		{[]string{"agent", "describe", "node"}, []string{"node-a\t" + string(agent1), "node-b\t" + string(agent2)}},
		{[]string{"app", "scale", ""}, []string{"/web\t2/2 running"}},
		{[]string{"job", "run", ""}, []string{"reports.nightly\tthe nightly report"}},
		{[]string{"package", "describe", "h"}, []string{"hello\tsays hello"}},
		{[]string{"module", "describe", ""}, []string{"dns"}},
	} {
		r := runCLI(t, nil, append([]string{"__complete", "--url", srv.URL}, tc.args...)...)
		r.wantCode(t, 0)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if last := lines[len(lines)-1]; last != ":4" { // ShellCompDirectiveNoFileComp
			t.Errorf("%v: directive %q", tc.args, last)
		}
		for _, w := range tc.want {
			if !slices.ContainsFunc(lines, func(l string) bool { return l == w || strings.HasPrefix(l, w+"\t") }) {
				t.Errorf("%v: completions\n%s\nlack %q", tc.args, r.stdout, w)
			}
		}
	}
	// The typed prefix filters; the second argument of scale is not an app.
	r := runCLI(t, nil, "__complete", "--url", srv.URL, "task", "log", "back")
	if strings.Contains(r.stdout, "web.1") {
		t.Errorf("prefix not applied: %q", r.stdout)
	}
	r = runCLI(t, nil, "__complete", "--url", srv.URL, "app", "scale", "/web", "")
	if strings.Contains(r.stdout, "/web") {
		t.Errorf("scale's count completed with apps: %q", r.stdout)
	}
	// A master that cannot be reached completes nothing, without an error.
	r = runCLI(t, nil, "__complete", "--url", closedURL(t), "task", "log", "")
	r.wantCode(t, 0)
	if strings.TrimSpace(r.stdout) != ":4" {
		t.Errorf("unreachable master: %q", r.stdout)
	}
	// --cluster completes with the config's clusters.
	dir := t.TempDir()
	env := map[string]string{"CAIRN_CONFIG_DIR": dir}
	runCLI(t, env, "config", "set-cluster", "prod", "--url", srv.URL).wantCode(t, 0)
	r = runCLI(t, env, "__complete", "--cluster", "")
	if !strings.Contains(r.stdout, "prod\t"+srv.URL+"\n") {
		t.Errorf("--cluster completions: %q", r.stdout)
	}
}
