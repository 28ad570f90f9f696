package tui

import (
	"context"
	"errors"
	"log/slog"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/tui/view"
)

// Reconnection backoff of the event stream.
const (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 10 * time.Second
)

// streamed wraps a message of the event stream's goroutine, so the shell
// knows to listen for the next one.
type streamed struct{ msg tea.Msg }

// stream follows GET /v1/events until ctx ends, reconnecting with backoff,
// and sends what it learns on out: a StreamMsg when the stream connects or
// breaks, and an EventMsg per event (SUBSCRIBED, with the full state,
// first on every connection). It closes out when it returns.
func stream(ctx context.Context, client *apiclient.Client, log *slog.Logger, out chan<- tea.Msg) {
	defer close(out)
	send := func(m tea.Msg) bool {
		select {
		case out <- m:
			return true
		case <-ctx.Done():
			return false
		}
	}
	delay := minBackoff
	for ctx.Err() == nil {
		events, errc := client.Events(ctx)
		connected := false
		for ev := range events {
			if !connected {
				connected = true
				delay = minBackoff
				if !send(view.StreamMsg{Connected: true}) {
					return
				}
			}
			if !send(view.EventMsg{Event: ev}) {
				return
			}
		}
		err := <-errc
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = apiclient.ErrStreamClosed
		}
		log.DebugContext(ctx, "event stream broke; reconnecting", "err", err, "in", delay)
		if !send(view.StreamMsg{Connected: false, Err: err}) {
			return
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		delay = min(2*delay, maxBackoff)
	}
}

// listen waits for the stream's next message.
func listen(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		m, ok := <-ch
		if !ok {
			return nil
		}
		return streamed{msg: m}
	}
}

// errStreamNotStarted is the stream state before the first connection.
var errStreamNotStarted = errors.New("connecting")
