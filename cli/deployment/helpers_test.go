package deployment

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/deployment/deploymenttest"
)

// testNow is the tests' current time: an hour after the fake's first
// version.
var testNow = deploymenttest.Base.Add(time.Hour)

const testPoll = 5 * time.Millisecond

// execute runs a command built by newCmd against the fake master.
func execute(t *testing.T, m *deploymenttest.Master, newCmd func(*cmdutil.Factory) *cobra.Command, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := cmdutil.NewFactory(cmdutil.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}, func(k string) string {
		if k == cmdutil.EnvURL {
			return m.URL
		}
		return ""
	})
	cmd := newCmd(f)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetFlagErrorFunc(cmdutil.FlagErrorFunc)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func newList(f *cmdutil.Factory) *cobra.Command {
	return NewCmdList(f, func(ctx context.Context, o *ListOptions) error {
		o.Now = func() time.Time { return testNow }
		return listRun(ctx, o)
	})
}

func newWatch(f *cmdutil.Factory) *cobra.Command {
	return NewCmdWatch(f, func(ctx context.Context, o *WatchOptions) error {
		o.PollInterval = testPoll
		return watchRun(ctx, o)
	})
}

// newWatchTerminal is watch with stderr taken for a terminal.
func newWatchTerminal(f *cmdutil.Factory) *cobra.Command {
	return NewCmdWatch(f, func(ctx context.Context, o *WatchOptions) error {
		o.PollInterval, o.ErrIsTerminal = testPoll, true
		return watchRun(ctx, o)
	})
}

func newRollback(f *cmdutil.Factory) *cobra.Command {
	return NewCmdRollback(f, func(ctx context.Context, o *RollbackOptions) error {
		o.PollInterval = testPoll
		return rollbackRun(ctx, o)
	})
}

// waitFor waits for cond, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// executeApp creates an app through the fake's API, as "cairn app add"
// does.
func executeApp(t *testing.T, m *deploymenttest.Master, definition string) (string, string, error) {
	t.Helper()
	client, err := apiclient.New(m.URL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	created, err := client.CreateApp(context.Background(), json.RawMessage(definition))
	return created.ID, created.DeploymentID(), err
}
