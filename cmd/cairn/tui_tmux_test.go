package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTUIInTmux drives `cairn tui` in a real terminal (tmux) against a
// running cluster, as an operator would: the first screen shows the
// agents, a task started from the CLI appears on the tasks page (key 4),
// the text filter (/) narrows to it, and q quits.
func TestTUIInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs a cluster and cairn tui in tmux")
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed (apt-get install -y tmux): the TUI end-to-end test needs a terminal multiplexer")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	c := startTestCluster(t, filepath.Join(work, "data"), filepath.Join(work, "no-packages"), "none", "--dns", "none", "--agents", "2")
	defer func() { c.stop() }()

	var agents []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(c.mustCairn(t, "agent", "list", "--json")), &agents); err != nil || len(agents) != 2 {
		t.Fatalf("cairn agent list --json: %v %+v", err, agents)
	}
	task := strings.TrimSpace(c.mustCairn(t, "task", "run", "--cpus", "0.1", "--mem", "16", "--", "sleep", "300"))

	session := fmt.Sprintf("cairn-tui-test-%d", os.Getpid())
	tm := func(args ...string) (string, error) {
		out, err := exec.Command(tmux, args...).CombinedOutput()
		return string(out), err
	}
	cmd := fmt.Sprintf("env %s=1 TERM=xterm-256color %q tui --url %q", envActAsCairn, self, c.API)
	if out, err := tm("new-session", "-d", "-s", session, "-x", "120", "-y", "40", cmd); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	defer tm("kill-session", "-t", session)
	var screen string
	waitScreen := func(what string, ok func(string) bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			screen, err = tm("capture-pane", "-p", "-t", session)
			if err == nil && ok(screen) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the TUI never showed %s; last screen (err %v):\n%s", what, err, screen)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitScreen("the agents", func(s string) bool {
		return strings.Contains(s, "Agents  2") && strings.Contains(s, agents[0].ID) && strings.Contains(s, agents[1].ID)
	})
	if _, err := tm("send-keys", "-t", session, "4"); err != nil {
		t.Fatal(err)
	}
	waitScreen("the task started from the CLI, running", func(s string) bool {
		for _, line := range strings.Split(s, "\n") {
			if strings.Contains(line, task) && strings.Contains(line, "RUNNING") {
				return true
			}
		}
		return false
	})
	if _, err := tm("send-keys", "-t", session, "/", "no-such-task", "Enter"); err != nil {
		t.Fatal(err)
	}
	waitScreen("the filter hiding the task", func(s string) bool { return !strings.Contains(s, task) && strings.Contains(s, "no-such-task") })
	if _, err := tm("send-keys", "-t", session, "Escape"); err != nil {
		t.Fatal(err)
	}
	// An escape followed at once by q reads as alt+q: let it stand alone.
	time.Sleep(300 * time.Millisecond)
	if _, err := tm("send-keys", "-t", session, "q"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := tm("has-session", "-t", session); err != nil {
			break // the TUI quit, and tmux closed its session
		}
		if time.Now().After(deadline) {
			screen, _ = tm("capture-pane", "-p", "-t", session)
			t.Fatalf("q did not quit the TUI:\n%s", screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
