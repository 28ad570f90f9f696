package fetcher

import (
	"bytes"
	"context"
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

func TestCacheHit(t *testing.T) {
	body := []byte("cached content")
	srv := newServer(t, map[string][]byte{"/app.bin": body})
	cacheDir := t.TempDir()
	f := newFetcher(t, Config{CacheDir: cacheDir})
	uri := protocol.CommandURI{Value: srv.URL + "/app.bin", Cache: true}
	first := fetch(t, f, newSandbox(t), uri)[0]
	second := fetch(t, f, newSandbox(t), uri)[0]
	if first.Cached || !second.Cached || first.Digest != digestOf(body) || second.Digest != first.Digest || second.Bytes != int64(len(body)) {
		t.Fatalf("results %+v, %+v", first, second)
	}
	if n := srv.count("/app.bin"); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	if readFile(t, second.Path) != string(body) {
		t.Fatal("wrong content from the cache")
	}
	// Same filesystem: a hard link to the (read-only) cache entry.
	blob := filepath.Join(cacheDir, "sha256", strings.TrimPrefix(first.Digest, "sha256:"))
	a, _ := os.Stat(blob)
	b, _ := os.Stat(second.Path)
	if !os.SameFile(a, b) || a.Mode() != 0o444 {
		t.Fatalf("sandbox file is not a hard link of the read-only cache entry (mode %v)", a.Mode())
	}
	// The index survives a restart.
	f2 := newFetcher(t, Config{CacheDir: cacheDir})
	if r := fetch(t, f2, newSandbox(t), uri)[0]; !r.Cached || srv.count("/app.bin") != 1 {
		t.Fatalf("after restart: %+v, %d requests", r, srv.count("/app.bin"))
	}
	// No credentials (nor URIs) in the index.
	idx := readFile(t, filepath.Join(cacheDir, "index.json"))
	if strings.Contains(idx, "app.bin") || strings.Contains(idx, srv.URL) {
		t.Fatalf("index holds the URI: %s", idx)
	}
	// Without Cache=true the URI is downloaded again.
	fetch(t, f, newSandbox(t), protocol.CommandURI{Value: srv.URL + "/app.bin"})
	if n := srv.count("/app.bin"); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}

func TestCacheCopyFromCacheAndExecutable(t *testing.T) {
	srv := newServer(t, map[string][]byte{"/tool": []byte("#!/bin/sh\n")})
	cacheDir := t.TempDir()
	for _, tc := range []struct {
		cfg  Config
		exec bool
		mode os.FileMode
	}{
		{Config{CacheDir: cacheDir}, true, 0o755},
		{Config{CacheDir: cacheDir, CopyFromCache: true}, false, 0o644},
	} {
		f := newFetcher(t, tc.cfg)
		for range 2 {
			r := fetch(t, f, newSandbox(t), protocol.CommandURI{Value: srv.URL + "/tool", Cache: true, Executable: tc.exec})[0]
			blob := filepath.Join(cacheDir, "sha256", strings.TrimPrefix(r.Digest, "sha256:"))
			a, _ := os.Stat(blob)
			b, _ := os.Stat(r.Path)
			if os.SameFile(a, b) || b.Mode() != tc.mode || a.Mode() != 0o444 {
				t.Fatalf("exec=%v: want a copy with mode %v, got same file %v, mode %v (cache entry %v)", tc.exec, tc.mode, os.SameFile(a, b), b.Mode(), a.Mode())
			}
		}
	}
	if n := srv.count("/tool"); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestCacheDisabledWithoutDir(t *testing.T) {
	srv := newServer(t, map[string][]byte{"/x": []byte("x")})
	f := newFetcher(t, Config{})
	for range 2 {
		if r := fetch(t, f, newSandbox(t), protocol.CommandURI{Value: srv.URL + "/x", Cache: true})[0]; r.Cached {
			t.Fatal("cached without a cache dir")
		}
	}
	if n := srv.count("/x"); n != 2 {
		t.Fatalf("%d requests", n)
	}
}

func TestCacheConcurrentFetchesDownloadOnce(t *testing.T) {
	const n = 8
	body := bytes.Repeat([]byte("z"), 64<<10)
	var requests atomic.Int32
	waiting := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		<-waiting // hold the download until every other fetch waits for it
		w.Write(body)
	}))
	defer srv.Close()
	f := cachedFetcher(t)
	var mu sync.Mutex
	waiters := 0
	f.cache.onWait = func(string) {
		mu.Lock()
		defer mu.Unlock()
		if waiters++; waiters == n-1 {
			close(waiting)
		}
	}
	results := make([]Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var res []Result
			res, errs[i] = f.Fetch(context.Background(), []protocol.CommandURI{{Value: srv.URL + "/big.bin", Cache: true}}, newSandbox(t))
			if len(res) == 1 {
				results[i] = res[0]
			}
		})
	}
	wg.Wait()
	downloaded := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if results[i].Digest != digestOf(body) || readFile(t, results[i].Path) != string(body) {
			t.Fatalf("result %d: %+v", i, results[i])
		}
		if !results[i].Cached {
			downloaded++
		}
	}
	if requests.Load() != 1 || downloaded != 1 {
		t.Fatalf("%d requests, %d uncached results; want 1 and 1", requests.Load(), downloaded)
	}
}

func TestCacheLeaderCancelledWaiterTakesOver(t *testing.T) {
	var requests atomic.Int32
	first := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			close(first)
			<-r.Context().Done() // the first download never completes
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	f := cachedFetcher(t)
	joined := make(chan struct{})
	f.cache.onWait = func(string) { close(joined) }
	uri := []protocol.CommandURI{{Value: srv.URL + "/x", Cache: true}}
	ctx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() { _, err := f.Fetch(ctx, uri, newSandbox(t)); leaderErr <- err }()
	<-first
	waiterRes := make(chan []Result, 1)
	waiterErr := make(chan error, 1)
	go func() { r, err := f.Fetch(context.Background(), uri, newSandbox(t)); waiterRes <- r; waiterErr <- err }()
	<-joined
	cancel()
	if err := <-leaderErr; err == nil {
		t.Fatal("the cancelled leader succeeded")
	}
	if err := <-waiterErr; err != nil {
		t.Fatalf("the waiter failed with its leader: %v", err)
	}
	if r := <-waiterRes; r[0].Cached || readFile(t, r[0].Path) != "ok" {
		t.Fatalf("waiter result %+v", r[0])
	}
}

func TestCacheErrorSharedWithWaiters(t *testing.T) {
	release := make(chan struct{})
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		<-release
		http.NotFound(w, r)
	}))
	defer srv.Close()
	f := cachedFetcher(t)
	f.cache.onWait = func(string) { close(release) }
	uri := []protocol.CommandURI{{Value: srv.URL + "/gone", Cache: true}}
	errs := make(chan error, 2)
	for range 2 {
		go func() { _, err := f.Fetch(context.Background(), uri, newSandbox(t)); errs <- err }()
	}
	for range 2 {
		if err := <-errs; err == nil || !strings.Contains(err.Error(), "404 Not Found") {
			t.Fatalf("err %v", err)
		}
	}
	if requests.Load() != 1 {
		t.Fatalf("%d requests for a shared failure", requests.Load())
	}
}

func TestCacheEviction(t *testing.T) {
	files := map[string][]byte{}
	for _, p := range []string{"/a", "/b", "/c"} {
		files[p] = bytes.Repeat([]byte(p[1:]), 100)
	}
	srv := newServer(t, files)
	cacheDir := t.TempDir()
	f := newFetcher(t, Config{CacheDir: cacheDir, CacheBytes: 250})
	get := func(p string) Result {
		return fetch(t, f, newSandbox(t), protocol.CommandURI{Value: srv.URL + p, Cache: true})[0]
	}
	get("/a")
	get("/b")
	if !get("/a").Cached { // a is now more recently used than b
		t.Fatal("a not cached")
	}
	get("/c") // 300 bytes > 250: b, least recently used, goes
	if !get("/a").Cached || srv.count("/a") != 1 {
		t.Fatal("a was evicted")
	}
	if get("/b").Cached || srv.count("/b") != 2 {
		t.Fatal("b was not evicted")
	}
	var total int64
	ents, _ := os.ReadDir(filepath.Join(cacheDir, "sha256"))
	for _, e := range ents {
		fi, _ := e.Info()
		total += fi.Size()
	}
	if total > 250 {
		t.Fatalf("cache holds %d bytes, limit 250", total)
	}
	// An entry larger than the whole cache is served, then dropped.
	srv.set("/huge", bytes.Repeat([]byte("h"), 300))
	if r := get("/huge"); r.Bytes != 300 || readFile(t, r.Path) != strings.Repeat("h", 300) {
		t.Fatalf("huge: %+v", r)
	}
	if get("/huge").Cached {
		t.Fatal("an entry larger than the cache was kept")
	}
}

func TestCacheCorruptEntryRedownloaded(t *testing.T) {
	body := []byte("the real thing")
	srv := newServer(t, map[string][]byte{"/app.tgz.sig": body})
	cacheDir := t.TempDir()
	f := newFetcher(t, Config{CacheDir: cacheDir})
	uri := protocol.CommandURI{Value: srv.URL + "/app.tgz.sig", Cache: true}
	r := fetch(t, f, newSandbox(t), uri)[0]
	// Corrupt it, as a task writing through its hard link would.
	blob := filepath.Join(cacheDir, "sha256", strings.TrimPrefix(r.Digest, "sha256:"))
	os.Chmod(blob, 0o644)
	if err := os.WriteFile(blob, []byte("tampered!"), 0o644); err != nil {
		t.Fatal(err)
	}
	r2 := fetch(t, f, newSandbox(t), uri)[0]
	if r2.Cached || r2.Digest != digestOf(body) || readFile(t, r2.Path) != string(body) || srv.count("/app.tgz.sig") != 2 {
		t.Fatalf("result %+v after corruption (%d requests): want a fresh download", r2, srv.count("/app.tgz.sig"))
	}
	if !fetch(t, f, newSandbox(t), uri)[0].Cached {
		t.Fatal("the re-downloaded entry is not cached")
	}
}

func TestCacheExtractDoesNotWriteThroughHardLink(t *testing.T) {
	// A cached (hard-linked) file replaced by an archive entry of the same
	// name must not change the cache entry.
	srv := newServer(t, map[string][]byte{
		"/x.txt":  []byte("original"),
		"/x.tar":  makeTar(t, entry{name: "x.txt", body: "replaced"}),
		"/x2.txt": []byte("original"),
	})
	f := cachedFetcher(t)
	dir := newSandbox(t)
	fetch(t, f, dir, protocol.CommandURI{Value: srv.URL + "/x.txt", Cache: true}, protocol.CommandURI{Value: srv.URL + "/x.tar"})
	if readFile(t, filepath.Join(dir, "x.txt")) != "replaced" {
		t.Fatal("archive entry did not replace the file")
	}
	r := fetch(t, f, newSandbox(t), protocol.CommandURI{Value: srv.URL + "/x.txt", Cache: true})[0]
	if !r.Cached || readFile(t, r.Path) != "original" {
		t.Fatalf("cache entry changed: %+v %q", r, readFile(t, r.Path))
	}
}

func TestCacheSameContentTwoURIs(t *testing.T) {
	srv := newServer(t, map[string][]byte{"/v1/a": []byte("same"), "/mirror/a": []byte("same")})
	cacheDir := t.TempDir()
	f := newFetcher(t, Config{CacheDir: cacheDir})
	fetch(t, f, newSandbox(t), protocol.CommandURI{Value: srv.URL + "/v1/a", Cache: true}, protocol.CommandURI{Value: srv.URL + "/mirror/a", Cache: true})
	if ents, _ := os.ReadDir(filepath.Join(cacheDir, "sha256")); len(ents) != 1 {
		t.Fatalf("%d cache entries for one content", len(ents))
	}
}

func TestCacheRecoversFromBadIndexAndStrayFiles(t *testing.T) {
	srv := newServer(t, map[string][]byte{"/x": []byte("x")})
	cacheDir := t.TempDir()
	f := newFetcher(t, Config{CacheDir: cacheDir})
	fetch(t, f, newSandbox(t), protocol.CommandURI{Value: srv.URL + "/x", Cache: true})
	os.WriteFile(filepath.Join(cacheDir, "index.json"), []byte("{not json"), 0o644)
	os.WriteFile(filepath.Join(cacheDir, "sha256", "stray"), []byte("?"), 0o644)
	os.WriteFile(filepath.Join(cacheDir, "tmp", "dl-123"), []byte("partial"), 0o644)
	f = newFetcher(t, Config{CacheDir: cacheDir})
	// The URI index is lost (downloaded again), the entry itself kept, strays removed.
	if fetch(t, f, newSandbox(t), protocol.CommandURI{Value: srv.URL + "/x", Cache: true})[0].Cached {
		t.Fatal("served from a lost index")
	}
	for _, p := range []string{"sha256/stray", "tmp/dl-123"} {
		if _, err := os.Stat(filepath.Join(cacheDir, p)); err == nil {
			t.Errorf("%s not removed", p)
		}
	}
	if !fetch(t, f, newSandbox(t), protocol.CommandURI{Value: srv.URL + "/x", Cache: true})[0].Cached {
		t.Fatal("not cached after the rebuild")
	}
}
