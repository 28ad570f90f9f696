package node

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
)

// UndrainOptions are the inputs of "cairn node undrain".
type UndrainOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)

	// Agent is an agent ID, a unique ID prefix or a hostname.
	Agent string
	JSON  bool
}

// NewCmdUndrain returns "cairn node undrain". runF replaces the run
// function in tests (nil runs undrainRun).
func NewCmdUndrain(f *cmdutil.Factory, runF func(context.Context, *UndrainOptions) error) *cobra.Command {
	opts := &UndrainOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "undrain AGENT",
		Aliases: []string{"reactivate"},
		Short:   "Offer a drained agent again",
		Long: "End an agent's maintenance: it gets offers again and frameworks may run\n" +
			"tasks on it. Tasks the drain killed stay killed (their frameworks have\n" +
			"replaced them). Undraining an agent that is not drained changes nothing.",
		Example: "  cairn node undrain agent-1\n  cairn node undrain 01JB8X --json",
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the agent as JSON")
	return agentVerb(f, cmd, &opts.Agent, nil, cmdutil.RunOrTest(opts, runF, undrainRun))
}

func undrainRun(ctx context.Context, opts *UndrainOptions) error {
	client, a, err := resolve(ctx, opts.APIClient, opts.Agent)
	if err != nil {
		return err
	}
	was := a.Drain
	back, err := client.UndrainAgent(ctx, a.ID)
	if err != nil {
		return apiError("undraining agent "+name(a), err)
	}
	a = back
	if opts.JSON {
		return output.JSON(opts.IO.Out, a)
	}
	line := fmt.Sprintf("agent %s is active again: frameworks get its offers", name(a))
	if was == nil {
		line = fmt.Sprintf("agent %s was not drained: nothing to do", name(a))
	}
	_, err = fmt.Fprintln(opts.IO.Out, line)
	return err
}
