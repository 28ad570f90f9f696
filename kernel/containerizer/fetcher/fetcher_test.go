package fetcher

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

func TestHTTPNameFromPath(t *testing.T) {
	body := []byte("hello, sandbox\n")
	srv := newServer(t, map[string][]byte{"/dl/hello world.txt": body})
	f := newFetcher(t, Config{})
	dir := newSandbox(t)
	uri := srv.URL + "/dl/hello%20world.txt?token=abc#frag"
	res := fetch(t, f, dir, protocol.CommandURI{Value: uri})
	want := Result{URI: uri, Path: filepath.Join(dir, "hello world.txt"), Digest: digestOf(body), Bytes: int64(len(body))}
	if res[0] != want {
		t.Fatalf("result %+v, want %+v", res[0], want)
	}
	if got := readFile(t, want.Path); got != string(body) {
		t.Fatalf("content %q", got)
	}
	if m := modeOf(t, want.Path); m != 0o644 {
		t.Fatalf("mode %v, want 0644", m)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("sandbox holds %d entries, want only the file (no temporary files left)", len(ents))
	}
}

func TestHTTPOutputFile(t *testing.T) {
	srv := newServer(t, map[string][]byte{"/config": []byte(`{"a":1}`)})
	f := newFetcher(t, Config{})
	dir := newSandbox(t)
	res := fetch(t, f, dir,
		protocol.CommandURI{Value: srv.URL + "/config", OutputFile: "etc/app/config.json"},
		protocol.CommandURI{Value: srv.URL + "/config", OutputFile: "./top.json"})
	if res[0].Path != filepath.Join(dir, "etc/app/config.json") || res[1].Path != filepath.Join(dir, "top.json") {
		t.Fatalf("paths %q, %q", res[0].Path, res[1].Path)
	}
	for _, r := range res {
		if got := readFile(t, r.Path); got != `{"a":1}` {
			t.Fatalf("%s: %q", r.Path, got)
		}
	}
}

func TestOutputFileRejected(t *testing.T) {
	srv := newServer(t, map[string][]byte{"/x": []byte("x")})
	f := newFetcher(t, Config{})
	for _, out := range []string{"/etc/passwd", "../x", "a/../../x", ".", "a/.."} {
		dir := newSandbox(t)
		_, err := f.Fetch(context.Background(), []protocol.CommandURI{{Value: srv.URL + "/x", OutputFile: out}}, dir)
		if err == nil || !strings.Contains(err.Error(), "output_file") {
			t.Errorf("output_file %q: err %v, want an output_file error", out, err)
		}
		if srv.count("/x") != 0 {
			t.Fatalf("output_file %q: the URI was requested before the name was checked", out)
		}
	}
}

func TestHTTPErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/boom" {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	f := newFetcher(t, Config{})
	for _, tc := range []struct {
		path, status string
		code         int
	}{{"/missing.tgz", "404 Not Found", 404}, {"/boom", "500 Internal Server Error", 500}} {
		uri := srv.URL + tc.path
		res, err := f.Fetch(context.Background(), []protocol.CommandURI{{Value: uri}}, newSandbox(t))
		if err == nil {
			t.Fatalf("%s: no error", uri)
		}
		if want := "fetch " + uri + ": " + tc.status; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error %q, want it to start with %q", err, want)
		}
		var fe *Error
		var se *StatusError
		if !errors.As(err, &fe) || fe.URI != uri || !errors.As(err, &se) || se.StatusCode != tc.code {
			t.Errorf("error %#v: want *Error for %s wrapping a *StatusError %d", err, uri, tc.code)
		}
		if len(res) != 0 {
			t.Errorf("results %v for a failed fetch", res)
		}
	}
}

func TestStopsAtFirstFailure(t *testing.T) {
	srv := newServer(t, map[string][]byte{"/a": []byte("a"), "/c": []byte("c")})
	f := newFetcher(t, Config{})
	dir := newSandbox(t)
	res, err := f.Fetch(context.Background(), []protocol.CommandURI{
		{Value: srv.URL + "/a"}, {Value: srv.URL + "/b"}, {Value: srv.URL + "/c"}}, dir)
	if err == nil || !strings.Contains(err.Error(), srv.URL+"/b") {
		t.Fatalf("err %v, want one naming /b", err)
	}
	if len(res) != 1 || res[0].URI != srv.URL+"/a" {
		t.Fatalf("results %+v, want the one of /a", res)
	}
	if srv.count("/c") != 0 {
		t.Fatal("/c was fetched after /b failed")
	}
}

func TestRedirect(t *testing.T) {
	srv := newServer(t, map[string][]byte{"/new/blob-123": []byte("moved")})
	mux := http.NewServeMux()
	mux.Handle("/releases/app.bin", http.RedirectHandler(srv.URL+"/new/blob-123", http.StatusFound))
	front := httptest.NewServer(mux)
	defer front.Close()
	dir := newSandbox(t)
	res := fetch(t, newFetcher(t, Config{}), dir, protocol.CommandURI{Value: front.URL + "/releases/app.bin"})
	if res[0].Path != filepath.Join(dir, "app.bin") || readFile(t, res[0].Path) != "moved" {
		t.Fatalf("result %+v: want app.bin, named after the URI, with the redirect's content", res[0])
	}
}

func TestNoTransparentDecompression(t *testing.T) {
	// A .tar.gz served with Content-Encoding: gzip must be saved as sent.
	payload := gz(t, makeTar(t, entry{name: "f", body: "x"}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(payload)
	}))
	defer srv.Close()
	dir := newSandbox(t)
	res := fetch(t, newFetcher(t, Config{}), dir, protocol.CommandURI{Value: srv.URL + "/a.tar.gz"})
	if res[0].Digest != digestOf(payload) || readFile(t, filepath.Join(dir, "f")) != "x" {
		t.Fatalf("result %+v: the archive was altered in transit", res[0])
	}
}

func TestFileURIAndPlainPath(t *testing.T) {
	src := filepath.Join(t.TempDir(), "tool.sh")
	if err := os.WriteFile(src, []byte("#!/bin/sh\necho hi\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFetcher(t, Config{})
	dir := newSandbox(t)
	res := fetch(t, f, dir,
		protocol.CommandURI{Value: "file://" + src, OutputFile: "a.sh"},
		protocol.CommandURI{Value: "file://localhost" + src, OutputFile: "b.sh"},
		protocol.CommandURI{Value: src})
	for i, name := range []string{"a.sh", "b.sh", "tool.sh"} {
		if res[i].Path != filepath.Join(dir, name) || readFile(t, res[i].Path) != "#!/bin/sh\necho hi\n" {
			t.Fatalf("result %d: %+v", i, res[i])
		}
	}
	for _, tc := range []struct{ uri, want string }{
		{filepath.Join(t.TempDir(), "nope"), "does not exist"},
		{"file://" + t.TempDir(), "not a regular file"},
		{"file://otherhost/etc/hosts", "only local files"},
		{"relative/path", "relative path"},
	} {
		_, err := f.Fetch(context.Background(), []protocol.CommandURI{{Value: tc.uri}}, newSandbox(t))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.uri) {
			t.Errorf("%s: err %v, want one naming it and saying %q", tc.uri, err, tc.want)
		}
	}
}

func TestExecutable(t *testing.T) {
	archive := gz(t, makeTar(t, entry{name: "inside", body: "x"}))
	srv := newServer(t, map[string][]byte{"/bin/tool": []byte("#!/bin/sh\n"), "/tool.tgz": archive})
	dir := newSandbox(t)
	res := fetch(t, newFetcher(t, Config{}), dir,
		protocol.CommandURI{Value: srv.URL + "/bin/tool", Executable: true},
		protocol.CommandURI{Value: srv.URL + "/tool.tgz", Executable: true})
	for _, r := range res {
		if m := modeOf(t, r.Path); m != 0o755 {
			t.Errorf("%s: mode %v, want 0755", r.Path, m)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "inside")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("an executable archive was extracted")
	}
}

func TestNameFromURI(t *testing.T) {
	for uri, want := range map[string]string{
		"http://h/a/b.tgz?x=1#y":     "b.tgz",
		"http://h":                   DefaultName,
		"http://h/":                  DefaultName,
		"http://h/docs/":             DefaultName,
		"http://h/a%2Fb":             "a_b",
		"http://h/%2e%2e":            DefaultName,
		"https://h/caf%C3%A9.txt":    "café.txt",
		"/srv/files/app.tar.gz":      "app.tar.gz",
		"file:///srv/x.zip":          "x.zip",
		"oci://reg/repo@sha256:abcd": "repo@sha256:abcd",
		"s3:bucket/key.bin":          "key.bin",
		"http://h/a%00b":             "a_b",
	} {
		if got := nameFromURI(uri); got != want {
			t.Errorf("nameFromURI(%q) = %q, want %q", uri, got, want)
		}
	}
	long := strings.Repeat("é", 200) + ".tar.gz"
	got := sanitizeName(long)
	if len(got) > maxNameBytes || !strings.HasSuffix(got, ".tar.gz") || archiveKind(got) != tarGzip {
		t.Errorf("sanitizeName(long) = %q (%d bytes)", got, len(got))
	}
}

func TestUnsupportedScheme(t *testing.T) {
	_, err := newFetcher(t, Config{}).Fetch(context.Background(),
		[]protocol.CommandURI{{Value: "oci://registry/app:1"}}, newSandbox(t))
	if err == nil || !strings.Contains(err.Error(), `fetch oci://registry/app:1: unsupported URI scheme "oci"`) {
		t.Fatalf("err %v", err)
	}
}

func TestCredentialsRedacted(t *testing.T) {
	srv := newServer(t, map[string][]byte{})
	u := strings.Replace(srv.URL, "http://", "http://user:s3cret@", 1) + "/missing"
	_, err := newFetcher(t, Config{}).Fetch(context.Background(), []protocol.CommandURI{{Value: u}}, newSandbox(t))
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "404") {
		t.Fatalf("err %v: want a 404 without the password", err)
	}
}

func TestMaxBytes(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			for i := 0; i < 10; i++ { // no Content-Length: the limit is found while reading
				w.Write(big[:100])
				w.(http.Flusher).Flush()
			}
			return
		}
		w.Write(big)
	}))
	defer srv.Close()
	src := filepath.Join(t.TempDir(), "big")
	os.WriteFile(src, big, 0o644)
	f := newFetcher(t, Config{MaxBytes: 999, CacheDir: t.TempDir()})
	for _, u := range []protocol.CommandURI{
		{Value: srv.URL + "/sized"}, {Value: srv.URL + "/chunked"}, {Value: srv.URL + "/chunked", Cache: true}, {Value: src}} {
		dir := newSandbox(t)
		_, err := f.Fetch(context.Background(), []protocol.CommandURI{u}, dir)
		if err == nil || !strings.Contains(err.Error(), "limit of 999 B (MaxBytes = 999 bytes)") || !strings.Contains(err.Error(), u.Value) {
			t.Errorf("%s: err %v, want the limit named", u.Value, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%s: the sandbox holds %d entries after a refused download", u.Value, len(ents))
		}
	}
	// Exactly the limit is fine.
	f = newFetcher(t, Config{MaxBytes: 1000})
	fetch(t, f, newSandbox(t), protocol.CommandURI{Value: srv.URL + "/chunked"})
}

func TestContextCancel(t *testing.T) {
	started := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 1024))
		w.(http.Flusher).Flush()
		close(started)
		<-r.Context().Done() // never finishes on its own
	}))
	defer srv.Close()
	for _, cache := range []bool{false, true} {
		started = make(chan struct{})
		f := newFetcher(t, Config{CacheDir: t.TempDir()})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		dir := newSandbox(t)
		go func() {
			_, err := f.Fetch(ctx, []protocol.CommandURI{{Value: srv.URL + "/slow", Cache: cache}}, dir)
			done <- err
		}()
		<-started
		cancel()
		err := <-done
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), srv.URL+"/slow") {
			t.Fatalf("cache=%v: err %v, want context.Canceled naming the URI", cache, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Fatalf("cache=%v: %d entries left in the sandbox", cache, len(ents))
		}
	}
	// Already cancelled: nothing is requested.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srv2 := newServer(t, map[string][]byte{"/x": []byte("x")})
	if _, err := newFetcher(t, Config{}).Fetch(ctx, []protocol.CommandURI{{Value: srv2.URL + "/x"}}, newSandbox(t)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

// blockingSource never sends anything: its reads block until closed.
type blockingSource struct{ opened chan struct{} }

func (s blockingSource) Open(ctx context.Context, uri string) (io.ReadCloser, string, string, error) {
	r, _ := io.Pipe()
	close(s.opened)
	return r, "", "", nil
}

func TestContextCancelUnblocksSourceRead(t *testing.T) {
	f := newFetcher(t, Config{})
	src := blockingSource{opened: make(chan struct{})}
	f.Register("stuck", src)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := f.Fetch(ctx, []protocol.CommandURI{{Value: "stuck://x/y"}}, newSandbox(t))
		done <- err
	}()
	<-src.opened
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

// ociSource serves blobs it knows the digest of, counting what it sends.
type ociSource struct {
	blobs map[string][]byte // uri → content
	bad   bool              // announce a wrong digest
	opens atomic.Int32
	read  atomic.Int64
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (s *ociSource) Open(ctx context.Context, uri string) (io.ReadCloser, string, string, error) {
	s.opens.Add(1)
	b, ok := s.blobs[uri]
	if !ok {
		return nil, "", "", errors.New("manifest unknown: check the repository and tag")
	}
	d := digestOf(b)
	if s.bad {
		d = digestOf([]byte("something else"))
	}
	return io.NopCloser(countingReader{bytes.NewReader(b), &s.read}), d, "framework.bin", nil
}

func TestCustomSource(t *testing.T) {
	content := []byte("framework binary")
	src := &ociSource{blobs: map[string][]byte{"oci://registry/cron@sha256:ab": content}}
	f := cachedFetcher(t)
	f.Register("OCI", src)
	dir := newSandbox(t)
	res := fetch(t, f, dir, protocol.CommandURI{Value: "oci://registry/cron@sha256:ab", Executable: true})
	if res[0].Path != filepath.Join(dir, "framework.bin") || res[0].Digest != digestOf(content) || res[0].Cached {
		t.Fatalf("result %+v", res[0])
	}
	if readFile(t, res[0].Path) != string(content) || modeOf(t, res[0].Path) != 0o755 {
		t.Fatal("wrong content or mode")
	}
	// Known digest: served from the cache without Cache=true, nothing read.
	before := src.read.Load()
	res = fetch(t, f, newSandbox(t), protocol.CommandURI{Value: "oci://registry/cron@sha256:ab", OutputFile: "bin/cron"})
	if !res[0].Cached || src.read.Load() != before {
		t.Fatalf("result %+v, %d bytes read: want it from the cache", res[0], src.read.Load()-before)
	}
	// Source errors name the URI.
	_, err := f.Fetch(context.Background(), []protocol.CommandURI{{Value: "oci://registry/nope"}}, newSandbox(t))
	if err == nil || !strings.Contains(err.Error(), "fetch oci://registry/nope: manifest unknown") {
		t.Fatalf("err %v", err)
	}
	// A digest mismatch is refused.
	bad := &ociSource{blobs: src.blobs, bad: true}
	f2 := newFetcher(t, Config{})
	f2.Register("oci", bad)
	dir = newSandbox(t)
	_, err = f2.Fetch(context.Background(), []protocol.CommandURI{{Value: "oci://registry/cron@sha256:ab"}}, dir)
	if err == nil || !strings.Contains(err.Error(), "not the sha256:") {
		t.Fatalf("err %v, want a digest mismatch", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatal("a corrupt download was left in the sandbox")
	}
	// Unregistering.
	f2.Register("oci", nil)
	if _, err := f2.Fetch(context.Background(), []protocol.CommandURI{{Value: "oci://x/y"}}, newSandbox(t)); err == nil || !strings.Contains(err.Error(), "unsupported") {
		t.Fatalf("err %v", err)
	}
}

func TestMissingSandbox(t *testing.T) {
	_, err := newFetcher(t, Config{}).Fetch(context.Background(),
		[]protocol.CommandURI{{Value: "/etc/hosts"}}, filepath.Join(t.TempDir(), "nope"))
	if err == nil || !strings.Contains(err.Error(), "sandbox") {
		t.Fatalf("err %v", err)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{999: "999 B", 1024: "1 KiB", 1536: "1.5 KiB", 4 << 30: "4 GiB", 2 << 30: "2 GiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestOutputOntoDirectory(t *testing.T) {
	srv := newServer(t, map[string][]byte{"/x": []byte("x")})
	dir := newSandbox(t)
	os.Mkdir(filepath.Join(dir, "taken"), 0o755)
	for _, cache := range []bool{false, true} {
		_, err := cachedFetcher(t).Fetch(context.Background(), []protocol.CommandURI{{Value: srv.URL + "/x", OutputFile: "taken", Cache: cache}}, dir)
		if err == nil || !strings.Contains(err.Error(), "taken is a directory in the sandbox") {
			t.Fatalf("cache=%v: err %v", cache, err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("%d entries left in the sandbox", len(ents))
	}
}

func TestConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	uri := srv.URL + "/x"
	srv.Close()
	_, err := newFetcher(t, Config{}).Fetch(context.Background(), []protocol.CommandURI{{Value: uri}}, newSandbox(t))
	if err == nil || !strings.HasPrefix(err.Error(), "fetch "+uri+": dial tcp") || strings.Count(err.Error(), uri) != 1 ||
		!strings.Contains(err.Error(), "check the URL") {
		t.Fatalf("err %v", err)
	}
}

type fixedSource struct {
	digest string
	body   string
}

func (s fixedSource) Open(ctx context.Context, uri string) (io.ReadCloser, string, string, error) {
	return io.NopCloser(strings.NewReader(s.body)), s.digest, "", nil
}

func TestSourceMalformedDigest(t *testing.T) {
	f := newFetcher(t, Config{})
	f.Register("x", fixedSource{digest: "md5:abc", body: "b"})
	_, err := f.Fetch(context.Background(), []protocol.CommandURI{{Value: "x://h/p"}}, newSandbox(t))
	if err == nil || !strings.Contains(err.Error(), `malformed digest "md5:abc"`) {
		t.Fatalf("err %v", err)
	}
}

func TestKnownDigestConcurrentFetchesDownloadOnce(t *testing.T) {
	const n = 4
	body := "artifact"
	f := cachedFetcher(t)
	release := make(chan struct{})
	var mu sync.Mutex
	waiters := 0
	f.cache.onWait = func(string) {
		mu.Lock()
		defer mu.Unlock()
		if waiters++; waiters == n-1 {
			close(release)
		}
	}
	var reads atomic.Int64
	f.Register("oci", gatedSource{digest: digestOf([]byte(body)), body: body, gate: release, reads: &reads})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := f.Fetch(context.Background(), []protocol.CommandURI{{Value: "oci://r/a@sha256:1"}}, newSandbox(t))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if reads.Load() != int64(len(body)) {
		t.Fatalf("%d bytes read, want one download of %d", reads.Load(), len(body))
	}
}

// gatedSource's content is readable once gate is closed.
type gatedSource struct {
	digest, body string
	gate         chan struct{}
	reads        *atomic.Int64
}

func (s gatedSource) Open(ctx context.Context, uri string) (io.ReadCloser, string, string, error) {
	return io.NopCloser(&gatedReader{s: s, r: strings.NewReader(s.body)}), s.digest, "a.bin", nil
}

type gatedReader struct {
	s gatedSource
	r io.Reader
}

func (g *gatedReader) Read(p []byte) (int, error) {
	<-g.s.gate
	n, err := g.r.Read(p)
	g.s.reads.Add(int64(n))
	return n, err
}
