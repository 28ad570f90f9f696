package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/version"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

func newULID() string { return protocol.NewID() }

func newMasterCmd(f *cli.Factory) *cobra.Command {
	o := &masterOptions{}
	cmd := &cobra.Command{
		Use:   "master",
		Short: "Run a Cairn master (with an embedded NATS unless --nats-url)",
		Long: `Run a Cairn master: the registry of agents, frameworks and tasks, the DRF
allocator, and the operator API (default http://127.0.0.1:5050).

By default it embeds NATS with JetStream, its state under --data-dir; a second
master pointed at the same NATS (--nats-url) stands by and takes over when the
leader dies. Ctrl-C stops it; starting it again on the same data loses nothing.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := slog.Default()
			rm, err := startMaster(cmd.Context(), o, f.BearerToken(), version.Get().String(), log, false)
			if err != nil {
				return err
			}
			defer rm.stop()
			if err := rm.waitReady(cmd.Context()); err != nil {
				if cmd.Context().Err() != nil {
					return nil
				}
				return err
			}
			sys, err := startSystemFrameworks(cmd.Context(), rm, o.DataDir, f.BearerToken(), log)
			if err != nil {
				return err
			}
			defer sys.stop()
			if err := sys.waitProxied(cmd.Context(), rm); err != nil {
				if cmd.Context().Err() != nil {
					return nil
				}
				return err
			}
			pm, err := startPackageManager(cmd.Context(), rm, o.DataDir, &o.Packages, f.BearerToken(), log)
			if err != nil {
				return err
			}
			defer pm.stop()
			mh, err := startModuleHost(cmd.Context(), rm, o.DataDir, &o.Modules, f.BearerToken(), log)
			if err != nil {
				return err
			}
			defer mh.shutdown()
			out := f.IOStreams.Out
			fmt.Fprintf(out, "Cairn master %s is ready.\n  operator API  %s\n", rm.Master.ID(), rm.APIURL)
			if rm.NATSURL != "" {
				rm.describeNATS(out, o.DataDir)
			}
			pm.describe(out)
			o.Modules.describe(out)
			<-cmd.Context().Done()
			fmt.Fprintln(out, "stopping master...")
			return nil
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}
