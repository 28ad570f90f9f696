package tui

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
)

func newFactory(env map[string]string) (*cmdutil.Factory, *bytes.Buffer) {
	var out bytes.Buffer
	f := cmdutil.NewFactory(cmdutil.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out}, func(k string) string { return env[k] })
	return f, &out
}

func TestRefusesWithoutATerminal(t *testing.T) {
	f, _ := newFactory(nil)
	cmd := NewCmdTUI(f, nil)
	cmd.SetArgs(nil)
	err := cmd.ExecuteContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "needs a terminal") || !strings.Contains(err.Error(), "standard output") {
		t.Fatalf("error %v, want one saying the TUI needs a terminal", err)
	}
}

func TestUnreachableMaster(t *testing.T) {
	f, _ := newFactory(map[string]string{cmdutil.EnvURL: "http://127.0.0.1:1"})
	opts := &Options{IO: f.IOStreams, APIClient: f.APIClient, Getenv: f.Getenv, IsTerminal: func(any) bool { return true }}
	err := tuiRun(context.Background(), opts)
	var ue *apiclient.UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("error %v, want the unreachable master's error naming its URL", err)
	}
}

func TestOptions(t *testing.T) {
	f, _ := newFactory(map[string]string{EnvNoColor: "1"})
	var got *Options
	cmd := NewCmdTUI(f, func(_ context.Context, o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"--mouse"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !got.Mouse || got.Getenv(EnvNoColor) != "1" {
		t.Errorf("options %+v", got)
	}
	cmd = NewCmdTUI(f, func(context.Context, *Options) error { return nil })
	cmd.SetArgs([]string{"extra"})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.ExecuteContext(context.Background()); !cmdutil.IsUsageError(err) {
		t.Errorf("an argument: %v, want a usage error", err)
	}
}
