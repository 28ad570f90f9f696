package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

func sseEvent(t *testing.T, ev protocol.ClusterEvent) string {
	t.Helper()
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("event: %s\ndata: %s\n\n", ev.Type, data)
}

func TestEvents(t *testing.T) {
	state := protocol.State{Agents: []protocol.Agent{{ID: "A1", Hostname: "h", Resources: resources.MustParse("cpus:4")}}}
	task := protocol.Task{ID: "t1", FrameworkID: "F1", AgentID: "A1", State: protocol.TaskRunning}
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/events" || r.Header.Get("Accept") != "text/event-stream" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		fmt.Fprint(w, sseEvent(t, protocol.ClusterEvent{Type: protocol.EvSubscribed, State: &state}))
		fl.Flush()
		fmt.Fprint(w, ": keep-alive\n\n")
		// A data field split over lines, CRLF line ends, no type in the JSON.
		fmt.Fprint(w, "event: TASK_UPDATED\r\nid: 7\r\ndata: {\"task\":\r\ndata: {\"id\":\"t1\",\"framework_id\":\"F1\",\"agent_id\":\"A1\",\"state\":\"TASK_RUNNING\"}}\r\n\r\n")
		fmt.Fprint(w, "event: NOTHING\n\n") // no data: not dispatched
		fmt.Fprint(w, sseEvent(t, protocol.ClusterEvent{Type: protocol.EvAgentRemoved, Agent: &protocol.Agent{ID: "A1"}}))
	}), "")

	events, errc := c.Events(context.Background())
	var got []protocol.ClusterEvent
	for ev := range events {
		got = append(got, ev)
	}
	if err := <-errc; !errors.Is(err, ErrStreamClosed) {
		t.Errorf("end of stream: %v, want ErrStreamClosed", err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d events: %+v", len(got), got)
	}
	if got[0].Type != protocol.EvSubscribed || got[0].State == nil || len(got[0].State.Agents) != 1 ||
		got[0].State.Agents[0].Resources.ScalarTotal("cpus") != resources.MustParseValue("4") {
		t.Errorf("first event %+v", got[0])
	}
	if got[1].Type != protocol.EvTaskUpdated || got[1].Task == nil || got[1].Task.ID != task.ID || got[1].Task.State != task.State {
		t.Errorf("second event %+v", got[1])
	}
	if got[2].Type != protocol.EvAgentRemoved || got[2].Agent == nil || got[2].Agent.ID != "A1" {
		t.Errorf("third event %+v", got[2])
	}
}

func TestEventsCancel(t *testing.T) {
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, sseEvent(t, protocol.ClusterEvent{Type: protocol.EvSubscribed, State: &protocol.State{}}))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}), "")
	ctx, cancel := context.WithCancel(context.Background())
	events, errc := c.Events(ctx)
	if ev := <-events; ev.Type != protocol.EvSubscribed {
		t.Fatalf("first event %+v", ev)
	}
	cancel()
	for range events {
	}
	if err := <-errc; err != nil {
		t.Errorf("error after cancel: %v, want none", err)
	}
}

func TestEventsErrors(t *testing.T) {
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"token required"}`))
			return
		}
		fmt.Fprint(w, "event: TASK_ADDED\ndata: {not json}\n\n")
	}), "")
	events, errc := c.Events(context.Background())
	for range events {
	}
	err := <-errc
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusUnauthorized || !strings.Contains(err.Error(), "CAIRN_TOKEN") {
		t.Errorf("unauthorized stream: %v", err)
	}

	c.token = "t"
	events, errc = c.Events(context.Background())
	for range events {
	}
	if err := <-errc; err == nil || !strings.Contains(err.Error(), `decoding a "TASK_ADDED" event`) {
		t.Errorf("bad event: %v", err)
	}
}

func TestReadSSETooLong(t *testing.T) {
	// A line longer than the limit is reported, not buffered forever.
	r := strings.NewReader("data: " + strings.Repeat("x", 100) + "\n\n")
	err := readSSE(r, 64, "test", func(string, []byte) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("got %v", err)
	}
}
