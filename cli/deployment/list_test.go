package deployment

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/deployment/deploymenttest"
)

func TestListTable(t *testing.T) {
	m := deploymenttest.New(t)
	out, errOut, err := execute(t, m, newList)
	if err != nil || out != "No deployments in progress.\n" || errOut != "" {
		t.Fatalf("empty: out %q err %q: %v", out, errOut, err)
	}
	m.AddApp(`{"id": "web", "cmd": "sleep 1000", "instances": 1}`, 1)
	m.AddApp(`{"id": "/prod/db", "cmd": "sleep 1000", "instances": 2}`, 2)
	m.Configure(deploymenttest.Settings{Outcome: deploymenttest.Stick, Waiting: "no matching offers: 3 offers refused by InsufficientMemory"})
	m.StartDeployment("/web", 3)
	m.StartDeployment("/prod/db", 1) // scaling down: nothing waits
	m.AddApp(`{"id": "/api", "cmd": "sleep 1000", "instances": 2, "dependencies": ["/prod/db"]}`, 2)
	m.Configure(deploymenttest.Settings{Outcome: deploymenttest.Stick, Waiting: "no matching offers: 3 offers refused by InsufficientMemory",
		DeploymentWaiting: "waiting for dependency /prod/db to be healthy (1 of 2)"})
	m.StartDeployment("/api", 2)
	out, _, err = execute(t, m, newList)
	if err != nil {
		t.Fatal(err)
	}
	// WAITING is the deployment's own, else the launch queue's for its app.
	want := `ID      APPS       ACTION             STEP   WAITING                                                      AGE
dep-1   /web       ScaleApplication   1/1    no matching offers: 3 offers refused by InsufficientMemory   59m
dep-2   /prod/db   ScaleApplication   1/1    -                                                            59m
dep-3   /api       ScaleApplication   1/1    waiting for dependency /prod/db to be healthy (1 of 2)       59m
`
	if out != want {
		t.Errorf("table:\n%s\nwant:\n%s", out, want)
	}
}

func TestListJSON(t *testing.T) {
	m := deploymenttest.New(t)
	out, _, err := execute(t, m, newList, "--json")
	if err != nil || strings.TrimSpace(out) != "[]" {
		t.Fatalf("empty: %q %v", out, err)
	}
	m.AddApp(`{"id": "web", "cmd": "sleep 1000"}`, 1)
	m.Configure(deploymenttest.Settings{Outcome: deploymenttest.Stick})
	m.StartDeployment("/web", 2)
	out, _, err = execute(t, m, newList, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got) != 1 || got[0]["id"] != "dep-1" || got[0]["currentStep"] != 1.0 || got[0]["totalSteps"] != 1.0 ||
		got[0]["affectedApps"].([]any)[0] != "/web" {
		t.Errorf("json: %v", got)
	}
}

func TestListArgs(t *testing.T) {
	m := deploymenttest.New(t)
	_, _, err := execute(t, m, newList, "extra")
	if !cmdutil.IsUsageError(err) {
		t.Errorf("extra argument: %v", err)
	}
}

func TestNoServices(t *testing.T) {
	m := deploymenttest.New(t)
	m.Configure(deploymenttest.Settings{NoServices: true})
	for _, args := range [][]string{{"list"}, {"watch", "dep-1"}, {"rollback", "dep-1"}} {
		_, _, err := execute(t, m, NewCmdDeployment, args...)
		if err == nil || err.Error() != "the services framework is not running: it starts with cairn up" {
			t.Errorf("%v: %v", args, err)
		}
	}
}
