package images

import (
	"context"
	"errors"
	"io"
	"sync"
)

// errClosed is returned by reads after Close.
var errClosed = errors.New("read after close: the download was aborted")

// lazyReader opens its content on the first Read, so that a fetcher that
// finds the digest in its cache closes it without a request. Close may be
// called concurrently with Read (it cancels the request, which unblocks
// the read) and more than once, as fetcher.Source requires.
type lazyReader struct {
	// ctx is the Open's (the fetch's): the request is made on its behalf,
	// within the fetch, so it is kept here for that one use.
	ctx  context.Context
	open func(context.Context) (io.ReadCloser, error)

	mu     sync.Mutex
	rc     io.ReadCloser // nil until opened
	cancel context.CancelFunc
	err    error // a failed open, returned by every later Read
	busy   bool  // a Read (or the open) is in progress without mu
	closed bool
	rcShut bool // rc was closed
}

func newLazyReader(ctx context.Context, open func(context.Context) (io.ReadCloser, error)) *lazyReader {
	return &lazyReader{ctx: ctx, open: open}
}

func (r *lazyReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	switch {
	case r.closed:
		r.mu.Unlock()
		return 0, errClosed
	case r.err != nil:
		r.mu.Unlock()
		return 0, r.err
	case r.rc == nil:
		ctx, cancel := context.WithCancel(r.ctx)
		r.cancel, r.busy = cancel, true
		r.mu.Unlock()
		rc, err := r.open(ctx)
		r.mu.Lock()
		r.busy = false
		switch {
		case err != nil:
			r.err = err
			r.mu.Unlock()
			return 0, err
		case r.closed:
			r.mu.Unlock()
			rc.Close()
			return 0, errClosed
		}
		r.rc = rc
	}
	rc := r.rc
	r.busy = true
	r.mu.Unlock()

	n, err := rc.Read(p)

	r.mu.Lock()
	r.busy = false
	shut := r.closed && !r.rcShut
	r.rcShut = r.rcShut || shut
	r.mu.Unlock()
	if shut { // Close came during the read: finish its work
		rc.Close()
	}
	return n, err
}

func (r *lazyReader) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	if r.cancel != nil {
		r.cancel() // unblocks a read in progress
	}
	rc := r.rc
	shut := rc != nil && !r.busy && !r.rcShut
	r.rcShut = r.rcShut || shut
	r.mu.Unlock()
	if shut {
		return rc.Close()
	}
	return nil
}
