package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

// fakeRepos serves /package/repository/* from memory.
type fakeRepos struct {
	*httptest.Server

	mu     sync.Mutex
	repos  []packageapi.Repository
	added  []packageapi.RepositoryAddRequest
	broken map[string]string // URI → error type the add answers
}

func newFakeRepos(t *testing.T) *fakeRepos {
	t.Helper()
	f := &fakeRepos{
		repos:  []packageapi.Repository{{Name: "builtin", URI: "oci://127.0.0.1:5000/cairn", BuiltIn: true, PlainHTTP: true}},
		broken: map[string]string{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /package/repository/{verb}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		fail := func(code int, typ, msg string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_ = json.NewEncoder(w).Encode(packageapi.Error{Type: typ, Message: msg})
		}
		switch r.PathValue("verb") {
		case "list":
		case "add":
			var req packageapi.RepositoryAddRequest
			_ = json.Unmarshal(body, &req)
			f.added = append(f.added, req)
			if typ := f.broken[req.URI]; typ != "" {
				fail(502, typ, "registry "+req.URI+" says no")
				return
			}
			if slices.ContainsFunc(f.repos, func(x packageapi.Repository) bool { return x.Name == req.Name }) {
				fail(409, packageapi.ErrRepositoryExists, "repository "+req.Name+" exists")
				return
			}
			at := len(f.repos)
			if req.Index != nil {
				at = min(*req.Index, at)
			}
			f.repos = slices.Insert(f.repos, at, packageapi.Repository{Name: req.Name, URI: req.URI, Username: req.Username,
				HasCredentials: req.Password != "", PlainHTTP: req.PlainHTTP})
		case "delete":
			var req packageapi.RepositoryDeleteRequest
			_ = json.Unmarshal(body, &req)
			n := len(f.repos)
			f.repos = slices.DeleteFunc(f.repos, func(x packageapi.Repository) bool { return x.Name == req.Name })
			if len(f.repos) == n {
				fail(404, packageapi.ErrRepositoryNotFound, "no repository "+req.Name)
				return
			}
		}
		for i := range f.repos {
			f.repos[i].Priority = i
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(packageapi.RepositoryListResponse{Repositories: f.repos})
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

type result struct {
	out, errOut string
	err         error
}

func run(t *testing.T, url, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	f := cmdutil.NewFactory(cmdutil.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}, func(k string) string {
		if k == cmdutil.EnvURL {
			return url
		}
		return ""
	})
	cmd := NewCmdRepo(f)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetFlagErrorFunc(cmdutil.FlagErrorFunc)
	err := cmd.ExecuteContext(context.Background())
	return result{out: out.String(), errOut: errOut.String(), err: err}
}

func TestRepoAddListRemove(t *testing.T) {
	f := newFakeRepos(t)
	r := run(t, f.URL, "", "list")
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := "" +
		"NAME                 PRIORITY   URI                                       CREDENTIALS\n" +
		"builtin (built-in)   0          oci://127.0.0.1:5000/cairn (plain http)   -\n"
	if r.out != want {
		t.Errorf("list:\n%s\nwant:\n%s", r.out, want)
	}

	r = run(t, f.URL, "s3cret\n", "add", "private", "oci://ghcr.io/acme/cairn", "--username", "bot", "--password-stdin", "--index", "0")
	if r.err != nil || r.out != "Added repository private (oci://ghcr.io/acme/cairn) at priority 0\n" {
		t.Fatalf("add: %v %q", r.err, r.out)
	}
	if got := f.added[0]; got.Password != "s3cret" || got.Username != "bot" || got.Index == nil || *got.Index != 0 || got.PlainHTTP {
		t.Errorf("add request %+v", got)
	}
	r = run(t, f.URL, "", "add", "community", "oci://10.0.0.5:5000/pkgs", "--plain-http")
	if r.err != nil || r.out != "Added repository community (oci://10.0.0.5:5000/pkgs) at priority 2\n" {
		t.Fatalf("add: %v %q", r.err, r.out)
	}
	if got := f.added[1]; got.Index != nil || !got.PlainHTTP || got.Password != "" {
		t.Errorf("add request %+v", got)
	}
	r = run(t, f.URL, "", "list")
	want = "" +
		"NAME                 PRIORITY   URI                                       CREDENTIALS\n" +
		"private              0          oci://ghcr.io/acme/cairn                  user bot\n" +
		"builtin (built-in)   1          oci://127.0.0.1:5000/cairn (plain http)   -\n" +
		"community            2          oci://10.0.0.5:5000/pkgs (plain http)     -\n"
	if r.out != want {
		t.Errorf("list:\n%s\nwant:\n%s", r.out, want)
	}
	r = run(t, f.URL, "", "list", "--json")
	var repos []packageapi.Repository
	if err := json.Unmarshal([]byte(r.out), &repos); err != nil || len(repos) != 3 || !repos[0].HasCredentials {
		t.Errorf("--json: %v %q", err, r.out)
	}

	r = run(t, f.URL, "", "remove", "private")
	if r.err != nil || r.out != "Removed repository private\n" {
		t.Errorf("remove: %v %q", r.err, r.out)
	}
	r = run(t, f.URL, "", "remove", "private")
	if r.err == nil || r.err.Error() != "there is no repository named private: see cairn repo list" ||
		apiclient.PackageErrorType(r.err) != packageapi.ErrRepositoryNotFound {
		t.Errorf("remove twice: %v", r.err)
	}
}

func TestRepoAddErrors(t *testing.T) {
	f := newFakeRepos(t)
	r := run(t, f.URL, "", "add", "builtin", "oci://x.example/ns")
	if r.err == nil || !strings.HasPrefix(r.err.Error(), "a repository named builtin (or with URI oci://x.example/ns) already exists") {
		t.Errorf("exists: %v", r.err)
	}
	f.broken["oci://down.example/ns"] = packageapi.ErrRepositoryUnreachable
	r = run(t, f.URL, "", "add", "down", "oci://down.example/ns")
	if r.err == nil || !strings.Contains(r.err.Error(), "repository down not added: registry oci://down.example/ns says no (is the registry running?") {
		t.Errorf("unreachable: %v", r.err)
	}
	n := len(f.added)
	for _, args := range [][]string{
		{"add", "x", "https://registry.example/ns"},
		{"add", "x", "oci://"},
		{"add", "x"},
		{"add", "x", "oci://r.example/ns", "--password-stdin"},
		{"add", "x", "oci://r.example/ns", "--username", "u"},
		{"add", "x", "oci://r.example/ns", "--index", "-1"},
		{"list", "extra"},
		{"remove"},
	} {
		if r := run(t, f.URL, "", args...); !cmdutil.IsUsageError(r.err) {
			t.Errorf("%q: %v, want a usage error", args, r.err)
		}
	}
	r = run(t, f.URL, "", "add", "x", "oci://r.example/ns", "--username", "u", "--password-stdin")
	if r.err == nil || !strings.Contains(r.err.Error(), "the standard input is empty") {
		t.Errorf("empty password: %v", r.err)
	}
	if len(f.added) != n {
		t.Errorf("requests for bad invocations: %+v", f.added[n:])
	}
}

func TestRepoNoPackageAPI(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	r := run(t, srv.URL, "", "list")
	if r.err == nil || !strings.Contains(r.err.Error(), "the master does not serve the package API") {
		t.Errorf("error %v", r.err)
	}
}
