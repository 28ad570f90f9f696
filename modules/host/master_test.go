package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

func TestMasterClient(t *testing.T) {
	st := testState()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/state", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"missing or wrong token: pass --token or set CAIRN_TOKEN"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		first, _ := json.Marshal(protocol.ClusterEvent{Type: protocol.EvSubscribed, State: &st})
		fmt.Fprintf(w, "event: SUBSCRIBED\ndata: %s\n\n: keepalive\n\n", first)
		ev, _ := json.Marshal(protocol.ClusterEvent{Type: protocol.EvAgentRemoved, Agent: &protocol.Agent{ID: "A1"}})
		fmt.Fprintf(w, "event: AGENT_REMOVED\ndata: %s\n\n", ev)
		fmt.Fprintf(w, "event: TASK_UPDATED\ndata: {\"task\":{\"id\":\"x\"}}\n\n") // no type: from the event name
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	c, err := NewMasterClient(srv.URL+"/", "tok", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got, err := c.State(ctx)
	if err != nil || len(got.Tasks) != 2 || got.Master.URL != st.Master.URL {
		t.Errorf("State: %+v %v", got, err)
	}
	var types []string
	err = c.Events(ctx, func(ev protocol.ClusterEvent) error {
		types = append(types, string(ev.Type))
		if ev.Type == protocol.EvSubscribed && (ev.State == nil || len(ev.State.Agents) != 1) {
			t.Errorf("SUBSCRIBED without the state: %+v", ev)
		}
		return nil
	})
	if !errors.Is(err, errStreamClosed) || strings.Join(types, ",") != "SUBSCRIBED,AGENT_REMOVED,TASK_UPDATED" {
		t.Errorf("Events: %v %v", types, err)
	}
	stop := errors.New("stop")
	if err := c.Events(ctx, func(protocol.ClusterEvent) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Events with a failing handler: %v", err)
	}

	bad, _ := NewMasterClient(srv.URL, "", nil)
	if _, err := bad.State(ctx); err == nil || !strings.Contains(err.Error(), "401 Unauthorized: missing or wrong token") ||
		!strings.HasSuffix(err.Error(), "give the module host the master's token") {
		t.Errorf("no token: %v", err)
	}
	gone, _ := NewMasterClient("http://127.0.0.1:1", "", nil)
	if _, err := gone.State(ctx); err == nil || !strings.Contains(err.Error(), "cannot reach the master at http://127.0.0.1:1") {
		t.Errorf("unreachable: %v", err)
	}
	for _, u := range []string{"", "127.0.0.1:5050", "ftp://x"} {
		if _, err := NewMasterClient(u, "", nil); err == nil {
			t.Errorf("NewMasterClient(%q) accepted", u)
		}
	}
}
