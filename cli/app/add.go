package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/deployment"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
)

// AddOptions are the inputs of "cairn app add".
type AddOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	ChangeOptions

	// File is the definition's path; "-" reads the standard input.
	File string
}

// NewCmdAdd returns "cairn app add". runF replaces the run function in
// tests (nil runs addRun).
func NewCmdAdd(f *cmdutil.Factory, runF func(context.Context, *AddOptions) error) *cobra.Command {
	opts := &AddOptions{IO: f.IOStreams, APIClient: f.APIClient}
	opts.ErrIsTerminal = output.IsTerminal(f.IOStreams.ErrOut)
	cmd := &cobra.Command{
		Use:     "add FILE",
		Aliases: []string{"create"},
		Short:   "Add an app from a Marathon app definition",
		Long: "Add an app from a Marathon app definition (a JSON file, or - for the\n" +
			"standard input) and start the deployment that launches its instances.\n" +
			"It prints the app's id and the deployment's; fields Cairn ignores are\n" +
			"reported as warnings on stderr. With --wait it follows the deployment\n" +
			"until every instance runs (healthy, when the app has health checks).",
		Example: "  cairn app add web.json --wait\n" +
			"  echo '{\"id\": \"/hello\", \"cmd\": \"python3 -m http.server $PORT0\", \"cpus\": 0.1, \"mem\": 64}' | cairn app add -\n" +
			"  cairn app add web.json --json | jq -r '.deployments[0].id'",
		Args: cmdutil.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return addRun(cmd.Context(), opts)
		},
	}
	opts.addFlags(cmd, false)
	return cmd
}

func addRun(ctx context.Context, opts *AddOptions) error {
	def, err := readDefinition(opts.File, opts.IO.In)
	if err != nil {
		return err
	}
	id := definitionID(def)
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	var w *deployment.Watcher
	if opts.Wait {
		w = deployment.NewWatcher(ctx, client, deployment.ProgressConfig(opts.IO.ErrOut, opts.ErrIsTerminal && !opts.JSON, nil, opts.PollInterval))
		defer w.Close()
	}
	created, err := client.CreateApp(ctx, def)
	if err != nil {
		var ae *apiclient.APIError
		if errors.As(err, &ae) && ae.StatusCode == http.StatusConflict && !isLocked(err) {
			return fmt.Errorf("app %s already exists: change it with cairn app update %s FILE, or remove it first", id, id)
		}
		return appError(err, id, "adding app "+id)
	}
	printWarnings(opts.IO.ErrOut, created.Warnings)
	if opts.JSON {
		err = output.JSON(opts.IO.Out, created)
	} else {
		_, err = fmt.Fprintf(opts.IO.Out, "Created app %s: deployment %s\n", created.ID, created.DeploymentID())
	}
	if err != nil || w == nil {
		return err
	}
	return wait(ctx, opts.IO, opts.ChangeOptions, w, deployment.Target{
		DeploymentID: created.DeploymentID(), AppID: created.ID, Version: created.Version})
}

func isLocked(err error) bool {
	var le *apiclient.AppLockedError
	return errors.As(err, &le)
}

// definitionID is the canonical id of an app definition, for messages
// ("the app" when it has none, or a wrong one: the framework says why).
func definitionID(def json.RawMessage) string {
	var head struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(def, &head) == nil {
		if id, err := marathon.CanonicalID(head.ID); err == nil {
			return id
		}
	}
	return "the app"
}
