package task

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/frameworks/run/runapi"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

func newLog(f *cmdutil.Factory) *cobra.Command  { return NewCmdLog(f, nil) }
func newKill(f *cmdutil.Factory) *cobra.Command { return NewCmdKill(f, nil) }

func logMaster(t *testing.T) *fakeMaster {
	m := newFakeMaster(t)
	m.tasks = []protocol.Task{
		{ID: "web.1", Name: "web", FrameworkID: fwRun, AgentID: agentA, State: protocol.TaskRunning},
		{ID: "dup", FrameworkID: fwRun, AgentID: agentA, State: protocol.TaskRunning},
		{ID: "dup", FrameworkID: fwOther, AgentID: agentA, State: protocol.TaskFinished},
		{ID: "staging", FrameworkID: fwRun, State: protocol.TaskStaging},
	}
	var lines strings.Builder
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&lines, "line %d\n", i)
	}
	m.logs[string(agentA)+"/"+string(fwRun)+"/web.1/stdout"] = lines.String()
	m.logs[string(agentA)+"/"+string(fwRun)+"/web.1/stderr"] = "oops\n"
	m.logs[string(agentA)+"/"+string(fwOther)+"/dup/stdout"] = "other\n"
	m.sandboxes["web.1"] = "/sandboxes/web.1/run-1"
	return m
}

func TestLog(t *testing.T) {
	m := logMaster(t)
	all := "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\nline 9\nline 10\n"
	for _, tc := range []struct {
		args    []string
		want    string
		wantErr string
		usage   bool
	}{
		{args: []string{"web.1"}, want: all},
		{args: []string{"web.1", "--stderr"}, want: "oops\n"},
		{args: []string{"web.1", "--tail", "3"}, want: "line 8\nline 9\nline 10\n"},
		{args: []string{"web.1", "-n", "0"}, want: ""},
		{args: []string{"web.1", "--tail", "50"}, want: all},
		{args: []string{"web.1", "-f"}, want: all},
		{args: []string{"web.1", "-f", "--tail", "2"}, want: "line 9\nline 10\n"},
		{args: []string{"dup", "--framework", string(fwOther)}, want: "other\n"},
		{args: []string{"dup"}, wantErr: "task id dup is used by 2 frameworks (" + string(fwOther) + ", " + string(fwRun) + "): pass --framework"},
		{args: []string{"nope"}, wantErr: "task nope is unknown to the master (see cairn task list)"},
		{args: []string{"staging"}, wantErr: "task staging has no agent yet (TASK_STAGING)"},
		{args: []string{"web.1", "--tail", "-1"}, wantErr: "--tail must be 0 or more", usage: true},
		{args: []string{"bad id"}, wantErr: "not a valid task id", usage: true},
		{args: []string{}, wantErr: "accepts 1 arg", usage: true},
	} {
		out, _, err := execute(t, m, newLog, tc.args...)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || cmdutil.IsUsageError(err) != tc.usage {
				t.Errorf("%v: error %v, want %q (usage %v)", tc.args, err, tc.wantErr, tc.usage)
			}
			continue
		}
		if err != nil || out != tc.want {
			t.Errorf("%v: out %q, err %v; want %q", tc.args, out, err, tc.want)
		}
	}
	// --follow --tail follows from where the tail ended.
	if last := m.logReqs[len(m.logReqs)-2]; last != "follow=true&offset=71" {
		t.Errorf("follow request %q", last)
	}
}

func TestLastLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\nc\n", 5, "a\nb\nc\n"},
		{"a\nb\nc\n", 0, ""},
		{"", 3, ""},
		{"\n\n", 1, "\n"},
	} {
		if got := string(lastLines([]byte(tc.in), tc.n)); got != tc.want {
			t.Errorf("lastLines(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
	if countLines([]byte("a\nb")) != 2 || countLines([]byte("a\n")) != 1 || countLines(nil) != 0 {
		t.Error("countLines")
	}
}

func TestKill(t *testing.T) {
	m := logMaster(t)
	m.runs["queued"] = []runapi.Run{runRecord("queued")} // a run the run framework holds, not a task yet

	out, _, err := execute(t, m, newKill, "web.1")
	if err != nil || out != "killing web.1\n" {
		t.Errorf("kill web.1: %q %v", out, err)
	}
	out, _, err = execute(t, m, newKill, "dup", "--framework", string(fwRun))
	if err != nil || out != "killing dup\n" {
		t.Errorf("kill dup: %q %v", out, err)
	}
	if got := strings.Join(m.killed, " "); got != "web.1? dup?"+string(fwRun) {
		t.Errorf("kill requests %q", got)
	}
	// A queued run is killed through the run framework.
	out, _, err = execute(t, m, newKill, "queued")
	if err != nil || out != "killing queued\n" || len(m.runKilled) != 1 {
		t.Errorf("kill queued: %q %v %v", out, err, m.runKilled)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, "task nope is unknown to the master"},
		{[]string{"dup"}, "task id dup is used by 2 frameworks: pass framework_id"},
		{[]string{"dup", "--framework", string(fwOther)}, "task dup already ended (TASK_FINISHED)"},
	} {
		out, _, err := execute(t, m, newKill, tc.args...)
		if err == nil || err.Error() != tc.want || out != "" || cmdutil.IsUsageError(err) {
			t.Errorf("%v: %q, %v; want error %q", tc.args, out, err, tc.want)
		}
	}
	if _, _, err := execute(t, m, newKill, "a", "b"); !cmdutil.IsUsageError(err) {
		t.Errorf("two args: %v", err)
	}
	if _, _, err := execute(t, m, newKill, "x", "--framework", "a.b"); !cmdutil.IsUsageError(err) {
		t.Errorf("bad framework: %v", err)
	}
}

func TestKillUnreachable(t *testing.T) {
	opts := &KillOptions{
		IO:        cmdutil.IOStreams{Out: &bytes.Buffer{}},
		APIClient: func() (*apiclient.Client, error) { return apiclient.New("http://127.0.0.1:1", "", nil) },
		TaskID:    "x",
	}
	err := killRun(context.Background(), opts)
	var ue *apiclient.UnreachableError
	if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), "killing task x: cannot reach the Cairn master") {
		t.Errorf("unreachable: %v", err)
	}
}

func runRecord(id protocol.TaskID) runapi.Run {
	return runapi.Run{ID: id, FrameworkID: fwRun, State: runapi.StatePending}
}

func TestLogTailWidensItsWindow(t *testing.T) {
	m := logMaster(t)
	var b strings.Builder
	for i := 1; i <= 300; i++ {
		fmt.Fprintf(&b, "%04d %s\n", i, strings.Repeat("x", 995)) // 1,001 bytes a line
	}
	m.logs[string(agentA)+"/"+string(fwRun)+"/web.1/stdout"] = b.String()
	for _, args := range [][]string{{"web.1", "--tail", "100"}, {"web.1", "--tail", "100", "-f"}} {
		m.logReqs = nil
		out, _, err := execute(t, m, newLog, args...)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 100 || !strings.HasPrefix(lines[0], "0201 ") || !strings.HasPrefix(lines[99], "0300 ") {
			t.Errorf("%v: %d lines, first %.10q", args, len(lines), lines[0])
		}
		if len(m.logReqs) < 2 {
			t.Errorf("%v: the window was not widened: %q", args, m.logReqs)
		}
	}
}
