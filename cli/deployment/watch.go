package deployment

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
)

// WatchOptions are the inputs of "cairn deployment watch".
type WatchOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// ErrIsTerminal says whether IO.ErrOut is a terminal: the progress is
	// then shown there, live; otherwise as plain lines on IO.Out.
	ErrIsTerminal bool
	// PollInterval is how often the deployment is looked at (default 1s).
	PollInterval time.Duration

	ID string
}

// NewCmdWatch returns "cairn deployment watch". runF replaces the run
// function in tests (nil runs watchRun).
func NewCmdWatch(f *cmdutil.Factory, runF func(context.Context, *WatchOptions) error) *cobra.Command {
	opts := &WatchOptions{IO: f.IOStreams, APIClient: f.APIClient, ErrIsTerminal: output.IsTerminal(f.IOStreams.ErrOut)}
	cmd := &cobra.Command{
		Use:   "watch DEPLOYMENT",
		Short: "Follow a deployment until it ends",
		Long: "Follow a deployment until it ends: its current step and action, the app's\n" +
			"tasks running out of those wanted, and why it is stuck when it is (no\n" +
			"matching offers, back-off after failed tasks, a dependency not healthy).\n" +
			"The progress is shown live on a terminal, as plain lines otherwise.\n\n" +
			"Exits 0 when the deployment succeeds, 1 when it fails, is rolled back or\n" +
			"is cancelled.",
		Example: "  cairn deployment watch 01m8as42-5x1n-s0gr-hzzr-dedp35\n" +
			"  cairn deployment list --json | jq -r '.[0].id' | xargs cairn deployment watch",
		Args:              cmdutil.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompleteArgs(f, 1, Candidates),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			opts.ID = id
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return watchRun(cmd.Context(), opts)
		},
	}
	return cmd
}

// parseID checks a deployment id given as an argument.
func parseID(s string) (string, error) {
	id := strings.TrimSpace(s)
	if id == "" || strings.ContainsAny(id, "/?#% \t") {
		return "", cmdutil.UsageErrorf("deployment id %q: give an id as cairn deployment list shows it, e.g. 01m8as42-5x1n-s0gr-hzzr-dedp35", s)
	}
	return id, nil
}

// ProgressConfig is how a command with --wait (or watch) shows the
// progress of a deployment: live on a terminal stderr; as plain lines on
// lines (when not nil) otherwise.
func ProgressConfig(errOut io.Writer, errIsTerminal bool, lines io.Writer, poll time.Duration) Config {
	cfg := Config{PollInterval: poll}
	if errIsTerminal && errOut != nil {
		cfg.Status = output.NewStatus(errOut, output.TerminalWidth(errOut))
	} else {
		cfg.Lines = lines
	}
	return cfg
}

func watchRun(ctx context.Context, opts *WatchOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	w := NewWatcher(ctx, client, ProgressConfig(opts.IO.ErrOut, opts.ErrIsTerminal, opts.IO.Out, opts.PollInterval))
	defer w.Close()
	line, err := w.Wait(ctx, Target{DeploymentID: opts.ID})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(opts.IO.Out, line)
	return err
}
