package apiclient

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/protocol/sse"
)

// maxEventBytes bounds one server-sent event (the first one, SUBSCRIBED,
// carries the whole cluster state).
const maxEventBytes = 256 << 20

// ErrStreamClosed is sent on Events' error channel when the master ends the
// stream (it restarted, or lost leadership). Subscribe again: the first event
// is a full SUBSCRIBED state.
var ErrStreamClosed = sse.ErrClosed

// Events subscribes to GET /v1/events, the master's server-sent event
// stream. The first event is SUBSCRIBED with the full state; the others
// describe changes.
//
// Events arrive on the first channel. When the stream ends, at most one
// error is sent on the second channel (buffered) and then both channels are
// closed: ranging over the events and then receiving from the error channel
// yields the error, or nil. Cancelling ctx ends the stream with no error.
func (c *Client) Events(ctx context.Context) (<-chan protocol.ClusterEvent, <-chan error) {
	events := make(chan protocol.ClusterEvent)
	errc := make(chan error, 1)
	go func() {
		defer close(errc)
		defer close(events)
		if err := c.streamEvents(ctx, events); err != nil && ctx.Err() == nil {
			errc <- err
		}
	}()
	return events, errc
}

func (c *Client) streamEvents(ctx context.Context, out chan<- protocol.ClusterEvent) error {
	resp, err := c.do(ctx, "/v1/events", nil, "text/event-stream")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	where := c.endpoint("/v1/events", nil).Redacted()
	return readSSE(resp.Body, maxEventBytes, where, func(name string, data []byte) error {
		ev, err := protocol.DecodeClusterEvent(name, data)
		if err != nil {
			return err // readSSE says where
		}
		select {
		case out <- ev:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

// readSSE reads server-sent events (sse.Read), naming where they come from
// in its errors.
func readSSE(r io.Reader, limit int, where string, dispatch func(name string, data []byte) error) error {
	err := sse.Read(r, limit, dispatch)
	if err == nil || errors.Is(err, ErrStreamClosed) || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%s: %w", where, err)
}
