package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/frameworks/services/marathon"
)

// marathonHandler answers the services framework's API from a table of
// "METHOD path?query" → (status, body); it records the request bodies.
func marathonHandler(t *testing.T, answers map[string][2]string, bodies map[string]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/frameworks" {
			_, _ = io.WriteString(w, `[{"id":"F","name":"services","connected":true,"webui_url":"http://x"}]`)
			return
		}
		key := r.Method + " " + strings.TrimPrefix(r.URL.Path, "/service/services")
		if r.URL.RawQuery != "" {
			key += "?" + r.URL.RawQuery
		}
		if bodies != nil {
			data, _ := io.ReadAll(r.Body)
			bodies[key] = string(data)
		}
		a, ok := answers[key]
		if !ok {
			t.Errorf("unexpected request %s", key)
			w.WriteHeader(500)
			return
		}
		code := 200
		fmt.Sscan(a[0], &code)
		if a[1] != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, a[1])
	})
}

func TestMarathonCalls(t *testing.T) {
	bodies := map[string]string{}
	c := newClient(t, marathonHandler(t, map[string][2]string{
		"GET /v2/apps":           {"200", `{"apps":[{"id":"/web","instances":2,"tasksRunning":1,"deployments":[{"id":"d1"}]}]}`},
		"GET /v2/apps?id=%2Fweb": {"200", `{"apps":[]}`},
		"GET /v2/apps?label=CAIRN_PACKAGE_NAME%3D%3Dhello": {"200", `{"apps":[{"id":"/hello","labels":{"CAIRN_PACKAGE_NAME":"hello"}}]}`},
		"GET /v2/apps/web":                     {"200", `{"app":{"id":"/web","tasks":[{"id":"web.1","state":"TASK_RUNNING"}]}}`},
		"POST /v2/apps":                        {"201", `{"id":"/web","deployments":[{"id":"d1"}],"warnings":["unknown field \"/x\": ignored by Cairn"]}`},
		"PUT /v2/apps/prod/web?force=true":     {"200", `{"deploymentId":"d2","version":"v2"}`},
		"PUT /v2/apps/web":                     {"200", `{"deploymentId":"d3","version":"v3"}`},
		"POST /v2/apps/web/restart":            {"200", `{"deploymentId":"d4","version":"v4"}`},
		"DELETE /v2/apps/web?force=true":       {"200", `{"deploymentId":"d5","version":"v5"}`},
		"GET /v2/apps/web/versions":            {"200", `{"versions":["v2","v1"]}`},
		"GET /v2/deployments":                  {"200", `[{"id":"d1","affectedApps":["/web"],"currentStep":1,"totalSteps":2}]`},
		"DELETE /v2/deployments/d1":            {"200", `{"deploymentId":"d6","version":"v6"}`},
		"DELETE /v2/deployments/d1?force=true": {"202", ""},
		"GET /v2/queue":                        {"200", `{"queue":[{"app":{"id":"/web"},"count":1,"waiting":"no matching offers"}]}`},
	}, bodies), "")
	ctx := context.Background()

	apps, err := c.Apps(ctx, "")
	if err != nil || len(apps) != 1 || apps[0].ID != "/web" || apps[0].TasksRunning != 1 || apps[0].Deployments[0].ID != "d1" {
		t.Errorf("Apps: %+v %v", apps, err)
	}
	if apps, err := c.Apps(ctx, "/web"); err != nil || apps == nil || len(apps) != 0 {
		t.Errorf("Apps filtered: %+v %v", apps, err)
	}
	if apps, err := c.AppsByLabel(ctx, "CAIRN_PACKAGE_NAME==hello"); err != nil || len(apps) != 1 || apps[0].Labels["CAIRN_PACKAGE_NAME"] != "hello" {
		t.Errorf("AppsByLabel: %+v %v", apps, err)
	}
	app, err := c.App(ctx, "web")
	if err != nil || app.ID != "/web" || len(app.Tasks) != 1 {
		t.Errorf("App: %+v %v", app, err)
	}
	created, err := c.CreateApp(ctx, json.RawMessage(`{"id": "web", "x": 1}`))
	if err != nil || created.ID != "/web" || created.DeploymentID() != "d1" || len(created.Warnings) != 1 {
		t.Errorf("CreateApp: %+v %v", created, err)
	}
	if bodies["POST /v2/apps"] != `{"id":"web","x":1}` {
		t.Errorf("POST body %q", bodies["POST /v2/apps"])
	}
	if res, err := c.UpdateApp(ctx, "prod/web", json.RawMessage(`{"mem":64}`), true); err != nil || res.DeploymentID != "d2" || res.Version != "v2" {
		t.Errorf("UpdateApp: %+v %v", res, err)
	}
	if res, err := c.ScaleApp(ctx, "/web", 3, false); err != nil || res.DeploymentID != "d3" {
		t.Errorf("ScaleApp: %+v %v", res, err)
	}
	if bodies["PUT /v2/apps/web"] != `{"instances":3}` {
		t.Errorf("scale body %q", bodies["PUT /v2/apps/web"])
	}
	if res, err := c.RestartApp(ctx, "web", false); err != nil || res.DeploymentID != "d4" {
		t.Errorf("RestartApp: %+v %v", res, err)
	}
	if res, err := c.DeleteApp(ctx, "web", true); err != nil || res.DeploymentID != "d5" {
		t.Errorf("DeleteApp: %+v %v", res, err)
	}
	if vs, err := c.AppVersions(ctx, "web"); err != nil || strings.Join(vs, ",") != "v2,v1" {
		t.Errorf("AppVersions: %v %v", vs, err)
	}
	if ds, err := c.Deployments(ctx); err != nil || len(ds) != 1 || ds[0].ID != "d1" || ds[0].TotalSteps != 2 {
		t.Errorf("Deployments: %+v %v", ds, err)
	}
	if res, err := c.RollbackDeployment(ctx, "d1", false); err != nil || res == nil || res.DeploymentID != "d6" {
		t.Errorf("RollbackDeployment: %+v %v", res, err)
	}
	if res, err := c.RollbackDeployment(ctx, "d1", true); err != nil || res != nil {
		t.Errorf("RollbackDeployment force: %+v %v", res, err)
	}
	if q, err := c.Queue(ctx); err != nil || len(q) != 1 || q[0].App.ID != "/web" || q[0].Count != 1 || q[0].Waiting != "no matching offers" {
		t.Errorf("Queue: %+v %v", q, err)
	}
	// Ids are checked before any request.
	if _, err := c.App(ctx, "Web"); err == nil || !strings.Contains(err.Error(), "uppercase") {
		t.Errorf("bad app id: %v", err)
	}
	if _, err := c.RollbackDeployment(ctx, "a/b", false); err == nil {
		t.Error("bad deployment id accepted")
	}
}

func TestMarathonErrors(t *testing.T) {
	c := newClient(t, marathonHandler(t, map[string][2]string{
		"PUT /v2/apps/web": {"409", `{"message":"App is locked by one or more deployments.","deployments":[{"id":"d1"},{"id":"d2"}]}`},
		"POST /v2/apps": {"422", `{"message":"Object is not valid","details":[{"path":"/instances","errors":["must be at least 0, got -1"]},` +
			`{"path":"/cmd","errors":["must not be empty","really"]}]}`},
		"POST /v2/apps/web/restart": {"409", `{"message":"an app with id [/web] already exists"}`},
		"GET /v2/apps/web":          {"404", `{"message":"App '/web' does not exist"}`},
		"DELETE /v2/apps/web":       {"422", `{"message":"no details"}`},
	}, nil), "")
	ctx := context.Background()

	_, err := c.ScaleApp(ctx, "web", 2, false)
	var le *AppLockedError
	if !errors.As(err, &le) || strings.Join(le.Deployments, ",") != "d1,d2" || le.Err.StatusCode != 409 {
		t.Errorf("409: %#v", err)
	}
	_, err = c.CreateApp(ctx, json.RawMessage(`{}`))
	var ie *AppInvalidError
	if !errors.As(err, &ie) || len(ie.Validation.Details) != 2 ||
		err.Error() != "Object is not valid: /instances: must be at least 0, got -1; /cmd: must not be empty, really" {
		t.Errorf("422: %v", err)
	}
	var ae *APIError
	if _, err = c.RestartApp(ctx, "web", false); errors.As(err, &le) || !errors.As(err, &ae) || ae.StatusCode != 409 ||
		!strings.Contains(string(ae.Body), "already exists") {
		t.Errorf("409 without deployments: %#v", err)
	}
	var nse *NoServiceError
	if _, err = c.App(ctx, "web"); !errors.As(err, &ae) || ae.StatusCode != 404 || errors.As(err, &nse) {
		t.Errorf("the framework's 404: %#v", err)
	}
	if _, err = c.DeleteApp(ctx, "web", false); errors.As(err, &ie) || !errors.As(err, &ae) || ae.StatusCode != 422 {
		t.Errorf("422 without details: %#v", err)
	}
}

func TestMarathonNoService(t *testing.T) {
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/frameworks" {
			_, _ = io.WriteString(w, `[]`)
			return
		}
		w.WriteHeader(404)
		_, _ = io.WriteString(w, `{"message":"no framework named \"services\" with an HTTP API is subscribed"}`)
	}), "")
	ctx := context.Background()
	var nse *NoServiceError
	if _, err := c.Deployments(ctx); !errors.As(err, &nse) || nse.Name != "services" {
		t.Errorf("Deployments: %#v", err)
	}
	if _, err := c.RollbackDeployment(ctx, "d1", true); !errors.As(err, &nse) {
		t.Errorf("RollbackDeployment: %#v", err)
	}
	events, errc := c.MarathonEvents(ctx)
	for range events {
		t.Error("an event from nowhere")
	}
	if err := <-errc; !errors.As(err, &nse) {
		t.Errorf("MarathonEvents: %#v", err)
	}
}

func TestMarathonEvents(t *testing.T) {
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/service/services/v2/events" || r.URL.RawQuery != "event_type=deployment_success&event_type=deployment_failed" ||
			r.Header.Get("Accept") != "text/event-stream" {
			t.Errorf("request %s?%s", r.URL.Path, r.URL.RawQuery)
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "event: event_stream_attached\ndata: {\"eventType\":\"event_stream_attached\"}\n\n")
		_, _ = io.WriteString(w, ":\n\n")
		_, _ = io.WriteString(w, "data: {\"eventType\":\"deployment_success\",\"id\":\"d1\"}\n\n") // no event: field
		_, _ = io.WriteString(w, "event: deployment_failed\ndata: {\"id\":\"d2\",\"reason\":\"rolled back\"}\n\n")
	}), "")
	events, errc := c.MarathonEvents(context.Background(), "deployment_success", "deployment_failed")
	var got []marathon.Event
	for ev := range events {
		got = append(got, ev)
	}
	if err := <-errc; !errors.Is(err, ErrStreamClosed) {
		t.Errorf("end: %v", err)
	}
	if len(got) != 3 || got[0].Type != "event_stream_attached" || got[1].Type != "deployment_success" || got[1].Body["id"] != "d1" ||
		got[2].Type != "deployment_failed" || got[2].Body["reason"] != "rolled back" {
		t.Errorf("events %+v", got)
	}
}

func TestServiceQuery(t *testing.T) {
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/service/x/v1/things" || r.URL.Query().Get("a") != "b c" {
			t.Errorf("request %s", r.URL)
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	}), "")
	var out struct{ OK bool }
	if err := c.ServiceQuery(context.Background(), "x", http.MethodGet, "v1/things", map[string][]string{"a": {"b c"}}, nil, &out); err != nil || !out.OK {
		t.Errorf("ServiceQuery: %v %v", out, err)
	}
}
