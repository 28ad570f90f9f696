package app

import (
	"encoding/json"
	"testing"

	"github.com/cairn-dc/cairn/cli/deployment/deploymenttest"
)

func seed(m *deploymenttest.Master) {
	m.AddApp(`{"id": "/web", "cmd": "python3 -m http.server $PORT0 --bind 0.0.0.0 --directory /srv/www", "cpus": 0.5, "mem": 256, "instances": 3,
		"healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 0}]}`, 3)
	m.AddApp(`{"id": "/prod/db", "args": ["postgres", "-D", "/data"], "mem": 2048, "instances": 2}`, 1)
	m.Configure(deploymenttest.Settings{Outcome: deploymenttest.Stick})
	m.StartDeployment("/prod/db", 2)
}

func TestList(t *testing.T) {
	m := deploymenttest.New(t)
	out, _, err := run(t, m, "", "list")
	if err != nil || out != "No apps.\n" {
		t.Fatalf("empty: %q %v", out, err)
	}
	seed(m)
	out, errOut, err := run(t, m, "", "list")
	if err != nil || errOut != "" {
		t.Fatalf("%v (stderr %q)", err, errOut)
	}
	want := `ID         INSTANCES   HEALTHY   CPUS   MEM       DEPLOYMENT   CMD
/prod/db   1/2         -         1      2 GiB     dep-1        postgres -D /data
/web       3/3         3         0.5    256 MiB   -            python3 -m http.server $PORT0 --bind 0.…
`
	if out != want {
		t.Errorf("table:\n%s\nwant:\n%s", out, want)
	}
}

func TestListJSON(t *testing.T) {
	m := deploymenttest.New(t)
	out, _, err := run(t, m, "", "list", "--json")
	if err != nil || out != "[]\n" {
		t.Fatalf("empty: %q %v", out, err)
	}
	seed(m)
	out, _, err = run(t, m, "", "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var apps []map[string]any
	if err := json.Unmarshal([]byte(out), &apps); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(apps) != 2 || apps[0]["id"] != "/prod/db" || apps[1]["id"] != "/web" {
		t.Fatalf("apps %v", apps)
	}
	// As Marathon has them: counts and deployments.
	if apps[0]["tasksRunning"] != 1.0 || apps[0]["instances"] != 2.0 || apps[0]["deployments"].([]any)[0].(map[string]any)["id"] != "dep-1" ||
		len(apps[1]["deployments"].([]any)) != 0 || apps[1]["tasksHealthy"] != 3.0 {
		t.Errorf("apps %v", apps)
	}
}
