package cron_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairn-dc/cairn/frameworks/cron"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
	"github.com/cairn-dc/cairn/kernel/simagent"
	"github.com/cairn-dc/cairn/kernel/testcluster"
)

// fakeClock is the framework's time, moved by the test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// env is a cluster, a fake clock and the cron framework.
type env struct {
	*testcluster.Cluster
	t     testing.TB
	clock *fakeClock
	fw    *cron.Framework
}

// t0 is the tests' start: 10 s before a minute, in winter.
var t0 = time.Date(2026, 1, 15, 9, 59, 50, 0, time.UTC)

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{Cluster: testcluster.New(t), t: t, clock: &fakeClock{t: t0}}
	e.start()
	return e
}

// start starts (or starts again) the framework.
func (e *env) start() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fw, err := cron.Start(ctx, cron.Config{Conn: e.Conn("cron"), Logger: e.Log, Clock: e.clock, TickInterval: 5 * time.Millisecond})
	if err != nil {
		e.t.Fatal(err)
	}
	e.fw = fw
	e.t.Cleanup(fw.Stop)
}

// restart stops the framework and starts it again (same state bucket,
// same framework id).
func (e *env) restart(between func()) {
	e.t.Helper()
	e.fw.Stop()
	if between != nil {
		between()
	}
	e.start()
}

// agents starts simulated agents; tasks run until killed unless their
// labels say otherwise (sim.duration, sim.exit).
func (e *env) agents(n int) []*simagent.Agent {
	return e.Agents(n, "cpus:8;mem:8192;disk:10000", nil)
}

func (e *env) api(method, path string, body any) (int, []byte) {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		r = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, e.fw.URL()+path, r)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func (e *env) must(method, path string, body any, want int, out any) {
	e.t.Helper()
	code, data := e.api(method, path, body)
	if code != want {
		e.t.Fatalf("%s %s: %d, want %d: %s", method, path, code, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
}

func (e *env) job(id string) cronapi.Job {
	e.t.Helper()
	var j cronapi.Job
	e.must("GET", "/v1/jobs/"+id+"?embed=history,activeRuns,schedules", nil, 200, &j)
	return j
}

func (e *env) waitJob(what string, id string, cond func(cronapi.Job) bool) cronapi.Job {
	e.t.Helper()
	var j cronapi.Job
	testcluster.WaitFor(e.t, 15*time.Second, what, func() bool {
		j = e.job(id)
		return cond(j)
	})
	return j
}

// jobSpec is a job running cmd, with labels steering the simulated task.
func jobSpec(id string, labels map[string]string, schedules ...cronapi.Schedule) cronapi.Job {
	return cronapi.Job{ID: id, Labels: labels, Run: cronapi.JobRun{Cmd: "date", CPUs: 0.1, Mem: 32}, Schedules: schedules}
}

// quick tasks end (successfully) as soon as they run.
var quick = map[string]string{simagent.LabelDuration: "0s"}

func everyMinute(policy string) cronapi.Schedule {
	return cronapi.Schedule{ID: "every-minute", Cron: "* * * * *", ConcurrencyPolicy: policy}
}

func TestScheduledRunsEveryMinute(t *testing.T) {
	e := newEnv(t)
	agents := e.agents(1)
	var created cronapi.Job
	e.must("POST", "/v1/jobs", jobSpec("prod.reports.daily", quick, everyMinute("")), 201, &created)
	if len(created.Schedules) != 1 || created.Schedules[0].NextRunAt == nil || !created.Schedules[0].NextRunAt.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("created job's schedules: %+v", created.Schedules)
	}
	for i := 1; i <= 3; i++ {
		e.clock.Advance(time.Minute)
		j := e.waitJob(fmt.Sprintf("%d successful runs", i), "prod.reports.daily", func(j cronapi.Job) bool { return j.History.SuccessCount == i })
		last := j.History.SuccessfulFinishedRuns[0]
		want := t0.Add(10 * time.Second).Add(time.Duration(i-1) * time.Minute)
		if last.ScheduledAt == nil || !last.ScheduledAt.Equal(want) || last.ID != "every-minute-"+want.Format("20060102T150405Z") {
			t.Fatalf("run %d: %+v, want scheduled at %v", i, last, want)
		}
		if last.ExitCode == nil || *last.ExitCode != 0 || len(last.Tasks) != 1 {
			t.Errorf("run %d: exit %v tasks %v", i, last.ExitCode, last.Tasks)
		}
	}
	j := e.job("prod.reports.daily")
	if j.History.FailureCount != 0 || j.History.LastSuccessAt == nil || len(j.ActiveRuns) != 0 {
		t.Errorf("history %+v active %v", j.History.HistorySummary, j.ActiveRuns)
	}
	// Every update was acknowledged (the master forwards them to the
	// agent): at least RUNNING and FINISHED of each of the 3 runs.
	testcluster.WaitFor(t, 10*time.Second, "acknowledgements", func() bool { return agents[0].Stats().Acks >= 6 })
}

func TestConcurrencyPolicies(t *testing.T) {
	e := newEnv(t)
	e.agents(1)
	// Tasks run until killed: every run overlaps the next instant.
	for _, p := range []string{cronapi.ConcurrencyAllow, cronapi.ConcurrencyForbid, cronapi.ConcurrencyReplace} {
		e.must("POST", "/v1/jobs", jobSpec("p."+strings.ToLower(p), nil, everyMinute(p)), 201, nil)
	}
	active := func(j cronapi.Job) int {
		n := 0
		for _, r := range j.ActiveRuns {
			if r.Status == cronapi.RunActive {
				n++
			}
		}
		return n
	}
	e.clock.Advance(time.Minute)
	for _, p := range []string{"allow", "forbid", "replace"} {
		e.waitJob(p+" running", "p."+p, func(j cronapi.Job) bool { return active(j) == 1 })
	}
	e.clock.Advance(time.Minute)
	e.waitJob("ALLOW runs both", "p.allow", func(j cronapi.Job) bool { return active(j) == 2 })
	j := e.waitJob("FORBID skips the second", "p.forbid", func(j cronapi.Job) bool { return len(j.History.SkippedRuns) == 1 })
	if active(j) != 1 || !strings.Contains(j.History.SkippedRuns[0].Reason, "FORBID") || j.History.SkippedCount != 1 {
		t.Errorf("FORBID: active %d skipped %+v", active(j), j.History.SkippedRuns)
	}
	j = e.waitJob("REPLACE stops the first", "p.replace", func(j cronapi.Job) bool {
		return j.History.FailureCount == 1 && active(j) == 1
	})
	if !strings.Contains(j.History.FailedFinishedRuns[0].Message, "replaced") {
		t.Errorf("REPLACE: the stopped run says %q", j.History.FailedFinishedRuns[0].Message)
	}
}

func TestRetriesThenFailed(t *testing.T) {
	e := newEnv(t)
	e.agents(1)
	spec := jobSpec("flaky", map[string]string{simagent.LabelExit: "failed", simagent.LabelDuration: "0s"})
	spec.Run.Restart = &cronapi.Restart{Policy: cronapi.RestartOnFailure, MaxRetries: 2, BackoffSeconds: 10}
	e.must("POST", "/v1/jobs", spec, 201, nil)
	var r cronapi.Run
	e.must("POST", "/v1/jobs/flaky/runs", nil, 201, &r)
	for retry := 1; retry <= 2; retry++ {
		e.waitJob(fmt.Sprintf("attempt %d failed, retry waiting", retry), "flaky", func(j cronapi.Job) bool {
			return len(j.ActiveRuns) == 1 && len(j.ActiveRuns[0].Tasks) == retry && j.ActiveRuns[0].Status == cronapi.RunInitial
		})
		e.clock.Advance(time.Duration(10<<(retry-1)) * time.Second) // the back-off doubles
	}
	j := e.waitJob("the run failed", "flaky", func(j cronapi.Job) bool { return j.History.FailureCount == 1 })
	fr := j.History.FailedFinishedRuns[0]
	if fr.ID != r.ID || len(fr.Tasks) != 3 || fr.ExitCode == nil || *fr.ExitCode != 1 || !strings.Contains(fr.Message, "2 retries spent") {
		t.Errorf("failed run: %+v", fr)
	}
}

func TestDependencies(t *testing.T) {
	e := newEnv(t)
	e.agents(1)
	for _, s := range []cronapi.Job{jobSpec("etl.extract", quick), jobSpec("etl.transform", quick), jobSpec("etl.load", quick)} {
		e.must("POST", "/v1/jobs", s, 201, nil)
	}
	b := jobSpec("etl.transform", quick)
	b.Parents = []string{"etl.extract"}
	e.must("PUT", "/v1/jobs/etl.transform", b, 200, nil)
	c := jobSpec("etl.load", quick)
	c.Parents = []string{"etl.transform"}
	e.must("PUT", "/v1/jobs/etl.load", c, 200, nil)

	// A cycle is refused, naming it.
	a := jobSpec("etl.extract", quick)
	a.Parents = []string{"etl.load"}
	code, body := e.api("PUT", "/v1/jobs/etl.extract", a)
	if code != 422 || !strings.Contains(string(body), "etl.extract → etl.transform → etl.load → etl.extract") {
		t.Errorf("cycle: %d %s", code, body)
	}

	e.must("POST", "/v1/jobs/etl.extract/runs", nil, 201, nil)
	l := e.waitJob("the last level ran", "etl.load", func(j cronapi.Job) bool { return j.History.SuccessCount == 1 })
	tr := e.job("etl.transform")
	ex := e.job("etl.extract")
	if ex.History.SuccessCount != 1 || tr.History.SuccessCount != 1 || l.History.SuccessfulFinishedRuns[0].Trigger != cronapi.TriggerDependency {
		t.Errorf("runs: extract %d transform %d load %+v", ex.History.SuccessCount, tr.History.SuccessCount, l.History.SuccessfulFinishedRuns)
	}
	if tr.History.SuccessfulFinishedRuns[0].CreatedAt.Before(ex.History.SuccessfulFinishedRuns[0].FinishedAt) {
		t.Errorf("transform started before extract finished")
	}

	// A failed parent blocks its children.
	bad := jobSpec("etl.extract", map[string]string{simagent.LabelExit: "failed", simagent.LabelDuration: "0s"})
	e.must("PUT", "/v1/jobs/etl.extract", bad, 200, nil)
	e.must("POST", "/v1/jobs/etl.extract/runs", nil, 201, nil)
	e.waitJob("extract failed", "etl.extract", func(j cronapi.Job) bool { return j.History.FailureCount == 1 })
	time.Sleep(100 * time.Millisecond)
	if tr := e.job("etl.transform"); tr.History.SuccessCount != 1 || len(tr.ActiveRuns) != 0 {
		t.Errorf("a child ran after its parent failed: %+v %v", tr.History.HistorySummary, tr.ActiveRuns)
	}

	var deps cronapi.Dependencies
	e.must("GET", "/v1/jobs/etl.transform/dependencies", nil, 200, &deps)
	if strings.Join(deps.Parents, ",") != "etl.extract" || strings.Join(deps.Children, ",") != "etl.load" {
		t.Errorf("dependencies: %+v", deps)
	}
	code, body = e.api("GET", "/v1/graph", nil)
	if code != 200 || !strings.Contains(string(body), `"etl.extract" -> "etl.transform"`) || !strings.Contains(string(body), `"etl.transform" -> "etl.load"`) {
		t.Errorf("graph: %d %s", code, body)
	}
	// A parent with children cannot go.
	if code, body := e.api("DELETE", "/v1/jobs/etl.extract", nil); code != 409 || !strings.Contains(string(body), "etl.transform") {
		t.Errorf("deleting a parent: %d %s", code, body)
	}
}

func TestRestartBetweenScheduleAndLaunch(t *testing.T) {
	e := newEnv(t)
	// No agent yet: the run is made, and waits for an offer.
	e.must("POST", "/v1/jobs", jobSpec("nightly", quick, everyMinute("")), 201, nil)
	e.clock.Advance(time.Minute)
	j := e.waitJob("the run is made", "nightly", func(j cronapi.Job) bool { return len(j.ActiveRuns) == 1 })
	id := j.ActiveRuns[0].ID
	e.restart(nil)
	j = e.job("nightly")
	if len(j.ActiveRuns) != 1 || j.ActiveRuns[0].ID != id || j.ActiveRuns[0].Status != cronapi.RunInitial {
		t.Fatalf("after the restart: %+v", j.ActiveRuns)
	}
	e.agents(1)
	j = e.waitJob("the run ran", "nightly", func(j cronapi.Job) bool { return j.History.SuccessCount == 1 })
	time.Sleep(100 * time.Millisecond)
	j = e.job("nightly")
	if j.History.SuccessCount != 1 || len(j.ActiveRuns) != 0 || j.History.SuccessfulFinishedRuns[0].ID != id {
		t.Errorf("one run, once: %+v active %v", j.History, j.ActiveRuns)
	}
}

func TestRestartWhileRunning(t *testing.T) {
	e := newEnv(t)
	agents := e.agents(1)
	e.must("POST", "/v1/jobs", jobSpec("long", nil, everyMinute(cronapi.ConcurrencyForbid)), 201, nil)
	e.clock.Advance(time.Minute)
	j := e.waitJob("running", "long", func(j cronapi.Job) bool { return len(j.ActiveRuns) == 1 && j.ActiveRuns[0].Status == cronapi.RunActive })
	run := j.ActiveRuns[0]
	e.restart(nil)
	j = e.waitJob("still running after the restart", "long", func(j cronapi.Job) bool {
		return len(j.ActiveRuns) == 1 && j.ActiveRuns[0].Status == cronapi.RunActive
	})
	if j.ActiveRuns[0].ID != run.ID || len(j.ActiveRuns[0].Tasks) != 1 || agents[0].Stats().Launches != 1 {
		t.Errorf("the run after a restart: %+v (launches %d)", j.ActiveRuns, agents[0].Stats().Launches)
	}
	var stopped cronapi.Run
	e.must("POST", "/v1/jobs/long/runs/"+run.ID+"/actions/stop", nil, 200, &stopped)
	j = e.waitJob("stopped", "long", func(j cronapi.Job) bool { return j.History.FailureCount == 1 })
	if !strings.Contains(j.History.FailedFinishedRuns[0].Message, "stopped") {
		t.Errorf("stopped run: %+v", j.History.FailedFinishedRuns[0])
	}
}

func TestStartingDeadline(t *testing.T) {
	e := newEnv(t)
	s := everyMinute("")
	s.StartingDeadlineSeconds = 30
	e.must("POST", "/v1/jobs", jobSpec("late", quick, s), 201, nil)
	// No agent: the run cannot start before its deadline.
	e.clock.Advance(15 * time.Second)
	e.waitJob("the run is made", "late", func(j cronapi.Job) bool { return len(j.ActiveRuns) == 1 })
	e.clock.Advance(31 * time.Second)
	j := e.waitJob("skipped", "late", func(j cronapi.Job) bool { return j.History.SkippedCount == 1 && len(j.ActiveRuns) == 0 })
	if sk := j.History.SkippedRuns[0]; !strings.Contains(sk.Reason, "not started within its starting deadline") || !sk.ScheduledAt.Equal(t0.Add(10*time.Second)) {
		t.Errorf("skipped: %+v", sk)
	}
	// The framework is down across two instants: both missed, recorded.
	e.restart(func() { e.clock.Advance(3 * time.Minute) })
	j = e.waitJob("missed instants recorded", "late", func(j cronapi.Job) bool { return j.History.SkippedCount >= 2 })
	if sk := j.History.SkippedRuns[0]; !strings.Contains(sk.Reason, "not running") {
		t.Errorf("missed: %+v", j.History.SkippedRuns)
	}
	if j.History.SuccessCount != 0 || j.History.FailureCount != 0 || len(j.ActiveRuns) != 0 {
		t.Errorf("a missed instant ran: %+v", j.History.HistorySummary)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	e.must("POST", "/v1/jobs", jobSpec("base", quick), 201, nil)
	for _, tc := range []struct {
		name, body, path string
	}{
		{"cron", `{"id":"x","run":{"cmd":"date"},"schedules":[{"id":"s","cron":"61 * * * *"}]}`, "/schedules/0/cron"},
		{"six fields", `{"id":"x","run":{"cmd":"date"},"schedules":[{"id":"s","cron":"0 0 * * * *"}]}`, "/schedules/0/cron"},
		{"iso", `{"id":"x","run":{"cmd":"date"},"schedules":[{"id":"s","interval":"R/2026-01-01T00:00:00Z/1D"}]}`, "/schedules/0/interval"},
		{"zone", `{"id":"x","run":{"cmd":"date"},"schedules":[{"id":"s","cron":"* * * * *","timezone":"Mars/Olympus"}]}`, "/schedules/0/timezone"},
		{"unknown parent", `{"id":"x","run":{"cmd":"date"},"parents":["nope"]}`, "/parents/0"},
		{"id", `{"id":"Bad_ID","run":{"cmd":"date"}}`, "/id"},
		{"no command", `{"id":"x","run":{}}`, "/run/cmd"},
		{"cpus", `{"id":"x","run":{"cmd":"date","cpus":-1}}`, "/run/cpus"},
		{"policy", `{"id":"x","run":{"cmd":"date"},"schedules":[{"id":"s","cron":"* * * * *","concurrencyPolicy":"SOMETIMES"}]}`, "/schedules/0/concurrencyPolicy"},
		{"unknown field", `{"id":"x","run":{"cmd":"date"},"shedules":[]}`, "/shedules"},
		{"type", `{"id":"x","run":{"cmd":"date","cpus":"lots"}}`, "/run/cpus"},
		{"syntax", `{"id":"x",`, "/"},
		{"both", `{"id":"x","run":{"cmd":"date"},"parents":["base"],"schedules":[{"id":"s","cron":"* * * * *"}]}`, "/parents"},
	} {
		code, body := e.api("POST", "/v1/jobs", tc.body)
		var ae cronapi.Error
		_ = json.Unmarshal(body, &ae)
		found := false
		for _, d := range ae.Details {
			found = found || d.Path == tc.path
		}
		if code != 422 || !found {
			t.Errorf("%s: %d %s, want 422 naming %s", tc.name, code, body, tc.path)
		}
	}
	var jobs []cronapi.Job
	e.must("GET", "/v1/jobs", nil, 200, &jobs)
	if len(jobs) != 1 {
		t.Errorf("bad input stored jobs: %+v", jobs)
	}
	if code, _ := e.api("GET", "/v1/jobs/nope", nil); code != 404 {
		t.Errorf("unknown job: %d", code)
	}
	if code, _ := e.api("POST", "/v1/jobs", jobSpec("base", quick)); code != 409 {
		t.Errorf("a second job with the same id: %d", code)
	}
}

func TestScheduleEndpoints(t *testing.T) {
	e := newEnv(t)
	e.must("POST", "/v1/jobs", jobSpec("sched", quick), 201, nil)
	var s cronapi.Schedule
	e.must("POST", "/v1/jobs/sched/schedules", cronapi.Schedule{ID: "paris", Cron: "0 9 * * mon-fri", TimeZone: "Europe/Paris"}, 201, &s)
	// Thursday 2026-01-15 09:59:50 UTC is 10:59:50 in Paris: next is Friday 09:00 Paris = 08:00 UTC.
	if s.NextRunAt == nil || !s.NextRunAt.Equal(time.Date(2026, 1, 16, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("next run: %v", s.NextRunAt)
	}
	e.must("POST", "/v1/jobs/sched/schedules", cronapi.Schedule{ID: "iso", Interval: "R3/2026-01-15T10:30:00Z/PT6H"}, 201, &s)
	if s.NextRunAt == nil || !s.NextRunAt.Equal(time.Date(2026, 1, 15, 10, 30, 0, 0, time.UTC)) {
		t.Errorf("next interval run: %v", s.NextRunAt)
	}
	if code, _ := e.api("POST", "/v1/jobs/sched/schedules", cronapi.Schedule{ID: "iso", Cron: "* * * * *"}); code != 409 {
		t.Errorf("duplicate schedule: %d", code)
	}
	var list []cronapi.Schedule
	e.must("GET", "/v1/jobs/sched/schedules", nil, 200, &list)
	if len(list) != 2 {
		t.Errorf("schedules: %+v", list)
	}
	e.must("DELETE", "/v1/jobs/sched/schedules/iso", nil, 200, nil)
	e.must("GET", "/v1/jobs/sched/schedules", nil, 200, &list)
	if len(list) != 1 || list[0].ID != "paris" {
		t.Errorf("schedules after delete: %+v", list)
	}
	// Disabled: no next run; enabled again: from now on.
	off := false
	var disabled, enabled cronapi.Schedule
	e.must("PUT", "/v1/jobs/sched/schedules/paris", cronapi.Schedule{ID: "paris", Cron: "0 9 * * mon-fri", TimeZone: "Europe/Paris", Enabled: &off}, 200, &disabled)
	if disabled.NextRunAt != nil || disabled.IsEnabled() {
		t.Errorf("disabled schedule: %+v", disabled)
	}
	e.must("PUT", "/v1/jobs/sched/schedules/paris", cronapi.Schedule{ID: "paris", Cron: "0 9 * * mon-fri", TimeZone: "Europe/Paris"}, 200, &enabled)
	if enabled.NextRunAt == nil || !enabled.NextRunAt.Equal(time.Date(2026, 1, 16, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("enabled again: %+v", enabled)
	}
	// Survives a restart, and the job can go.
	e.restart(nil)
	e.must("GET", "/v1/jobs/sched/schedules/paris", nil, 200, &s)
	e.must("DELETE", "/v1/jobs/sched", nil, 200, nil)
	if code, _ := e.api("GET", "/v1/jobs/sched", nil); code != 404 {
		t.Errorf("deleted job: %d", code)
	}
}

// TestLaunchLostInACrash: the framework stored a run's task id and died
// before its launch reached the master. Started again, it finds out by
// reconciliation and launches the run once more: it runs, once.
func TestLaunchLostInACrash(t *testing.T) {
	e := newEnv(t)
	agents := e.agents(1)
	e.must("POST", "/v1/jobs", jobSpec("crashy", quick), 201, nil)
	e.restart(func() {
		js, err := jetstream.New(e.Conn("test"))
		if err != nil {
			t.Fatal(err)
		}
		kv, err := js.KeyValue(context.Background(), "cairn-fw-cron")
		if err != nil {
			t.Fatal(err)
		}
		// What the loop stores just before it sends the ACCEPT.
		rec := fmt.Sprintf(`{"id":"r1","jobId":"crashy","status":"STARTING","trigger":"manual","createdAt":%q,
			"tasks":[{"id":"crashy.r1.0","status":"TASK_STAGING","agentId":%q}],"startBy":%q,"firstLaunchAt":%q}`,
			t0.Format(time.RFC3339), agents[0].ID(), t0.Add(time.Hour).Format(time.RFC3339), t0.Format(time.RFC3339))
		if _, err := kv.Put(context.Background(), "run.crashy.r1", []byte(rec)); err != nil {
			t.Fatal(err)
		}
	})
	j := e.waitJob("the run ran", "crashy", func(j cronapi.Job) bool { return j.History.SuccessCount == 1 })
	fr := j.History.SuccessfulFinishedRuns[0]
	if fr.ID != "r1" || len(fr.Tasks) != 2 || fr.Tasks[1] != "crashy.r1.1" || agents[0].Stats().Launches != 1 {
		t.Errorf("the run after a lost launch: %+v (launches %d)", fr, agents[0].Stats().Launches)
	}
}
