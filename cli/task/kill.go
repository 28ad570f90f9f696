package task

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// KillOptions are the inputs of "cairn task kill".
type KillOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)

	TaskID      protocol.TaskID
	FrameworkID protocol.FrameworkID
}

// NewCmdKill returns "cairn task kill". runF replaces the run function in
// tests (nil runs killRun).
func NewCmdKill(f *cmdutil.Factory, runF func(context.Context, *KillOptions) error) *cobra.Command {
	opts := &KillOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:   "kill TASK",
		Short: "Kill a task",
		Long: "Ask the master to kill a task (its framework learns of it through the\n" +
			"task's TASK_KILLED update). A run still waiting for resources in the run\n" +
			"framework is dropped from its queue.",
		Example: "  cairn task kill run-01JB8X5Q2M3N4P5R6S7T8V9W0X\n" +
			"  cairn task kill web.1 --framework 01JB8X5Q2M3N4P5R6S7T8V9W0F",
	}
	return taskVerb(f, cmd, &opts.TaskID, &opts.FrameworkID, nil, cmdutil.RunOrTest(opts, runF, killRun))
}

func killRun(ctx context.Context, opts *KillOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	_, err = client.Kill(ctx, opts.TaskID, opts.FrameworkID)
	var ae *apiclient.APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound && opts.FrameworkID == "" {
		// Not a task yet: maybe a run queued in the run framework.
		if _, rerr := client.KillRun(ctx, opts.TaskID); rerr == nil {
			err = nil
		}
	}
	if err != nil {
		if errors.As(err, &ae) && (ae.StatusCode == http.StatusNotFound || ae.StatusCode == http.StatusConflict) && ae.Message != "" {
			return errors.New(ae.Message)
		}
		return fmt.Errorf("killing task %s: %w", opts.TaskID, err)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "killing %s\n", opts.TaskID)
	return err
}
