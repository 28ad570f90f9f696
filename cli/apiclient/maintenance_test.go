package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

func TestDrainUndrainMaintenance(t *testing.T) {
	var gotMethod, gotPath, gotBody, gotAuth string
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		gotMethod, gotPath, gotBody, gotAuth = r.Method, r.URL.Path, string(body), r.Header.Get("Authorization")
		switch {
		case r.URL.Path == "/v1/maintenance":
			_, _ = w.Write([]byte(`{"agents": null}`))
		case strings.HasPrefix(r.URL.Path, "/v1/agents/GONE/"):
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"message":"agent GONE is gone: there is nothing to drain"}`))
		default:
			_ = json.NewEncoder(w).Encode(protocol.Agent{ID: "A1", Status: protocol.AgentDraining,
				Drain: &protocol.DrainInfo{State: protocol.DrainDraining, Reason: "upgrade"}})
		}
	}), "tok")
	ctx := context.Background()
	grace := 30 * time.Second
	a, err := c.DrainAgent(ctx, "A1", DrainOptions{GracePeriod: &grace, Reason: "upgrade"})
	if err != nil || a.ID != "A1" || a.Drain == nil || a.Drain.Reason != "upgrade" {
		t.Fatalf("DrainAgent: %+v %v", a, err)
	}
	if gotMethod != http.MethodPost || gotPath != "/v1/agents/A1/drain" || gotAuth != "Bearer tok" ||
		gotBody != `{"grace_period_seconds":30,"reason":"upgrade"}` {
		t.Fatalf("request %s %s %q auth %q", gotMethod, gotPath, gotBody, gotAuth)
	}
	if _, err := c.DrainAgent(ctx, "A1", DrainOptions{}); err != nil || gotBody != `{}` {
		t.Fatalf("DrainAgent without options: %v body %q", err, gotBody)
	}
	if _, err := c.UndrainAgent(ctx, "A1"); err != nil || gotMethod != http.MethodPost || gotPath != "/v1/agents/A1/undrain" {
		t.Fatalf("UndrainAgent: %v %s %s", err, gotMethod, gotPath)
	}
	m, err := c.Maintenance(ctx)
	if err != nil || m.Agents == nil || len(m.Agents) != 0 {
		t.Fatalf("Maintenance: %+v %v", m, err)
	}
	_, err = c.DrainAgent(ctx, "GONE", DrainOptions{})
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusConflict || !strings.Contains(ae.Message, "is gone") {
		t.Fatalf("409: %v", err)
	}

	// Bad input never leaves the client.
	gotPath = ""
	neg := -time.Second
	for _, tc := range []struct {
		id   protocol.AgentID
		opts DrainOptions
		want string
	}{
		{"a.b", DrainOptions{}, "agent id"},
		{"A1", DrainOptions{GracePeriod: &neg}, "negative"},
		{"A1", DrainOptions{Reason: "two\nlines"}, "reason"},
	} {
		if _, err := c.DrainAgent(ctx, tc.id, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DrainAgent(%q, %+v): %v, want %q", tc.id, tc.opts, err, tc.want)
		}
	}
	if _, err := c.UndrainAgent(ctx, "a b"); err == nil {
		t.Error("UndrainAgent accepted a bad id")
	}
	if gotPath != "" {
		t.Fatalf("a bad request reached the server: %s", gotPath)
	}
}

func TestFindAgent(t *testing.T) {
	agents := []protocol.Agent{
		{ID: "01JB8X5Q2M3N4P5R6S7T8V9W0A", Hostname: "node-a"},
		{ID: "01JB8X5Q2M3N4P5R6S7T8V9W0B", Hostname: "node-b"},
		{ID: "01JC000000000000000000000C", Hostname: "node-b", Status: protocol.AgentRemoved},
	}
	for _, tc := range []struct {
		q, want, err string
	}{
		{q: "01JB8X5Q2M3N4P5R6S7T8V9W0A", want: "01JB8X5Q2M3N4P5R6S7T8V9W0A"},
		{q: "node-a", want: "01JB8X5Q2M3N4P5R6S7T8V9W0A"},
		{q: "node-b", want: "01JB8X5Q2M3N4P5R6S7T8V9W0B"}, // the gone one is skipped
		{q: "01jc00", want: "01JC000000000000000000000C"},
		{q: "01JB8X", err: `"01JB8X" matches 2 agents: 01JB8X5Q2M3N4P5R6S7T8V9W0A (node-a), 01JB8X5Q2M3N4P5R6S7T8V9W0B (node-b); give a full agent ID`},
		{q: "01J", err: "an ID prefix needs at least 6 characters"},
		{q: "node-z", err: `no agent has the ID, ID prefix or hostname "node-z" (see cairn node list)`},
		{q: " ", err: "give an agent ID"},
	} {
		a, err := FindAgent(agents, tc.q)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("FindAgent(%q): %v, want error %q", tc.q, err, tc.err)
		case tc.err == "" && (err != nil || string(a.ID) != tc.want):
			t.Errorf("FindAgent(%q): %s %v, want %s", tc.q, a.ID, err, tc.want)
		}
	}
}
