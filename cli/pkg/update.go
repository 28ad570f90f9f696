package pkg

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/deployment"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

// UpdateOptions are the inputs of "cairn package update".
type UpdateOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	promptOptions
	// ErrIsTerminal says whether stderr is a terminal: --wait shows its
	// progress there only then.
	ErrIsTerminal bool
	// PollInterval is how often --wait looks at the deployment (default 1s).
	PollInterval time.Duration

	Name           string
	AppID          string
	Version        string
	OptionsFile    string
	ReplaceOptions bool
	Wait           bool
	JSON           bool
}

// NewCmdUpdate returns "cairn package update". runF replaces the run
// function in tests (nil runs updateRun).
func NewCmdUpdate(f *cmdutil.Factory, runF func(context.Context, *UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{IO: f.IOStreams, APIClient: f.APIClient}
	opts.InIsTerminal = cmdutil.IsTerminalInput(f.IOStreams.In)
	opts.ErrIsTerminal = output.IsTerminal(f.IOStreams.ErrOut)
	cmd := &cobra.Command{
		Use:     "update NAME",
		Aliases: []string{"upgrade"},
		Short:   "Upgrade an installed package or change its options",
		Long: "Move the app installed from a package to another version (--version) or\n" +
			"change its options (--options, merged over the ones it was installed with;\n" +
			"--replace-options starts from the package's defaults instead). The version\n" +
			"must allow it: a newer version's upgradesFrom must name the installed one,\n" +
			"and going back needs the installed version's upgradesFrom to name the older.\n" +
			"The app is re-rendered and redeployed by the services framework as any app\n" +
			"update, following its upgrade strategy.\n\n" +
			"Without --version or --options it shows the installed version, its options\n" +
			"and the versions it may move to. A package installed several times needs\n" +
			"--app-id. You are asked to confirm; pass --yes to skip the question.",
		Example: "  cairn package update hello\n" +
			"  cairn package update hello --version 1.1.0 --yes --wait\n" +
			"  echo '{\"instances\": 3}' | cairn package update hello --options - --yes",
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
			if opts.ReplaceOptions && opts.OptionsFile == "" {
				return cmdutil.UsageErrorf("--replace-options replaces the app's options with the ones of --options: give --options too (an empty object {} resets them to the defaults)")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return updateRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Version, "version", "", "the package `version` to move to (default: keep the installed one)")
	fl.StringVar(&opts.OptionsFile, "options", "", "a JSON `file` of options merged over the installed ones (- reads the standard input, with --yes)")
	fl.BoolVar(&opts.ReplaceOptions, "replace-options", false, "replace the installed options with --options instead of merging")
	fl.StringVar(&opts.AppID, "app-id", "", "the app `id` to update, when the package is installed several times")
	fl.BoolVarP(&opts.Wait, "wait", "w", false, "wait until the app's deployment is done (exit 1 if it fails)")
	fl.BoolVar(&opts.JSON, "json", false, "print the API's answer as JSON")
	opts.promptOptions.addFlags(cmd)
	return cmd
}

func updateRun(ctx context.Context, opts *UpdateOptions) error {
	change := opts.Version != "" || opts.OptionsFile != ""
	var userOpts map[string]any
	if change {
		var err error
		if userOpts, err = opts.optionsFor("updating package "+opts.Name, opts.OptionsFile, opts.IO.In); err != nil {
			return err
		}
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	apps, err := installs(ctx, client, opts.Name, opts.AppID)
	if err != nil {
		return err
	}
	if len(apps) > 1 {
		ids := make([]string, len(apps))
		for i, a := range apps {
			ids[i] = installID(a)
		}
		return fmt.Errorf("package %s is installed %d times (%s): name one with --app-id", opts.Name, len(apps), strings.Join(ids, ", "))
	}
	appID := installID(apps[0])
	inst := installWhat(apps[0].AppID, apps[0].Module) // "app /x" or "module x"
	cur, err := client.ServiceDescribe(ctx, packageapi.ServiceDescribeRequest{AppID: appID})
	if err != nil {
		return apiError(err, "describing "+inst, opts.Name, "")
	}
	if !change {
		if opts.JSON {
			return output.JSON(opts.IO.Out, cur)
		}
		return printServiceDescription(opts.IO, inst, appID, cur)
	}

	target := cur.Package.Version
	if opts.Version != "" {
		target = opts.Version
	}
	if !opts.Yes {
		what := fmt.Sprintf("%s: package %s %s", capitalize(inst), opts.Name, cur.Package.Version)
		if target != cur.Package.Version {
			what += " → " + target
		}
		switch {
		case opts.OptionsFile != "" && opts.ReplaceOptions:
			what += ", options replaced with those of " + optionsSource(opts.OptionsFile)
		case opts.OptionsFile != "":
			what += ", options of " + optionsSource(opts.OptionsFile) + " merged over the installed ones"
		}
		fmt.Fprintln(opts.IO.ErrOut, what+".")
	}
	if err := opts.confirm(opts.IO.In, opts.IO.ErrOut, "Continue updating?", inst+" not updated"); err != nil {
		return err
	}

	var w *deployment.Watcher
	if opts.Wait && apps[0].Module == "" {
		w = deployment.NewWatcher(ctx, client, deployment.ProgressConfig(opts.IO.ErrOut, opts.ErrIsTerminal && !opts.JSON, nil, opts.PollInterval))
		defer w.Close()
	}
	req := packageapi.ServiceUpdateRequest{AppID: appID, Options: userOpts, Replace: opts.ReplaceOptions}
	if target != cur.Package.Version {
		req.PackageVersion = target
	}
	res, err := client.ServiceUpdate(ctx, req)
	if err != nil {
		if serr := schemaError(opts.IO.ErrOut, err, optionsSource(opts.OptionsFile), opts.Name, target); serr != nil {
			return serr
		}
		if apiclient.PackageErrorType(err) == packageapi.ErrUpgradeNotAllowed {
			return hint(err, "%s cannot move from %s %s to %s (%s): see the versions it may move to with cairn package update %s --app-id %s",
				inst, opts.Name, cur.Package.Version, target, err, opts.Name, appID)
		}
		return apiError(err, "updating "+inst+" to package "+opts.Name+" "+target, opts.Name, target)
	}
	if opts.JSON {
		err = output.JSON(opts.IO.Out, res)
	} else {
		_, err = fmt.Fprintf(opts.IO.Out, "Updated %s to package %s version %s (digest %s)\n",
			inst, res.Package.Name, res.Package.Version, res.Package.Digest)
	}
	var line string
	switch {
	case err != nil:
		return err
	case opts.Wait && res.Module != "":
		line, err = waitModule(ctx, client, res.Module, deployment.ProgressConfig(opts.IO.ErrOut, opts.ErrIsTerminal && !opts.JSON, nil, opts.PollInterval))
	case w != nil && res.DeploymentID != "":
		line, err = w.Wait(ctx, deployment.Target{DeploymentID: res.DeploymentID, AppID: appID})
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

// printServiceDescription shows an installed package: its version, its
// options and where it may go.
func printServiceDescription(io cmdutil.IOStreams, inst, appID string, d packageapi.ServiceDescribeResponse) error {
	p := d.Package
	w := io.Out
	fmt.Fprintf(w, "%s runs package %s %s (digest %s) from %s\n", capitalize(inst), p.Name, p.Version, p.Digest, output.Clean(p.Source))
	none := func(vs []string) string {
		if len(vs) == 0 {
			return "none"
		}
		return strings.Join(vs, ", ")
	}
	fmt.Fprintf(w, "Upgrades to:   %s\n", none(d.UpgradesTo))
	fmt.Fprintf(w, "Downgrades to: %s\n", none(d.DowngradesTo))
	for _, o := range []struct {
		title string
		opts  map[string]any
	}{{"Options you gave:", d.UserProvidedOptions}, {"Options in effect (with the package's defaults):", d.ResolvedOptions}} {
		fmt.Fprintln(w, o.title)
		if err := output.JSON(w, nonNil(o.opts)); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "Change them with cairn package update %s --app-id %s --options FILE [--version V]\n", p.Name, appID)
	return nil
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
