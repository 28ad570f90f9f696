package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/kernel/containerizer/cgroups"
	"github.com/cairn-dc/cairn/kernel/containerizer/supervisor"
)

// newSupervisorCmd is the hidden "cairn supervisor": an agent re-executes
// the cairn binary as its task supervisor (one per agent), which outlives
// agent restarts.
func newSupervisorCmd() *cobra.Command {
	var dir, parent string
	cmd := &cobra.Command{
		Use:    "supervisor",
		Short:  "Run an agent's task supervisor (started by the agent)",
		Hidden: true,
		Args:   cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return cmdutil.UsageErrorf("--dir is required")
			}
			supervisor.SetGC()
			log := slog.Default().With("component", "supervisor", "dir", dir)
			cg := cgroups.None()
			if parent != "" {
				m, why, err := cgroups.Detect(parent)
				if err != nil {
					return fmt.Errorf("supervisor: cgroups: %w", err)
				}
				if m.Version() == "none" {
					log.Warn("cgroups unavailable to the supervisor: " + why)
				}
				cg = m
			}
			exe, err := os.Executable()
			if err != nil {
				exe = os.Args[0]
			}
			return supervisor.Serve(cmd.Context(), supervisor.Config{Dir: filepath.Clean(dir), Cgroups: cg, Logger: log,
				InitCommand: []string{exe, "supervisor-init"}})
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "supervisor `dir` (socket, records)")
	cmd.Flags().StringVar(&parent, "cgroup-parent", "", "cgroup `path` of the agent's tasks (empty: no cgroups)")
	return cmd
}

// newSupervisorInitCmd is the hidden init of tasks given their own PID
// namespace: pid 1 that mounts /proc, runs the task, reaps, forwards signals.
func newSupervisorInitCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "supervisor-init",
		Hidden:             true,
		DisableFlagParsing: true,
		Run: func(_ *cobra.Command, args []string) {
			os.Exit(supervisor.RunInit(args))
		},
	}
}
