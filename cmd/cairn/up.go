package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/version"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

type upOptions struct {
	master    masterOptions
	agent     agentOptions
	agents    int
	resources string
}

func newUpCmd(f *cli.Factory) *cobra.Command {
	o := &upOptions{}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run a whole one-machine cluster: NATS, master and agents",
		Long: `Run a whole Cairn cluster on this machine: an embedded NATS with JetStream, a
master with its operator API, and --agents agents sharing the machine, each
with its own name (agent-1, agent-2, ...), work dir, API port and range of
1,000 task ports, and a share of the machine's cpus, mem and disk.

Tasks run as real processes, in cgroups when cairn runs as root.

Ctrl-C stops everything, killing every task; running it again on the same
--data-dir recovers the cluster.`,
		Example: `  cairn up
  cairn up --agents 3 --data-dir /tmp/cairn
  cairn up --agent-resources 'cpus:2;mem:2048;disk:10000'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runUp(cmd, f, o)
		},
	}
	o.master.addFlags(cmd.Flags())
	o.agent.addFlags(cmd.Flags(), false)
	cmd.Flags().IntVar(&o.agents, "agents", 2, "number of agents")
	cmd.Flags().StringVar(&o.resources, "agent-resources", "",
		"`resources` of each agent (default: an equal share of this machine; each also gets 1000 ports of its own)")
	return cmd
}

func runUp(cmd *cobra.Command, f *cli.Factory, o *upOptions) error {
	if o.agents < 0 {
		return cmdutil.UsageErrorf("--agents must be 0 or more, got %d", o.agents)
	}
	base, err := splitResources(o.master.DataDir, max(o.agents, 1), o.resources)
	if err != nil {
		return err
	}
	if _, err := o.agent.config(slog.Default(), ""); err != nil {
		return err
	}
	ctx := cmd.Context()
	log := slog.Default()
	rm, err := startMaster(ctx, &o.master, f.BearerToken(), version.Get().String(), log, true)
	if err != nil {
		return err
	}
	defer rm.stop()
	if err := rm.waitReady(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	agents, err := startLocalAgents(rm, o.agents, o.master.DataDir, base, &o.agent, f.BearerToken(), log)
	if err != nil {
		return fmt.Errorf("start agents: %w", err)
	}
	sys, err := startSystemFrameworks(ctx, rm, o.master.DataDir, f.BearerToken(), log)
	if err != nil {
		agents.stop(o.agent.KillGrace)
		return err
	}
	defer sys.stop()
	if err := sys.waitProxied(ctx, rm); err != nil {
		agents.stop(o.agent.KillGrace)
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	pm, err := startPackageManager(ctx, rm, o.master.DataDir, &o.master.Packages, f.BearerToken(), log)
	if err != nil {
		agents.stop(o.agent.KillGrace)
		return err
	}
	defer pm.stop()
	mh, err := startModuleHost(ctx, rm, o.master.DataDir, &o.master.Modules, f.BearerToken(), log)
	if err != nil {
		agents.stop(o.agent.KillGrace)
		return err
	}
	defer mh.shutdown()
	// Healthy, and announced, once every agent registered with this master
	// and the operator API shows them.
	if err := agents.waitReady(ctx); err != nil {
		agents.stop(o.agent.KillGrace)
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if err := waitAgentsVisible(ctx, rm, o.agents); err != nil {
		agents.stop(o.agent.KillGrace)
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	rm.starting.Store(false)
	out := f.IOStreams.Out
	fmt.Fprintf(out, "Cairn is up (data in %s).\n", o.master.DataDir)
	fmt.Fprintf(out, "  operator API  %s\n", rm.APIURL)
	if rm.NATSURL != "" {
		rm.describeNATS(out, o.master.DataDir)
	}
	iso := "plain processes (run as root for cgroup isolation)"
	if len(agents.agents) > 0 {
		if v := agents.agents[0].Isolation(); v != "none" {
			iso = "cgroups " + v
		}
	}
	fmt.Fprintf(out, "  agents        %d, each with %s; tasks in %s\n", o.agents, base, iso)
	pm.describe(out)
	o.master.Modules.describe(out)
	fmt.Fprintf(out, "\nTry, in another terminal:\n  ./bin/cairn tui                                  # the live view of the cluster (? for keys)\n  ./bin/cairn agent list\n  ./bin/cairn task run --wait -- echo hello\n  ./bin/cairn task run --cpus 0.1 --mem 32 -- sleep 30\n  ./bin/cairn task list\n")
	if len(pm.Seeded) > 0 {
		fmt.Fprintf(out, "  ./bin/cairn package search\n  ./bin/cairn package install hello --yes --wait\n  ./bin/cairn package list\n  ./bin/cairn package install cron --yes --wait   # then cairn job --help\n")
	}
	if d := o.master.Modules.DNSAddr; d != "" && d != "none" {
		host, port, _ := net.SplitHostPort(d)
		fmt.Fprintf(out, "  dig @%s -p %s hello.services.cairn           # once hello is installed\n  ./bin/cairn module list\n", host, port)
	}
	fmt.Fprintf(out, "  curl %s/v1/state\n\nCtrl-C stops the cluster and its tasks.\n", rm.APIURL)
	<-ctx.Done()
	fmt.Fprintln(out, "stopping cluster: killing tasks...")
	agents.stop(o.agent.KillGrace)
	return nil
}

// waitAgentsVisible waits until the master's state lists n active agents.
func waitAgentsVisible(ctx context.Context, rm *runningMaster, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		active := 0
		for _, a := range rm.Master.State().Agents {
			// Drained agents (maintenance kept from an earlier run) are there too.
			if a.Status == protocol.AgentActive || a.Status == protocol.AgentDraining || a.Status == protocol.AgentDrained {
				active++
			}
		}
		if active >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("only %d of %d agents registered within 60s (see the log above)", active, n)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
