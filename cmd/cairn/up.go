package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/version"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/kernel/simagent"
)

type upOptions struct {
	master    masterOptions
	agents    int
	resources string
}

func newUpCmd(f *cli.Factory) *cobra.Command {
	o := &upOptions{}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run a whole one-machine cluster: NATS, master and agents",
		Long: `Run a whole Cairn cluster on this machine: an embedded NATS with JetStream, a
master with its operator API, and --agents agents, each with its own name
(agent-1, agent-2, ...) and its own slice of ports.

The agents are simulated for now: they register, take offers and report their
tasks RUNNING, but run no processes (the real agent is being built).

Ctrl-C stops everything; running it again on the same --data-dir recovers the
cluster.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runUp(cmd, f, o)
		},
	}
	o.master.addFlags(cmd.Flags())
	cmd.Flags().IntVar(&o.agents, "agents", 2, "number of agents")
	cmd.Flags().StringVar(&o.resources, "agent-resources", "cpus:4;mem:8192;disk:20000",
		"`resources` of each agent (each also gets 1000 ports of its own)")
	return cmd
}

func runUp(cmd *cobra.Command, f *cli.Factory, o *upOptions) error {
	if o.agents < 0 {
		return cmdutil.UsageErrorf("--agents must be 0 or more, got %d", o.agents)
	}
	base, err := resources.Parse(o.resources)
	if err != nil {
		return cmdutil.UsageErrorf("--agent-resources: %v", err)
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
	var fleet *simagent.Fleet
	if o.agents > 0 {
		ids := make([]protocol.AgentID, o.agents)
		for i := range ids {
			id, err := persistentID(filepath.Join(o.master.DataDir, "agents", "agent-"+strconv.Itoa(i+1), "agent-id"), newULID)
			if err != nil {
				return fmt.Errorf("agent id: %w", err)
			}
			ids[i] = protocol.AgentID(id)
		}
		fleet, err = simagent.StartFleet(ctx, simagent.FleetConfig{
			N:              o.agents,
			Connections:    1,
			Connect:        func(i int) (*nats.Conn, error) { return rm.Bus.Connect("cairn-agents") },
			HostnamePrefix: "agent",
			Template:       simagent.Config{Logger: log, Resources: base},
			Customize: func(i int, c *simagent.Config) {
				c.ID = ids[i]
				c.Hostname = "agent-" + strconv.Itoa(i+1)
				lo := uint64(31000 + 1000*i)
				c.Resources = base.Plus(resources.Resources{{Name: "ports", Type: resources.Ranges,
					Ranges: resources.RangeSet{{Begin: lo, End: lo + 999}}}})
				c.Attributes = resources.Attributes{{Name: "agent", Type: resources.Text, Text: c.Hostname}}
			},
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("start agents: %w", err)
		}
		defer fleet.Stop()
	}
	// Healthy, and announced, once the operator API shows every agent.
	if err := waitAgentsVisible(ctx, rm, o.agents); err != nil {
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
		fmt.Fprintf(out, "  NATS          %s\n", rm.NATSURL)
	}
	fmt.Fprintf(out, "  agents        %d simulated (they run no processes yet)\n", o.agents)
	fmt.Fprintf(out, "\nTry, in another terminal:\n  ./bin/cairn agent list\n  ./bin/cairn framework list\n  ./bin/cairn task list\n  curl %s/v1/state\n\nCtrl-C stops the cluster.\n", rm.APIURL)
	<-ctx.Done()
	fmt.Fprintln(out, "stopping cluster...")
	return nil
}

// waitAgentsVisible waits until the master's state lists n active agents.
func waitAgentsVisible(ctx context.Context, rm *runningMaster, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		active := 0
		for _, a := range rm.Master.State().Agents {
			if a.Status == protocol.AgentActive {
				active++
			}
		}
		if active >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("only %d of %d agents registered within 30s", active, n)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
