package deployment

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/deployment/deploymenttest"
)

func TestWatchFollowsToSuccess(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings deploymenttest.Settings
	}{
		{"events", deploymenttest.Settings{Outcome: deploymenttest.Succeed}},
		{"polling", deploymenttest.Settings{Outcome: deploymenttest.Succeed, NoEvents: true}},
		{"polling, no end event", deploymenttest.Settings{Outcome: deploymenttest.Vanish, NoEvents: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := deploymenttest.New(t)
			m.AddApp(`{"id": "web", "cmd": "sleep 1000", "instances": 1}`, 1)
			m.Configure(tc.settings)
			id := m.StartDeployment("/web", 3)
			out, errOut, err := execute(t, m, newWatch, id)
			if err != nil {
				t.Fatalf("watch: %v (stderr %q)", err, errOut)
			}
			if errOut != "" {
				t.Errorf("stderr %q: not a terminal, progress goes to stdout", errOut)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if !strings.HasPrefix(lines[0], "step 1/1 ScaleApplication /web · ") || !strings.Contains(lines[0], "/3 tasks running") {
				t.Errorf("first progress line %q", lines[0])
			}
			if last := lines[len(lines)-1]; last != "Deployment dep-1 succeeded: app /web has 3/3 tasks running" {
				t.Errorf("last line %q", last)
			}
			if a, _ := m.App("/web"); a.TasksRunning != 3 {
				t.Errorf("the fake's app: %d running", a.TasksRunning)
			}
		})
	}
}

func TestWatchFailure(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings deploymenttest.Settings
		want     string
	}{
		{"deployment_failed", deploymenttest.Settings{Outcome: deploymenttest.Fail, FailReason: "rolled back"},
			"deployment dep-1 of app /web failed: rolled back"},
		{"rolled back, seen by polling", deploymenttest.Settings{Outcome: deploymenttest.VanishRolledBack, NoEvents: true},
			"deployment dep-1 did not finish: app /web is now at version 2025-03-01T12:00:03.000Z, not 2025-03-01T12:00:02.000Z (rolled back or replaced)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := deploymenttest.New(t)
			m.AddApp(`{"id": "web", "cmd": "sleep 1000", "instances": 1}`, 1)
			m.Configure(tc.settings)
			id := m.StartDeployment("/web", 3)
			_, _, err := execute(t, m, newWatch, id)
			if err == nil || err.Error() != tc.want || cmdutil.IsUsageError(err) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// A deployment cancelled (rolled back --force) leaves the app short of
// instances: not a success.
func TestWatchCancelled(t *testing.T) {
	m := deploymenttest.New(t)
	m.AddApp(`{"id": "web", "cmd": "sleep 1000", "instances": 1}`, 1)
	m.Configure(deploymenttest.Settings{Outcome: deploymenttest.Stick, Waiting: "back-off after failed tasks: next launch in 30s"})
	id := m.StartDeployment("/web", 3)
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, _, err := execute(t, m, newWatch, id)
		done <- result{out, err}
	}()
	// Cancel once the watch has looked at why the deployment is stuck.
	waitFor(t, "the watch to read the queue", func() bool {
		return slices.Contains(m.Requests(), "GET /service/services/v2/queue")
	})
	if _, _, err := execute(t, m, newRollback, id, "--force"); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err == nil || r.err.Error() != "deployment dep-1 of app /web failed: cancelled" {
		t.Errorf("error %v", r.err)
	}
	if !strings.Contains(r.out, "waiting: back-off after failed tasks: next launch in 30s") {
		t.Errorf("out %q: want the reason it is stuck", r.out)
	}
}

func TestWatchShowsWaiting(t *testing.T) {
	m := deploymenttest.New(t)
	m.AddApp(`{"id": "web", "cmd": "sleep 1000", "instances": 1}`, 1)
	m.Configure(deploymenttest.Settings{Outcome: deploymenttest.Stick, Waiting: "no matching offers: 2 offers refused by InsufficientCpus"})
	id := m.StartDeployment("/web", 2)
	client, err := apiclient.New(m.URL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &Watcher{client: client}
	target := Target{DeploymentID: id}
	s, err := w.look(context.Background(), &target)
	if err != nil || !s.found {
		t.Fatalf("look: %+v, %v", s, err)
	}
	if target.AppID != "/web" || target.Version != "2025-03-01T12:00:02.000Z" || target.Removal {
		t.Errorf("target learned from the deployment: %+v", target)
	}
	if line := progress(target, s); line != "step 1/1 ScaleApplication /web · 1/2 tasks running · waiting: no matching offers: 2 offers refused by InsufficientCpus" {
		t.Errorf("progress %q", line)
	}
	// The deployment's own reason comes first.
	m.Configure(deploymenttest.Settings{Outcome: deploymenttest.Stick, Waiting: "from the queue", DeploymentWaiting: "back-off after failed tasks: next launch in 12s"})
	target = Target{DeploymentID: m.StartDeployment("/web", 3)}
	if s, err = w.look(context.Background(), &target); err != nil {
		t.Fatal(err)
	}
	if line := progress(target, s); line != "step 1/1 ScaleApplication /web · 1/3 tasks running · waiting: back-off after failed tasks: next launch in 12s" {
		t.Errorf("progress %q", line)
	}
}

func TestWatchTerminal(t *testing.T) {
	m := deploymenttest.New(t)
	m.AddApp(`{"id": "web", "cmd": "sleep 1000", "instances": 1, "healthChecks": [{"protocol": "COMMAND", "command": {"value": "true"}}]}`, 1)
	id := m.StartDeployment("/web", 2)
	out, errOut, err := execute(t, m, newWatchTerminal, id)
	if err != nil {
		t.Fatal(err)
	}
	if out != "Deployment dep-1 succeeded: app /web has 2/2 tasks running, 2 healthy\n" {
		t.Errorf("stdout %q", out)
	}
	if !strings.Contains(errOut, "\r\x1b[K") || !strings.Contains(errOut, "step 1/1 ScaleApplication /web · ") ||
		!strings.Contains(errOut, "healthy") || !strings.HasSuffix(errOut, "\r\x1b[K") {
		t.Errorf("stderr %q: want a live status line, cleared at the end", errOut)
	}
}

func TestWatchErrors(t *testing.T) {
	m := deploymenttest.New(t)
	_, _, err := execute(t, m, newWatch, "nope")
	if err == nil || err.Error() != "deployment nope is not in progress (see cairn deployment list)" {
		t.Errorf("unknown deployment: %v", err)
	}
	for _, args := range [][]string{{}, {"a", "b"}, {"a/b"}, {" "}} {
		_, _, err := execute(t, m, newWatch, args...)
		if !cmdutil.IsUsageError(err) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
	if errors.Is(err, ErrNoServices) {
		t.Error("usage error is ErrNoServices")
	}
}
