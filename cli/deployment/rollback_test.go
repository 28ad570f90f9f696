package deployment

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/deployment/deploymenttest"
)

func TestRollback(t *testing.T) {
	m := deploymenttest.New(t)
	m.AddApp(`{"id": "web", "cmd": "sleep 1000", "instances": 1}`, 1)
	m.Configure(deploymenttest.Settings{Outcome: deploymenttest.Stick})
	id := m.StartDeployment("/web", 3)
	out, errOut, err := execute(t, m, newRollback, id)
	if err != nil || errOut != "" {
		t.Fatalf("rollback: %v (stderr %q)", err, errOut)
	}
	if out != "Rolling back deployment dep-1: deployment dep-2 puts app /web back as it was\n" {
		t.Errorf("out %q", out)
	}
	if a, _ := m.App("/web"); *a.Instances != 1 || len(a.Deployments) != 1 || a.Deployments[0].ID != "dep-2" {
		t.Errorf("app after the rollback: %+v", a)
	}
	if !slices.Contains(m.Requests(), "DELETE /service/services/v2/deployments/dep-1") {
		t.Errorf("requests %q", m.Requests())
	}
	// The rollback is a deployment like any other.
	_, _, err = execute(t, m, newRollback, "dep-1")
	if err == nil || err.Error() != "deployment dep-1 is not in progress (see cairn deployment list)" {
		t.Errorf("rollback of an ended deployment: %v", err)
	}
}

func TestRollbackWait(t *testing.T) {
	for _, tc := range []struct {
		name    string
		outcome deploymenttest.Outcome
		create  bool
		want    string
		wantErr string
	}{
		{name: "update", outcome: deploymenttest.Succeed,
			want: "Deployment dep-2 succeeded: app /web has 1/1 tasks running"},
		{name: "creation: the app is removed", outcome: deploymenttest.Succeed, create: true,
			want: "Deployment dep-2 succeeded: app /new is removed"},
		{name: "the rollback fails", outcome: deploymenttest.Fail,
			wantErr: "deployment dep-2 of app /web failed: tasks keep failing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := deploymenttest.New(t)
			app := "/web"
			m.Configure(deploymenttest.Settings{Outcome: deploymenttest.Stick})
			if tc.create {
				app = "/new"
				// A creation stuck at 0 of 2: created through the API.
				if _, _, err := executeApp(t, m, `{"id": "new", "cmd": "sleep 1000", "instances": 2}`); err != nil {
					t.Fatal(err)
				}
			} else {
				m.AddApp(`{"id": "web", "cmd": "sleep 1000", "instances": 1}`, 1)
				m.StartDeployment(app, 3)
			}
			m.Configure(deploymenttest.Settings{Outcome: tc.outcome, FailReason: "tasks keep failing"})
			out, _, err := execute(t, m, newRollback, "dep-1", "--wait")
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr || cmdutil.IsUsageError(err) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 2 || !strings.HasPrefix(lines[0], "Rolling back deployment dep-1: deployment dep-2 puts app "+app) || lines[1] != tc.want {
				t.Errorf("out %q", out)
			}
		})
	}
}

func TestRollbackForce(t *testing.T) {
	m := deploymenttest.New(t)
	m.AddApp(`{"id": "web", "cmd": "sleep 1000", "instances": 1}`, 1)
	m.Configure(deploymenttest.Settings{Outcome: deploymenttest.Stick})
	m.StartDeployment("/web", 3)
	m.StartDeployment("/web", 4) // not through the API: two deployments
	out, _, err := execute(t, m, newRollback, "dep-1", "--force")
	if err != nil || out != "Cancelled deployment dep-1 without a rollback: app /web stays as the deployment left it\n" {
		t.Fatalf("out %q: %v", out, err)
	}
	if !slices.Contains(m.Requests(), "DELETE /service/services/v2/deployments/dep-1?force=true") {
		t.Errorf("requests %q", m.Requests())
	}
	out, _, err = execute(t, m, newRollback, "dep-2", "--force", "--json")
	if err != nil || strings.TrimSpace(out) != "{}" {
		t.Errorf("--force --json: %q %v", out, err)
	}
	_, _, err = execute(t, m, newRollback, "dep-2", "--force", "--wait")
	if !cmdutil.IsUsageError(err) || !strings.Contains(err.Error(), "--force") {
		t.Errorf("--force --wait: %v", err)
	}
}

func TestRollbackJSON(t *testing.T) {
	m := deploymenttest.New(t)
	m.AddApp(`{"id": "web", "cmd": "sleep 1000", "instances": 1}`, 1)
	m.Configure(deploymenttest.Settings{Outcome: deploymenttest.Stick})
	m.StartDeployment("/web", 3)
	out, _, err := execute(t, m, newRollback, "dep-1", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil || got["deploymentId"] != "dep-2" || got["version"] == "" {
		t.Errorf("json %q: %v", out, err)
	}
}
