package deployment

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
)

// RollbackOptions are the inputs of "cairn deployment rollback".
type RollbackOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// ErrIsTerminal says whether IO.ErrOut is a terminal: --wait shows its
	// progress there only then.
	ErrIsTerminal bool
	// PollInterval is how often --wait looks at the deployment (default 1s).
	PollInterval time.Duration

	ID    string
	Force bool
	Wait  bool
	JSON  bool
}

// NewCmdRollback returns "cairn deployment rollback". runF replaces the
// run function in tests (nil runs rollbackRun).
func NewCmdRollback(f *cmdutil.Factory, runF func(context.Context, *RollbackOptions) error) *cobra.Command {
	opts := &RollbackOptions{IO: f.IOStreams, APIClient: f.APIClient, ErrIsTerminal: output.IsTerminal(f.IOStreams.ErrOut)}
	cmd := &cobra.Command{
		Use:   "rollback DEPLOYMENT",
		Short: "Stop a deployment and put its app back as it was",
		Long: "Stop a deployment and start a new one that puts its app back as it was\n" +
			"before: the previous version for an update, the app removed for a\n" +
			"creation, the app back for a removal. It prints the new deployment's ID.\n\n" +
			"With --force the deployment is only stopped, without a rollback: the app\n" +
			"stays as the deployment left it.",
		Example: "  cairn deployment rollback 01m8as42-5x1n-s0gr-hzzr-dedp35 --wait\n" +
			"  cairn deployment rollback 01m8as42-5x1n-s0gr-hzzr-dedp35 --force",
		Args:              cmdutil.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompleteArgs(f, 1, Candidates),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			opts.ID = id
			if opts.Force && opts.Wait {
				return cmdutil.UsageErrorf("--wait follows the rollback's deployment, and --force starts none: use one of them")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return rollbackRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "only stop the deployment, without a rollback")
	cmd.Flags().BoolVarP(&opts.Wait, "wait", "w", false, "wait for the rollback to end (exit 1 if it fails)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, `print the answer as JSON ({"deploymentId", "version"} of the rollback; {} with --force)`)
	return cmd
}

func rollbackRun(ctx context.Context, opts *RollbackOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	deps, err := client.Deployments(ctx)
	if err != nil {
		return ServiceError("looking up deployment "+opts.ID, err)
	}
	var dep *marathon.Deployment
	for i := range deps {
		if deps[i].ID == opts.ID {
			dep = &deps[i]
		}
	}
	if dep == nil {
		return notInProgress(opts.ID)
	}
	app := ""
	if len(dep.AffectedApps) > 0 {
		app = dep.AffectedApps[0]
	}
	var w *Watcher
	if opts.Wait {
		w = NewWatcher(ctx, client, ProgressConfig(opts.IO.ErrOut, opts.ErrIsTerminal && !opts.JSON, nil, opts.PollInterval))
		defer w.Close()
	}
	res, err := client.RollbackDeployment(ctx, opts.ID, opts.Force)
	if err != nil {
		if IsNotFound(err) {
			return notInProgress(opts.ID)
		}
		return ServiceError("rolling back deployment "+opts.ID, err)
	}
	switch {
	case opts.JSON && res == nil:
		err = output.JSON(opts.IO.Out, struct{}{})
	case opts.JSON:
		err = output.JSON(opts.IO.Out, res)
	case res == nil:
		_, err = fmt.Fprintf(opts.IO.Out, "Cancelled deployment %s without a rollback: app %s stays as the deployment left it\n", opts.ID, app)
	default:
		_, err = fmt.Fprintf(opts.IO.Out, "Rolling back deployment %s: deployment %s puts app %s back as it was\n", opts.ID, res.DeploymentID, app)
	}
	if err != nil || w == nil || res == nil {
		return err
	}
	line, err := w.Wait(ctx, Target{DeploymentID: res.DeploymentID, AppID: app, Version: res.Version, Removal: creates(*dep)})
	if err != nil {
		return err
	}
	if !opts.JSON {
		_, err = fmt.Fprintln(opts.IO.Out, line)
	}
	return err
}

// creates reports whether a deployment creates its app (its rollback
// removes it).
func creates(d marathon.Deployment) bool {
	for _, st := range d.Steps {
		for _, a := range st.Actions {
			if a.Action == "StartApplication" {
				return true
			}
		}
	}
	return false
}

func notInProgress(id string) error {
	return fmt.Errorf("deployment %s is not in progress (see cairn deployment list)", id)
}
