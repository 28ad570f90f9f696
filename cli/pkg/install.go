package pkg

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/deployment"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/packaging"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

// InstallOptions are the inputs of "cairn package install".
type InstallOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	promptOptions
	// ErrIsTerminal says whether stderr is a terminal: --wait shows its
	// progress there only then.
	ErrIsTerminal bool
	// PollInterval is how often --wait looks at the app (default 1s).
	PollInterval time.Duration

	Name        string
	Version     string
	OptionsFile string
	AppID       string
	Wait        bool
	JSON        bool
}

// NewCmdInstall returns "cairn package install". runF replaces the run
// function in tests (nil runs installRun).
func NewCmdInstall(f *cmdutil.Factory, runF func(context.Context, *InstallOptions) error) *cobra.Command {
	opts := &InstallOptions{IO: f.IOStreams, APIClient: f.APIClient}
	opts.InIsTerminal = cmdutil.IsTerminalInput(f.IOStreams.In)
	opts.ErrIsTerminal = output.IsTerminal(f.IOStreams.ErrOut)
	cmd := &cobra.Command{
		Use:   "install NAME",
		Short: "Install a package as an app",
		Long: "Install a package (its highest version unless --version) as an app of the\n" +
			"services framework: the master resolves it in the repositories, checks your\n" +
			"options (--options, a JSON object) against its schema, renders its launch\n" +
			"template and submits the app, which then pulls the package's files by digest.\n\n" +
			"The package's pre-install notes are shown and you are asked to confirm; pass\n" +
			"--yes to skip the question (required when the standard input is not a\n" +
			"terminal). Without --wait the command returns once the app is submitted;\n" +
			"with --wait it follows the app until all its instances run.\n\n" +
			"Options that fail the schema are listed one per line; see the schema with\n" +
			"cairn package describe NAME --config, and what would be installed with\n" +
			"cairn package describe NAME --render --options FILE.",
		Example: "  cairn package install hello --yes\n" +
			"  cairn package install cron --options cron.json --wait\n" +
			"  cairn package install hello --version 1.0.0 --app-id /demo/hello --yes\n" +
			"  echo '{\"port\": 9000}' | cairn package install hello --options - --yes --json",
		Args: cmdutil.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := parsePackageName(args[0])
			if err != nil {
				return err
			}
			opts.Name = name
			if opts.AppID, err = parseAppID(opts.AppID); err != nil {
				return err
			}
			opts.Version = strings.TrimSpace(opts.Version)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return installRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.OptionsFile, "options", "", "a JSON `file` of options (- reads the standard input, with --yes)")
	fl.StringVar(&opts.Version, "version", "", "the package `version` to install (default: the highest)")
	fl.StringVar(&opts.AppID, "app-id", "", "the app `id` to install as (default /NAME)")
	fl.BoolVarP(&opts.Wait, "wait", "w", false, "wait until every instance of the app runs (exit 1 if its deployment fails)")
	fl.BoolVar(&opts.JSON, "json", false, "print the API's answer as JSON (notes go to stderr)")
	opts.promptOptions.addFlags(cmd)
	return cmd
}

func installRun(ctx context.Context, opts *InstallOptions) error {
	userOpts, err := opts.optionsFor("installing package "+opts.Name, opts.OptionsFile, opts.IO.In)
	if err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	d, err := client.PackageDescribe(ctx, packageapi.DescribeRequest{PackageName: opts.Name, PackageVersion: opts.Version})
	if err != nil {
		return apiError(err, "finding "+describing(opts.Name, opts.Version), opts.Name, opts.Version)
	}
	p := d.Package
	// Notes and questions are for people: with --json, stdout is the answer's.
	notes := opts.IO.Out
	if opts.JSON {
		notes = opts.IO.ErrOut
	}
	printNotes(notes, "Pre-install notes:", p.PreInstallNotes)
	appID := cmp.Or(opts.AppID, "/"+p.Name)
	isModule := p.Kind == packaging.KindModule
	as := "app " + appID
	if isModule {
		as = "module " + strings.TrimPrefix(appID, "/") + " on the master's module host"
	}
	if !opts.Yes {
		fmt.Fprintf(opts.IO.ErrOut, "Package %s %s will be installed as %s.\n", p.Name, p.Version, as)
	}
	if err := opts.confirm(opts.IO.In, opts.IO.ErrOut, "Continue installing?", "package "+p.Name+" not installed"); err != nil {
		return err
	}

	var w *deployment.Watcher
	if opts.Wait && !isModule {
		// Subscribed before the install, so that no event of its deployment is missed.
		w = deployment.NewWatcher(ctx, client, deployment.ProgressConfig(opts.IO.ErrOut, opts.ErrIsTerminal && !opts.JSON, nil, opts.PollInterval))
		defer w.Close()
	}
	// The version described (and whose notes were shown) is the one installed.
	res, err := client.PackageInstall(ctx, packageapi.InstallRequest{
		PackageName: p.Name, PackageVersion: p.Version, AppID: opts.AppID, Options: userOpts})
	if err != nil {
		return installError(opts.IO.ErrOut, err, opts, p.Name, p.Version, appID)
	}
	if opts.JSON {
		err = output.JSON(opts.IO.Out, res)
	} else {
		_, err = fmt.Fprintf(opts.IO.Out, "Installed package %s version %s as %s (digest %s)\n",
			res.PackageName, res.PackageVersion, installWhat(res.AppID, res.Module), res.Digest)
	}
	if err != nil {
		return err
	}
	printNotes(notes, "Post-install notes:", res.PostInstallNotes)
	var line string
	switch {
	case opts.Wait && res.Module != "":
		line, err = waitModule(ctx, client, res.Module, deployment.ProgressConfig(opts.IO.ErrOut, opts.ErrIsTerminal && !opts.JSON, nil, opts.PollInterval))
	case w != nil:
		line, err = waitInstalled(ctx, opts, client, w, res)
	default:
		return nil
	}
	if err != nil {
		return err
	}
	if !opts.JSON {
		_, err = fmt.Fprintln(opts.IO.Out, line)
	}
	return err
}

// installError reports a failed install.
func installError(errOut io.Writer, err error, opts *InstallOptions, name, version, appID string) error {
	if serr := schemaError(errOut, err, optionsSource(opts.OptionsFile), name, version); serr != nil {
		return serr
	}
	switch apiclient.PackageErrorType(err) {
	case packageapi.ErrAppAlreadyInstalled:
		return hint(err, "app %s already exists: install under another id with --app-id ID, or remove it first (see cairn package list)", appID)
	}
	return apiError(err, "installing package "+name+" "+version, name, version)
}

// waitInstalled follows the install's deployment to its end (or, without
// one, the app until its instances run).
func waitInstalled(ctx context.Context, opts *InstallOptions, client *apiclient.Client, w *deployment.Watcher, res packageapi.InstallResponse) (string, error) {
	if res.DeploymentID != "" {
		return w.Wait(ctx, deployment.Target{DeploymentID: res.DeploymentID, AppID: res.AppID})
	}
	return waitRunning(ctx, client, res.AppID, deployment.ProgressConfig(opts.IO.ErrOut, opts.ErrIsTerminal && !opts.JSON, nil, opts.PollInterval))
}

// maxLookFailures is how many looks at an app in a row may fail before
// waitRunning gives up.
const maxLookFailures = 5

// waitRunning polls an app until it has as many tasks running as it wants
// instances, showing progress as cfg says; it returns a line saying so.
func waitRunning(ctx context.Context, client *apiclient.Client, appID string, cfg deployment.Config) (string, error) {
	poll := cmp.Or(cfg.PollInterval, time.Second)
	if cfg.Status != nil {
		defer cfg.Status.Clear()
	}
	tick := time.NewTicker(min(poll, 100*time.Millisecond))
	defer tick.Stop()
	var last time.Time
	failures := 0
	for {
		if time.Since(last) >= poll {
			last = time.Now()
			a, err := client.App(ctx, appID)
			switch {
			case ctx.Err() != nil:
				return "", ctx.Err()
			case deployment.IsNotFound(err):
				return "", fmt.Errorf("app %s no longer exists: its installation was undone (see cairn app list)", appID)
			case err != nil:
				failures++
				var nse *apiclient.NoServiceError
				if failures >= maxLookFailures || errors.As(err, &nse) {
					return "", deployment.ServiceError("following app "+appID, err)
				}
			default:
				failures = 0
				want := 1
				if a.Instances != nil {
					want = *a.Instances
				}
				line := fmt.Sprintf("app %s: %d/%d tasks running", appID, a.TasksRunning, want)
				if a.TasksRunning >= want {
					return fmt.Sprintf("App %s is running: %d/%d tasks", appID, a.TasksRunning, want), nil
				}
				if cfg.Status != nil {
					cfg.Status.Set(line)
				}
				if cfg.Lines != nil {
					fmt.Fprintln(cfg.Lines, line)
				}
			}
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-tick.C:
			if cfg.Status != nil {
				cfg.Status.Tick()
			}
		}
	}
}
