package node

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// DescribeOptions are the inputs of "cairn node describe".
type DescribeOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for "since 5m" (time.Now when nil).
	Now func() time.Time

	// Agent is an agent ID, a unique ID prefix or a hostname.
	Agent string
	JSON  bool
}

// NewCmdDescribe returns "cairn node describe". runF replaces the run
// function in tests (nil runs describeRun).
func NewCmdDescribe(f *cmdutil.Factory, runF func(context.Context, *DescribeOptions) error) *cobra.Command {
	opts := &DescribeOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "describe AGENT",
		Aliases: []string{"show"},
		Short:   "Show an agent's maintenance state",
		Long: "Show an agent's status and maintenance: draining or drained since when,\n" +
			"why, the drain's grace period and the tasks left. \"cairn agent describe\"\n" +
			"shows its resources and tasks.",
		Example: "  cairn node describe agent-1\n  cairn node describe 01JB8X --json",
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, `print {"id", "hostname", "status", "active_tasks", "drain"} as JSON`)
	return agentVerb(f, cmd, &opts.Agent, nil, cmdutil.RunOrTest(opts, runF, describeRun))
}

func describeRun(ctx context.Context, opts *DescribeOptions) error {
	_, a, err := resolve(ctx, opts.APIClient, opts.Agent)
	if err != nil {
		return err
	}
	n := nodeOf(a)
	if opts.JSON {
		return output.JSON(opts.IO.Out, n)
	}
	now := output.Now(opts.Now)
	fs := output.NewFields(opts.IO.Out)
	fs.Field("ID", string(n.ID))
	fs.Field("Hostname", n.Hostname)
	fs.Field("Status", string(n.Status))
	fs.Field("Active tasks", strconv.Itoa(n.ActiveTasks))
	if d := n.Drain; d != nil {
		fs.Field("Maintenance", string(d.State))
		fs.Field("Draining since", since(d.Since, now))
		if d.DrainedTime > 0 {
			fs.Field("Drained since", since(d.DrainedTime, now))
		}
		fs.Field("Reason", d.Reason)
		grace := "the tasks' own kill policies"
		if g := d.GracePeriodSeconds; g != nil {
			grace = (time.Duration(*g * float64(time.Second))).String()
		}
		fs.Field("Grace period", grace)
	} else {
		fs.Field("Maintenance", "none (cairn node drain "+n.Hostname+" to drain it)")
	}
	if err := fs.Flush(); err != nil {
		return fmt.Errorf("writing agent: %w", err)
	}
	return nil
}

// since prints a wire timestamp as RFC 3339 in UTC and how long ago it
// was, as every describe view does.
func since(ts float64, now time.Time) string {
	t := fromTimestamp(ts)
	return t.UTC().Format(time.RFC3339) + " (" + output.Age(now.Sub(t)) + " ago)"
}

func nodeOf(a protocol.Agent) Node {
	return Node{ID: a.ID, Hostname: a.Hostname, Status: a.Status, ActiveTasks: a.ActiveTasks, Drain: a.Drain}
}
