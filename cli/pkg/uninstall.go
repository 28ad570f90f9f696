package pkg

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/deployment"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

// UninstallOptions are the inputs of "cairn package uninstall".
type UninstallOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	promptOptions
	// ErrIsTerminal says whether stderr is a terminal: --wait shows its
	// progress there only then.
	ErrIsTerminal bool
	// PollInterval is how often --wait looks at the removal (default 1s).
	PollInterval time.Duration

	Name  string
	AppID string
	All   bool
	Wait  bool
	JSON  bool
}

// NewCmdUninstall returns "cairn package uninstall". runF replaces the run
// function in tests (nil runs uninstallRun).
func NewCmdUninstall(f *cmdutil.Factory, runF func(context.Context, *UninstallOptions) error) *cobra.Command {
	opts := &UninstallOptions{IO: f.IOStreams, APIClient: f.APIClient}
	opts.InIsTerminal = cmdutil.IsTerminalInput(f.IOStreams.In)
	opts.ErrIsTerminal = output.IsTerminal(f.IOStreams.ErrOut)
	cmd := &cobra.Command{
		Use:     "uninstall NAME",
		Aliases: []string{"remove", "rm"},
		Short:   "Remove the app installed from a package",
		Long: "Remove the app installed from a package: its instances are killed and the app\n" +
			"removed. A package installed several times (under several app ids) needs\n" +
			"--app-id to name one, or --all. The package's post-uninstall notes are shown\n" +
			"(some packages leave data behind that they tell you how to clean up).\n\n" +
			"You are asked to confirm; pass --yes to skip the question (required when the\n" +
			"standard input is not a terminal). With --wait the command returns once the\n" +
			"last instance has ended.",
		Example: "  cairn package uninstall hello --yes\n" +
			"  cairn package uninstall hello --app-id /demo/hello\n" +
			"  cairn package uninstall hello --all --yes --wait",
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
			if opts.All && opts.AppID != "" {
				return cmdutil.UsageErrorf("--app-id names one app and --all means every one: give only one of them")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return uninstallRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.AppID, "app-id", "", "the app `id` to remove, when the package is installed several times")
	fl.BoolVar(&opts.All, "all", false, "remove every app installed from the package")
	fl.BoolVarP(&opts.Wait, "wait", "w", false, "wait until the apps' instances have ended")
	fl.BoolVar(&opts.JSON, "json", false, "print the API's answer as JSON (notes go to stderr)")
	opts.promptOptions.addFlags(cmd)
	return cmd
}

func uninstallRun(ctx context.Context, opts *UninstallOptions) error {
	if err := opts.check("uninstalling package " + opts.Name); err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	// What is installed, to say what will go (and to tell a wrong app id
	// or a missing --all before asking).
	apps, err := installs(ctx, client, opts.Name, opts.AppID)
	if err != nil {
		return err
	}
	if len(apps) > 1 && !opts.All && opts.AppID == "" {
		return ambiguous(opts.Name, apps)
	}
	if !opts.Yes {
		for _, a := range apps {
			fmt.Fprintf(opts.IO.ErrOut, "%s (package %s %s) will be removed.\n", capitalize(installWhat(a.AppID, a.Module)), a.PackageName, a.PackageVersion)
		}
	}
	if err := opts.confirm(opts.IO.In, opts.IO.ErrOut, "Continue uninstalling?", "package "+opts.Name+" not uninstalled"); err != nil {
		return err
	}

	var w *deployment.Watcher
	if opts.Wait {
		w = deployment.NewWatcher(ctx, client, deployment.ProgressConfig(opts.IO.ErrOut, opts.ErrIsTerminal && !opts.JSON, nil, opts.PollInterval))
		defer w.Close()
	}
	req := packageapi.UninstallRequest{PackageName: opts.Name, AppID: opts.AppID, All: opts.All}
	if len(apps) == 1 && !opts.All {
		req.AppID = installID(apps[0]) // the one asked about, and no other
	}
	res, err := client.PackageUninstall(ctx, req)
	if err != nil {
		switch apiclient.PackageErrorType(err) {
		case packageapi.ErrAppNotFound:
			return hint(err, "package %s is not installed%s (any more): see cairn package list", opts.Name, asApp(req.AppID))
		case packageapi.ErrAmbiguousApp:
			return hint(err, "package %s is installed several times: name the app with --app-id, or pass --all (see cairn package list %s)", opts.Name, opts.Name)
		}
		return apiError(err, "uninstalling package "+opts.Name, opts.Name, "")
	}
	notes := opts.IO.Out
	if opts.JSON {
		notes = opts.IO.ErrOut
		if err := output.JSON(opts.IO.Out, res); err != nil {
			return err
		}
	}
	for _, r := range res.Results {
		if !opts.JSON {
			fmt.Fprintf(opts.IO.Out, "Uninstalled package %s version %s (%s)\n", r.PackageName, r.PackageVersion, installWhat(r.AppID, r.Module))
		}
		printNotes(notes, "Post-uninstall notes:", r.PostUninstallNotes)
	}
	if w == nil {
		return nil
	}
	for _, r := range res.Results {
		if r.DeploymentID == "" {
			continue
		}
		line, err := w.Wait(ctx, deployment.Target{DeploymentID: r.DeploymentID, AppID: r.AppID, Removal: true})
		if err != nil {
			return err
		}
		if !opts.JSON {
			fmt.Fprintln(opts.IO.Out, line)
		}
	}
	return nil
}

// installs lists the apps installed from package name (only appID, when
// set), sorted by id; none is an error saying so.
func installs(ctx context.Context, client *apiclient.Client, name, appID string) ([]packageapi.Installed, error) {
	list, err := client.PackageList(ctx, packageapi.ListRequest{PackageName: name, AppID: appID})
	if err != nil {
		return nil, apiError(err, "listing the installs of package "+name, name, "")
	}
	apps := list.Packages
	slices.SortFunc(apps, func(a, b packageapi.Installed) int { return strings.Compare(installID(a), installID(b)) })
	switch {
	case len(apps) == 0 && appID != "":
		return nil, fmt.Errorf("package %s is not installed as app %s: see cairn package list %s", name, appID, name)
	case len(apps) == 0:
		return nil, fmt.Errorf("package %s is not installed: see cairn package list", name)
	}
	return apps, nil
}

// ambiguous is the error for a package installed several times, with
// neither --app-id nor --all.
func ambiguous(name string, apps []packageapi.Installed) error {
	ids := make([]string, len(apps))
	for i, a := range apps {
		ids[i] = installID(a)
	}
	return fmt.Errorf("package %s is installed %d times (%s): name one with --app-id, or pass --all to remove them all",
		name, len(apps), strings.Join(ids, ", "))
}

// installID names an install: its app id, or its module's name.
func installID(p packageapi.Installed) string { return cmp.Or(p.AppID, p.Module) }

// installWhat says what an install is: "app /web" or "module dns".
func installWhat(appID, module string) string {
	if appID == "" && module != "" {
		return "module " + module
	}
	return "app " + appID
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func asApp(id string) string {
	if id == "" {
		return ""
	}
	return " as app " + id
}
