// Package app is "cairn app": the long-running services of the cluster,
// run by the services framework (Cairn's Marathon) from Marathon app
// definitions. Every change to an app is carried out by a deployment,
// which --wait follows to its end (see package deployment).
package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/deployment"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
)

// NewCmdApp returns "cairn app" and its verbs.
func NewCmdApp(f *cmdutil.Factory) *cobra.Command {
	cmd := cmdutil.NewNounCmd("app", "Run and manage long-running apps",
		"Apps are long-running services, kept running by the services framework\n"+
			"(Cairn's Marathon, started by cairn up) from Marathon app definitions (JSON).\n"+
			"Every change to an app is a deployment: --wait follows it to its end, and\n"+
			"cairn deployment watches and rolls back deployments.\n\n"+
			"App ids are paths: \"web\" and \"/web\" name the same app.")
	cmd.AddCommand(
		NewCmdList(f, nil),
		NewCmdShow(f, nil),
		NewCmdAdd(f, nil),
		NewCmdUpdate(f, nil),
		NewCmdScale(f, nil),
		NewCmdRestart(f, nil),
		NewCmdRemove(f, nil),
		NewCmdVersions(f, nil),
	)
	return cmd
}

// ChangeOptions are what the commands that change an app share.
type ChangeOptions struct {
	// ErrIsTerminal says whether stderr is a terminal: --wait shows its
	// progress there only then.
	ErrIsTerminal bool
	// PollInterval is how often --wait looks at the deployment (default 1s).
	PollInterval time.Duration

	// Force overrides a deployment in progress on the app.
	Force bool
	// Wait follows the change's deployment to its end.
	Wait bool
	// JSON prints the framework's answer as JSON.
	JSON bool
}

func (o *ChangeOptions) addFlags(cmd *cobra.Command, force bool) {
	if force {
		cmd.Flags().BoolVar(&o.Force, "force", false, "override the deployment in progress on the app, if any")
	}
	cmd.Flags().BoolVarP(&o.Wait, "wait", "w", false, "wait for the deployment to end (exit 1 if it fails or is rolled back)")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the services framework's answer as JSON")
}

// parseAppID reads an app id argument: "web" and "/web" are "/web".
func parseAppID(s string) (string, error) {
	id, err := marathon.CanonicalID(strings.TrimSpace(s))
	if err != nil {
		return "", cmdutil.UsageErrorf("app id %v", err)
	}
	return id, nil
}

// maxDefinitionBytes is the largest definition the services framework reads.
const maxDefinitionBytes = 4 << 20

// readDefinition reads a JSON object from a file, or from in for "-".
func readDefinition(path string, in io.Reader) (json.RawMessage, error) {
	name := path
	var r io.Reader
	if path == "-" {
		name, r = "the standard input", in
		if r == nil {
			r = strings.NewReader("")
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("reading the app definition: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxDefinitionBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the app definition from %s: %w", name, err)
	}
	if len(data) > maxDefinitionBytes {
		return nil, fmt.Errorf("the app definition in %s is larger than %d MiB", name, maxDefinitionBytes>>20)
	}
	data = bytes.TrimSpace(data)
	if !isObject(data) {
		// Let the framework's own parser say what is wrong, and where.
		_, _, err := marathon.ParseApp(data)
		var ve *marathon.ValidationError
		if errors.As(err, &ve) {
			return nil, invalidError(*ve, " in "+name)
		}
		return nil, fmt.Errorf("the app definition in %s is not a JSON object: give one such as {\"id\": \"/web\", \"cmd\": \"...\"}", name)
	}
	return json.RawMessage(data), nil
}

// isObject reports whether data is one valid JSON object.
func isObject(data []byte) bool {
	return len(data) > 0 && data[0] == '{' && json.Valid(data)
}

// appError reports a failed call about app id ("doing" says what was being
// done): Marathon's answers in the CLI's words.
func appError(err error, id, doing string) error {
	var locked *apiclient.AppLockedError
	var invalid *apiclient.AppInvalidError
	switch {
	case errors.As(err, &locked):
		ids := locked.Deployments
		return fmt.Errorf("app %s is locked by deployment %s: retry with --force to override it (or follow it with cairn deployment watch %s)",
			id, strings.Join(ids, ", "), ids[0])
	case errors.As(err, &invalid):
		return invalidError(invalid.Validation, "")
	case deployment.IsNotFound(err):
		return fmt.Errorf("app %s does not exist (see cairn app list)", id)
	}
	return deployment.ServiceError(doing, err)
}

// invalidError prints every problem of a 422: "invalid app: /instances:
// must be >= 0; /cmd: ..."; where, when not empty, says where the app was
// read (" in web.json").
func invalidError(v marathon.ValidationError, where string) error {
	parts := make([]string, 0, len(v.Details))
	for _, d := range v.Details {
		parts = append(parts, d.Path+": "+strings.Join(d.Errors, ", "))
	}
	if len(parts) == 0 {
		parts = append(parts, v.Message)
	}
	return errors.New("invalid app" + where + ": " + strings.Join(parts, "; "))
}

// printWarnings prints the fields the services framework ignored.
func printWarnings(w io.Writer, warnings []string) {
	for _, s := range warnings {
		fmt.Fprintf(w, "Warning: %s\n", output.Clean(s))
	}
}

// change carries out a change of app id that answers a deployment, as the
// options say: it prints the answer (line, or JSON), then follows the
// deployment with --wait.
func change(ctx context.Context, streams cmdutil.IOStreams, client *apiclient.Client, o ChangeOptions, id, doing string, removal bool,
	do func() (apiclient.DeploymentResult, error), line func(apiclient.DeploymentResult) string) error {
	var w *deployment.Watcher
	if o.Wait {
		w = deployment.NewWatcher(ctx, client, deployment.ProgressConfig(streams.ErrOut, o.ErrIsTerminal && !o.JSON, nil, o.PollInterval))
		defer w.Close()
	}
	res, err := do()
	if err != nil {
		return appError(err, id, doing)
	}
	printWarnings(streams.ErrOut, res.Warnings)
	if o.JSON {
		err = output.JSON(streams.Out, res)
	} else {
		_, err = fmt.Fprintln(streams.Out, line(res))
	}
	if err != nil || w == nil {
		return err
	}
	return wait(ctx, streams, o, w, deployment.Target{DeploymentID: res.DeploymentID, AppID: id, Version: res.Version, Removal: removal})
}

// wait follows a deployment and prints how it succeeded (not with --json).
func wait(ctx context.Context, streams cmdutil.IOStreams, o ChangeOptions, w *deployment.Watcher, t deployment.Target) error {
	if t.DeploymentID == "" {
		return nil // nothing to do: the framework started no deployment
	}
	line, err := w.Wait(ctx, t)
	if err != nil {
		return err
	}
	if !o.JSON {
		_, err = fmt.Fprintln(streams.Out, line)
	}
	return err
}
