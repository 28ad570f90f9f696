package task

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

func TestParseState(t *testing.T) {
	for _, in := range []string{"running", "RUNNING", "task_running", "TASK_RUNNING", " Running "} {
		if s, err := ParseState(in); err != nil || s != protocol.TaskRunning {
			t.Errorf("ParseState(%q) = %q, %v", in, s, err)
		}
	}
	if s, err := ParseState("gone_by_operator"); err != nil || s != protocol.TaskGoneByOperator {
		t.Errorf("gone_by_operator: %q, %v", s, err)
	}
	for _, in := range []string{"", "TASK_", "sleeping"} {
		if _, err := ParseState(in); err == nil {
			t.Errorf("ParseState(%q) succeeded", in)
		}
	}
	for _, s := range states {
		if !s.Valid() {
			t.Errorf("%q is not a valid state", s)
		}
	}
}

// TestListFlags checks flag parsing into ListOptions, without a master.
func TestListFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    apiclient.TaskFilter
		json    bool
		wantErr string
	}{
		{args: nil},
		{args: []string{"--json"}, json: true},
		{args: []string{"--state", "failed", "--framework", "F1", "--agent", "A-1"},
			want: apiclient.TaskFilter{FrameworkID: "F1", AgentID: "A-1", State: protocol.TaskFailed}},
		{args: []string{"--state", "nope"}, wantErr: "is not a task state"},
		{args: []string{"--agent", "a b"}, wantErr: "--agent"},
		{args: []string{"x"}, wantErr: "takes no arguments"},
	} {
		f := cmdutil.NewFactory(cmdutil.IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, nil)
		var got *ListOptions
		cmd := NewCmdList(f, func(_ context.Context, o *ListOptions) error { got = o; return nil })
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
		if got.Filter != tc.want || got.JSON != tc.json {
			t.Errorf("%v: options %+v", tc.args, got)
		}
	}
}

func TestListReportsClientError(t *testing.T) {
	boom := errors.New("boom")
	opts := &ListOptions{
		IO:        cmdutil.IOStreams{Out: &bytes.Buffer{}},
		APIClient: func() (*apiclient.Client, error) { return nil, boom },
	}
	if err := listRun(context.Background(), opts); !errors.Is(err, boom) {
		t.Errorf("listRun: %v", err)
	}
}
