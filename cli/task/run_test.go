package task

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/frameworks/run/runapi"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

func intp(i int) *int { return &i }

// newRun builds "task run" with a short poll interval.
func newRun(f *cmdutil.Factory) *cobra.Command {
	return NewCmdRun(f, func(ctx context.Context, o *RunOptions) error {
		o.PollInterval = 5 * time.Millisecond
		return runRun(ctx, o)
	})
}

func TestRunFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		check   func(*RunOptions) bool
		wantErr string
	}{
		{args: []string{"--", "echo $HOST"}, check: func(o *RunOptions) bool {
			return o.Request.Cmd == "echo $HOST" && o.Request.Args == nil && *o.Request.CPUs == 0.1 && *o.Request.Mem == 32 && o.Request.Disk == nil && !o.Wait
		}},
		{args: []string{"--cpus", "2", "--mem", "512", "--disk", "100", "-e", "A=1", "--env", "B=x=y", "--name", "n", "--ports", "2", "--wait", "--", "ls", "-l", "--all"},
			check: func(o *RunOptions) bool {
				r := o.Request
				return r.Cmd == "" && strings.Join(r.Args, " ") == "ls -l --all" && *r.CPUs == 2 && *r.Mem == 512 && *r.Disk == 100 &&
					r.Env["A"] == "1" && r.Env["B"] == "x=y" && r.Name == "n" && r.Ports == 2 && o.Wait
			}},
		// Without "--", flags after the command are the command's.
		{args: []string{"--wait", "sleep", "--cpus", "3"}, check: func(o *RunOptions) bool {
			return strings.Join(o.Request.Args, " ") == "sleep --cpus 3" && *o.Request.CPUs == 0.1 && o.Wait
		}},
		{args: nil, wantErr: "give the command to run"},
		{args: []string{"--"}, wantErr: "give the command to run"},
		{args: []string{"--", " "}, wantErr: "blank"},
		{args: []string{"--cpus", "0", "--", "x"}, wantErr: "--cpus must be more than 0"},
		{args: []string{"--mem", "-1", "--", "x"}, wantErr: "--mem must be more than 0"},
		{args: []string{"--disk", "-1", "--", "x"}, wantErr: "--disk must be 0 or more"},
		{args: []string{"--env", "NOVALUE", "--", "x"}, wantErr: "use NAME=VALUE"},
		{args: []string{"--env", "=v", "--", "x"}, wantErr: "use NAME=VALUE"},
		{args: []string{"--ports", "-2", "--", "x"}, wantErr: "--ports must be 0 or more"},
	} {
		f := cmdutil.NewFactory(cmdutil.IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, nil)
		var got *RunOptions
		cmd := NewCmdRun(f, func(_ context.Context, o *RunOptions) error { got = o; return nil })
		cmd.SetArgs(append([]string{}, tc.args...))
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		err := cmd.Execute()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !cmdutil.IsUsageError(err) {
				t.Errorf("%v: error %v, want a usage error containing %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if !tc.check(got) {
			t.Errorf("%v: options %+v", tc.args, got.Request)
		}
	}
}

func TestRunPrintsID(t *testing.T) {
	m := newFakeMaster(t)
	out, errOut, err := execute(t, m, newRun, "--cpus", "0.5", "--", "echo hi")
	if err != nil || out != "run-1\n" || errOut != "" {
		t.Fatalf("out %q err %q: %v", out, errOut, err)
	}
	if len(m.submitted) != 1 || m.submitted[0].Cmd != "echo hi" || *m.submitted[0].CPUs != 0.5 {
		t.Errorf("submitted %+v", m.submitted)
	}
}

func TestRunErrors(t *testing.T) {
	m := newFakeMaster(t)
	m.noRun = true
	_, _, err := execute(t, m, newRun, "--", "echo hi")
	if err == nil || err.Error() != "the run framework is not subscribed: start the cluster with cairn up" || cmdutil.IsUsageError(err) {
		t.Errorf("no run framework: %v", err)
	}
	// The framework is there but refuses the run.
	m.noRun = false
	_, _, err = execute(t, m, newRun, "--cpus", "100", "--", "x")
	var ae *apiclient.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 422 || !strings.Contains(err.Error(), "cpus 100 is too large") {
		t.Errorf("422: %v", err)
	}
}

func TestRunWaitExitCodes(t *testing.T) {
	running := runapi.Run{ID: "run-1", FrameworkID: fwRun, AgentID: agentA, Hostname: "agent-1", State: protocol.TaskRunning}
	pending := runapi.Run{ID: "run-1", FrameworkID: fwRun, State: runapi.StatePending, Message: "waiting for an offer with cpus:0.1;mem:32"}
	ended := func(state protocol.TaskState, code *int, msg string) runapi.Run {
		r := running
		r.State, r.ExitCode, r.Message = state, code, msg
		return r
	}
	for _, tc := range []struct {
		name     string
		seq      []runapi.Run
		log      bool
		wantOut  string
		wantCode int    // 0: no error
		wantErr  string // the error's text when it is printed
	}{
		{name: "finished", seq: []runapi.Run{pending, running, running, ended(protocol.TaskFinished, intp(0), "")},
			log: true, wantOut: "hello\nworld\n"},
		{name: "failed with a code", seq: []runapi.Run{running, ended(protocol.TaskFailed, intp(3), "exited with status 3")},
			log: true, wantOut: "hello\nworld\n", wantCode: 3, wantErr: "exit status 3"},
		{name: "ended before streaming", seq: []runapi.Run{pending, ended(protocol.TaskFailed, intp(42), "")},
			log: true, wantOut: "hello\nworld\n", wantCode: 42},
		{name: "killed", seq: []runapi.Run{running, ended(protocol.TaskKilled, nil, "killed by an operator")},
			log: true, wantOut: "hello\nworld\n", wantCode: 1, wantErr: "task run-1 ended TASK_KILLED: killed by an operator"},
		{name: "failed without a code", seq: []runapi.Run{ended(protocol.TaskFailed, nil, "out of memory")},
			log: true, wantOut: "hello\nworld\n", wantCode: 1, wantErr: "task run-1 ended TASK_FAILED: out of memory"},
		{name: "never launched", seq: []runapi.Run{pending, {ID: "run-1", FrameworkID: fwRun, State: protocol.TaskKilled, Message: "killed before it was launched"}},
			wantCode: 1, wantErr: "task run-1 ended TASK_KILLED: killed before it was launched"},
		{name: "rejected", seq: []runapi.Run{ended(protocol.TaskError, nil, "bad task")},
			wantCode: 1, wantErr: "task run-1 ended TASK_ERROR: bad task"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newFakeMaster(t)
			m.runs["run-1"] = tc.seq
			if tc.log {
				m.logs[string(agentA)+"/"+string(fwRun)+"/run-1/stdout"] = "hello\nworld\n"
			}
			out, errOut, err := execute(t, m, newRun, "--wait", "--", "echo hello; echo world")
			if out != tc.wantOut {
				t.Errorf("stdout %q, want %q", out, tc.wantOut)
			}
			if errOut != "" {
				t.Errorf("stderr %q (not a terminal: no progress)", errOut)
			}
			if tc.wantCode == 0 {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			var ec *ExitCodeError
			if !errors.As(err, &ec) || ec.ExitCode() != tc.wantCode {
				t.Fatalf("error %#v, want exit code %d", err, tc.wantCode)
			}
			if tc.wantErr != "" && err.Error() != tc.wantErr {
				t.Errorf("error text %q, want %q", err.Error(), tc.wantErr)
			}
			// Followed from the start, once.
			for _, q := range m.logReqs {
				if q != "follow=true" {
					t.Errorf("log request %q", q)
				}
			}
		})
	}
}

func TestRunWaitProgressOnTerminal(t *testing.T) {
	m := newFakeMaster(t)
	m.runs["run-1"] = []runapi.Run{
		{ID: "run-1", FrameworkID: fwRun, State: runapi.StatePending, Message: "waiting for an offer with cpus:0.1;mem:32"},
		{ID: "run-1", FrameworkID: fwRun, State: runapi.StatePending, Message: "waiting for an offer with cpus:0.1;mem:32"},
		{ID: "run-1", FrameworkID: fwRun, AgentID: agentA, Hostname: "agent-1", State: protocol.TaskRunning},
		{ID: "run-1", FrameworkID: fwRun, AgentID: agentA, Hostname: "agent-1", State: protocol.TaskFinished, ExitCode: intp(0)},
	}
	m.logs[string(agentA)+"/"+string(fwRun)+"/run-1/stdout"] = "hi\n"
	var out, errOut bytes.Buffer
	client, _ := apiclient.New(m.URL, "", nil)
	opts := &RunOptions{
		IO:            cmdutil.IOStreams{Out: &out, ErrOut: &errOut},
		APIClient:     func() (*apiclient.Client, error) { return client, nil },
		ErrIsTerminal: true,
		PollInterval:  5 * time.Millisecond,
		Request:       runapi.Request{Cmd: "echo hi"},
		Wait:          true,
	}
	if err := runRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	// Milestones as lines; the wait for resources on a spinner line,
	// erased before the task's output.
	got := errOut.String()
	if !strings.HasPrefix(got, "submitted run-1\n") ||
		!strings.Contains(got, "\r\x1b[K⠋ waiting for resources… (waiting for an offer with cpus:0.1;mem:32)") ||
		!strings.HasSuffix(got, "\r\x1b[Krunning on agent-1\n") || out.String() != "hi\n" {
		t.Errorf("stderr %q\nstdout %q", got, out.String())
	}
}

func TestRunWaitWithoutLogs(t *testing.T) {
	// The agent serves no logs: a warning, and the exit code still.
	m := newFakeMaster(t)
	m.runs["run-1"] = []runapi.Run{
		{ID: "run-1", FrameworkID: fwRun, AgentID: agentA, State: protocol.TaskRunning},
		{ID: "run-1", FrameworkID: fwRun, AgentID: agentA, State: protocol.TaskFailed, ExitCode: intp(2)},
	}
	out, errOut, err := execute(t, m, newRun, "--wait", "--", "x")
	var ec *ExitCodeError
	if !errors.As(err, &ec) || ec.Code != 2 || out != "" {
		t.Fatalf("err %v out %q", err, out)
	}
	if !strings.Contains(errOut, "Warning: cannot show the output of task run-1") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("stderr %q", errOut)
	}
}

func TestRunWaitRunFrameworkGone(t *testing.T) {
	m := newFakeMaster(t)
	m.runs["run-1"] = []runapi.Run{{ID: "run-1", FrameworkID: fwRun, State: runapi.StatePending}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, _ := apiclient.New(m.URL, "", nil)
	done := make(chan error, 1)
	go func() {
		done <- waitRun(ctx, &RunOptions{IO: cmdutil.IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, PollInterval: time.Millisecond}, client, "run-1")
	}()
	m.mu.Lock()
	m.noRun = true
	m.mu.Unlock()
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "the run framework is not subscribed") {
		t.Errorf("err %v", err)
	}
}

func TestExitFor(t *testing.T) {
	for _, tc := range []struct {
		r    runapi.Run
		code int
	}{
		{runapi.Run{State: protocol.TaskFinished}, 0},
		{runapi.Run{State: protocol.TaskFailed, ExitCode: intp(7)}, 7},
		{runapi.Run{State: protocol.TaskFailed, ExitCode: intp(0)}, 1},
		{runapi.Run{State: protocol.TaskFailed, ExitCode: intp(-9)}, 1},
		{runapi.Run{State: protocol.TaskFailed, ExitCode: intp(300)}, 1},
		{runapi.Run{State: protocol.TaskGone}, 1},
	} {
		err := exitFor(tc.r)
		var ec *ExitCodeError
		got := 0
		if errors.As(err, &ec) {
			got = ec.Code
		}
		if got != tc.code {
			t.Errorf("%+v: code %d, want %d", tc.r, got, tc.code)
		}
	}
}
