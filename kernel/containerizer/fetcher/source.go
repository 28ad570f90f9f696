package fetcher

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Source opens a URI of the schemes it was registered for.
//
// The fetcher reads the content, hashing it, and closes it; if the fetch's
// context is cancelled it calls Close concurrently with a blocked Read to
// abort it, so Close must be safe to call concurrently with Read and more
// than once.
type Source interface {
	// Open returns the content and, if known in advance, its sha256 digest
	// ("sha256:<hex>"; "" if unknown) and a suggested file name ("" to
	// name the file after the URI's last path segment). A known digest is
	// checked against the content, and lets the fetcher serve the content
	// from its cache (closing rc unread) even for URIs without Cache=true.
	Open(ctx context.Context, uri string) (rc io.ReadCloser, digest, name string, err error)
}

// StatusError is an http(s) response that was not a success (2xx), after
// redirects.
type StatusError struct {
	StatusCode int
	Status     string // "404 Not Found"
}

func (e *StatusError) Error() string {
	s := e.Status
	if s == "" {
		s = fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	switch {
	case e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden:
		return s + ": the server refused access; check the URI's credentials or permissions"
	case e.StatusCode >= 400 && e.StatusCode < 500:
		return s + ": check that the URI is correct and the file exists on the server"
	case e.StatusCode >= 500:
		return s + ": the server failed; retry later or check the server"
	}
	return s + ": the server did not send the file; check the URI"
}

// httpSource GETs http and https URLs.
type httpSource struct {
	client   *http.Client
	maxBytes int64
}

func (s *httpSource) Open(ctx context.Context, uri string) (io.ReadCloser, string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, "", "", fmt.Errorf("malformed URL: %w", err)
	}
	// The bytes as served: no transparent decompression (a .tar.gz served
	// with Content-Encoding: gzip must stay a .tar.gz, and its digest stable).
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "cairn-fetcher/1")
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", "", fmt.Errorf("%w: the download was aborted", ctx.Err())
		}
		return nil, "", "", fmt.Errorf("%w: check the URL and that the agent can reach the server", unwrapURLError(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096)) // let the connection be reused
		resp.Body.Close()
		return nil, "", "", &StatusError{StatusCode: resp.StatusCode, Status: resp.Status}
	}
	if resp.ContentLength > s.maxBytes {
		resp.Body.Close()
		return nil, "", "", tooLarge(s.maxBytes)
	}
	return resp.Body, "", "", nil
}

// unwrapURLError drops the *url.Error wrapper, whose message repeats the
// URL (which the fetcher's own error already names).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// fileSource copies local files: file:///abs/path, file://localhost/abs/path
// and plain absolute paths.
type fileSource struct{ maxBytes int64 }

func (s *fileSource) Open(ctx context.Context, uri string) (io.ReadCloser, string, string, error) {
	p, err := localPath(uri)
	if err != nil {
		return nil, "", "", err
	}
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", "", fmt.Errorf("%s does not exist on the agent: check the path", p)
		}
		return nil, "", "", fmt.Errorf("%w: check that the agent may read it", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, "", "", err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, "", "", fmt.Errorf("%s is not a regular file (%s): fetch a file", p, fi.Mode().Type())
	}
	if fi.Size() > s.maxBytes {
		f.Close()
		return nil, "", "", tooLarge(s.maxBytes)
	}
	return f, "", "", nil
}

// localPath is the absolute path of a file URI or plain path.
func localPath(uri string) (string, error) {
	if strings.HasPrefix(uri, "/") {
		return filepath.Clean(uri), nil
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("malformed file URI: %w", err)
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("file URI names host %q: only local files can be fetched (file:///path)", u.Host)
	}
	if u.Path == "" || !strings.HasPrefix(u.Path, "/") {
		return "", errors.New("file URI without an absolute path: write file:///absolute/path")
	}
	return filepath.Clean(u.Path), nil
}

// hasher is a streaming sha256.
type hasher struct{ hash.Hash }

func newHasher() hasher { return hasher{sha256.New()} }

func (h hasher) hex() string { return hex.EncodeToString(h.Sum(nil)) }

// parseDigest returns the hex of "sha256:<64 lowercase hex digits>".
func parseDigest(d string) (string, bool) {
	h, ok := strings.CutPrefix(d, "sha256:")
	if !ok || !validHex(h) {
		return "", false
	}
	return h, true
}

func validHex(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
