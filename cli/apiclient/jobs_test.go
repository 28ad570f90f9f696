package apiclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

// cronHandler answers the cron framework's API from a table of "METHOD
// path?query" → (status, body, content type); it records the request
// bodies. connected says whether the master lists a cron framework.
func cronHandler(t *testing.T, connected bool, answers map[string][3]string, bodies map[string]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/frameworks" {
			if connected {
				_, _ = io.WriteString(w, `[{"id":"F","name":"cron","connected":true,"webui_url":"http://x"}]`)
			} else {
				_, _ = io.WriteString(w, `[]`)
			}
			return
		}
		if !connected {
			w.WriteHeader(404)
			_, _ = io.WriteString(w, `{"message":"no framework named \"cron\" is subscribed"}`)
			return
		}
		key := r.Method + " " + strings.TrimPrefix(r.URL.Path, "/service/cron")
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
		ct := a[2]
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(code)
		_, _ = io.WriteString(w, a[1])
	})
}

func TestJobCalls(t *testing.T) {
	bodies := map[string]string{}
	c := newClient(t, cronHandler(t, true, map[string][3]string{
		"GET /v1/jobs?embed=activeRuns%2Cschedules": {"200", `[{"id":"a.b","run":{"cmd":"true","cpus":1,"mem":128,"disk":0},"activeRuns":[{"id":"r1","jobId":"a.b","status":"ACTIVE","trigger":"manual","createdAt":"2026-01-01T00:00:00Z","tasks":[]}]}]`},
		"GET /v1/jobs":                                {"200", `null`},
		"GET /v1/jobs/a.b?embed=history":              {"200", `{"id":"a.b","run":{"cmd":"true","cpus":1,"mem":128,"disk":0},"history":{"successCount":2,"failureCount":1,"skippedCount":0,"successfulFinishedRuns":[],"failedFinishedRuns":[],"skippedRuns":[]}}`},
		"POST /v1/jobs":                               {"201", `{"id":"a.b","run":{"cmd":"true","cpus":1,"mem":128,"disk":0},"schedules":[{"id":"s","cron":"* * * * *","nextRunAt":"2026-01-01T00:01:00Z"}]}`},
		"PUT /v1/jobs/a.b":                            {"200", `{"id":"a.b","description":"new","run":{"cmd":"true","cpus":1,"mem":128,"disk":0}}`},
		"DELETE /v1/jobs/a.b?stopCurrentJobRuns=true": {"200", `{"id":"a.b","run":{"cmd":"true","cpus":1,"mem":128,"disk":0}}`},
		"DELETE /v1/jobs/c":                           {"200", `{"id":"c","run":{"cmd":"true","cpus":1,"mem":128,"disk":0}}`},
		"GET /v1/jobs/a.b/schedules":                  {"200", `[]`},
		"POST /v1/jobs/a.b/schedules":                 {"201", `{"id":"s2","cron":"*/5 * * * *","nextRunAt":"2026-01-01T00:05:00Z"}`},
		"DELETE /v1/jobs/a.b/schedules/s2":            {"200", ``},
		"GET /v1/jobs/a.b/runs":                       {"200", `[]`},
		"POST /v1/jobs/a.b/runs":                      {"201", `{"id":"r2","jobId":"a.b","status":"INITIAL","trigger":"manual","createdAt":"2026-01-01T00:00:00Z","tasks":[]}`},
		"GET /v1/jobs/a.b/runs/r2":                    {"200", `{"id":"r2","jobId":"a.b","status":"SUCCESS","trigger":"manual","createdAt":"2026-01-01T00:00:00Z","tasks":[{"id":"t1","status":"TASK_FINISHED","exitCode":0}]}`},
		"POST /v1/jobs/a.b/runs/r2/actions/stop":      {"200", `{"id":"r2","jobId":"a.b","status":"FAILED","trigger":"manual","createdAt":"2026-01-01T00:00:00Z","tasks":[],"message":"stopped"}`},
		"GET /v1/jobs/a.b/dependencies":               {"200", `{"parents":["x"],"children":["y.z"]}`},
		"PUT /v1/jobs/a.b/dependencies":               {"200", `{"parents":[],"children":["y.z"]}`},
		"GET /v1/graph":                               {"200", "digraph jobs {\n  \"x\" -> \"a.b\";\n}\n", "text/vnd.graphviz"},
	}, bodies), "")
	ctx := context.Background()

	jobs, err := c.Jobs(ctx, cronapi.EmbedActiveRuns, cronapi.EmbedSchedules)
	if err != nil || len(jobs) != 1 || jobs[0].ID != "a.b" || len(jobs[0].ActiveRuns) != 1 || jobs[0].ActiveRuns[0].Status != cronapi.RunActive {
		t.Errorf("Jobs: %+v %v", jobs, err)
	}
	if jobs, err := c.Jobs(ctx); err != nil || jobs == nil || len(jobs) != 0 {
		t.Errorf("Jobs null: %+v %v", jobs, err)
	}
	j, err := c.Job(ctx, "a.b", cronapi.EmbedHistory)
	if err != nil || j.History == nil || j.History.SuccessCount != 2 || j.History.FailureCount != 1 {
		t.Errorf("Job: %+v %v", j, err)
	}
	added, err := c.AddJob(ctx, cronapi.Job{ID: "a.b", Run: cronapi.JobRun{Cmd: "true"},
		Schedules: []cronapi.Schedule{{ID: "s", Cron: "* * * * *"}}})
	if err != nil || len(added.Schedules) != 1 || added.Schedules[0].NextRunAt == nil {
		t.Errorf("AddJob: %+v %v", added, err)
	}
	if b := bodies["POST /v1/jobs"]; b != `{"id":"a.b","run":{"cmd":"true","cpus":0,"mem":0,"disk":0},"schedules":[{"id":"s","cron":"* * * * *"}]}` {
		t.Errorf("AddJob body %s", b)
	}
	if u, err := c.UpdateJob(ctx, cronapi.Job{ID: "a.b", Description: "new", Run: cronapi.JobRun{Cmd: "true"}}); err != nil || u.Description != "new" {
		t.Errorf("UpdateJob: %+v %v", u, err)
	}
	if _, err := c.RemoveJob(ctx, "a.b", true); err != nil {
		t.Errorf("RemoveJob stop: %v", err)
	}
	if _, err := c.RemoveJob(ctx, "c", false); err != nil {
		t.Errorf("RemoveJob: %v", err)
	}
	if ss, err := c.JobSchedules(ctx, "a.b"); err != nil || ss == nil {
		t.Errorf("JobSchedules: %v %v", ss, err)
	}
	s, err := c.AddSchedule(ctx, "a.b", cronapi.Schedule{ID: "s2", Cron: "*/5 * * * *", ConcurrencyPolicy: cronapi.ConcurrencyForbid})
	if err != nil || s.NextRunAt == nil || s.NextRunAt.Minute() != 5 {
		t.Errorf("AddSchedule: %+v %v", s, err)
	}
	if b := bodies["POST /v1/jobs/a.b/schedules"]; b != `{"id":"s2","cron":"*/5 * * * *","concurrencyPolicy":"FORBID"}` {
		t.Errorf("AddSchedule body %s", b)
	}
	if err := c.RemoveSchedule(ctx, "a.b", "s2"); err != nil {
		t.Errorf("RemoveSchedule: %v", err)
	}
	if rs, err := c.JobRuns(ctx, "a.b"); err != nil || rs == nil {
		t.Errorf("JobRuns: %v %v", rs, err)
	}
	r, err := c.StartRun(ctx, "a.b")
	if err != nil || r.ID != "r2" || r.Status != cronapi.RunInitial {
		t.Errorf("StartRun: %+v %v", r, err)
	}
	if b := bodies["POST /v1/jobs/a.b/runs"]; b != "" {
		t.Errorf("StartRun sent a body: %q", b)
	}
	if r, err := c.JobRun(ctx, "a.b", "r2"); err != nil || !r.Done() || *r.Tasks[0].ExitCode != 0 {
		t.Errorf("JobRun: %+v %v", r, err)
	}
	if r, err := c.StopRun(ctx, "a.b", "r2"); err != nil || r.Message != "stopped" {
		t.Errorf("StopRun: %+v %v", r, err)
	}
	if d, err := c.JobDependencies(ctx, "a.b"); err != nil || d.Parents[0] != "x" || d.Children[0] != "y.z" {
		t.Errorf("JobDependencies: %+v %v", d, err)
	}
	if _, err := c.SetJobDependencies(ctx, "a.b", cronapi.Dependencies{Children: []string{"ignored"}}); err != nil {
		t.Errorf("SetJobDependencies: %v", err)
	}
	if b := bodies["PUT /v1/jobs/a.b/dependencies"]; b != `{"parents":[]}` {
		t.Errorf("SetJobDependencies body %s", b)
	}
	if g, err := c.Graph(ctx); err != nil || g != "digraph jobs {\n  \"x\" -> \"a.b\";\n}\n" {
		t.Errorf("Graph: %q %v", g, err)
	}
}

func TestJobErrors(t *testing.T) {
	c := newClient(t, cronHandler(t, true, map[string][3]string{
		"POST /v1/jobs":       {"422", `{"message":"invalid job","details":[{"path":"/run/cpus","errors":["must be > 0"]},{"path":"/id","errors":["taken","bad"]}]}`},
		"GET /v1/jobs/nope":   {"404", `{"message":"job nope does not exist"}`},
		"DELETE /v1/jobs/a":   {"409", `{"message":"job a has 1 active run"}`},
		"GET /v1/jobs/a/runs": {"502", `{"message":"bad gateway"}`},
		"GET /v1/graph":       {"401", `{"message":"missing or invalid bearer token"}`},
	}, nil), "")
	ctx := context.Background()

	_, err := c.AddJob(ctx, cronapi.Job{ID: "a"})
	var je *JobError
	if !errors.As(err, &je) || je.StatusCode() != 422 || len(je.Details) != 2 || je.Details[1].Errors[1] != "bad" {
		t.Fatalf("422: %#v", err)
	}
	if err.Error() != "invalid job: /run/cpus: must be > 0; /id: taken, bad" {
		t.Errorf("422 text %q", err)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 422 {
		t.Errorf("the APIError is not in the chain: %#v", err)
	}
	_, err = c.Job(ctx, "nope")
	if JobErrorStatus(err) != 404 || err.Error() != "job nope does not exist" {
		t.Errorf("404: %v", err)
	}
	_, err = c.RemoveJob(ctx, "a", false)
	if JobErrorStatus(err) != 409 {
		t.Errorf("409: %v", err)
	}
	_, err = c.JobRuns(ctx, "a")
	if JobErrorStatus(err) != 0 || !errors.As(err, &ae) || ae.StatusCode != 502 {
		t.Errorf("502 stays an APIError: %#v", err)
	}
	_, err = c.Graph(ctx)
	if JobErrorStatus(err) != 0 || !strings.Contains(err.Error(), "pass --token") {
		t.Errorf("401 keeps its hint: %v", err)
	}
	// Ids are checked before any request (the handler fails on unknown ones).
	for _, id := range []string{"", "A", "a..b", ".a", "a.", "a/b", "a_b", "a b", "-a", "a.b-", strings.Repeat("a", 101)} {
		if _, err := c.Job(ctx, id); err == nil || !strings.Contains(err.Error(), "job id") {
			t.Errorf("Job(%q): %v", id, err)
		}
	}
	for _, id := range []string{"", "..", "a/b", "a\nb"} {
		if _, err := c.JobRun(ctx, "a", id); err == nil || !strings.Contains(err.Error(), "run id") {
			t.Errorf("JobRun(%q): %v", id, err)
		}
		if err := c.RemoveSchedule(ctx, "a", id); err == nil || !strings.Contains(err.Error(), "schedule id") {
			t.Errorf("RemoveSchedule(%q): %v", id, err)
		}
	}
}

func TestValidateJobID(t *testing.T) {
	for _, id := range []string{"a", "prod.reports.daily", "0-x.y-1", "a--b", strings.Repeat("a", 100)} {
		if err := ValidateJobID(id); err != nil {
			t.Errorf("%q: %v", id, err)
		}
	}
	if err := ValidateJobID("Prod.x"); err == nil || err.Error() != `job id "Prod.x" has 'P' in it: use lower-case letters, digits and dashes between dots, e.g. prod.reports.daily` {
		t.Errorf("upper case: %v", err)
	}
}

func TestJobsNoCron(t *testing.T) {
	c := newClient(t, cronHandler(t, false, nil, nil), "")
	ctx := context.Background()
	var nse *NoServiceError
	if _, err := c.Jobs(ctx); !errors.As(err, &nse) || nse.Name != "cron" || JobErrorStatus(err) != 0 {
		t.Errorf("Jobs: %#v", err)
	}
	if _, err := c.Graph(ctx); !errors.As(err, &nse) {
		t.Errorf("Graph: %#v", err)
	}
}
