package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/deployment"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
)

// ListOptions are the inputs of "cairn app list".
type ListOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)

	JSON bool
}

// maxCmdWidth bounds the CMD column.
const maxCmdWidth = 40

// NewCmdList returns "cairn app list". runF replaces the run function in
// tests (nil runs listRun).
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List apps",
		Long: "List the apps of the services framework: instances running out of those\n" +
			"wanted, healthy ones (for apps with health checks), resources of each\n" +
			"instance, the deployment in progress and the command.",
		Example: "  cairn app list\n" +
			"  cairn app list --json | jq -r '.[] | select(.tasksRunning < .instances) | .id'",
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the apps as a JSON array (as Marathon's GET /v2/apps has them)")
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	apps, err := client.Apps(ctx, "")
	if err != nil {
		return deployment.ServiceError("listing apps", err)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, apps)
	}
	if len(apps) == 0 {
		_, err := fmt.Fprintln(opts.IO.Out, "No apps.")
		return err
	}
	t := output.NewTable(opts.IO.Out, "ID", "INSTANCES", "HEALTHY", "CPUS", "MEM", "DEPLOYMENT", "CMD")
	for _, a := range apps {
		healthy := ""
		if len(a.HealthChecks) > 0 {
			healthy = strconv.Itoa(a.TasksHealthy)
		}
		dep := ""
		if len(a.Deployments) > 0 {
			dep = a.Deployments[0].ID
		}
		t.Row(
			a.ID,
			strconv.Itoa(a.TasksRunning)+"/"+strconv.Itoa(InstancesOf(a.App)),
			healthy,
			output.OptionalFloat(a.CPUs),
			output.OptionalMem(a.Mem),
			dep,
			output.Truncate(output.Clean(Command(a.App)), maxCmdWidth),
		)
	}
	return t.Flush()
}

// InstancesOf is an app's wanted instances (Marathon's default 1 when
// unset).
func InstancesOf(a marathon.App) int {
	if a.Instances == nil {
		return 1
	}
	return *a.Instances
}

// Command is what an app runs: its cmd, or its args.
func Command(a marathon.App) string {
	if a.Cmd != nil && *a.Cmd != "" {
		return *a.Cmd
	}
	return strings.Join(a.Args, " ")
}
