package main

import (
	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli"
)

// daemonCommands returns the commands that run Cairn's daemons ("cairn up",
// "cairn master", the agent daemon ...), added to the root beside the CLI's
// nouns. Each lives in its own file of this package, e.g. master.go with
//
//	func newMasterCmd(f *cli.Factory) *cobra.Command
//
// and is listed here. Conventions, so they behave like the rest of cairn:
//   - use RunE and cmd.Context(): it is cancelled on SIGINT/SIGTERM; shut
//     down cleanly and return nil (a returned context.Canceled prints
//     "interrupted" and exits 1);
//   - print to f.IOStreams (or cmd.OutOrStdout()), log with log/slog (the
//     default logger honours --log-level and CAIRN_LOG_LEVEL);
//   - errors from Args validators, required flags and flag parsing exit 2
//     as usage errors; everything else exits 1 with a one-line message;
//   - the root's persistent --url and --token exist on every command.
func daemonCommands(f *cli.Factory) []*cobra.Command {
	return []*cobra.Command{newMasterCmd(f), newUpCmd(f), newSupervisorCmd(), newSupervisorInitCmd()}
}
