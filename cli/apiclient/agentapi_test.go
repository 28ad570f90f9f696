package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/frameworks/run/runapi"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

func TestKill(t *testing.T) {
	var gotMethod, gotPath, gotQuery, gotAuth string
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotMethod, gotPath, gotQuery, gotAuth = r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization")
		if strings.Contains(r.URL.Path, "/gone/") {
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"message":"task gone already ended (TASK_FINISHED)"}`))
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(protocol.Task{ID: "web.1", State: protocol.TaskRunning})
	}), "tok")
	ctx := context.Background()
	tk, err := c.Kill(ctx, "web.1", "F1")
	if err != nil || tk.ID != "web.1" {
		t.Fatalf("Kill: %+v %v", tk, err)
	}
	if gotMethod != http.MethodPost || gotPath != "/v1/tasks/web.1/kill" || gotQuery != "framework_id=F1" || gotAuth != "Bearer tok" {
		t.Errorf("request %s %s?%s auth %q", gotMethod, gotPath, gotQuery, gotAuth)
	}
	if _, err := c.Kill(ctx, "web.1", ""); err != nil || gotQuery != "" {
		t.Errorf("Kill without framework: %v, query %q", err, gotQuery)
	}
	_, err = c.Kill(ctx, "gone", "")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 409 || ae.Message != "task gone already ended (TASK_FINISHED)" || ae.Method != "POST" {
		t.Errorf("Kill ended: %v", err)
	}
	if _, err := c.Kill(ctx, "a/b", ""); err == nil || !strings.Contains(err.Error(), "not a valid task id") {
		t.Errorf("Kill bad id: %v", err)
	}
}

func TestAgentAPI(t *testing.T) {
	var gotQuery string
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotQuery = r.URL.RawQuery
		switch r.URL.Path {
		case "/agent/A1/v1/state":
			_ = json.NewEncoder(w).Encode(protocol.AgentState{Agent: protocol.AgentInfo{ID: "A1"}, Isolation: "v2",
				Tasks: []protocol.AgentTaskView{{ID: "t", Sandbox: "/s/t"}}})
		case "/agent/A1/v1/tasks/F1/t.1/logs/stdout":
			_, _ = w.Write([]byte("out\n"))
		case "/agent/A1/v1/files/read":
			_ = json.NewEncoder(w).Encode(FileChunk{Offset: 1234})
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"agent A2 is unknown or serves no HTTP API"}`))
		}
	}), "")
	ctx := context.Background()
	st, err := c.AgentState(ctx, "A1")
	if err != nil || st.Isolation != "v2" || len(st.Tasks) != 1 || st.Tasks[0].Sandbox != "/s/t" {
		t.Errorf("AgentState: %+v %v", st, err)
	}
	rc, err := c.TaskLog(ctx, "A1", "F1", "t.1", Stdout, -100, true)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	if string(data) != "out\n" || gotQuery != "follow=true&offset=-100" {
		t.Errorf("TaskLog: %q, query %q", data, gotQuery)
	}
	if rc, err := c.TaskLog(ctx, "A1", "F1", "t.1", Stdout, 0, false); err != nil || gotQuery != "" {
		t.Errorf("TaskLog plain: %v, query %q", err, gotQuery)
	} else {
		rc.Close()
	}
	_, err = c.TaskLog(ctx, "A2", "F1", "t.1", Stderr, 0, false)
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 404 || !strings.Contains(ae.Message, "serves no HTTP API") {
		t.Errorf("TaskLog unknown agent: %v", err)
	}
	if _, err := c.TaskLog(ctx, "A1", "F1", "t.1", "stdin", 0, false); err == nil {
		t.Error("TaskLog stdin: no error")
	}
	if _, err := c.AgentState(ctx, "../x"); err == nil {
		t.Error("AgentState bad id: no error")
	}
	fc, err := c.ReadFile(ctx, "A1", "/s/t/stdout", -1, 0)
	if err != nil || fc.Offset != 1234 || gotQuery != "offset=-1&path=%2Fs%2Ft%2Fstdout" {
		t.Errorf("ReadFile: %+v %v, query %q", fc, err, gotQuery)
	}
}

func TestService(t *testing.T) {
	running := true // the run framework is connected
	var got runapi.Request
	var gotCT string
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v1/frameworks":
			fws := []protocol.Framework{{ID: "F0", Name: "run", Connected: false, WebuiURL: "http://old"}}
			if running {
				fws = append(fws, protocol.Framework{ID: "F1", Name: "run", Connected: true, WebuiURL: "http://x"})
			}
			_ = json.NewEncoder(w).Encode(fws)
		case !running:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"no framework named \"run\" with an HTTP API is subscribed"}`))
		case r.Method == http.MethodPost && r.URL.Path == "/service/run/v1/runs":
			gotCT = r.Header.Get("Content-Type")
			_ = json.NewDecoder(r.Body).Decode(&got)
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(runapi.Submitted{ID: "run-1", FrameworkID: "F1"})
		case r.Method == http.MethodGet && r.URL.Path == "/service/run/v1/runs":
			_, _ = w.Write([]byte("null"))
		case r.Method == http.MethodGet && r.URL.Path == "/service/run/v1/runs/run-1":
			_ = json.NewEncoder(w).Encode(runapi.Run{ID: "run-1", State: runapi.StatePending})
		case r.Method == http.MethodDelete && r.URL.Path == "/service/run/v1/runs/run-1":
			w.WriteHeader(http.StatusAccepted)
			_ = json.NewEncoder(w).Encode(runapi.Run{ID: "run-1", State: protocol.TaskKilled})
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"run nope is unknown to the run framework"}`))
		}
	}), "")
	ctx := context.Background()
	cpus := 0.5
	s, err := c.SubmitRun(ctx, runapi.Request{Cmd: "echo hi", CPUs: &cpus})
	if err != nil || s.ID != "run-1" || s.FrameworkID != "F1" {
		t.Fatalf("SubmitRun: %+v %v", s, err)
	}
	if got.Cmd != "echo hi" || got.CPUs == nil || *got.CPUs != 0.5 || gotCT != "application/json" {
		t.Errorf("request %+v, content type %q", got, gotCT)
	}
	if rs, err := c.Runs(ctx); err != nil || rs == nil || len(rs) != 0 {
		t.Errorf("Runs: %v %v", rs, err)
	}
	if r, err := c.Run(ctx, "run-1"); err != nil || r.State != runapi.StatePending {
		t.Errorf("Run: %+v %v", r, err)
	}
	if r, err := c.KillRun(ctx, "run-1"); err != nil || r.State != protocol.TaskKilled {
		t.Errorf("KillRun: %+v %v", r, err)
	}
	// The framework's own 404 stays an *APIError.
	_, err = c.Run(ctx, "nope")
	var ae *APIError
	var nse *NoServiceError
	if !errors.As(err, &ae) || errors.As(err, &nse) || !strings.Contains(err.Error(), "unknown to the run framework") {
		t.Errorf("Run unknown: %v", err)
	}
	// No run framework connected: a *NoServiceError.
	running = false
	_, err = c.SubmitRun(ctx, runapi.Request{Cmd: "x"})
	if !errors.As(err, &nse) || nse.Name != "run" || !errors.As(err, &ae) {
		t.Errorf("SubmitRun without the framework: %v", err)
	}
	if err := c.Service(ctx, "a/b", http.MethodGet, "/x", nil, nil); err == nil {
		t.Error("Service with a bad name: no error")
	}
}
