package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/modules/host/moduleapi"
)

func TestModules(t *testing.T) {
	var gotMethod, gotPath, gotBody string
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		gotMethod, gotPath, gotBody = r.Method, r.URL.Path, string(data)
		w.Header().Set("Content-Type", "application/json")
		switch r.Method + " " + r.URL.Path {
		case "GET /v1/modules":
			_, _ = w.Write([]byte(`[{"name":"dns","kind":"watcher","state":"running","pid":42,"restarts":1}]`))
		case "GET /v1/modules/dns":
			_, _ = w.Write([]byte(`{"name":"dns","kind":"watcher","state":"backoff","last_error":"boom"}`))
		case "POST /v1/modules":
			var spec moduleapi.Spec
			_ = json.Unmarshal(data, &spec)
			if spec.Name == "again" {
				w.WriteHeader(http.StatusOK)
			} else {
				w.WriteHeader(http.StatusCreated)
			}
			_ = json.NewEncoder(w).Encode(moduleapi.Status{Name: spec.Name, Kind: spec.Kind, State: moduleapi.Starting})
		case "DELETE /v1/modules/dns":
			_, _ = w.Write([]byte(`{"name":"dns","state":"stopped"}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"there is no module named \"nope\" (see GET /v1/modules)"}`))
		}
	}), "")
	ctx := context.Background()

	list, err := c.Modules(ctx)
	if err != nil || len(list) != 1 || list[0].PID != 42 || list[0].Restarts != 1 {
		t.Errorf("Modules: %+v %v", list, err)
	}
	st, err := c.Module(ctx, "dns")
	if err != nil || st.State != moduleapi.Backoff || st.LastError != "boom" {
		t.Errorf("Module: %+v %v", st, err)
	}
	_, err = c.Module(ctx, "nope")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 404 || ae.Message != `there is no module named "nope" (see GET /v1/modules)` || errors.Is(err, ErrNoModuleAPI) {
		t.Errorf("Module nope: %v", err)
	}
	if _, err := c.Module(ctx, "../x"); err == nil || !strings.Contains(err.Error(), "is not a module name") || gotPath == "/v1/modules/../x" {
		t.Errorf("Module bad name: %v", err)
	}

	spec := moduleapi.Spec{Name: "echo", Kind: "watcher", Path: "/opt/echo", SHA256: strings.Repeat("a", 64), Config: json.RawMessage(`{"greeting":"hi"}`)}
	st, replaced, err := c.ModuleInstall(ctx, spec)
	if err != nil || replaced || st.Name != "echo" || gotMethod != "POST" ||
		gotBody != `{"name":"echo","kind":"watcher","path":"/opt/echo","sha256":"`+strings.Repeat("a", 64)+`","config":{"greeting":"hi"}}` {
		t.Errorf("ModuleInstall: %+v %v %v body %s", st, replaced, err, gotBody)
	}
	spec.Name = "again"
	if _, replaced, err := c.ModuleInstall(ctx, spec); err != nil || !replaced {
		t.Errorf("ModuleInstall again: %v %v", replaced, err)
	}
	st, err = c.ModuleRemove(ctx, "dns")
	if err != nil || st.State != moduleapi.Stopped || gotMethod != "DELETE" || gotPath != "/v1/modules/dns" {
		t.Errorf("ModuleRemove: %+v %v (%s %s)", st, err, gotMethod, gotPath)
	}
}

func TestModulesNoAPI(t *testing.T) {
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"no such endpoint GET /v1/modules: see /v1/state, ..."}`))
	}), "")
	if _, err := c.Modules(context.Background()); !errors.Is(err, ErrNoModuleAPI) {
		t.Errorf("Modules: %v", err)
	}
	if _, _, err := c.ModuleInstall(context.Background(), moduleapi.Spec{Name: "x"}); !errors.Is(err, ErrNoModuleAPI) {
		t.Errorf("ModuleInstall: %v", err)
	}
}
