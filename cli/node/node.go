// Package node is "cairn node": maintenance of the cluster's machines.
// Draining an agent (Mesos' DRAIN_AGENT) stops its offers and has the master
// kill its tasks so their frameworks move them; undraining it (Mesos'
// REACTIVATE_AGENT) makes it offer again.
package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/agent"
	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// NewCmdNode returns "cairn node" and its verbs.
func NewCmdNode(f *cmdutil.Factory) *cobra.Command {
	cmd := cmdutil.NewNounCmd("node", "Drain and undrain agents for maintenance",
		"Maintenance of the cluster's machines. A drained agent gets no new offers\n"+
			"and the master kills its tasks (TASK_KILLED, REASON_AGENT_DRAINING) so\n"+
			"their frameworks start them elsewhere; the services framework does so at\n"+
			"once. Undrain it when the maintenance is over. The mark survives master\n"+
			"restarts and the agent's own restarts.")
	cmd.AddCommand(
		NewCmdList(f, nil),
		NewCmdDescribe(f, nil),
		NewCmdDrain(f, nil),
		NewCmdUndrain(f, nil),
	)
	return cmd
}

// agentVerb makes cmd a verb of one agent: it takes AGENT (completed
// with the master's agents), trimmed into *q; then check, when set,
// checks the verb's flags, and run runs.
func agentVerb(f *cmdutil.Factory, cmd *cobra.Command, q *string, check func() error, run func(context.Context) error) *cobra.Command {
	nonBlank := cmdutil.NonBlank(q, "give an agent ID, ID prefix or hostname (see cairn node list)")
	return cmdutil.OneArg(cmd, cmdutil.CompleteArgs(f, 1, agent.Candidates), func(arg string) error {
		if err := nonBlank(arg); err != nil || check == nil {
			return err
		}
		return check()
	}, run)
}

// resolve opens the API client and finds the agent q names (ID, unique ID
// prefix or hostname).
func resolve(ctx context.Context, apiClient func() (*apiclient.Client, error), q string) (*apiclient.Client, protocol.Agent, error) {
	client, err := apiClient()
	if err != nil {
		return nil, protocol.Agent{}, err
	}
	a, err := client.ResolveAgent(ctx, q)
	return client, a, err
}

// apiError turns the master's 404 and 409 into their message alone (they
// already say what to do); other errors say what was being done.
func apiError(what string, err error) error {
	var ae *apiclient.APIError
	if errors.As(err, &ae) && ae.Message != "" &&
		(ae.StatusCode == http.StatusNotFound || ae.StatusCode == http.StatusConflict || ae.StatusCode == http.StatusBadRequest) {
		return errors.New(ae.Message)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// name is how an agent is named in messages: "host-1 (01JB8X…)".
func name(a protocol.Agent) string {
	if a.Hostname == "" {
		return string(a.ID)
	}
	return fmt.Sprintf("%s (%s)", a.Hostname, a.ID)
}
