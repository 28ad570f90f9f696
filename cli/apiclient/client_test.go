package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

func newClient(t *testing.T, h http.Handler, token string) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, token, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewURLs(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:5050":        "http://127.0.0.1:5050",
		"http://127.0.0.1:5050/":       "http://127.0.0.1:5050",
		"  127.0.0.1:5050 ":            "http://127.0.0.1:5050",
		"https://m.example/cairn/":     "https://m.example/cairn",
		"http://user:pw@m.example:80/": "http://user:xxxxx@m.example:80",
	} {
		c, err := New(in, "", nil)
		if err != nil {
			t.Errorf("New(%q): %v", in, err)
			continue
		}
		if c.BaseURL() != want {
			t.Errorf("New(%q).BaseURL() = %q, want %q", in, c.BaseURL(), want)
		}
	}
	for in, want := range map[string]string{
		"":              "empty",
		"ftp://x":       "use http:// or https://",
		"http://":       "no host",
		"http://x/?a=b": "query",
		"http://[::1":   "not a valid URL",
	} {
		_, err := New(in, "", nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

func TestPathPrefixAndToken(t *testing.T) {
	var gotPath, gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAuth = r.URL.Path, r.Header.Get("Authorization")
		_, _ = w.Write([]byte(`[]`))
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL+"/proxy/", "tok", nil)
	if err != nil {
		t.Fatal(err)
	}
	fws, err := c.Frameworks(context.Background())
	if err != nil || fws == nil || len(fws) != 0 {
		t.Fatalf("Frameworks = %v, %v", fws, err)
	}
	if gotPath != "/proxy/v1/frameworks" || gotAuth != "Bearer tok" {
		t.Errorf("path %q auth %q", gotPath, gotAuth)
	}
}

func TestState(t *testing.T) {
	want := protocol.State{
		Agents: []protocol.Agent{{ID: "A1", Hostname: "h", Status: protocol.AgentActive, Resources: resources.MustParse("cpus:2;mem:1024")}},
		Tasks:  []protocol.Task{{ID: "t1", FrameworkID: "F1", AgentID: "A1", State: protocol.TaskRunning}},
	}
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/state" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(want)
	}), "")
	got, err := c.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Agents) != 1 || !got.Agents[0].Resources.Equal(want.Agents[0].Resources) || got.Tasks[0].ID != "t1" {
		t.Errorf("state %+v", got)
	}
}

func TestTasksFilterIsChecked(t *testing.T) {
	// A master that ignores the query: the client still filters.
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode([]protocol.Task{
			{ID: "a", FrameworkID: "F1", AgentID: "A1", State: protocol.TaskRunning},
			{ID: "b", FrameworkID: "F2", AgentID: "A1", State: protocol.TaskRunning},
			{ID: "c", FrameworkID: "F1", AgentID: "A2", State: protocol.TaskFailed},
		})
	}), "")
	got, err := c.Tasks(context.Background(), TaskFilter{FrameworkID: "F1", State: protocol.TaskRunning})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "a" {
		t.Errorf("tasks %+v", got)
	}
}

func TestErrors(t *testing.T) {
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/agents":
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"message":"principal \"web\" may not list agents"}`))
		case "/v1/frameworks":
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>\r\n<body>bad gateway</body></html>"))
		case "/v1/tasks":
			_, _ = w.Write([]byte(`[{"id":"t","resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}]}]`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}), "tok")
	ctx := context.Background()

	_, err := c.Agents(ctx)
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 403 || ae.Message != `principal "web" may not list agents` || !ae.TokenSent {
		t.Fatalf("Agents: %#v", err)
	}
	if !strings.Contains(err.Error(), "403 Forbidden") || !strings.Contains(err.Error(), "operator's token") {
		t.Errorf("403 message: %v", err)
	}

	_, err = c.Frameworks(ctx)
	if !errors.As(err, &ae) || ae.Message != "<html>" {
		t.Errorf("Frameworks: %v", err)
	}

	_, err = c.Tasks(ctx, TaskFilter{})
	if err == nil || !strings.Contains(err.Error(), "reading the master's answer to GET") {
		t.Errorf("Tasks with bad resources: %v", err)
	}

	_, err = c.State(ctx)
	if !errors.As(err, &ae) || ae.StatusCode != 404 || !strings.Contains(err.Error(), "404 Not Found") {
		t.Errorf("State: %v", err)
	}
}

func TestHealth(t *testing.T) {
	var ready atomic.Bool
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		if !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"message":"recovering state"}`))
			return
		}
		_, _ = w.Write([]byte("ok"))
	}), "")
	err := c.Health(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 || ae.Message != "recovering state" {
		t.Errorf("Health not ready: %v", err)
	}
	ready.Store(true)
	if err := c.Health(context.Background()); err != nil {
		t.Errorf("Health ready: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	l.Close()
	c, err := New(base, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Health(context.Background())
	var ue *UnreachableError
	if !errors.As(err, &ue) || ue.URL != base {
		t.Fatalf("Health: %#v", err)
	}
	want := fmt.Sprintf("cannot reach the Cairn master at %s: connection refused — is `cairn up` running? set --url, CAIRN_URL or `cairn config use CLUSTER`", base)
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
	// A URL from the config file says so.
	err = c.WithSource(`cluster "prod"`).Health(context.Background())
	if want := fmt.Sprintf("cannot reach the Cairn master at %s (cluster \"prod\"): connection refused", base); !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error\n%s\nwant prefix\n%s", err, want)
	}

	// A cancelled context is not "unreachable".
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Agents(ctx); !errors.Is(err, context.Canceled) || errors.As(err, &ue) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestUnknownHost(t *testing.T) {
	c, err := New("http://cairn-master.invalid:5050", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = c.Health(ctx)
	var ue *UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "cairn-master.invalid") {
		t.Errorf("Health: %v", err)
	}
}
