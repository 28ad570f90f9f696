package app

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/deployment/deploymenttest"
)

// newWeb is a fake master with /web running 2 of 2.
func newWeb(t *testing.T, s deploymenttest.Settings) *deploymenttest.Master {
	t.Helper()
	m := deploymenttest.New(t)
	m.AddApp(`{"id": "/web", "cmd": "sleep 1000", "instances": 2, "mem": 64}`, 2)
	m.Configure(s)
	return m
}

func TestChanges(t *testing.T) {
	stick := deploymenttest.Settings{Outcome: deploymenttest.Stick}
	for _, tc := range []struct {
		name    string
		stdin   string
		args    []string
		out     string
		request string
		check   func(*testing.T, *deploymenttest.Master)
	}{
		{name: "update", stdin: `{"mem": 128, "env": {"A": "1"}}`, args: []string{"update", "web", "-"},
			out: "Updated app /web to version 2025-03-01T12:00:02.000Z: deployment dep-1\n", request: "PUT /service/services/v2/apps/web",
			check: func(t *testing.T, m *deploymenttest.Master) {
				if a, _ := m.App("/web"); *a.Mem != 128 || a.Env["A"] != "1" || *a.Instances != 2 {
					t.Errorf("app %+v", a.App)
				}
			}},
		{name: "scale", args: []string{"scale", "/web", "5"},
			out: "Scaling app /web to 5 instances: deployment dep-1\n", request: "PUT /service/services/v2/apps/web",
			check: func(t *testing.T, m *deploymenttest.Master) {
				if a, _ := m.App("/web"); *a.Instances != 5 || *a.Mem != 64 {
					t.Errorf("app %+v", a.App)
				}
			}},
		{name: "scale to 1", args: []string{"scale", "web", "1"},
			out: "Scaling app /web to 1 instance: deployment dep-1\n", request: "PUT /service/services/v2/apps/web"},
		{name: "restart", args: []string{"restart", "web"},
			out: "Restarting app /web: deployment dep-1\n", request: "POST /service/services/v2/apps/web/restart"},
		{name: "remove", args: []string{"remove", "web"},
			out: "Removing app /web: deployment dep-1\n", request: "DELETE /service/services/v2/apps/web"},
		{name: "rm --force", args: []string{"rm", "web", "--force"},
			out: "Removing app /web: deployment dep-1\n", request: "DELETE /service/services/v2/apps/web?force=true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newWeb(t, stick)
			out, errOut, err := run(t, m, tc.stdin, tc.args...)
			if err != nil || errOut != "" {
				t.Fatalf("%v (stderr %q)", err, errOut)
			}
			if out != tc.out {
				t.Errorf("out %q, want %q", out, tc.out)
			}
			if !slices.Contains(m.Requests(), tc.request) {
				t.Errorf("requests %q, want %q", m.Requests(), tc.request)
			}
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

func TestChangeJSON(t *testing.T) {
	m := newWeb(t, deploymenttest.Settings{Outcome: deploymenttest.Stick})
	out, _, err := run(t, m, "", "scale", "web", "3", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil || got["deploymentId"] != "dep-1" || got["version"] != "2025-03-01T12:00:02.000Z" {
		t.Errorf("json %q: %v", out, err)
	}
}

// An app a deployment holds is locked: the error names the deployment and
// --force; with --force the change goes through.
func TestLocked(t *testing.T) {
	for _, args := range [][]string{
		{"scale", "web", "3"},
		{"update", "web", "-"},
		{"restart", "web"},
		{"remove", "web"},
	} {
		t.Run(args[0], func(t *testing.T) {
			m := newWeb(t, deploymenttest.Settings{Outcome: deploymenttest.Stick})
			held := m.StartDeployment("/web", 4)
			_, _, err := run(t, m, `{"mem": 32}`, args...)
			want := "app /web is locked by deployment dep-1: retry with --force to override it (or follow it with cairn deployment watch dep-1)"
			if err == nil || err.Error() != want || cmdutil.IsUsageError(err) {
				t.Fatalf("error %v, want %q", err, want)
			}
			if got := m.Deployments(); !slices.Equal(got, []string{held}) {
				t.Errorf("deployments %q: the locked change started one", got)
			}
			out, _, err := run(t, m, `{"mem": 32}`, append(args, "--force")...)
			if err != nil || !strings.HasSuffix(out, ": deployment dep-2\n") {
				t.Fatalf("--force: %q %v", out, err)
			}
			if got := m.Deployments(); !slices.Equal(got, []string{"dep-2"}) {
				t.Errorf("deployments %q after --force", got)
			}
			if r := m.Requests(); !strings.HasSuffix(r[len(r)-1], "?force=true") {
				t.Errorf("last request %q", r[len(r)-1])
			}
		})
	}
}

func TestChangeWait(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		settings deploymenttest.Settings
		want     string
		wantErr  string
	}{
		{name: "scale", args: []string{"scale", "web", "4", "--wait"},
			want: "Deployment dep-1 succeeded: app /web has 4/4 tasks running"},
		{name: "scale down, polling", args: []string{"scale", "web", "1", "-w"}, settings: deploymenttest.Settings{NoEvents: true},
			want: "Deployment dep-1 succeeded: app /web has 1/1 tasks running"},
		{name: "restart", args: []string{"restart", "web", "--wait"},
			want: "Deployment dep-1 succeeded: app /web has 2/2 tasks running"},
		{name: "remove", args: []string{"remove", "web", "--wait"},
			want: "Deployment dep-1 succeeded: app /web is removed"},
		{name: "remove, polling", args: []string{"remove", "web", "--wait"}, settings: deploymenttest.Settings{NoEvents: true},
			want: "Deployment dep-1 succeeded: app /web is removed"},
		{name: "scale fails", args: []string{"scale", "web", "4", "--wait"},
			settings: deploymenttest.Settings{Outcome: deploymenttest.Fail, FailReason: "tasks keep failing: rolled back"},
			wantErr:  "deployment dep-1 of app /web failed: tasks keep failing: rolled back"},
		{name: "scale rolled back, polling", args: []string{"scale", "web", "4", "--wait"},
			settings: deploymenttest.Settings{Outcome: deploymenttest.VanishRolledBack, NoEvents: true},
			wantErr:  "deployment dep-1 did not finish: app /web is now at version 2025-03-01T12:00:03.000Z, not 2025-03-01T12:00:02.000Z (rolled back or replaced)"},
		{name: "remove rolled back", args: []string{"remove", "web", "--wait"},
			settings: deploymenttest.Settings{Outcome: deploymenttest.Fail, FailReason: "rolled back"},
			wantErr:  "deployment dep-1 of app /web failed: rolled back"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newWeb(t, tc.settings)
			out, errOut, err := run(t, m, "", tc.args...)
			if errOut != "" {
				t.Errorf("stderr %q", errOut)
			}
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
			if len(lines) != 2 || !strings.Contains(lines[0], ": deployment dep-1") || lines[1] != tc.want {
				t.Errorf("out %q, want a line then %q", out, tc.want)
			}
		})
	}
}

func TestUpdateInvalid(t *testing.T) {
	m := newWeb(t, deploymenttest.Settings{Outcome: deploymenttest.Stick})
	_, _, err := run(t, m, `{"instances": -2, "cpus": 0}`, "update", "web", "-")
	if err == nil || !strings.HasPrefix(err.Error(), "invalid app: ") || !strings.Contains(err.Error(), "/instances: must be at least 0, got -2") ||
		!strings.Contains(err.Error(), "; /cpus: ") {
		t.Errorf("422: %v", err)
	}
	if len(m.Deployments()) != 0 {
		t.Errorf("deployments %q", m.Deployments())
	}
}

func TestUnknownApp(t *testing.T) {
	m := deploymenttest.New(t)
	for _, args := range [][]string{{"scale", "nope", "1"}, {"restart", "nope"}, {"remove", "/nope"}, {"versions", "nope"}, {"show", "nope"}} {
		_, _, err := run(t, m, "", args...)
		if err == nil || err.Error() != "app /nope does not exist (see cairn app list)" {
			t.Errorf("%v: %v", args, err)
		}
	}
}
