package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/deployment/deploymenttest"
)

// testNow is the tests' current time: an hour after the fake's first
// version.
var testNow = deploymenttest.Base.Add(time.Hour)

const testPoll = 5 * time.Millisecond

// execute runs a command built by newCmd against the fake master, with
// stdin as its standard input.
func execute(t *testing.T, m *deploymenttest.Master, newCmd func(*cmdutil.Factory) *cobra.Command, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := cmdutil.NewFactory(cmdutil.IOStreams{In: bytes.NewBufferString(stdin), Out: &out, ErrOut: &errOut}, func(k string) string {
		if k == cmdutil.EnvURL {
			return m.URL
		}
		return ""
	})
	cmd := newCmd(f)
	cmd.SetArgs(args)
	cmd.SetIn(f.IOStreams.In)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetFlagErrorFunc(cmdutil.FlagErrorFunc)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// newApp is "cairn app" with fast polling and a fixed clock.
func newApp(f *cmdutil.Factory) *cobra.Command {
	cmd := cmdutil.NewNounCmd("app", "", "")
	cmd.AddCommand(
		NewCmdList(f, nil),
		NewCmdShow(f, func(ctx context.Context, o *ShowOptions) error {
			o.Now = func() time.Time { return testNow }
			return showRun(ctx, o)
		}),
		NewCmdAdd(f, func(ctx context.Context, o *AddOptions) error {
			o.PollInterval = testPoll
			return addRun(ctx, o)
		}),
		NewCmdUpdate(f, func(ctx context.Context, o *UpdateOptions) error {
			o.PollInterval = testPoll
			return updateRun(ctx, o)
		}),
		NewCmdScale(f, func(ctx context.Context, o *ScaleOptions) error {
			o.PollInterval = testPoll
			return scaleRun(ctx, o)
		}),
		NewCmdRestart(f, func(ctx context.Context, o *RestartOptions) error {
			o.PollInterval = testPoll
			return restartRun(ctx, o)
		}),
		NewCmdRemove(f, func(ctx context.Context, o *RemoveOptions) error {
			o.PollInterval = testPoll
			return removeRun(ctx, o)
		}),
		NewCmdVersions(f, func(ctx context.Context, o *VersionsOptions) error {
			o.Now = func() time.Time { return testNow }
			return versionsRun(ctx, o)
		}),
	)
	return cmd
}

// run runs "cairn app ARGS" against m.
func run(t *testing.T, m *deploymenttest.Master, stdin string, args ...string) (string, string, error) {
	t.Helper()
	return execute(t, m, newApp, stdin, args...)
}

// writeFile writes a definition to a file in a temporary dir.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
