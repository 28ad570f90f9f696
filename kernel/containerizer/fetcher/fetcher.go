// Package fetcher downloads a task's URIs into its sandbox before it starts
// (Mesos' fetcher): http(s) and file URIs, archives extracted, files made
// executable, downloads cached by content digest. Other schemes plug in
// through Source (OCI artifacts arrive with the package repository).
//
// See README.md for the semantics in full: naming, the cache layout and its
// eviction, extraction rules and the errors returned.
package fetcher

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// Defaults of Config.
const (
	DefaultCacheBytes int64 = 2 << 30 // 2 GiB
	DefaultMaxBytes   int64 = 4 << 30 // 4 GiB
	// DefaultMaxExtractFactor × MaxBytes is the default MaxExtractBytes.
	DefaultMaxExtractFactor = 4
)

// Config of a Fetcher.
type Config struct {
	// CacheDir holds cached downloads by digest (CacheDir/sha256/<hex>) and
	// an index from URI to digest for URIs fetched with Cache=true
	// (CacheDir/index.json). Empty disables the cache: Cache=true URIs are
	// then downloaded every time. One Fetcher per CacheDir.
	CacheDir string
	// CacheBytes bounds the cache (least recently used entries go first; default 2 GiB).
	CacheBytes int64
	// CopyFromCache copies cached files into sandboxes instead of hard
	// linking them. A hard link shares its inode with the cache entry: a
	// task able to write its fetched file (it runs as the file's owner, or
	// the sandbox was chown'ed to it) could change what the next task
	// fetching that URI gets, and what other tasks already hold. Entries
	// are verified before each reuse, but set this when tasks are not
	// trusted with each other's files.
	CopyFromCache bool
	// HTTPClient makes http(s) requests (default: a client with the
	// default transport and a 1 minute response header timeout).
	HTTPClient *http.Client
	// MaxBytes bounds one download (default 4 GiB).
	MaxBytes int64
	// MaxExtractBytes bounds what one archive may unpack to (default
	// 4 × MaxBytes), against decompression bombs.
	MaxExtractBytes int64
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// Fetcher fetches URIs. Safe for concurrent use; concurrent fetches of the
// same cacheable URI download once.
type Fetcher struct {
	maxBytes      int64
	maxExtract    int64
	copyFromCache bool
	log           *slog.Logger
	cache         *cache // nil without CacheDir

	mu      sync.RWMutex
	sources map[string]Source
}

// New makes a fetcher with http, https and file sources registered. It
// creates CacheDir if needed and loads its index.
func New(cfg Config) (*Fetcher, error) {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxExtractBytes <= 0 {
		cfg.MaxExtractBytes = DefaultMaxExtractFactor * cfg.MaxBytes
	}
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = DefaultCacheBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = time.Minute
		cfg.HTTPClient = &http.Client{Transport: t}
	}
	f := &Fetcher{
		maxBytes:      cfg.MaxBytes,
		maxExtract:    cfg.MaxExtractBytes,
		copyFromCache: cfg.CopyFromCache,
		log:           cfg.Logger.With("component", "fetcher"),
		sources:       map[string]Source{},
	}
	if cfg.CacheDir != "" {
		c, err := openCache(cfg.CacheDir, cfg.CacheBytes, f.log)
		if err != nil {
			return nil, err
		}
		f.cache = c
	}
	h := &httpSource{client: cfg.HTTPClient, maxBytes: cfg.MaxBytes}
	f.sources["http"] = h
	f.sources["https"] = h
	f.sources["file"] = &fileSource{maxBytes: cfg.MaxBytes}
	return f, nil
}

// Register adds (or replaces) the Source for a URI scheme such as "oci".
// Schemes are case-insensitive; a nil Source removes the scheme.
func (f *Fetcher) Register(scheme string, s Source) {
	scheme = strings.ToLower(scheme)
	f.mu.Lock()
	defer f.mu.Unlock()
	if s == nil {
		delete(f.sources, scheme)
		return
	}
	f.sources[scheme] = s
}

// Result describes one fetched URI.
type Result struct {
	URI string
	// Path is where the fetched file landed in the sandbox (dir joined with
	// its name). An archive is kept there, next to its extracted contents,
	// as Mesos does.
	Path   string
	Digest string // "sha256:<hex>" of the fetched file
	Cached bool   // served from the cache (not downloaded by this fetch)
	Bytes  int64  // size of the fetched file
}

// Error is the error of Fetch: which URI failed and why. Its message reads
// "fetch <uri>: <why>: <what to do>", credentials in the URI redacted.
type Error struct {
	URI string // as given in the CommandURI
	Err error
}

func (e *Error) Error() string { return "fetch " + redact(e.URI) + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Fetch fetches every URI into dir (the task's sandbox, which must exist),
// in order, following Mesos semantics: the file is named after OutputFile
// (a relative path inside dir) or the URI's last path segment; Extract
// (default true) unpacks .tar, .tar.gz, .tgz, .tar.bz2, .tbz2, .zip and .gz
// into dir (the archive itself is kept); Executable sets mode 0755 (and
// disables extraction); Cache reuses a previous download of the same URI.
// A failure stops at that URI: Fetch returns the results of the URIs
// fetched before it and an *Error naming it and what to do
// ("fetch http://x/y.tgz: 404 Not Found: ..."). Archive entries may not
// escape dir (zip-slip is refused).
func (f *Fetcher) Fetch(ctx context.Context, uris []protocol.CommandURI, dir string) ([]Result, error) {
	if len(uris) == 0 {
		return nil, nil
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("fetch into sandbox %s: %w (the agent must create the sandbox first)", dir, err)
	}
	root, err := os.OpenRoot(real)
	if err != nil {
		return nil, fmt.Errorf("fetch into sandbox %s: %w", dir, err)
	}
	defer root.Close()
	sb := &sandbox{dir: dir, real: real, root: root}
	results := make([]Result, 0, len(uris))
	for _, u := range uris {
		if err := ctx.Err(); err != nil {
			return results, &Error{URI: u.Value, Err: fmt.Errorf("%w: the fetch was cancelled", err)}
		}
		start := time.Now()
		res, err := f.fetchOne(ctx, sb, u)
		if err != nil {
			f.log.Info("fetch failed", "uri", redact(u.Value), "sandbox", dir, "err", err)
			return results, &Error{URI: u.Value, Err: err}
		}
		f.log.Debug("fetched", "uri", redact(u.Value), "path", res.Path, "bytes", res.Bytes,
			"digest", res.Digest, "cached", res.Cached, "took", time.Since(start))
		results = append(results, res)
	}
	return results, nil
}

// sandbox is the destination of one Fetch.
type sandbox struct {
	dir  string   // as given
	real string   // symlinks resolved
	root *os.Root // at real
}

// content is what a fetch got before it is placed in the sandbox: either a
// temporary file in the sandbox or a pinned cache blob.
type content struct {
	hex    string
	name   string // suggested by the source or remembered by the cache index
	size   int64
	cached bool
	tmp    string // sandbox-relative temporary file, or
	blob   string // hex of a pinned cache blob (unpin when done)
}

func (f *Fetcher) fetchOne(ctx context.Context, sb *sandbox, u protocol.CommandURI) (Result, error) {
	uri := strings.TrimSpace(u.Value)
	res := Result{URI: u.Value}
	src, err := f.source(uri)
	if err != nil {
		return res, err
	}
	var out string
	if u.OutputFile != "" {
		if out, err = outputPath(u.OutputFile); err != nil {
			return res, err
		}
	}
	var c content
	switch {
	case u.Cache && f.cache != nil:
		c, err = f.viaURICache(ctx, uri, src)
	default:
		var o opened
		if o, err = f.open(ctx, uri, src); err != nil {
			return res, err
		}
		if o.digest != "" && f.cache != nil {
			c, err = f.intoCache(ctx, o)
		} else {
			c, err = f.direct(ctx, sb, o)
		}
	}
	if err != nil {
		return res, err
	}
	if c.blob != "" {
		defer f.cache.unpin(c.blob)
	}
	if out == "" {
		if out = c.name; out == "" {
			out = nameFromURI(uri)
		}
	}
	mode := fs.FileMode(0o644)
	if u.Executable {
		mode = 0o755
	}
	if err := f.place(sb, c, out, mode, u.Executable); err != nil {
		return res, err
	}
	res.Path = filepath.Join(sb.dir, out)
	res.Digest = "sha256:" + c.hex
	res.Cached = c.cached
	res.Bytes = c.size
	extract := (u.Extract == nil || *u.Extract) && !u.Executable
	if kind := archiveKind(out); extract && kind != notArchive {
		if err := f.extract(ctx, sb.root, out, kind); err != nil {
			return res, err
		}
	}
	return res, nil
}

// source finds the Source of uri's scheme. Plain absolute paths are files.
func (f *Fetcher) source(uri string) (Source, error) {
	if uri == "" {
		return nil, errors.New("empty URI: set the URI's value")
	}
	scheme := "file"
	if !strings.HasPrefix(uri, "/") {
		u, err := url.Parse(uri)
		if err != nil {
			return nil, fmt.Errorf("malformed URI: %w", err)
		}
		if u.Scheme == "" {
			return nil, errors.New("relative path: use an absolute path, a file:// URI or an http(s) URL")
		}
		scheme = strings.ToLower(u.Scheme)
	}
	f.mu.RLock()
	s := f.sources[scheme]
	f.mu.RUnlock()
	if s == nil {
		return nil, fmt.Errorf("unsupported URI scheme %q: use http, https, file or an absolute path, or register a source for %q on the agent", scheme, scheme)
	}
	return s, nil
}

// opened is an opened Source.
type opened struct {
	rc     io.ReadCloser
	digest string // hex, "" if unknown
	name   string
}

func (f *Fetcher) open(ctx context.Context, uri string, src Source) (opened, error) {
	rc, digest, name, err := src.Open(ctx, uri)
	if err != nil {
		if rc != nil {
			rc.Close()
		}
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return opened{}, err
	}
	if rc == nil {
		return opened{}, errors.New("the source returned no content (a bug in its Source)")
	}
	o := opened{rc: rc, name: sanitizeName(name)}
	if digest != "" {
		hex, ok := parseDigest(digest)
		if !ok {
			rc.Close()
			return opened{}, fmt.Errorf("the source announced a malformed digest %q (want sha256:<64 hex digits>)", digest)
		}
		o.digest = hex
	}
	return o, nil
}

// download streams o into w, hashing as it goes, bounded by MaxBytes;
// cancelling ctx closes the source to abort a blocked read. It checks the
// digest the source announced, if any, and closes o.rc.
func (f *Fetcher) download(ctx context.Context, w io.Writer, o opened) (size int64, hex string, err error) {
	stop := context.AfterFunc(ctx, func() { o.rc.Close() })
	defer func() {
		stop()
		o.rc.Close()
	}()
	h := newHasher()
	n, err := io.Copy(io.MultiWriter(w, h), &ctxReader{ctx: ctx, r: io.LimitReader(o.rc, f.maxBytes+1)})
	if ctx.Err() != nil {
		return n, "", fmt.Errorf("%w: the download was aborted", ctx.Err())
	}
	if err != nil {
		return n, "", fmt.Errorf("download: %w", err)
	}
	if n > f.maxBytes {
		return n, "", tooLarge(f.maxBytes)
	}
	hex = h.hex()
	if o.digest != "" && o.digest != hex {
		return n, "", fmt.Errorf("content has digest sha256:%s, not the sha256:%s its source announced: the artifact is corrupt or was replaced; fetch it again or fix the source", hex, o.digest)
	}
	return n, hex, nil
}

// direct downloads into a temporary file in the sandbox.
func (f *Fetcher) direct(ctx context.Context, sb *sandbox, o opened) (content, error) {
	tmp := tempName()
	file, err := sb.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		o.rc.Close()
		return content{}, fmt.Errorf("create a file in the sandbox: %w", err)
	}
	n, hex, err := f.download(ctx, file, o)
	if cerr := file.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write the sandbox: %w", cerr)
	}
	if err != nil {
		sb.root.Remove(tmp)
		return content{}, err
	}
	return content{hex: hex, name: o.name, size: n, tmp: tmp}, nil
}

// place moves (or links, or copies) c to rel in the sandbox with mode.
func (f *Fetcher) place(sb *sandbox, c content, rel string, mode fs.FileMode, executable bool) error {
	if d := filepath.Dir(rel); d != "." {
		if err := sb.root.MkdirAll(d, 0o755); err != nil {
			f.removeTmp(sb, c)
			return fmt.Errorf("create directory %s in the sandbox: %w", d, err)
		}
	}
	tmp := c.tmp
	if tmp != "" {
		if err := sb.root.Chmod(tmp, mode); err != nil {
			sb.root.Remove(tmp)
			return fmt.Errorf("chmod in the sandbox: %w", err)
		}
	} else {
		var err error
		if tmp, err = f.fromCache(sb, c.blob, mode, executable); err != nil {
			return err
		}
	}
	if err := sb.root.Rename(tmp, rel); err != nil {
		sb.root.Remove(tmp)
		if fi, serr := sb.root.Lstat(rel); serr == nil && fi.IsDir() {
			return fmt.Errorf("%s is a directory in the sandbox: set output_file to another name", rel)
		}
		return fmt.Errorf("move the file into place in the sandbox: %w", err)
	}
	return nil
}

func (f *Fetcher) removeTmp(sb *sandbox, c content) {
	if c.tmp != "" {
		sb.root.Remove(c.tmp)
	}
}

// fromCache hard links (same filesystem, not executable, not
// CopyFromCache) or copies the blob to a temporary file in the sandbox.
func (f *Fetcher) fromCache(sb *sandbox, hex string, mode fs.FileMode, executable bool) (string, error) {
	blob := f.cache.blobPath(hex)
	tmp := tempName()
	if !executable && !f.copyFromCache {
		// tmp is at the top of the sandbox, so sb.real/tmp involves no symlink.
		if err := os.Link(blob, filepath.Join(sb.real, tmp)); err == nil {
			return tmp, nil
		}
	}
	in, err := os.Open(blob)
	if err != nil {
		return "", fmt.Errorf("open cache entry %s: %w", blob, err)
	}
	defer in.Close()
	out, err := sb.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return "", fmt.Errorf("create a file in the sandbox: %w", err)
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = sb.root.Chmod(tmp, mode)
	}
	if err != nil {
		sb.root.Remove(tmp)
		return "", fmt.Errorf("copy from the cache into the sandbox: %w", err)
	}
	return tmp, nil
}

// tempName is a fresh name for a temporary file at the top of a sandbox.
func tempName() string { return ".cairn-fetch-" + rand.Text()[:16] }

// ctxReader stops reading once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func tooLarge(limit int64) error {
	return fmt.Errorf("larger than the fetcher's limit of %s (MaxBytes = %d bytes): fetch a smaller file or raise the agent's fetch size limit", humanBytes(limit), limit)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	s := fmt.Sprintf("%.1f", v)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + string("KMGTPE"[exp]) + "iB"
}

// redact hides the password of a URL's userinfo, for errors and logs.
func redact(uri string) string {
	if strings.HasPrefix(uri, "/") {
		return uri
	}
	u, err := url.Parse(uri)
	if err != nil || u.User == nil {
		return uri
	}
	return u.Redacted()
}
