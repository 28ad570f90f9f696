package module

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/modules/host/moduleapi"
)

var started = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeHost serves the module API the way modules/host does, from a map.
type fakeHost struct {
	mu      sync.Mutex
	modules map[string]moduleapi.Status
	posted  []moduleapi.Spec
}

func newFakeHost(t *testing.T) (*fakeHost, *httptest.Server) {
	t.Helper()
	next := started.Add(3*time.Hour + 5*time.Minute + 7*time.Second)
	h := &fakeHost{modules: map[string]moduleapi.Status{
		"dns": {Name: "dns", Kind: "watcher", Path: "/opt/cairn/modules/cairn-dns", SHA256: strings.Repeat("d", 64), Source: "config",
			State: moduleapi.Running, PID: 4242, Restarts: 1, LastError: "its process 4100 exited: signal: killed", StartedAt: &started, SDKVersion: "1.0.0"},
		"labeler": {Name: "labeler", Kind: "hook", Path: "/opt/cairn/modules/labeler", SHA256: strings.Repeat("e", 64), Source: "api",
			State: moduleapi.Backoff, Restarts: 4, LastError: "it did not start: plugin exited before we could connect; its process 5 exited: exit status 3", NextStart: &next},
	}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/modules", func(w http.ResponseWriter, _ *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		out := []moduleapi.Status{h.modules["dns"], h.modules["labeler"]}
		if _, ok := h.modules["dns"]; !ok {
			out = []moduleapi.Status{}
		}
		_ = json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("GET /v1/modules/{name}", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		st, ok := h.modules[r.PathValue("name")]
		if !ok {
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"message":"there is no module named \"` + r.PathValue("name") + `\" (see GET /v1/modules)"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc("POST /v1/modules", func(w http.ResponseWriter, r *http.Request) {
		var spec moduleapi.Spec
		if err := json.NewDecoder(r.Body).Decode(&spec); err != nil {
			t.Errorf("POST body: %v", err)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		h.posted = append(h.posted, spec)
		if spec.SHA256 == strings.Repeat("0", 64) {
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"message":"module x: refusing to start /opt/x: its sha256 is 1111, expected 0000: the binary changed"}`))
			return
		}
		_, replaced := h.modules[spec.Name]
		st := moduleapi.Status{Name: spec.Name, Kind: spec.Kind, Path: spec.Path, SHA256: spec.SHA256, Source: "api", State: moduleapi.Starting}
		h.modules[spec.Name] = st
		if replaced {
			w.WriteHeader(200)
		} else {
			w.WriteHeader(201)
		}
		_ = json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc("DELETE /v1/modules/{name}", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		st, ok := h.modules[r.PathValue("name")]
		switch {
		case !ok:
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"message":"there is no module named \"x\""}`))
		case st.Source != "api":
			w.WriteHeader(409)
			_, _ = w.Write([]byte(`{"message":"module dns comes from the host's config: remove it there"}`))
		default:
			delete(h.modules, st.Name)
			st.State = moduleapi.Stopped
			_ = json.NewEncoder(w).Encode(st)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return h, srv
}

// run runs "cairn module ARGS" against url with stdin in.
func run(t *testing.T, url, in string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := cmdutil.NewFactory(cmdutil.IOStreams{In: strings.NewReader(in), Out: &out, ErrOut: &errOut}, func(k string) string {
		if k == cmdutil.EnvURL {
			return url
		}
		return ""
	})
	now := func() time.Time { return started.Add(3 * time.Hour) }
	cmd := cmdutil.NewNounCmd("module", "", "")
	cmd.AddCommand(
		NewCmdList(f, func(ctx context.Context, o *ListOptions) error { o.Now = now; return listRun(ctx, o) }),
		NewCmdDescribe(f, func(ctx context.Context, o *DescribeOptions) error { o.Now = now; return describeRun(ctx, o) }),
		NewCmdInstall(f, nil),
		NewCmdRemove(f, nil),
	)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetFlagErrorFunc(cmdutil.FlagErrorFunc)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestList(t *testing.T) {
	_, srv := newFakeHost(t)
	out, _, err := run(t, srv.URL, "", "list")
	if err != nil {
		t.Fatal(err)
	}
	want := "" +
		"NAME      KIND      STATE     PID    RESTARTS   UPTIME   LAST ERROR\n" +
		"dns       watcher   running   4242   1          3h       its process 4100 exited: signal: killed\n" +
		"labeler   hook      backoff   -      4          -        it did not start: plugin exited before we could connect; it…\n"
	if out != want {
		t.Errorf("list:\n%s\nwant:\n%s", out, want)
	}
	out, _, err = run(t, srv.URL, "", "list", "--json")
	var got []moduleapi.Status
	if err != nil || json.Unmarshal([]byte(out), &got) != nil || len(got) != 2 || got[0].PID != 4242 {
		t.Errorf("list --json: %v\n%s", err, out)
	}
}

func TestListNoModuleAPI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(404)
		_, _ = w.Write([]byte(`{"message":"no such endpoint GET /v1/modules: see /v1/state"}`))
	}))
	defer srv.Close()
	_, _, err := run(t, srv.URL, "", "list")
	if err == nil || err.Error() != "listing modules: this master serves no module API (/v1/modules): its module host is not enabled (cairn up runs one)" {
		t.Errorf("list: %v", err)
	}
}

func TestDescribe(t *testing.T) {
	_, srv := newFakeHost(t)
	out, _, err := run(t, srv.URL, "", "describe", "dns")
	if err != nil {
		t.Fatal(err)
	}
	loc := started.UTC().Format(time.RFC3339)
	want := "" +
		"Name:         dns\n" +
		"Kind:         watcher\n" +
		"Source:       config\n" +
		"State:        running\n" +
		"PID:          4242\n" +
		"Started:      " + loc + " (3h ago)\n" +
		"Restarts:     1\n" +
		"Path:         /opt/cairn/modules/cairn-dns\n" +
		"SHA-256:      " + strings.Repeat("d", 64) + "\n" +
		"SDK:          1.0.0\n" +
		"Last error:   its process 4100 exited: signal: killed\n"
	if out != want {
		t.Errorf("describe:\n%s\nwant:\n%s", out, want)
	}
	out, _, err = run(t, srv.URL, "", "describe", "labeler")
	if err != nil || !strings.Contains(out, "Next start:   in 5m\n") || !strings.Contains(out, "PID:          -\n") {
		t.Errorf("describe labeler: %v\n%s", err, out)
	}
	out, _, err = run(t, srv.URL, "", "describe", "dns", "--json")
	var st moduleapi.Status
	if err != nil || json.Unmarshal([]byte(out), &st) != nil || st.Name != "dns" || st.StartedAt == nil {
		t.Errorf("describe --json: %v\n%s", err, out)
	}
	if _, _, err := run(t, srv.URL, "", "describe", "nope"); err == nil || err.Error() != "there is no module named nope (see cairn module list)" {
		t.Errorf("describe nope: %v", err)
	}
	if _, _, err := run(t, srv.URL, "", "describe", "Bad_Name"); err == nil || !cmdutil.IsUsageError(err) || !strings.Contains(err.Error(), "is not a module name") {
		t.Errorf("describe bad name: %v", err)
	}
}

func TestInstall(t *testing.T) {
	h, srv := newFakeHost(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "echo")
	if err := os.WriteFile(bin, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("binary"))
	local := hex.EncodeToString(sum[:])
	cfg := filepath.Join(dir, "echo.json")
	if err := os.WriteFile(cfg, []byte(`{"greeting": "hi"}`), 0o644); err != nil {
		t.Fatal(err)
	}

	// The checksum computed here, a JSON config file.
	out, errOut, err := run(t, srv.URL, "", "install", "echo", "--kind", "watcher", "--path", bin, "--config", cfg)
	if err != nil || out != "Installed module echo (watcher): starting; see cairn module describe echo\n" ||
		errOut != "Pinning "+bin+" at sha256 "+local+" (computed on this machine)\n" {
		t.Fatalf("install: %v\n%s%s", err, out, errOut)
	}
	if p := h.posted[0]; p.Name != "echo" || p.Kind != "watcher" || p.Path != bin || p.SHA256 != local || string(p.Config) != `{"greeting":"hi"}` {
		t.Errorf("posted %+v (config %s)", p, p.Config)
	}
	// Given checksum (upper case, prefixed), text config from stdin; a replacement.
	out, _, err = run(t, srv.URL, "greeting = 'hi'\n", "install", "echo", "--kind", "hook", "--path", "/opt/not/here",
		"--sha256", "SHA256:"+strings.Repeat("AB", 32), "--config-text", "-")
	if err != nil || out != "Replaced module echo (hook): starting; see cairn module describe echo\n" {
		t.Errorf("install again: %v\n%s", err, out)
	}
	if p := h.posted[1]; p.SHA256 != strings.Repeat("ab", 32) || string(p.Config) != `"greeting = 'hi'\n"` {
		t.Errorf("posted %+v (config %s)", p, p.Config)
	}
	out, _, err = run(t, srv.URL, "", "install", "other", "--kind", "hook", "--path", bin, "--sha256", local, "--json")
	var st moduleapi.Status
	if err != nil || json.Unmarshal([]byte(out), &st) != nil || st.Name != "other" {
		t.Errorf("install --json: %v\n%s", err, out)
	}
	// The host's refusal, as it says it.
	_, _, err = run(t, srv.URL, "", "install", "x", "--kind", "hook", "--path", "/opt/x", "--sha256", strings.Repeat("0", 64))
	if err == nil || !strings.Contains(err.Error(), "installing module x: POST "+srv.URL+"/v1/modules: 400 Bad Request: module x: refusing to start /opt/x: its sha256 is 1111, expected 0000") {
		t.Errorf("install refused: %v", err)
	}

	n := len(h.posted)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"install", "echo", "--path", bin}, "give the module's --kind: watcher or hook"},
		{[]string{"install", "echo", "--kind", "filter", "--path", bin}, `--kind "filter": give watcher or hook`},
		{[]string{"install", "echo", "--kind", "hook"}, "give the module binary's --path"},
		{[]string{"install", "echo", "--kind", "hook", "--path", "echo"}, `--path "echo": give the binary's absolute path`},
		{[]string{"install", "echo", "--kind", "hook", "--path", bin, "--sha256", "xyz"}, `--sha256: "xyz" is not a SHA-256`},
		{[]string{"install", "echo", "--kind", "hook", "--path", "/opt/not/here"}, "/opt/not/here is not on this machine, so its SHA-256 cannot be computed here: give --sha256"},
		{[]string{"install", "Echo", "--kind", "hook", "--path", bin}, `name: "Echo" is not a module name`},
		{[]string{"install", "echo", "--kind", "hook", "--path", bin, "--config", cfg, "--config-text", cfg}, "give --config or --config-text, not both"},
	} {
		if _, _, err := run(t, srv.URL, "", tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) || !cmdutil.IsUsageError(err) {
			t.Errorf("%v: %v, want usage error %q", tc.args, err, tc.want)
		}
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`greeting: hi`), 0o644)
	if _, _, err := run(t, srv.URL, "", "install", "echo", "--kind", "hook", "--path", bin, "--config", bad); err == nil ||
		!strings.Contains(err.Error(), "--config "+bad+" is not JSON") || !strings.Contains(err.Error(), "--config-text") {
		t.Errorf("bad config: %v", err)
	}
	if len(h.posted) != n {
		t.Errorf("bad invocations posted %+v", h.posted[n:])
	}
}

func TestRemove(t *testing.T) {
	h, srv := newFakeHost(t)
	out, _, err := run(t, srv.URL, "", "remove", "labeler")
	if err != nil || out != "Removed module labeler\n" {
		t.Errorf("remove: %v\n%s", err, out)
	}
	if _, ok := h.modules["labeler"]; ok {
		t.Error("not removed")
	}
	if _, _, err := run(t, srv.URL, "", "remove", "dns"); err == nil || !strings.Contains(err.Error(), "409 Conflict: module dns comes from the host's config: remove it there") {
		t.Errorf("remove dns: %v", err)
	}
	if _, _, err := run(t, srv.URL, "", "rm", "labeler"); err == nil || err.Error() != "there is no module named labeler (see cairn module list)" {
		t.Errorf("remove again: %v", err)
	}
}

// TestNounRegistered: the verbs hang off "cairn module".
func TestNounRegistered(t *testing.T) {
	cmd := NewCmdModule(cmdutil.NewFactory(cmdutil.IOStreams{Out: io.Discard, ErrOut: io.Discard}, nil))
	var names []string
	for _, c := range cmd.Commands() {
		names = append(names, c.Name())
	}
	if strings.Join(names, ",") != "describe,install,list,remove" {
		t.Errorf("verbs %v", names)
	}
}
