// Package tui is "cairn tui": the interactive terminal UI of the cluster
// (package github.com/cairn-dc/cairn/tui).
package tui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/tui"
)

// Environment variables "cairn tui" reads.
const (
	// EnvNoColor, when set to anything, turns colours off (no-color.org).
	EnvNoColor = "NO_COLOR"
	// EnvLog names a file for the TUI's debug log (the screen is the
	// TUI's, so it logs nowhere else).
	EnvLog = "CAIRN_TUI_LOG"
)

// Options are the inputs of "cairn tui".
type Options struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	Getenv    func(string) string
	// IsTerminal reports whether a stream is a terminal (tests replace it).
	IsTerminal func(any) bool

	Mouse bool
}

// NewCmdTUI returns "cairn tui". runF replaces the run function in tests
// (nil runs tuiRun).
func NewCmdTUI(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, APIClient: f.APIClient, Getenv: f.Getenv, IsTerminal: isTerminal}
	cmd := &cobra.Command{
		Use:   "tui",
		Short: "Watch and operate the cluster in an interactive terminal UI",
		Long: "Open a live view of the cluster: an overview (resources, agents, frameworks,\n" +
			"tasks, recent events) and pages for agents, frameworks and tasks, updated from\n" +
			"the master's event stream. Filter tasks, kill them, read their logs; press ?\n" +
			"for every key, q to quit. NO_COLOR=1 draws without colours.",
		Example: "  cairn tui\n  NO_COLOR=1 cairn tui --url http://10.0.0.1:5050",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return tuiRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Mouse, "mouse", false, "report mouse clicks (select tabs, scroll logs); the terminal's own text selection then needs shift")
	return cmd
}

// isTerminal reports whether s is a terminal (not merely a character
// device such as /dev/null).
func isTerminal(s any) bool {
	f, ok := s.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

func tuiRun(ctx context.Context, opts *Options) error {
	if !opts.IsTerminal(opts.IO.Out) {
		return errors.New("cairn tui needs a terminal, and its standard output is not one: " +
			"run it in a terminal (not through a pipe or a redirect); for scripts use the list commands with --json")
	}
	if !opts.IsTerminal(opts.IO.In) {
		return errors.New("cairn tui needs a terminal to read keys from, and its standard input is not one: run it in a terminal")
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	healthErr := client.Health(hctx)
	cancel()
	var unreachable *apiclient.UnreachableError
	if errors.As(healthErr, &unreachable) {
		return healthErr
	}
	log, closeLog, err := logger(opts.Getenv(EnvLog))
	if err != nil {
		return err
	}
	defer closeLog()
	if healthErr != nil {
		// The master answered but is not ready (no leader yet): the TUI
		// shows it reconnecting until it is.
		log.Info("the master is not ready yet", "err", healthErr)
	}
	return tui.Run(ctx, tui.Options{
		Client:  client,
		In:      opts.IO.In,
		Out:     opts.IO.Out,
		NoColor: opts.Getenv(EnvNoColor) != "",
		Mouse:   opts.Mouse,
		Logger:  log,
	})
}

// logger logs to path (nil: nowhere).
func logger(path string) (*slog.Logger, func(), error) {
	if path == "" {
		return slog.New(slog.DiscardHandler), func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the TUI's log file (%s=%s): %w", EnvLog, path, err)
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})), func() { _ = f.Close() }, nil
}
