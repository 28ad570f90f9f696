package apiclient

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// maxEventBytes bounds one server-sent event (the first one, SUBSCRIBED,
// carries the whole cluster state).
const maxEventBytes = 256 << 20

// ErrStreamClosed is sent on Events' error channel when the master ends the
// stream (it restarted, or lost leadership). Subscribe again: the first event
// is a full SUBSCRIBED state.
var ErrStreamClosed = errors.New("the master closed the event stream")

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
		var ev protocol.ClusterEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			return fmt.Errorf("%s: decoding a %q event: %w", where, name, err)
		}
		if ev.Type == "" {
			ev.Type = protocol.ClusterEventType(name)
		}
		select {
		case out <- ev:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

// readSSE parses a text/event-stream (the WHATWG server-sent events format)
// and calls dispatch for every event that has data. name is the event's
// "event:" field ("message" when absent). Lines longer than limit bytes are
// an error. It returns ErrStreamClosed at the end of the stream.
func readSSE(r io.Reader, limit int, where string, dispatch func(name string, data []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(limit, 64<<10)), limit)
	var (
		name    string
		data    []byte
		hasData bool
	)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if hasData {
				if name == "" {
					name = "message"
				}
				if err := dispatch(name, data); err != nil {
					return err
				}
			}
			name, data, hasData = "", data[:0], false
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue // a comment, e.g. a keep-alive
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			name = value
		case "data":
			if hasData {
				data = append(data, '\n')
			}
			data = append(data, value...)
			hasData = true
		}
		// "id" and "retry" are not used: a new subscription starts with
		// the full state.
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("%s: an event is larger than %d bytes", where, limit)
		}
		return fmt.Errorf("%s: reading the event stream: %w", where, err)
	}
	return ErrStreamClosed
}
