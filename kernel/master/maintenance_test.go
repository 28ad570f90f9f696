package master_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/master"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/scheduler"
	"github.com/cairn-dc/cairn/kernel/simagent"
)

// post sends POST url with body (none when empty) and decodes the JSON answer.
func post(t *testing.T, url, body string, into any) int {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	resp, err := http.Post(url, "application/json", r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if into != nil {
		if err := json.Unmarshal(data, into); err != nil {
			t.Fatalf("POST %s: %d %s: %v", url, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

func operatorAPI(t *testing.T, m *master.Master) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler(master.HTTPConfig{}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// recorder keeps the messages published on a subject.
type recorder struct {
	mu   sync.Mutex
	msgs [][]byte
}

func record(t *testing.T, nc *nats.Conn, subject string) *recorder {
	t.Helper()
	r := &recorder{}
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		r.mu.Lock()
		r.msgs = append(r.msgs, m.Data)
		r.mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *recorder) kills() []protocol.KillTask {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []protocol.KillTask
	for _, data := range r.msgs {
		var cmd protocol.AgentCommand
		if json.Unmarshal(data, &cmd) == nil && cmd.Type == protocol.AgentKill {
			out = append(out, *cmd.Kill)
		}
	}
	return out
}

// agentStatuses are the statuses AGENT_UPDATED events carried for aid.
func (r *recorder) agentStatuses(aid protocol.AgentID) []protocol.AgentStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []protocol.AgentStatus
	for _, data := range r.msgs {
		var ev protocol.ClusterEvent
		if json.Unmarshal(data, &ev) == nil && ev.Type == protocol.EvAgentUpdated && ev.Agent != nil && ev.Agent.ID == aid {
			out = append(out, ev.Agent.Status)
		}
	}
	return out
}

func waitAgentStatus(t *testing.T, m *master.Master, aid protocol.AgentID, want protocol.AgentStatus) protocol.Agent {
	t.Helper()
	var ag protocol.Agent
	waitFor(t, 10*time.Second, "agent "+string(want), func() bool {
		ag, _ = agentOf(m, aid)
		return ag.Status == want
	})
	return ag
}

// offersWithout waits for n OFFERS events and fails if one has an offer
// for agent aid; each offer is declined without a filter, so every
// allocation cycle offers again.
func offersWithout(t *testing.T, f *scheduler.Framework, aid protocol.AgentID, n int) {
	t.Helper()
	for range n {
		of := offers(t, f)
		var ids []protocol.OfferID
		for _, o := range of {
			if o.AgentID == aid {
				t.Fatalf("agent %s was offered while drained: %+v", aid, o)
			}
			ids = append(ids, o.ID)
		}
		if err := f.Decline(ctxT(t), ids, scheduler.Refuse(0)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDrainKillsTasksStopsOffersAndUndrainOffersAgain(t *testing.T) {
	c := newCluster(t, nil)
	a := c.agent(func(cfg *simagent.Config) { cfg.Hostname = "host-1"; cfg.SendKilling = true })
	f := c.framework("web", nil)
	url := operatorAPI(t, c.m)
	cmds := record(t, c.conn("spy"), protocol.AgentCommands(a.ID()))
	events := record(t, c.conn("spy-events"), protocol.ClusterEventsWildcard)

	of := offers(t, f)
	t1, t2 := sleepTask("d1", "cpus:1;mem:64"), sleepTask("d2", "cpus:1;mem:64")
	t2.KillPolicy = &protocol.KillPolicy{GracePeriod: &protocol.DurationInfo{Nanoseconds: int64(7 * time.Second)}}
	if _, err := f.Launch(ctxT(t), of[0], t1, t2); err != nil {
		t.Fatal(err)
	}
	update(t, f, "d1", protocol.TaskRunning)
	update(t, f, "d2", protocol.TaskRunning)

	var ag protocol.Agent
	if code := post(t, url+"/v1/agents/"+string(a.ID())+"/drain", `{"grace_period_seconds": 5, "reason": "kernel upgrade"}`, &ag); code != 200 {
		t.Fatalf("drain: %d %+v", code, ag)
	}
	if ag.ID != a.ID() || ag.Drain == nil || ag.Drain.Reason != "kernel upgrade" || ag.Drain.Since == 0 ||
		ag.Drain.GracePeriodSeconds == nil || *ag.Drain.GracePeriodSeconds != 5 {
		t.Fatalf("drain answer: %+v drain %+v", ag, ag.Drain)
	}
	if ag.Status != protocol.AgentDraining {
		t.Fatalf("status right after the drain: %s, want DRAINING (two tasks were running)", ag.Status)
	}
	// The read endpoints show the drain as soon as it is answered.
	var mt protocol.Maintenance
	if code := getJSON(t, url+"/v1/maintenance", "", &mt); code != 200 || len(mt.Agents) != 1 || mt.Agents[0].Drain == nil {
		t.Fatalf("maintenance right after the drain: %d %+v", code, mt)
	}
	// Both tasks are killed with the drain's reason and a message naming it.
	killed := map[protocol.TaskID]protocol.TaskStatus{}
	for len(killed) < 2 { // in either order
		ev := nextEvent(t, f, 5*time.Second, "d1 and d2 KILLED", func(e protocol.Event) bool {
			return e.Type == protocol.EventUpdate && e.Update.Status.State == protocol.TaskKilled
		})
		killed[ev.Update.Status.TaskID] = ev.Update.Status
	}
	for _, id := range []protocol.TaskID{"d1", "d2"} {
		st, ok := killed[id]
		if !ok || st.Reason != protocol.ReasonAgentDraining || !strings.Contains(st.Message, "draining") ||
			!strings.Contains(st.Message, "kernel upgrade") || !strings.Contains(st.Message, "host-1") {
			t.Fatalf("%s KILLED: reason %s message %q", id, st.Reason, st.Message)
		}
	}
	// The kills carried the drain's grace period, not the task's own.
	waitFor(t, 5*time.Second, "2 kill commands seen", func() bool { return len(cmds.kills()) >= 2 })
	kills := cmds.kills()
	if len(kills) != 2 {
		t.Fatalf("kills sent: %+v", kills)
	}
	for _, k := range kills {
		if k.Reason != protocol.ReasonAgentDraining || k.KillPolicy == nil || k.KillPolicy.GracePeriod == nil ||
			k.KillPolicy.GracePeriod.Nanoseconds != int64(5*time.Second) {
			t.Fatalf("kill command: %+v policy %+v", k, k.KillPolicy)
		}
	}
	drained := waitAgentStatus(t, c.m, a.ID(), protocol.AgentDrained)
	if drained.Drain.State != protocol.DrainDrained || drained.Drain.DrainedTime < drained.Drain.Since || drained.ActiveTasks != 0 {
		t.Fatalf("drained agent: %+v drain %+v", drained, drained.Drain)
	}
	if code := getJSON(t, url+"/v1/maintenance", "", &mt); code != 200 || len(mt.Agents) != 1 || mt.Agents[0].ID != a.ID() || mt.Agents[0].Status != protocol.AgentDrained {
		t.Fatalf("maintenance: %d %+v", code, mt)
	}
	waitFor(t, 5*time.Second, "AGENT_UPDATED events DRAINING then DRAINED", func() bool {
		s := events.agentStatuses(a.ID())
		return len(s) >= 2 && s[0] == protocol.AgentDraining && s[len(s)-1] == protocol.AgentDrained
	})

	// A second agent is offered; the drained one, whose resources are all
	// free, never is.
	b := c.agent(func(cfg *simagent.Config) { cfg.Hostname = "host-2" })
	offersWithout(t, f, a.ID(), 3)

	// Undrain: the agent is offered again.
	var back protocol.Agent
	if code := post(t, url+"/v1/agents/"+string(a.ID())+"/undrain", "", &back); code != 200 || back.Status != protocol.AgentActive || back.Drain != nil {
		t.Fatalf("undrain: %d %+v", code, back)
	}
	nextEvent(t, f, 5*time.Second, "an offer of the undrained agent", func(e protocol.Event) bool {
		if e.Type != protocol.EventOffers {
			return false
		}
		for _, o := range e.Offers.Offers {
			if o.AgentID == a.ID() {
				return true
			}
		}
		return false
	})
	waitFor(t, 5*time.Second, "AGENT_UPDATED ACTIVE", func() bool {
		s := events.agentStatuses(a.ID())
		return len(s) > 0 && s[len(s)-1] == protocol.AgentActive
	})
	if code := getJSON(t, url+"/v1/maintenance", "", &mt); code != 200 || len(mt.Agents) != 0 {
		t.Fatalf("maintenance after undrain: %d %+v", code, mt)
	}
	_ = b
}

func TestDrainWithoutTasksIsDrainedAndUsesTaskGraceOtherwise(t *testing.T) {
	c := newCluster(t, nil)
	a := c.agent(nil)
	url := operatorAPI(t, c.m)
	var ag protocol.Agent
	// No body at all: no reason, the tasks' own grace periods.
	if code := post(t, url+"/v1/agents/"+string(a.ID())+"/drain", "", &ag); code != 200 || ag.Status != protocol.AgentDrained ||
		ag.Drain == nil || ag.Drain.GracePeriodSeconds != nil || ag.Drain.Reason != "" {
		t.Fatalf("drain of an idle agent: %d %+v", code, ag)
	}
	// Asking again keeps the drain (and its start), with the new reason.
	since := ag.Drain.Since
	if code := post(t, url+"/v1/agents/"+string(a.ID())+"/drain", `{"reason":"disk swap"}`, &ag); code != 200 ||
		ag.Status != protocol.AgentDrained || ag.Drain.Since != since || ag.Drain.Reason != "disk swap" {
		t.Fatalf("drain again: %d %+v %+v", code, ag, ag.Drain)
	}
	for _, what := range []string{"undrain", "undrain again (idempotent)"} {
		var back protocol.Agent
		if code := post(t, url+"/v1/agents/"+string(a.ID())+"/undrain", "", &back); code != 200 || back.Status != protocol.AgentActive || back.Drain != nil {
			t.Fatalf("%s: %d %+v", what, code, back)
		}
	}

	// With a task and no drain grace period, the kill uses the task's policy.
	f := c.framework("web", nil)
	cmds := record(t, c.conn("spy"), protocol.AgentCommands(a.ID()))
	ti := sleepTask("g1", "cpus:1;mem:64")
	ti.KillPolicy = &protocol.KillPolicy{GracePeriod: &protocol.DurationInfo{Nanoseconds: int64(3 * time.Second)}}
	if _, err := f.Launch(ctxT(t), offers(t, f)[0], ti); err != nil {
		t.Fatal(err)
	}
	update(t, f, "g1", protocol.TaskRunning)
	if code := post(t, url+"/v1/agents/"+string(a.ID())+"/drain", `{}`, &ag); code != 200 {
		t.Fatalf("drain: %d", code)
	}
	if st := update(t, f, "g1", protocol.TaskKilled); st.Reason != protocol.ReasonAgentDraining {
		t.Fatalf("reason %s", st.Reason)
	}
	waitFor(t, 5*time.Second, "a kill command seen", func() bool { return len(cmds.kills()) >= 1 })
	kills := cmds.kills()
	if len(kills) != 1 || kills[0].KillPolicy == nil || kills[0].KillPolicy.GracePeriod.Nanoseconds != int64(3*time.Second) {
		t.Fatalf("kill: %+v", kills)
	}
	waitAgentStatus(t, c.m, a.ID(), protocol.AgentDrained)
}

func TestDrainSurvivesMasterRestartAndReregistration(t *testing.T) {
	c := newCluster(t, func(cfg *master.Config) { cfg.AgentUnreachableTimeout = time.Minute })
	a := c.agent(nil)
	f := c.framework("web", func(cfg *scheduler.Config) { cfg.Framework.FailoverTimeout = 60 })
	if _, err := f.Launch(ctxT(t), offers(t, f)[0], sleepTask("r1", "cpus:1;mem:64")); err != nil {
		t.Fatal(err)
	}
	update(t, f, "r1", protocol.TaskRunning)

	// Drained while unreachable: the kill waits for the agent to come back.
	a.PausePings()
	update(t, f, "r1", protocol.TaskUnreachable)
	var ag protocol.Agent
	if code := post(t, operatorAPI(t, c.m)+"/v1/agents/"+string(a.ID())+"/drain", `{"reason":"rack move"}`, &ag); code != 200 ||
		ag.Status != protocol.AgentUnreachable || ag.Drain == nil || ag.Drain.State != protocol.DrainDraining {
		t.Fatalf("drain of an unreachable agent: %d %+v %+v", code, ag, ag.Drain)
	}

	c.restartMaster()
	if ag, _ := agentOf(c.m, a.ID()); ag.Drain == nil || ag.Drain.Reason != "rack move" || ag.Drain.State != protocol.DrainDraining {
		t.Fatalf("after restart: %+v drain %+v", ag, ag.Drain)
	}
	// The agent comes back: it re-registers still draining and its task is killed.
	a.ResumePings()
	nextEvent(t, f, 10*time.Second, "r1 killed for the drain", func(e protocol.Event) bool {
		return e.Type == protocol.EventUpdate && e.Update.Status.TaskID == "r1" && e.Update.Status.State == protocol.TaskKilled &&
			e.Update.Status.Reason == protocol.ReasonAgentDraining && strings.Contains(e.Update.Status.Message, "rack move")
	})
	waitAgentStatus(t, c.m, a.ID(), protocol.AgentDrained)

	// And once more: a restarted master keeps it drained and offers nothing of it.
	c.restartMaster()
	url := operatorAPI(t, c.m)
	var mt protocol.Maintenance
	if code := getJSON(t, url+"/v1/maintenance", "", &mt); code != 200 || len(mt.Agents) != 1 || mt.Agents[0].Status != protocol.AgentDrained {
		t.Fatalf("maintenance after restart: %d %+v", code, mt)
	}
	waitFor(t, 10*time.Second, "framework connected again", func() bool { fw, _ := frameworkOf(c.m, f.ID()); return fw.Connected })
	c.agent(nil)
	offersWithout(t, f, a.ID(), 3)
	// Re-registration does not undo the drain either.
	if err := a.Reregister(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	offersWithout(t, f, a.ID(), 2)
	waitAgentStatus(t, c.m, a.ID(), protocol.AgentDrained)
}

func TestDrainBadInput(t *testing.T) {
	c := newCluster(t, nil) // unreachable timeout 1s: agents go GONE fast
	a := c.agent(nil)
	url := operatorAPI(t, c.m)
	drain := url + "/v1/agents/" + string(a.ID()) + "/drain"
	for _, tc := range []struct {
		url, body string
		code      int
		want      []string
	}{
		{url + "/v1/agents/NOPE/drain", "", 404, []string{"agent NOPE is unknown", "/v1/agents"}},
		{url + "/v1/agents/NOPE/undrain", "", 404, []string{"agent NOPE is unknown"}},
		{url + "/v1/agents/a.b/drain", "", 400, []string{"agent id", "not a valid id"}},
		{drain, `{"grace_period_seconds": -1}`, 400, []string{"grace_period_seconds", "-1"}},
		{drain, `{"grace_period_seconds": "30s"}`, 400, []string{"grace_period_seconds", "number"}},
		{drain, `{"grace": 30}`, 400, []string{`unknown field "grace"`, "grace_period_seconds"}},
		{drain, `{"reason": "a\nb"}`, 400, []string{"reason", "control characters"}},
		{drain, `{"reason": "` + strings.Repeat("x", 2000) + `"}`, 400, []string{"reason", "1024"}},
		{drain, `{"reason": `, 400, []string{"invalid JSON"}},
		{drain, `{} {}`, 400, []string{"one JSON value"}},
	} {
		var e map[string]string
		code := post(t, tc.url, tc.body, &e)
		if code != tc.code {
			t.Errorf("POST %s %q: %d %v, want %d", tc.url, tc.body, code, e, tc.code)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(e["message"], w) {
				t.Errorf("POST %s %q: message %q lacks %q", tc.url, tc.body, e["message"], w)
			}
		}
	}
	// Nothing was half-applied.
	waitFor(t, 5*time.Second, "agent in the snapshot", func() bool { _, ok := agentOf(c.m, a.ID()); return ok })
	if ag, _ := agentOf(c.m, a.ID()); ag.Status != protocol.AgentActive || ag.Drain != nil {
		t.Fatalf("agent after bad requests: %+v", ag)
	}
	var e map[string]string
	if code := getJSON(t, drain, "", &e); code != 404 || !strings.Contains(e["message"], "POST /v1/agents/<id>/drain") {
		t.Fatalf("GET of the drain endpoint: %d %v", code, e)
	}
	// A gone agent: 409.
	a.PausePings()
	waitFor(t, 10*time.Second, "agent gone", func() bool { _, ok := agentOf(c.m, a.ID()); return !ok })
	for _, verb := range []string{"drain", "undrain"} {
		if code := post(t, url+"/v1/agents/"+string(a.ID())+"/"+verb, "", &e); code != 409 || !strings.Contains(e["message"], "gone") {
			t.Fatalf("%s of a gone agent: %d %v", verb, code, e)
		}
	}
}
