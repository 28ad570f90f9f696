package fetcher

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// The cache directory:
//
//	CacheDir/sha256/<hex>  content, by digest, read-only (0444)
//	CacheDir/tmp/          downloads in progress (emptied by New)
//	CacheDir/index.json    URI → digest, and each entry's size and last use
//
// URIs are indexed by the sha256 of the URI, so credentials in URIs are
// not written to disk.
type cache struct {
	dir   string
	limit int64
	log   *slog.Logger

	mu      sync.Mutex
	uris    map[string]uriRecord // key: sha256 hex of the URI
	blobs   map[string]*blobRecord
	total   int64
	seq     uint64 // orders uses within one clock tick
	flights map[string]*flight

	// onWait, if set (tests), is called when a fetch starts waiting for
	// another's download of the same key.
	onWait func(key string)
}

type uriRecord struct {
	Digest string `json:"digest"` // hex
	Name   string `json:"name,omitempty"`
}

type blobRecord struct {
	Size int64     `json:"size"`
	Used time.Time `json:"used"`
	seq  uint64
	pins int
}

type indexFile struct {
	Version int                    `json:"version"`
	URIs    map[string]uriRecord   `json:"uris"`
	Blobs   map[string]*blobRecord `json:"blobs"`
}

// flight is one download in progress that others may wait for.
type flight struct {
	done  chan struct{}
	err   error
	retry bool // the leader gave up (its context ended): waiters try themselves
}

func openCache(dir string, limit int64, log *slog.Logger) (*cache, error) {
	c := &cache{dir: dir, limit: limit, log: log, uris: map[string]uriRecord{},
		blobs: map[string]*blobRecord{}, flights: map[string]*flight{}}
	for _, d := range []string{c.blobDir(), c.tmpDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("fetch cache: %w (check the agent's work dir)", err)
		}
	}
	// Leftovers of downloads interrupted by a crash.
	if ents, err := os.ReadDir(c.tmpDir()); err == nil {
		for _, e := range ents {
			os.RemoveAll(filepath.Join(c.tmpDir(), e.Name()))
		}
	}
	var idx indexFile
	if b, err := os.ReadFile(c.indexPath()); err == nil {
		if err := json.Unmarshal(b, &idx); err != nil {
			log.Warn("fetch cache index unreadable; rebuilding it from the cache entries", "path", c.indexPath(), "err", err)
			idx = indexFile{}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("fetch cache: %w", err)
	}
	ents, err := os.ReadDir(c.blobDir())
	if err != nil {
		return nil, fmt.Errorf("fetch cache: %w", err)
	}
	for _, e := range ents {
		p := filepath.Join(c.blobDir(), e.Name())
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() || !validHex(e.Name()) {
			os.RemoveAll(p) // not ours
			continue
		}
		rec := &blobRecord{Size: fi.Size(), Used: fi.ModTime()}
		if old := idx.Blobs[e.Name()]; old != nil && !old.Used.IsZero() {
			rec.Used = old.Used
		}
		c.blobs[e.Name()] = rec
		c.total += rec.Size
	}
	for k, r := range idx.URIs {
		if c.blobs[r.Digest] != nil && validHex(k) {
			c.uris[k] = r
		}
	}
	// Number uses in order, for LRU ties.
	hexes := make([]string, 0, len(c.blobs))
	for h := range c.blobs {
		hexes = append(hexes, h)
	}
	slices.SortFunc(hexes, func(a, b string) int { return c.blobs[a].Used.Compare(c.blobs[b].Used) })
	for _, h := range hexes {
		c.seq++
		c.blobs[h].seq = c.seq
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evictLocked()
	if err := c.saveLocked(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *cache) blobDir() string            { return filepath.Join(c.dir, "sha256") }
func (c *cache) tmpDir() string             { return filepath.Join(c.dir, "tmp") }
func (c *cache) indexPath() string          { return filepath.Join(c.dir, "index.json") }
func (c *cache) blobPath(hex string) string { return filepath.Join(c.blobDir(), hex) }
func uriKey(uri string) string              { h := newHasher(); io.WriteString(h, uri); return h.hex() }
func (c *cache) touchLocked(b *blobRecord)  { c.seq++; b.seq = c.seq; b.Used = time.Now() }
func (c *cache) lookupLocked(uri string) (uriRecord, bool) {
	r, ok := c.uris[uriKey(uri)]
	return r, ok && c.blobs[r.Digest] != nil
}

// pin marks the blob in use (not evictable) and recently used, and returns
// its size. It reports false if the cache does not hold it.
func (c *cache) pin(hex string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pinLocked(hex)
}

func (c *cache) pinLocked(hex string) (int64, bool) {
	b := c.blobs[hex]
	if b == nil {
		return 0, false
	}
	b.pins++
	c.touchLocked(b)
	return b.Size, true
}

// unpin releases a pin; the blob may then be evicted.
func (c *cache) unpin(hex string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b := c.blobs[hex]; b != nil && b.pins > 0 {
		b.pins--
	}
	c.evictLocked()
	if err := c.saveLocked(); err != nil {
		c.log.Warn("fetch cache index not saved", "err", err)
	}
}

// lookup returns the blob the URI was last fetched to, pinned, and its size.
func (c *cache) lookup(uri string) (uriRecord, int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.lookupLocked(uri)
	if !ok {
		return r, 0, false
	}
	size, _ := c.pinLocked(r.Digest)
	return r, size, true
}

// remember records that uri was fetched to the blob hex, named name.
func (c *cache) remember(uri, hex, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.blobs[hex] == nil {
		return
	}
	c.uris[uriKey(uri)] = uriRecord{Digest: hex, Name: name}
	if err := c.saveLocked(); err != nil {
		c.log.Warn("fetch cache index not saved", "err", err)
	}
}

// add moves a downloaded temporary file into the cache as blob hex, pinned.
func (c *cache) add(tmp, hex string, size int64) error {
	if err := os.Chmod(tmp, 0o444); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("fetch cache: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if b := c.blobs[hex]; b != nil { // same content arrived by another URI
		os.Remove(tmp)
		b.pins++
		c.touchLocked(b)
		return nil
	}
	if err := os.Rename(tmp, c.blobPath(hex)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("fetch cache: %w", err)
	}
	b := &blobRecord{Size: size, pins: 1}
	c.touchLocked(b)
	c.blobs[hex] = b
	c.total += size
	c.evictLocked()
	return c.saveLocked()
}

// discard removes a (corrupt) blob and the URIs pointing to it, even if
// pinned (those holding a pin only unpin it; discard drops the caller's pin).
func (c *cache) discard(hex string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(hex)
	if err := c.saveLocked(); err != nil {
		c.log.Warn("fetch cache index not saved", "err", err)
	}
}

func (c *cache) removeLocked(hex string) {
	b := c.blobs[hex]
	if b == nil {
		return
	}
	if err := os.Remove(c.blobPath(hex)); err != nil && !errors.Is(err, os.ErrNotExist) {
		c.log.Warn("fetch cache entry not removed", "digest", "sha256:"+hex, "err", err)
	}
	delete(c.blobs, hex)
	c.total -= b.Size
	for k, r := range c.uris {
		if r.Digest == hex {
			delete(c.uris, k)
		}
	}
}

// evictLocked removes the least recently used unpinned blobs while the
// cache is over its limit.
func (c *cache) evictLocked() {
	if c.total <= c.limit {
		return
	}
	var cands []string
	for h, b := range c.blobs {
		if b.pins == 0 {
			cands = append(cands, h)
		}
	}
	slices.SortFunc(cands, func(a, b string) int { return cmp.Compare(c.blobs[a].seq, c.blobs[b].seq) })
	for _, h := range cands {
		if c.total <= c.limit {
			return
		}
		c.log.Debug("fetch cache: evicting", "digest", "sha256:"+h, "bytes", c.blobs[h].Size)
		c.removeLocked(h)
	}
}

func (c *cache) saveLocked() error {
	b, err := json.Marshal(indexFile{Version: 1, URIs: c.uris, Blobs: c.blobs})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.tmpDir(), "index-*")
	if err != nil {
		return fmt.Errorf("fetch cache index: %w", err)
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.indexPath())
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("fetch cache index: %w", err)
	}
	return nil
}

// verify re-hashes a blob; a mismatch means it was corrupted (by a task
// through a hard link, or on disk).
func (c *cache) verify(ctx context.Context, hex string) error {
	f, err := os.Open(c.blobPath(hex))
	if err != nil {
		return err
	}
	defer f.Close()
	h := newHasher()
	if _, err := io.Copy(h, &ctxReader{ctx: ctx, r: f}); err != nil {
		return err
	}
	if got := h.hex(); got != hex {
		return fmt.Errorf("cache entry sha256:%s now hashes to sha256:%s", hex, got)
	}
	return nil
}

// join makes the caller the leader of key's download, or returns the
// flight to wait for.
func (c *cache) join(key string) (fl *flight, leader bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if fl := c.flights[key]; fl != nil {
		return fl, false
	}
	fl = &flight{done: make(chan struct{})}
	c.flights[key] = fl
	return fl, true
}

// land ends the leader's flight.
func (c *cache) land(key string, fl *flight, err error, retry bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.flights, key)
	fl.err, fl.retry = err, retry
	close(fl.done)
}

// wait waits for another fetch's download. It returns nil when the caller
// should look in the cache again (or lead a new download).
func (c *cache) wait(ctx context.Context, key string, fl *flight) error {
	if c.onWait != nil {
		c.onWait(key)
	}
	select {
	case <-fl.done:
	case <-ctx.Done():
		return fmt.Errorf("%w: the fetch was cancelled while waiting for a concurrent download of the same URI", ctx.Err())
	}
	if fl.err != nil && !fl.retry {
		return fl.err
	}
	return nil
}

// maxAttempts bounds the retries of a cached fetch whose entry keeps
// being found corrupt or whose leaders keep giving up.
const maxAttempts = 5

// viaURICache fetches a Cache=true URI: from the cache if the URI was
// fetched before (and its entry is intact), else downloaded into the cache
// once however many fetch it concurrently.
func (f *Fetcher) viaURICache(ctx context.Context, uri string, src Source) (content, error) {
	key := "uri:" + uriKey(uri)
	for range maxAttempts {
		if r, size, ok := f.cache.lookup(uri); ok {
			c, ok, err := f.hit(ctx, r.Digest, r.Name, size)
			if err != nil || ok {
				return c, err
			}
			continue // corrupt, discarded: download again
		}
		fl, leader := f.cache.join(key)
		if !leader {
			if err := f.cache.wait(ctx, key, fl); err != nil {
				return content{}, err
			}
			continue
		}
		c, err := f.leadURI(ctx, uri, src)
		f.cache.land(key, fl, err, ctx.Err() != nil)
		return c, err
	}
	return content{}, errors.New("the cache entry kept being found corrupt or its downloads abandoned: retry, or check the agent's disk")
}

// leadURI downloads a Cache=true URI into the cache and indexes it.
func (f *Fetcher) leadURI(ctx context.Context, uri string, src Source) (content, error) {
	o, err := f.open(ctx, uri, src)
	if err != nil {
		return content{}, err
	}
	c, err := f.intoCache(ctx, o)
	if err != nil {
		return c, err
	}
	f.cache.remember(uri, c.hex, c.name)
	return c, nil
}

// hit verifies a pinned blob before reuse. If it is corrupt it is
// discarded and hit reports false.
func (f *Fetcher) hit(ctx context.Context, hex, name string, size int64) (content, bool, error) {
	if err := f.cache.verify(ctx, hex); err != nil {
		if ctx.Err() != nil {
			f.cache.unpin(hex)
			return content{}, false, fmt.Errorf("%w: the fetch was cancelled", ctx.Err())
		}
		f.log.Warn("fetch cache entry corrupt; downloading it again", "digest", "sha256:"+hex, "err", err)
		f.cache.discard(hex)
		return content{}, false, nil
	}
	return content{hex: hex, name: name, size: size, cached: true, blob: hex}, true, nil
}

// intoCache gets opened content into the cache: if the source announced a
// digest the cache holds, from the cache (o is closed unread); else
// downloaded, once for concurrent fetches of the same digest.
func (f *Fetcher) intoCache(ctx context.Context, o opened) (content, error) {
	if o.digest == "" {
		return f.downloadToCache(ctx, o)
	}
	key := "sha256:" + o.digest
	for range maxAttempts {
		if size, ok := f.cache.pin(o.digest); ok {
			c, ok, err := f.hit(ctx, o.digest, o.name, size)
			if err != nil || ok {
				o.rc.Close()
				return c, err
			}
			continue
		}
		fl, leader := f.cache.join(key)
		if !leader {
			if err := f.cache.wait(ctx, key, fl); err != nil {
				o.rc.Close()
				return content{}, err
			}
			continue
		}
		c, err := f.downloadToCache(ctx, o)
		f.cache.land(key, fl, err, ctx.Err() != nil)
		return c, err
	}
	o.rc.Close()
	return content{}, errors.New("the cache entry kept being found corrupt or its downloads abandoned: retry, or check the agent's disk")
}

// downloadToCache downloads o into a new cache blob, pinned.
func (f *Fetcher) downloadToCache(ctx context.Context, o opened) (content, error) {
	tmp, err := os.CreateTemp(f.cache.tmpDir(), "dl-*")
	if err != nil {
		o.rc.Close()
		return content{}, fmt.Errorf("fetch cache: %w (check the agent's work dir)", err)
	}
	n, hex, err := f.download(ctx, tmp, o)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("fetch cache: %w", cerr)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return content{}, err
	}
	if err := f.cache.add(tmp.Name(), hex, n); err != nil {
		return content{}, err
	}
	return content{hex: hex, name: o.name, size: n, blob: hex}, nil
}
