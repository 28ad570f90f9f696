package scheduler

import (
	"sync"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// queue is the unbounded FIFO between the NATS callback (which must never
// block) and the pump goroutine that hands events to the framework's code.
// Nothing is ever dropped: a slow consumer only makes the queue longer.
type queue struct {
	mu     sync.Mutex
	items  []protocol.Event
	spare  []protocol.Event // the pump's last batch, reused to avoid garbage
	ended  bool             // no more pushes; the pump closes Events once drained
	total  uint64           // events ever queued (diagnostics, tests)
	signal chan struct{}    // capacity 1: "there is something new"
}

func newQueue() *queue { return &queue{signal: make(chan struct{}, 1)} }

// push appends e; it reports false once the queue has ended.
func (q *queue) push(e protocol.Event) bool {
	q.mu.Lock()
	if q.ended {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, e)
	q.total++
	q.mu.Unlock()
	q.wake()
	return true
}

// pushFront puts e before everything queued (the first SUBSCRIBED event).
func (q *queue) pushFront(e protocol.Event) {
	q.mu.Lock()
	q.items = append([]protocol.Event{e}, q.items...)
	q.total++
	q.mu.Unlock()
	q.wake()
}

// end stops further pushes; the pump delivers what is queued, then closes.
func (q *queue) end() {
	q.mu.Lock()
	q.ended = true
	q.mu.Unlock()
	q.wake()
}

func (q *queue) wake() {
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// take waits for a batch of events. It returns ended=true (with an empty
// batch) once the queue has ended and everything was taken, and ok=false
// when abort is closed first.
func (q *queue) take(abort <-chan struct{}) (batch []protocol.Event, ended, ok bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			batch = q.items
			clear(q.spare) // let delivered events be collected
			q.items = q.spare[:0]
			q.spare = batch
			q.mu.Unlock()
			return batch, false, true
		}
		if q.ended {
			q.mu.Unlock()
			return nil, true, true
		}
		q.mu.Unlock()
		select {
		case <-q.signal:
		case <-abort:
			return nil, false, false
		}
	}
}

// len is the number of events waiting for the pump, and total the number
// ever queued (for tests and diagnostics).
func (q *queue) len() (waiting int, total uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items), q.total
}
