package services

import (
	"time"

	"github.com/cairn-dc/cairn/frameworks/services/marathon"
)

// emit sends a Marathon event to /v2/events subscribers once the batch is
// durable. A subscriber that cannot keep up loses events (it is told so by
// a gap in nothing; Marathon's event stream is best-effort too).
func (f *Framework) emit(typ string, body map[string]any) {
	if len(f.subscribers) == 0 {
		return
	}
	body["eventType"] = typ
	body["timestamp"] = marathon.Timestamp(time.Now())
	ev := marathon.Event{Type: typ, Body: body}
	subs := make([]chan marathon.Event, 0, len(f.subscribers))
	for ch := range f.subscribers {
		subs = append(subs, ch)
	}
	f.later(func() {
		for _, ch := range subs {
			select {
			case ch <- ev:
			default:
			}
		}
	})
}
