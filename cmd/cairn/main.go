// Command cairn is Cairn's one binary: the CLI ("cairn agent list" ...) and
// the daemons ("cairn up", "cairn master" ...).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/cairn-dc/cairn/cli"
)

// envLogLevel sets the log level when --log-level is not given.
const envLogLevel = "CAIRN_LOG_LEVEL"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills the process at once
	}()
	code := run(ctx, os.Args[1:], cli.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, os.Getenv)
	stop()
	os.Exit(code)
}

// run is main without the process: it builds the command tree (the CLI's
// nouns plus the daemons), sets up logging, runs args and returns the exit
// code (0 ok, 1 error, 2 usage error).
func run(ctx context.Context, args []string, streams cli.IOStreams, getenv func(string) string) int {
	var level slog.LevelVar // info
	if s := strings.TrimSpace(getenv(envLogLevel)); s != "" {
		if err := level.UnmarshalText([]byte(s)); err != nil {
			fmt.Fprintf(streams.ErrOut, "Warning: ignoring %s=%q: use debug, info, warn or error\n", envLogLevel, s)
		}
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(streams.ErrOut, &slog.HandlerOptions{Level: &level})))

	f := cli.NewFactory(streams, getenv)
	root := cli.NewRootCmd(f)
	root.PersistentFlags().Var(&levelFlag{v: &level}, "log-level",
		"log `level`: debug, info, warn or error; $"+envLogLevel+" sets the default")
	root.AddCommand(daemonCommands(f)...)
	addAgentRun(root, f)
	addFrameworkRun(root, f)
	return cli.Execute(ctx, root, args)
}

// levelFlag is --log-level: parsing it sets the level of the running logger.
type levelFlag struct{ v *slog.LevelVar }

func (l *levelFlag) String() string {
	if l.v == nil {
		return ""
	}
	return strings.ToLower(l.v.Level().String())
}

func (l *levelFlag) Set(s string) error {
	if err := l.v.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return fmt.Errorf("use debug, info, warn or error")
	}
	return nil
}

func (l *levelFlag) Type() string { return "level" }
