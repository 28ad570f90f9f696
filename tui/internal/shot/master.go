package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui/internal/fixture"
)

// master is a fake master for one screenshot: the operator API and its
// event stream describe the fixture's cluster, and the services, cron,
// package and module APIs answer with data.go's JSON. It answers
// everything else 404.
type master struct {
	*httptest.Server
	events []protocol.ClusterEvent
	routes map[string]string // "METHOD path" → JSON
}

// newMaster starts a fake master whose stream sends the fixture's
// SUBSCRIBED event, its later events, then extra. Close it when done.
func newMaster(extra []protocol.ClusterEvent) *master {
	st := fixture.State()
	events := append([]protocol.ClusterEvent{fixture.Subscribed()}, fixture.Events()...)
	events = append(events, extra...)
	// GET /v1/frameworks is the frameworks as the events leave them.
	fws := st.Frameworks
	for _, ev := range events[1:] {
		if ev.Framework == nil {
			continue
		}
		for i := range fws {
			if fws[i].ID == ev.Framework.ID {
				fws[i] = *ev.Framework
			}
		}
	}
	m := &master{events: events, routes: map[string]string{
		"GET /v1/agents":                         mustJSON(st.Agents),
		"GET /v1/frameworks":                     mustJSON(fws),
		"GET /service/services/v2/apps":          appsJSON,
		"GET /service/services/v2/deployments":   deploymentsJSON,
		"GET /service/services/v2/apps/prod/web": webJSON,
		"GET /service/cron/v1/jobs":              jobsJSON,
		"POST /package/list":                     packagesJSON,
		"GET /v1/modules":                        modulesJSON,
	}}
	m.Server = httptest.NewServer(http.HandlerFunc(m.serve))
	return m
}

// streamed is how many events the stream sends after SUBSCRIBED (what
// the shell's store records).
func (m *master) streamed() int { return len(m.events) - 1 }

func (m *master) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/v1/events" {
		m.stream(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	body, ok := m.routes[r.Method+" "+r.URL.Path]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, mustJSON(map[string]string{"message": "not found: " + r.Method + " " + r.URL.Path}))
		return
	}
	_, _ = io.WriteString(w, body)
}

// stream sends the events as server-sent events, then holds the
// connection open (the cluster is quiet) until the client goes.
func (m *master) stream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	for _, ev := range m.events {
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Type, mustJSON(ev)); err != nil {
			return
		}
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	<-r.Context().Done()
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
