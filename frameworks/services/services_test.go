package services_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/frameworks/services"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/kernel/simagent"
)

const seedApp = `{"id": "ubuntu", "instances": 1, "cpus": 0.5, "mem": 512, "cmd": "while sleep 10; do date -u +%T; done"}`

func TestSeedAppRunsAndIsReplaced(t *testing.T) {
	c := newCluster(t)
	agents := c.agents(2, "cpus:4;mem:8192;disk:10000;ports:[31000-31100]")
	c.services()
	code, out := c.api("POST", "/v2/apps", seedApp)
	if code != 201 || out["id"] != "/ubuntu" || len(out["deployments"].([]any)) != 1 {
		t.Fatalf("POST: %d %v", code, out)
	}
	waitFor(t, 10*time.Second, "1 running", func() bool { return c.running("/ubuntu") == 1 })
	app := c.app("/ubuntu")
	if app["cmd"] != "while sleep 10; do date -u +%T; done" || num(app["instances"]) != 1 || app["cpus"] != 0.5 {
		t.Fatalf("app as Marathon shows it: %v", app)
	}
	tasks := app["tasks"].([]any)
	t1 := tasks[0].(map[string]any)
	if t1["state"] != "TASK_RUNNING" || t1["appId"] != "/ubuntu" || t1["host"] == "" || len(t1["ports"].([]any)) != 1 {
		t.Fatalf("task: %v", t1)
	}
	// Kill it behind the framework's back: it comes back.
	id := protocol.TaskID(t1["id"].(string))
	for _, a := range agents {
		_ = a.Finish(id, protocol.TaskKilled, "killed by someone")
	}
	waitFor(t, 10*time.Second, "a replacement", func() bool {
		ts := c.tasksOf("/ubuntu")
		return len(ts) == 1 && ts[0]["id"] != string(id) && ts[0]["state"] == "TASK_RUNNING"
	})
	if lf := c.app("/ubuntu")["lastTaskFailure"].(map[string]any); lf["taskId"] != string(id) || lf["state"] != "TASK_KILLED" {
		t.Fatalf("lastTaskFailure: %v", lf)
	}
}

func TestScale(t *testing.T) {
	c := newCluster(t)
	c.agents(3, "cpus:8;mem:16384;ports:[31000-31100]")
	c.services()
	if code, out := c.api("POST", "/v2/apps", `{"id":"/web","cmd":"sleep 1000","cpus":0.1,"mem":32}`); code != 201 {
		t.Fatalf("%d %v", code, out)
	}
	waitFor(t, 15*time.Second, "created", func() bool { return c.running("/web") == 1 && c.deploymentsDone() })
	for _, n := range []int{1, 10, 3} {
		code, out := c.api("PUT", "/v2/apps/web", fmt.Sprintf(`{"instances":%d}`, n))
		if code != 200 || out["deploymentId"] == "" {
			t.Fatalf("scale to %d: %d %v", n, code, out)
		}
		waitFor(t, 15*time.Second, fmt.Sprintf("%d running", n), func() bool {
			return c.running("/web") == n && len(c.tasksOf("/web")) == n && c.deploymentsDone()
		})
	}
	// Scaling is not a restart: versions grow, lastConfigChangeAt stays.
	app := c.app("/web")
	vi := app["versionInfo"].(map[string]any)
	if vi["lastConfigChangeAt"] == vi["lastScalingAt"] {
		t.Fatalf("scaling changed the config version: %v", vi)
	}
	_, vs := c.api("GET", "/v2/apps/web/versions", nil)
	if len(vs["versions"].([]any)) != 4 {
		t.Fatalf("versions: %v", vs)
	}
}

func TestRollingRestartKeepsCapacity(t *testing.T) {
	c := newCluster(t)
	c.agents(3, "cpus:8;mem:16384;ports:[31000-31100]")
	c.services()
	app := `{"id":"/api","cmd":"sleep 1000","cpus":0.1,"mem":32,"instances":3,"labels":{"sim.healthy":"true"},
		"healthChecks":[{"protocol":"COMMAND","command":{"value":"true"}}],
		"upgradeStrategy":{"minimumHealthCapacity":1,"maximumOverCapacity":0.5}}`
	if code, out := c.api("POST", "/v2/apps", app); code != 201 {
		t.Fatalf("%d %v", code, out)
	}
	waitFor(t, 15*time.Second, "3 healthy", func() bool { return num(c.app("/api")["tasksHealthy"]) == 3 && c.deploymentsDone() })
	before := map[string]bool{}
	for _, tk := range c.tasksOf("/api") {
		before[tk["id"].(string)] = true
	}
	ev := c.events()
	if code, out := c.api("POST", "/v2/apps/api/restart", nil); code != 200 {
		t.Fatalf("restart: %d %v", code, out)
	}
	waitFor(t, 20*time.Second, "restart done", func() bool {
		ts := c.tasksOf("/api")
		if len(ts) != 3 || !c.deploymentsDone() {
			return false
		}
		for _, tk := range ts {
			if before[tk["id"].(string)] {
				return false
			}
		}
		// The event stream may trail the API by a moment.
		return slices.ContainsFunc(ev.snapshot(), func(e map[string]any) bool { return e["eventType"] == "deployment_success" })
	})
	// Replay the event stream: healthy instances never fell below 3.
	healthy := map[string]bool{}
	for id := range before {
		healthy[id] = true
	}
	minSeen := len(healthy)
	sawSuccess := false
	ended := map[string]bool{}
	for _, e := range ev.snapshot() {
		switch e["eventType"] {
		case "health_status_changed_event":
			healthy[e["taskId"].(string)] = e["alive"].(bool)
		case "status_update_event":
			if protocol.TaskState(e["taskStatus"].(string)).Terminal() || e["taskStatus"] == "TASK_KILLING" {
				healthy[e["taskId"].(string)] = false
			}
			if protocol.TaskState(e["taskStatus"].(string)).Terminal() {
				ended[e["taskId"].(string)] = true
			}
		case "deployment_success":
			sawSuccess = true
			// As Marathon's: done once the old instances have ended, not
			// when they are asked to.
			for id := range before {
				if !ended[id] {
					t.Errorf("the restart succeeded before the old task %s ended", id)
				}
			}
		}
		n := 0
		for _, ok := range healthy {
			if ok {
				n++
			}
		}
		minSeen = min(minSeen, n)
	}
	if minSeen < 3 || !sawSuccess {
		for _, e := range ev.snapshot() {
			t.Logf("%v %v %v %v", e["eventType"], e["taskId"], e["taskStatus"], e["alive"])
		}
		t.Fatalf("healthy instances fell to %d during the rolling restart (want >= 3); deployment_success seen: %v", minSeen, sawSuccess)
	}
}

// TestLostKillIsSentAgain: a scale down's kill that never reaches the agent
// is sent again, and the deployment waits for the task to end.
func TestLostKillIsSentAgain(t *testing.T) {
	c := newCluster(t)
	agents := c.agents(1, "cpus:8;mem:16384;ports:[31000-31100]")
	c.servicesWith(func(cfg *services.Config) { cfg.KillRetryInterval = 500 * time.Millisecond })
	if code, out := c.api("POST", "/v2/apps", `{"id":"/kr","cmd":"sleep 1000","cpus":0.1,"mem":32,"instances":2}`); code != 201 {
		t.Fatalf("%d %v", code, out)
	}
	waitFor(t, 15*time.Second, "2 running", func() bool { return c.running("/kr") == 2 && c.deploymentsDone() })
	// The kills are lost on the way (the first one, and those sent again).
	agents[0].DropKills(1000)
	if code, out := c.api("PUT", "/v2/apps/kr", `{"instances":1}`); code != 200 {
		t.Fatalf("scale down: %d %v", code, out)
	}
	time.Sleep(1500 * time.Millisecond)
	if c.deploymentsDone() || c.running("/kr") != 2 {
		t.Fatalf("with the kill lost: deployments done %v, %d running; want the scale down waiting, 2 running", c.deploymentsDone(), c.running("/kr"))
	}
	if d := agents[0].Stats().DroppedCommands; d < 2 {
		t.Fatalf("%d kills lost in 1.5 s; want the kill sent again every 0.5 s", d)
	}
	agents[0].DropKills(0)
	waitFor(t, 10*time.Second, "the kill sent again and the scale down done", func() bool {
		return c.running("/kr") == 1 && len(c.tasksOf("/kr")) == 1 && c.deploymentsDone()
	})
}

func TestUniqueHostnameAndBlockedDeployment(t *testing.T) {
	c := newCluster(t)
	c.agents(3, "cpus:8;mem:16384;ports:[31000-31100]")
	c.services()
	app := `{"id":"/uniq","cmd":"sleep 1000","cpus":0.1,"mem":32,"instances":3,"constraints":[["hostname","UNIQUE"]]}`
	if code, out := c.api("POST", "/v2/apps", app); code != 201 {
		t.Fatalf("%d %v", code, out)
	}
	waitFor(t, 15*time.Second, "3 running", func() bool { return c.running("/uniq") == 3 })
	hosts := map[string]bool{}
	for _, tk := range c.app("/uniq")["tasks"].([]any) {
		hosts[tk.(map[string]any)["slaveId"].(string)] = true
	}
	if len(hosts) != 3 {
		t.Fatalf("UNIQUE hostname: instances on %d agents", len(hosts))
	}
	// A fourth cannot be placed: the deployment says why.
	c.api("PUT", "/v2/apps/uniq", `{"instances":4}`)
	waitFor(t, 15*time.Second, "the queue to explain", func() bool {
		_, q := c.api("GET", "/v2/queue", nil)
		items := q["queue"].([]any)
		if len(items) != 1 {
			return false
		}
		why, _ := items[0].(map[string]any)["waiting"].(string)
		return strings.Contains(why, "UNIQUE") && strings.Contains(why, "hostname")
	})
	if c.deploymentsDone() {
		t.Fatal("the blocked deployment vanished")
	}
}

func TestFrameworkRestartMidDeployment(t *testing.T) {
	c := newCluster(t)
	c.agents(2, "cpus:8;mem:16384;ports:[31000-31100]")
	f := c.services()
	app := `{"id":"/slow","cmd":"sleep 1000","cpus":0.1,"mem":32,"instances":5,"labels":{"sim.start_delay":"400ms"}}`
	if code, out := c.api("POST", "/v2/apps", app); code != 201 {
		t.Fatalf("%d %v", code, out)
	}
	waitFor(t, 10*time.Second, "some launched", func() bool { return len(c.tasksOf("/slow")) > 0 })
	f.Stop()
	c.services()
	waitFor(t, 20*time.Second, "deployment finished after the restart", func() bool {
		return c.running("/slow") == 5 && c.deploymentsDone()
	})
	if n := len(c.tasksOf("/slow")); n != 5 {
		t.Fatalf("%d instances after the restart, want 5", n)
	}
	ids := 0
	for _, tk := range c.m.State().Tasks {
		if !tk.State.Terminal() {
			ids++
		}
	}
	if ids != 5 {
		t.Fatalf("the master sees %d live tasks, want 5 (duplicates launched?)", ids)
	}
}

func TestAgentLossReplacesTasks(t *testing.T) {
	c := newCluster(t)
	agents := c.agents(3, "cpus:8;mem:16384;ports:[31000-31100]")
	c.services()
	app := `{"id":"/ha","cmd":"sleep 1000","cpus":0.1,"mem":32,"instances":2,"constraints":[["hostname","UNIQUE"]],
		"unreachableStrategy":{"inactiveAfterSeconds":0,"expungeAfterSeconds":3600}}`
	if code, out := c.api("POST", "/v2/apps", app); code != 201 {
		t.Fatalf("%d %v", code, out)
	}
	waitFor(t, 15*time.Second, "2 running", func() bool { return c.running("/ha") == 2 })
	victim := c.tasksOf("/ha")[0]
	for _, a := range agents {
		if string(a.ID()) == victim["slaveId"] {
			a.PausePings()
		}
	}
	waitFor(t, 20*time.Second, "a replacement on the third agent", func() bool {
		running := map[string]bool{}
		for _, tk := range c.tasksOf("/ha") {
			if tk["state"] == "TASK_RUNNING" {
				running[tk["slaveId"].(string)] = true
			}
		}
		return len(running) == 2 && !running[victim["slaveId"].(string)]
	})
}

func TestBadAppDefinitions(t *testing.T) {
	c := newCluster(t)
	c.services()
	for _, tc := range []struct{ body, path string }{
		{`{"id":"/Bad_ID","cmd":"x"}`, "/id"},
		{`{"id":"/ok","cmd":"x","instances":-1}`, "/instances"},
		{`{"id":"/ok","cmd":"x","constraints":[["hostname","NEAR"]]}`, "/constraints"},
		{`{"id":"/ok","cmd":"x","args":["y"]}`, "/"},
		{`{"id":"/ok","cmd":`, "/"},
		{`{"id":"/ok","cmd":"x","cpus":"lots"}`, "/cpus"},
		{`{"id":"/ok","cmd":"x","mem":-5}`, "/mem"},
		{`{"id":"/ok","cmd":"x","healthChecks":[{"protocol":"HTTP","portIndex":3}]}`, "/healthChecks(0)"},
		{`{"id":"/ok","cmd":"x","container":{"type":"DOCKER","docker":{"image":"ubuntu"}}}`, "/container"},
		{`{"id":"/ok","cmd":"x","upgradeStrategy":{"minimumHealthCapacity":1.5}}`, "/upgradeStrategy"},
		{`{"id":"/ok","cmd":"x","constraints":[["rack","LIKE","[unclosed"]]}`, "/constraints"},
		{`{"id":"/ok","cmd":"x","portDefinitions":[{"port":0,"name":"a"},{"port":0,"name":"a"}]}`, "/portDefinitions"},
		{`{"id":"/ok","cmd":"x","killSelection":"RANDOM"}`, "/killSelection"},
		{`{"id":"/ok","cmd":"x","backoffFactor":0.5}`, "/backoffFactor"},
		{`{"id":"/ok","cmd":"x","instances":1.5}`, "/instances"},
		{`{"id":"","cmd":"x"}`, "/id"},
		{`{"id":"/-bad","cmd":"x"}`, "/id"},
		{`{"id":"/ok","cmd":"x","env":{"":"v"}}`, "/env"},
		{`{"id":"/ok","cmd":"x","fetch":[{"uri":""}]}`, "/fetch"},
		{`{"id":"/ok","cmd":"x","gpus":1}`, "/gpus"},
		{`[]`, "/"},
		{`{"id":"/ok","cmd":"x","constraints":[["hostname"]]}`, "/constraints"},
	} {
		code, out := c.api("POST", "/v2/apps", tc.body)
		if code < 400 || code >= 500 {
			t.Errorf("%s: status %d, want 4xx", tc.body, code)
			continue
		}
		text := fmt.Sprint(out)
		if !strings.Contains(text, tc.path) {
			t.Errorf("%s: answer does not name %s: %v", tc.body, tc.path, out)
		}
	}
	_, apps := c.api("GET", "/v2/apps", nil)
	if n := len(apps["apps"].([]any)); n != 0 {
		t.Fatalf("%d apps stored from bad definitions", n)
	}
}

func TestConflictAndForce(t *testing.T) {
	c := newCluster(t)
	c.agents(1, "cpus:1;mem:1024;ports:[31000-31100]")
	c.services()
	// 20 instances of cpus 0.1 cannot all fit: the deployment stays.
	c.api("POST", "/v2/apps", `{"id":"/big","cmd":"sleep 1000","cpus":0.1,"mem":32,"instances":20}`)
	code, out := c.api("PUT", "/v2/apps/big", `{"instances":2}`)
	if code != 409 || !strings.Contains(fmt.Sprint(out["message"]), "force=true") || len(out["deployments"].([]any)) != 1 {
		t.Fatalf("update of a locked app: %d %v", code, out)
	}
	code, out = c.api("PUT", "/v2/apps/big?force=true", `{"instances":2}`)
	if code != 200 {
		t.Fatalf("forced update: %d %v", code, out)
	}
	waitFor(t, 15*time.Second, "2 running", func() bool { return c.running("/big") == 2 && c.deploymentsDone() })
}

func TestDeleteAndRollback(t *testing.T) {
	c := newCluster(t)
	c.agents(1, "cpus:4;mem:4096;ports:[31000-31100]")
	c.services()
	c.api("POST", "/v2/apps", `{"id":"/db","cmd":"sleep 1000","cpus":0.1,"mem":32,"instances":2}`)
	waitFor(t, 15*time.Second, "2 running", func() bool { return c.running("/db") == 2 && c.deploymentsDone() })
	// A change that cannot finish, rolled back.
	c.api("PUT", "/v2/apps/db", `{"instances":100}`)
	_, deps := c.api("GET", "/v2/deployments", nil)
	id := deps["list"].([]any)[0].(map[string]any)["id"].(string)
	code, out := c.api("DELETE", "/v2/deployments/"+id, nil)
	if code != 200 || out["deploymentId"] == "" {
		t.Fatalf("rollback: %d %v", code, out)
	}
	waitFor(t, 15*time.Second, "back to 2", func() bool {
		return num(c.app("/db")["instances"]) == 2 && c.running("/db") == 2 && c.deploymentsDone()
	})
	code, _ = c.api("DELETE", "/v2/apps/db", nil)
	if code != 200 {
		t.Fatalf("delete: %d", code)
	}
	waitFor(t, 15*time.Second, "app gone", func() bool {
		code, _ := c.api("GET", "/v2/apps/db", nil)
		return code == 404
	})
	waitFor(t, 15*time.Second, "its tasks killed", func() bool {
		for _, tk := range c.m.State().Tasks {
			if !tk.State.Terminal() {
				return false
			}
		}
		return true
	})
}

func TestGroupBySpreads(t *testing.T) {
	c := newCluster(t)
	c.agents(3, "cpus:8;mem:16384;ports:[31000-31100]") // racks r1, r2, r1
	c.services()
	app := `{"id":"/spread","cmd":"sleep 1000","cpus":0.1,"mem":32,"instances":4,"constraints":[["rack","GROUP_BY"]]}`
	if code, out := c.api("POST", "/v2/apps", app); code != 201 {
		t.Fatalf("%d %v", code, out)
	}
	waitFor(t, 15*time.Second, "4 running", func() bool { return c.running("/spread") == 4 })
	byHost := map[string]int{}
	for _, tk := range c.tasksOf("/spread") {
		byHost[tk["slaveId"].(string)]++
	}
	racks := map[string]int{}
	for _, a := range c.m.State().Agents {
		rack, _ := a.Attributes.Get("rack")
		racks[rack.Value()] += byHost[string(a.ID)]
	}
	if racks["r1"] != 2 || racks["r2"] != 2 {
		t.Fatalf("GROUP_BY rack: %v", racks)
	}
}

func TestRestartKeepsVersionsAndScaleIsNotARestart(t *testing.T) {
	c := newCluster(t)
	c.agents(1, "cpus:8;mem:16384;ports:[31000-31100]")
	f := c.services()
	c.api("POST", "/v2/apps", `{"id":"/keep","cmd":"sleep 1000","cpus":0.1,"mem":32,"labels":{"a":"b"},"env":{"X":"1"}}`)
	waitFor(t, 15*time.Second, "running", func() bool { return c.running("/keep") == 1 && c.deploymentsDone() })
	_, before := c.api("GET", "/v2/apps/keep/versions", nil)
	first := c.tasksOf("/keep")[0]["id"]
	f.Stop()
	c.services()
	_, after := c.api("GET", "/v2/apps/keep/versions", nil)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("versions changed across a restart: %v → %v", before, after)
	}
	// Scaling after a restart does not restart the running instance.
	if code, out := c.api("PUT", "/v2/apps/keep", `{"instances":2}`); code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	waitFor(t, 15*time.Second, "2 running", func() bool { return c.running("/keep") == 2 && c.deploymentsDone() })
	found := false
	for _, tk := range c.tasksOf("/keep") {
		found = found || tk["id"] == first
	}
	if !found {
		t.Fatal("scaling after a framework restart replaced the running instance")
	}
}

func TestReadinessChecksGateTheDeployment(t *testing.T) {
	var ready atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ready.Load() {
			return
		}
		w.WriteHeader(503)
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	c := newCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The agent's only port is the test server's, so the instance's
	// readiness check lands there.
	a, err := simagent.Start(ctx, simagent.Config{Conn: c.conn("agent"), Hostname: "127.0.0.1", Logger: c.log,
		Resources: resources.MustParse(fmt.Sprintf("cpus:4;mem:4096;ports:[%d-%d]", port, port))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	c.services()
	app := `{"id":"/ready","cmd":"sleep 1000","cpus":0.1,"mem":32,"portDefinitions":[{"port":0,"name":"http"}],
		"readinessChecks":[{"name":"r","protocol":"HTTP","path":"/","portName":"http","intervalSeconds":1.5,"timeoutSeconds":1}]}`
	if code, out := c.api("POST", "/v2/apps", app); code != 201 {
		t.Fatalf("%d %v", code, out)
	}
	waitFor(t, 10*time.Second, "running", func() bool { return c.running("/ready") == 1 })
	// Running but not ready: the deployment waits, and says so.
	waitFor(t, 10*time.Second, "a failed readiness result", func() bool {
		_, out := c.api("GET", "/v2/deployments", nil)
		deps := out["list"].([]any)
		if len(deps) != 1 {
			return false
		}
		acts := deps[0].(map[string]any)["currentActions"].([]any)
		if len(acts) == 0 {
			return false
		}
		rs := acts[0].(map[string]any)["readinessCheckResults"].([]any)
		return len(rs) == 1 && rs[0].(map[string]any)["ready"] == false
	})
	ready.Store(true)
	waitFor(t, 10*time.Second, "deployment done once ready", c.deploymentsDone)
}

func TestDependenciesOrderStarts(t *testing.T) {
	c := newCluster(t)
	c.agents(1, "cpus:8;mem:16384;ports:[31000-31100]")
	c.services()
	c.api("POST", "/v2/apps", `{"id":"/shop/web","cmd":"sleep 1000","cpus":0.1,"mem":32,"dependencies":["/shop/db"]}`)
	waitFor(t, 10*time.Second, "web waiting for db", func() bool {
		_, out := c.api("GET", "/v2/deployments", nil)
		deps := out["list"].([]any)
		return len(deps) == 1 && strings.Contains(fmt.Sprint(deps[0].(map[string]any)["waiting"]), "/shop/db")
	})
	if c.running("/shop/web") != 0 {
		t.Fatal("web started before its dependency existed")
	}
	c.api("POST", "/v2/apps", `{"id":"/shop/db","cmd":"sleep 1000","cpus":0.1,"mem":32}`)
	waitFor(t, 15*time.Second, "both running", func() bool {
		return c.running("/shop/db") == 1 && c.running("/shop/web") == 1 && c.deploymentsDone()
	})
	// The group tree shows both under /shop.
	_, g := c.api("GET", "/v2/groups/shop", nil)
	if g["id"] != "/shop" || len(g["apps"].([]any)) != 2 {
		t.Fatalf("group: %v", g)
	}
}

func TestAPISmoke(t *testing.T) {
	c := newCluster(t)
	c.agents(1, "cpus:8;mem:16384;ports:[31000-31100]")
	c.services()
	c.api("POST", "/v2/apps", `{"id":"/smoke","cmd":"sleep 1000","cpus":0.1,"mem":32,"instances":2,"labels":{"tier":"front"}}`)
	waitFor(t, 15*time.Second, "2 running", func() bool { return c.running("/smoke") == 2 && c.deploymentsDone() })
	if code, _ := c.api("GET", "/ping", nil); code != 200 {
		t.Fatalf("ping %d", code)
	}
	if _, info := c.api("GET", "/v2/info", nil); info["name"] == nil || info["frameworkId"] == nil {
		t.Fatalf("info %v", info)
	}
	if _, out := c.api("GET", "/v2/apps?label=tier==front", nil); len(out["apps"].([]any)) != 1 {
		t.Fatalf("label selector: %v", out)
	}
	if _, out := c.api("GET", "/v2/apps?label=tier==back", nil); len(out["apps"].([]any)) != 0 {
		t.Fatalf("label selector: %v", out)
	}
	if _, out := c.api("GET", "/v2/tasks?status=running", nil); len(out["tasks"].([]any)) != 2 {
		t.Fatalf("tasks: %v", out)
	}
	// Kill one task with scale: the app shrinks to 1.
	id := c.tasksOf("/smoke")[0]["id"].(string)
	code, out := c.api("POST", "/v2/tasks/delete?scale=true", map[string]any{"ids": []string{id}})
	if code != 200 || out["deploymentId"] == nil {
		t.Fatalf("tasks/delete: %d %v", code, out)
	}
	waitFor(t, 15*time.Second, "scaled to 1", func() bool { return num(c.app("/smoke")["instances"]) == 1 && c.running("/smoke") == 1 })
	// Kill the other without scale: it is replaced.
	id = c.tasksOf("/smoke")[0]["id"].(string)
	if code, _ := c.api("DELETE", "/v2/apps/smoke/tasks/"+id, nil); code != 200 {
		t.Fatalf("kill task: %d", code)
	}
	waitFor(t, 15*time.Second, "replaced", func() bool {
		ts := c.tasksOf("/smoke")
		return len(ts) == 1 && ts[0]["id"] != id && ts[0]["state"] == "TASK_RUNNING"
	})
	if code, _ := c.api("GET", "/v2/apps/nope", nil); code != 404 {
		t.Fatalf("unknown app: %d", code)
	}
}

func TestGroupDeleteStopsDependentsFirst(t *testing.T) {
	c := newCluster(t)
	c.agents(1, "cpus:8;mem:16384;ports:[31000-31100]")
	c.services()
	c.api("POST", "/v2/apps", `{"id":"/g/db","cmd":"sleep 1000","cpus":0.1,"mem":32}`)
	waitFor(t, 15*time.Second, "db", func() bool { return c.running("/g/db") == 1 && c.deploymentsDone() })
	c.api("POST", "/v2/apps", `{"id":"/g/web","cmd":"sleep 1000","cpus":0.1,"mem":32,"dependencies":["/g/db"]}`)
	waitFor(t, 15*time.Second, "web", func() bool { return c.running("/g/web") == 1 && c.deploymentsDone() })
	ev := c.events()
	if code, out := c.api("DELETE", "/v2/groups/g", nil); code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	waitFor(t, 15*time.Second, "both tasks ended", func() bool {
		n := 0
		for _, e := range ev.snapshot() {
			if e["eventType"] == "status_update_event" && protocol.TaskState(e["taskStatus"].(string)).Terminal() {
				n++
			}
		}
		return n == 2
	})
	// web's task ended before db's.
	var order []string
	for _, e := range ev.snapshot() {
		if e["eventType"] == "status_update_event" && protocol.TaskState(e["taskStatus"].(string)).Terminal() {
			order = append(order, e["appId"].(string))
		}
	}
	if len(order) != 2 || order[0] != "/g/web" || order[1] != "/g/db" {
		t.Fatalf("stop order %v, want web before db", order)
	}
}
