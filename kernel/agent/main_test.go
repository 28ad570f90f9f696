package agent_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/cairn-dc/cairn/kernel/containerizer/cgroups"
	"github.com/cairn-dc/cairn/kernel/containerizer/supervisor"
)

// TestMain lets the test binary double as the task supervisor (as the cairn
// binary does in production): the agent under test starts it with
// [test-binary, "supervisor", dir, cgroup-parent].
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "supervisor":
			os.Exit(runSupervisor(os.Args[2], os.Args[3]))
		case "supervisor-init":
			os.Exit(supervisor.RunInit(os.Args[2:]))
		}
	}
	os.Exit(m.Run())
}

func runSupervisor(dir, parent string) int {
	supervisor.SetGC() // as cairn supervisor does
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cg := cgroups.None()
	if parent != "" {
		m, _, err := cgroups.Detect(parent)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		cg = m
	}
	err := supervisor.Serve(ctx, supervisor.Config{Dir: dir, Cgroups: cg, Logger: slog.Default(),
		InitCommand: []string{os.Args[0], "supervisor-init"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func supervisorCommand(dir, parent string) []string {
	return []string{os.Args[0], "supervisor", dir, parent}
}
