package supervisor

import (
	"errors"
	"io"
	"sync"
)

// outbox batches lines for one connection: writers append under a mutex,
// one goroutine writes everything pending in one write(2). Pipelined
// replies and bursts of exit events thus cost few syscalls.
type outbox struct {
	mu     sync.Mutex
	buf    []byte
	spare  []byte
	closed bool
	limit  int // drop the connection when this much is pending (a stuck peer)
	wake   chan struct{}
}

var errOutboxFull = errors.New("peer does not read: too much output pending")

func newOutbox(limit int) *outbox {
	return &outbox{limit: limit, wake: make(chan struct{}, 1)}
}

// put queues line (a newline is appended). It reports false when the
// outbox is closed or full (then it closes).
func (o *outbox) put(line []byte) bool {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return false
	}
	if o.limit > 0 && len(o.buf)+len(line) > o.limit {
		o.closed = true
		o.mu.Unlock()
		o.poke()
		return false
	}
	o.buf = append(o.buf, line...)
	o.buf = append(o.buf, '\n')
	o.mu.Unlock()
	o.poke()
	return true
}

func (o *outbox) poke() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// close stops the outbox; run writes what is pending and returns.
func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	o.poke()
}

// run writes queued lines to w until the outbox is closed (and drained) or
// a write fails.
func (o *outbox) run(w io.Writer) error {
	for range o.wake {
		for {
			o.mu.Lock()
			b := o.buf
			closed := o.closed
			o.buf = o.spare[:0]
			o.spare = nil
			o.mu.Unlock()
			if len(b) == 0 {
				if closed {
					return nil
				}
				break
			}
			if _, err := w.Write(b); err != nil {
				o.close()
				return err
			}
			o.mu.Lock()
			if cap(b) <= 1<<20 {
				o.spare = b[:0]
			}
			o.mu.Unlock()
		}
	}
	return nil
}
