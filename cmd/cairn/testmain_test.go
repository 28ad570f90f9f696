package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/cairn-dc/cairn/cli"
)

// envActAsCairn makes the test binary the cairn binary, whatever its
// arguments (a test runs `cairn tui` in tmux that way).
const envActAsCairn = "CAIRN_TEST_ACT_AS_CAIRN"

// TestMain lets the test binary stand in for the cairn binary when an agent
// under test re-executes itself as its task supervisor, when a task runs it
// as a framework (the services package's "cairn framework run"), and when
// a test sets envActAsCairn.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && (os.Args[1] == "supervisor" || os.Args[1] == "supervisor-init") ||
		len(os.Args) > 2 && os.Args[1] == "framework" && os.Args[2] == "run" ||
		os.Getenv(envActAsCairn) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], cli.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, os.Getenv)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}
