package app

import (
	"encoding/json"
	"testing"

	"github.com/cairn-dc/cairn/cli/deployment/deploymenttest"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
)

func TestShow(t *testing.T) {
	m := deploymenttest.New(t)
	m.AddApp(`{"id": "/web", "cmd": "python3 -m http.server $PORT0", "cpus": 0.5, "mem": 256, "instances": 2,
		"portDefinitions": [{"port": 0, "name": "http"}], "constraints": [["hostname", "UNIQUE"]], "labels": {"team": "web", "tier": "front"},
		"healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 0, "intervalSeconds": 10}]}`, 2)
	m.SetLastTaskFailure("/web", marathon.LastTaskFailure{AppID: "/web", Host: "10.0.0.2", Message: "exited with status 3",
		State: "TASK_FAILED", TaskID: "web.0", Timestamp: "2025-03-01T12:30:00.000Z"})
	m.Configure(deploymenttest.Settings{Outcome: deploymenttest.Stick})
	m.StartDeployment("/web", 3)
	out, errOut, err := run(t, m, "", "show", "web")
	if err != nil || errOut != "" {
		t.Fatalf("%v (stderr %q)", err, errOut)
	}
	want := `ID:                  /web
Command:             python3 -m http.server $PORT0
Instances:           2/3 running, 2 healthy, 0 unhealthy
Resources:           cpus 0.5 · mem 256 MiB
Version:             2025-03-01T12:00:02.000Z (59m ago)
Ports:               dynamic/tcp (http)
Health checks:       HTTP /health on port index 0 every 10s
Constraints:         hostname:UNIQUE
Labels:              team=web, tier=front
Deployments:         dep-1 (step 1/1 ScaleApplication)
Last task failure:   TASK_FAILED 2025-03-01T12:30:00.000Z (30m ago) on 10.0.0.2, task web.0: exited with status 3

ID      HOST       PORTS   STATE          HEALTHY   STARTED
web.1   10.0.0.1   31000   TASK_RUNNING   yes       1h ago
web.2   10.0.0.1   31001   TASK_RUNNING   yes       1h ago
`
	if out != want {
		t.Errorf("show:\n%s\nwant:\n%s", out, want)
	}
}

func TestShowJSON(t *testing.T) {
	m := deploymenttest.New(t)
	m.AddApp(`{"id": "/web", "cmd": "sleep 1000", "instances": 1}`, 1)
	out, _, err := run(t, m, "", "show", "/web", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var app map[string]any
	if err := json.Unmarshal([]byte(out), &app); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	tasks, _ := app["tasks"].([]any)
	if app["id"] != "/web" || app["cmd"] != "sleep 1000" || len(tasks) != 1 || tasks[0].(map[string]any)["id"] != "web.1" {
		t.Errorf("app %v", app)
	}
}

func TestShowNoTasks(t *testing.T) {
	m := deploymenttest.New(t)
	m.AddApp(`{"id": "/idle", "cmd": "sleep 1000", "instances": 0}`, 0)
	out, _, err := run(t, m, "", "show", "idle")
	if err != nil {
		t.Fatal(err)
	}
	if want := "\nNo tasks.\n"; len(out) < len(want) || out[len(out)-len(want):] != want {
		t.Errorf("show %q", out)
	}
}

func TestShowUnknown(t *testing.T) {
	m := deploymenttest.New(t)
	_, _, err := run(t, m, "", "show", "nope")
	if err == nil || err.Error() != "app /nope does not exist (see cairn app list)" {
		t.Errorf("unknown app: %v", err)
	}
}
