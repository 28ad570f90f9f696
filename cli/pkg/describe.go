package pkg

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

// DescribeOptions are the inputs of "cairn package describe".
type DescribeOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)

	Name    string
	Version string
	// Config prints the options schema.
	Config bool
	// Render prints the app the package would be installed as, with the
	// options in OptionsFile and the app id AppID.
	Render      bool
	OptionsFile string
	AppID       string
	JSON        bool
}

// NewCmdDescribe returns "cairn package describe". runF replaces the run
// function in tests (nil runs describeRun).
func NewCmdDescribe(f *cmdutil.Factory, runF func(context.Context, *DescribeOptions) error) *cobra.Command {
	opts := &DescribeOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "describe NAME",
		Aliases: []string{"show"},
		Short:   "Show a package's details, options schema or rendered app",
		Long: "Show a package version (the highest unless --version): its kind, description,\n" +
			"maintainer, licences, tags, versions, pre-install notes and files.\n\n" +
			"--config prints the JSON Schema of its options: what --options of cairn\n" +
			"package install may set, and their defaults. --render prints the app the\n" +
			"package would be installed as (the launch template rendered with --options\n" +
			"and --app-id), without installing anything.",
		Example: "  cairn package describe hello\n" +
			"  cairn package describe hello --version 1.0.0 --config\n" +
			"  cairn package describe hello --render --options hello.json --app-id /demo/hello\n" +
			"  cairn package describe hello --json | jq -r .package.digest",
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Version, "version", "", "the package `version` (default: the highest)")
	fl.BoolVar(&opts.Config, "config", false, "print the options JSON Schema")
	fl.BoolVar(&opts.Render, "render", false, "print the app the package would be installed as")
	fl.StringVar(&opts.OptionsFile, "options", "", "with --render: a JSON `file` of options (- reads the standard input)")
	fl.StringVar(&opts.AppID, "app-id", "", "with --render: the app `id` to render for (default /NAME)")
	fl.BoolVar(&opts.JSON, "json", false, "print the API's answer as JSON")
	return cmdutil.OneArg(cmd, cmdutil.CompleteArgs(f, 1, Candidates), func(arg string) error {
		name, err := parsePackageName(arg)
		if err != nil {
			return err
		}
		opts.Name = name
		switch {
		case opts.Config && opts.Render:
			return cmdutil.UsageErrorf("--config and --render print different things: give one of them")
		case !opts.Render && (cmd.Flags().Changed("options") || cmd.Flags().Changed("app-id")):
			return cmdutil.UsageErrorf("--options and --app-id go with --render")
		}
		if opts.AppID, err = parseAppID(opts.AppID); err != nil {
			return err
		}
		opts.Version = strings.TrimSpace(opts.Version)
		return nil
	}, cmdutil.RunOrTest(opts, runF, describeRun))
}

// description is what describe --json prints.
type description struct {
	Package  packageapi.PackageDetails `json:"package"`
	Versions []string                  `json:"versions"`
}

func describeRun(ctx context.Context, opts *DescribeOptions) error {
	var userOpts map[string]any
	if opts.Render && opts.OptionsFile != "" {
		var err error
		if userOpts, err = readOptions(opts.OptionsFile, opts.IO.In); err != nil {
			return err
		}
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	what := describing(opts.Name, opts.Version)
	if opts.Render {
		return renderRun(ctx, opts, client, userOpts)
	}
	d, err := client.PackageDescribe(ctx, packageapi.DescribeRequest{PackageName: opts.Name, PackageVersion: opts.Version})
	if err != nil {
		return apiError(err, "describing "+what, opts.Name, opts.Version)
	}
	p := d.Package
	if opts.Config {
		if opts.JSON || len(bytes.TrimSpace(p.Config)) > 0 {
			return printJSON(opts.IO.Out, p.Config)
		}
		_, err := fmt.Fprintf(opts.IO.ErrOut, "Package %s %s takes no options.\n", p.Name, p.Version)
		return err
	}
	vs, err := client.PackageListVersions(ctx, packageapi.ListVersionsRequest{PackageName: opts.Name})
	if err != nil {
		return apiError(err, "listing the versions of package "+opts.Name, opts.Name, "")
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, description{Package: p, Versions: vs.Versions})
	}
	return printDescription(opts.IO.Out, p, vs.Versions)
}

func renderRun(ctx context.Context, opts *DescribeOptions, client *apiclient.Client, userOpts map[string]any) error {
	r, err := client.PackageRender(ctx, packageapi.RenderRequest{
		PackageName: opts.Name, PackageVersion: opts.Version, AppID: opts.AppID, Options: userOpts})
	if err != nil {
		if serr := schemaError(opts.IO.ErrOut, err, optionsSource(opts.OptionsFile), opts.Name, opts.Version); serr != nil {
			return serr
		}
		return apiError(err, "rendering "+describing(opts.Name, opts.Version), opts.Name, opts.Version)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, r)
	}
	return printJSON(opts.IO.Out, r.App)
}

// describing names a package (version) in messages: "package hello",
// "package hello 1.0.0".
func describing(name, version string) string {
	if version == "" {
		return "package " + name
	}
	return "package " + name + " " + version
}

// optionsSource is where options came from, for messages.
func optionsSource(file string) string {
	if file == "-" {
		return "the standard input"
	}
	return file
}

// printJSON prints raw JSON indented (null when empty).
func printJSON(w io.Writer, raw json.RawMessage) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage("null")
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return fmt.Errorf("the master's answer holds invalid JSON: %w", err)
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

func printDescription(w io.Writer, p packageapi.PackageDetails, versions []string) error {
	head := p.Name + " " + p.Version
	if p.Release > 0 {
		head += " (release " + strconv.Itoa(p.Release) + ")"
	}
	if p.Kind != "" {
		head += " · " + string(p.Kind)
	}
	fmt.Fprintln(w, output.Clean(head))
	if d := strings.TrimSpace(p.Description); d != "" {
		for line := range strings.SplitSeq(d, "\n") {
			fmt.Fprintln(w, strings.TrimRight(safeLine(line), " "))
		}
	}
	fmt.Fprintln(w)

	fs := output.NewFields(w)
	fs.Field("Maintainer", p.Maintainer)
	if p.Website != "" {
		fs.Field("Website", p.Website)
	}
	var lics []string
	for _, l := range p.Licenses {
		s := l.Name
		if l.URL != "" {
			s += " (" + l.URL + ")"
		}
		lics = append(lics, s)
	}
	fs.Field("Licences", strings.Join(lics, ", "))
	fs.Field("Tags", strings.Join(p.Tags, ", "))
	fs.Field("Versions", strings.Join(versions, ", "))
	if len(p.UpgradesFrom) > 0 {
		fs.Field("Upgrades from", strings.Join(p.UpgradesFrom, ", "))
	}
	repo := p.Repository
	if p.Source != "" {
		repo += " (" + p.Source + ")"
	}
	fs.Field("Repository", strings.TrimSpace(repo))
	fs.Field("Artifact", p.Artifact)
	fs.Field("Digest", p.Digest)
	fs.Field("Options", optionNames(p.Config, p.Name, p.Version))
	if err := fs.Flush(); err != nil {
		return fmt.Errorf("writing the package: %w", err)
	}
	if strings.TrimSpace(p.PreInstallNotes) != "" {
		fmt.Fprintln(w)
		printNotes(w, "Pre-install notes:", p.PreInstallNotes)
	}
	fmt.Fprintln(w)
	if len(p.Files) == 0 {
		_, err := fmt.Fprintln(w, "No files.")
		return err
	}
	t := output.NewTable(w, "FILE", "PLATFORM", "EXECUTABLE", "SIZE", "DIGEST")
	for _, f := range p.Files {
		exe := ""
		if f.Executable {
			exe = "yes"
		}
		t.Row(f.Name, f.Platform, exe, byteSize(f.Size), shortDigest(f.Digest))
	}
	return t.Flush()
}

// optionNames lists the top-level options of a schema: "port, cpus (see
// --config)".
func optionNames(schema json.RawMessage, name, version string) string {
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if len(bytes.TrimSpace(schema)) == 0 || json.Unmarshal(schema, &s) != nil || len(s.Properties) == 0 {
		return "none"
	}
	names := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		names = append(names, k)
	}
	slices.Sort(names)
	return fmt.Sprintf("%s (see cairn package describe %s --version %s --config)", strings.Join(names, ", "), name, version)
}

// byteSize prints a size in bytes with a binary unit: "512 B", "1.5 KiB".
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	f, i := float64(n), 0
	for f >= unit && i < 4 {
		f /= unit
		i++
	}
	return strconv.FormatFloat(float64(int64(f*10+0.5))/10, 'f', -1, 64) + " " + []string{"B", "KiB", "MiB", "GiB", "TiB"}[i]
}
