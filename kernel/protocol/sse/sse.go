// Package sse reads server-sent events (the WHATWG text/event-stream
// format), as the master's GET /v1/events and Marathon's /v2/events serve
// them. It only parses what its caller reads: the CLI's API client and the
// module host share it.
package sse

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrClosed is Read's error at the end of the stream: the server ended it.
var ErrClosed = errors.New("the master closed the event stream")

// Read parses r and calls dispatch for every event that has data; name is
// the event's "event:" field ("message" when absent). A line longer than
// limit bytes is an error. It returns dispatch's first error, or ErrClosed
// at the end of the stream.
func Read(r io.Reader, limit int, dispatch func(name string, data []byte) error) error {
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
			return fmt.Errorf("an event is larger than %d bytes", limit)
		}
		return fmt.Errorf("reading the event stream: %w", err)
	}
	return ErrClosed
}
