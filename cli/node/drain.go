package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// DrainOptions are the inputs of "cairn node drain".
type DrainOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// ErrIsTerminal shows --wait's progress as a live status line.
	ErrIsTerminal bool

	// Agent is an agent ID, a unique ID prefix or a hostname.
	Agent string
	// GracePeriod, when set, replaces the tasks' own kill grace periods.
	GracePeriod *time.Duration
	Reason      string
	// Wait waits until the agent is DRAINED (no task left), at most
	// Timeout when it is not 0.
	Wait    bool
	Timeout time.Duration
	// PollInterval is how often --wait looks at the agent (default 1s).
	PollInterval time.Duration
	JSON         bool
}

// NewCmdDrain returns "cairn node drain". runF replaces the run function
// in tests (nil runs drainRun).
func NewCmdDrain(f *cmdutil.Factory, runF func(context.Context, *DrainOptions) error) *cobra.Command {
	opts := &DrainOptions{IO: f.IOStreams, APIClient: f.APIClient, ErrIsTerminal: output.IsTerminal(f.IOStreams.ErrOut)}
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "drain AGENT",
		Short: "Stop offering an agent and move its tasks away",
		Long: "Drain an agent for maintenance: it gets no new offers, its outstanding\n" +
			"offers are rescinded and the master kills its tasks (SIGTERM, then SIGKILL\n" +
			"after the grace period) with the reason REASON_AGENT_DRAINING, so their\n" +
			"frameworks start them on other agents. The agent is DRAINING until none of\n" +
			"its tasks is left, then DRAINED. Draining it again updates the reason and\n" +
			"grace period. Name the agent by ID, by an ID prefix of at least 6\n" +
			"characters, or by hostname. Undo with \"cairn node undrain\".",
		Example: "  cairn node drain agent-1 --reason 'kernel upgrade' --wait\n" +
			"  cairn node drain 01JB8X --grace-period 30s\n" +
			"  cairn node drain agent-2 --wait --timeout 10m --json",
	}
	fl := cmd.Flags()
	fl.DurationVar(&grace, "grace-period", 0, "time each task gets between SIGTERM and SIGKILL (default: the task's own kill policy)")
	fl.StringVar(&opts.Reason, "reason", "", "why the agent is drained, shown with it and in its tasks' kill messages")
	fl.BoolVar(&opts.Wait, "wait", false, "wait until the agent is DRAINED (no task left), showing progress")
	fl.DurationVar(&opts.Timeout, "timeout", 0, "with --wait, give up waiting after this long (0: no limit; the drain goes on)")
	fl.BoolVar(&opts.JSON, "json", false, "print the agent as JSON (after waiting, with --wait)")
	return agentVerb(f, cmd, &opts.Agent, func() error {
		if fl.Changed("grace-period") {
			if grace < 0 {
				return cmdutil.UsageErrorf("--grace-period %v is negative: give 0s (kill at once) or more, e.g. 30s", grace)
			}
			if grace > protocol.MaxDrainGracePeriodSeconds*time.Second {
				return cmdutil.UsageErrorf("--grace-period %v is longer than a week", grace)
			}
			opts.GracePeriod = &grace
		}
		if err := (&protocol.DrainAgent{Reason: opts.Reason}).Validate(); err != nil {
			return cmdutil.UsageErrorf("--%w", err)
		}
		if opts.Timeout < 0 {
			return cmdutil.UsageErrorf("--timeout %v is negative: give 0 (no limit) or more, e.g. 10m", opts.Timeout)
		}
		if fl.Changed("timeout") && !opts.Wait {
			return cmdutil.UsageErrorf("--timeout bounds --wait: add --wait")
		}
		return nil
	}, cmdutil.RunOrTest(opts, runF, drainRun))
}

func drainRun(ctx context.Context, opts *DrainOptions) error {
	client, a, err := resolve(ctx, opts.APIClient, opts.Agent)
	if err != nil {
		return err
	}
	drained, err := client.DrainAgent(ctx, a.ID, apiclient.DrainOptions{GracePeriod: opts.GracePeriod, Reason: opts.Reason})
	if err != nil {
		return apiError("draining agent "+name(a), err)
	}
	a = drained
	if !opts.JSON {
		if _, err := fmt.Fprintln(opts.IO.Out, drainedLine(a)); err != nil {
			return err
		}
	}
	if opts.Wait && !isDrained(a) {
		if a, err = waitDrained(ctx, client, a, opts); err != nil {
			return err
		}
		if !opts.JSON {
			if _, err := fmt.Fprintf(opts.IO.Out, "agent %s is drained: no task left on it\n", name(a)); err != nil {
				return err
			}
		}
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, a)
	}
	return nil
}

func isDrained(a protocol.Agent) bool {
	return a.Drain != nil && a.Drain.State == protocol.DrainDrained
}

// drainedLine says what the drain did.
func drainedLine(a protocol.Agent) string {
	switch {
	case isDrained(a):
		return fmt.Sprintf("agent %s is drained: no task left on it, no new offers", name(a))
	case a.Status == protocol.AgentUnreachable:
		return fmt.Sprintf("draining agent %s: it is unreachable; its %s killed when it comes back", name(a), tasks(a.ActiveTasks, "is", "are"))
	}
	return fmt.Sprintf("draining agent %s: no new offers; killing its %s", name(a), tasks(a.ActiveTasks, "", ""))
}

// tasks prints "1 task", "3 tasks", with a verb agreeing when given.
func tasks(n int, one, many string) string {
	s := fmt.Sprintf("%d task", n)
	if n != 1 {
		s += "s"
	}
	switch {
	case n == 1 && one != "":
		s += " " + one
	case n != 1 && many != "":
		s += " " + many
	}
	return s
}

// maxLookFailures is how many looks in a row may fail (a master failing
// over) before --wait gives up.
const maxLookFailures = 5

// waitDrained polls the agent until it is DRAINED, showing how many tasks
// are left: a status line on a terminal, else a line on stderr each time
// the count changes (none with --json).
func waitDrained(ctx context.Context, client *apiclient.Client, a protocol.Agent, opts *DrainOptions) (protocol.Agent, error) {
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	poll := opts.PollInterval
	if poll <= 0 {
		poll = time.Second
	}
	var status *output.Status
	quiet := opts.JSON && !opts.ErrIsTerminal // scripts: no progress lines
	if opts.ErrIsTerminal {
		status = output.NewStatus(opts.IO.ErrOut, output.TerminalWidth(opts.IO.ErrOut))
		defer status.Clear()
	}
	last, failures := "", 0
	show := func(a protocol.Agent) {
		line := fmt.Sprintf("waiting for %s to drain: %s left", name(a), tasks(a.ActiveTasks, "", ""))
		if a.Status == protocol.AgentUnreachable {
			line += " (agent unreachable: its tasks are killed when it comes back)"
		}
		switch {
		case status != nil:
			status.Set(line)
		case line != last && !quiet:
			fmt.Fprintln(opts.IO.ErrOut, line)
		}
		last = line
	}
	show(a)
	tick := time.NewTicker(poll)
	defer tick.Stop()
	spin := time.NewTicker(100 * time.Millisecond)
	defer spin.Stop()
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && opts.Timeout > 0 {
				return a, fmt.Errorf("agent %s is still draining after %v with %s left; the drain goes on: see cairn task list, or wait again with cairn node drain %s --wait",
					name(a), opts.Timeout, tasks(a.ActiveTasks, "", ""), a.ID)
			}
			return a, ctx.Err()
		case <-spin.C:
			if status != nil {
				status.Tick()
			}
		case <-tick.C:
			agents, err := client.Agents(ctx)
			if err != nil {
				if ctx.Err() != nil {
					continue // reported by the ctx case
				}
				if failures++; failures >= maxLookFailures {
					return a, fmt.Errorf("waiting for agent %s to drain: %w", name(a), err)
				}
				continue
			}
			failures = 0
			found := false
			for _, x := range agents {
				if x.ID == a.ID {
					a, found = x, true
				}
			}
			switch {
			case !found:
				return a, fmt.Errorf("agent %s is gone (unreachable too long) while draining: its tasks were replaced; nothing left to wait for", name(a))
			case a.Drain == nil:
				return a, fmt.Errorf("agent %s was undrained while waiting (cairn node undrain): it gets offers again", name(a))
			case isDrained(a):
				return a, nil
			}
			show(a)
		}
	}
}
