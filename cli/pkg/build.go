package pkg

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/content/oci"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/packaging"
)

// BuildOptions are the inputs of "cairn package build".
type BuildOptions struct {
	IO cmdutil.IOStreams
	// ErrIsTerminal says whether stderr is a terminal: the push's progress
	// is shown there live only then.
	ErrIsTerminal bool
	registryOptions

	Dir string
	// Output is the oci-layout directory to build into (default
	// ./NAME-VERSION.oci, or none with --push).
	Output string
	// Push is the repository to push to ("oci://host:port/ns").
	Push      string
	Platforms []string
	JSON      bool
}

// NewCmdBuild returns "cairn package build". runF replaces the run
// function in tests (nil runs buildRun).
func NewCmdBuild(f *cmdutil.Factory, runF func(context.Context, *BuildOptions) error) *cobra.Command {
	opts := &BuildOptions{IO: f.IOStreams, ErrIsTerminal: output.IsTerminal(f.IOStreams.ErrOut)}
	cmd := &cobra.Command{
		Use:   "build DIR",
		Short: "Build a package directory into an OCI artifact",
		Long: "Build the package in DIR (package.json, options.schema.json, app.json.tmpl,\n" +
			"bin/OS-ARCH/* and resources/*; see docs/packaging.md) into an OCI artifact,\n" +
			"after checking it: the manifest's fields, the schema, and the template\n" +
			"rendered with the schema's defaults. The same inputs always give the same\n" +
			"digest.\n\n" +
			"The artifact goes into an OCI layout directory, NAME-VERSION.oci in the\n" +
			"current directory unless -o says where, tagged with the package's version;\n" +
			"push it later with cairn package push. With --push (and no -o) it goes\n" +
			"straight to a package repository instead. --platform packs only the\n" +
			"binaries of the platforms given.",
		Example: "  cairn package build ./hello\n" +
			"  cairn package build ./hello -o /tmp/hello.oci --platform linux/amd64\n" +
			"  cairn package build ./hello --push oci://127.0.0.1:5000/cairn\n" +
			"  echo \"$PASSWORD\" | cairn package build ./hello --push oci://registry.example/pkgs --username me --password-stdin",
		Args: cmdutil.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			if opts.Push != "" {
				uri, err := parseRepoURI("--push", opts.Push)
				if err != nil {
					return err
				}
				opts.Push = uri
			} else if cmd.Flags().Changed("username") || opts.PasswordStdin || opts.PlainHTTP {
				return cmdutil.UsageErrorf("--username, --password-stdin and --plain-http go with --push")
			}
			if err := opts.registryOptions.check(opts.IO.In); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return buildRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Output, "output", "o", "", "the OCI layout `directory` to build into (default ./NAME-VERSION.oci)")
	fl.StringVar(&opts.Push, "push", "", "push the artifact to this package `repository` (oci://HOST[:PORT]/NAMESPACE)")
	fl.StringSliceVar(&opts.Platforms, "platform", nil, "pack only the binaries of these `platforms` (OS/ARCH, repeatable; default: all found)")
	fl.BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	opts.registryOptions.addFlags(cmd)
	return cmd
}

// built is what build --json prints.
type built struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Digest  string `json:"digest"`
	// Layout is the oci-layout directory built into, if any.
	Layout string `json:"layout,omitempty"`
	// Reference is the pinned reference of the pushed artifact, if any.
	Reference string `json:"reference,omitempty"`
}

func buildRun(ctx context.Context, opts *BuildOptions) error {
	p, files, err := loadPackage(opts.Dir)
	if err != nil {
		return err
	}
	name, version := p.Manifest.Name, p.Manifest.Version
	out := built{Name: name, Version: version}
	bopts := packaging.BuildOptions{Platforms: opts.Platforms}

	layout := opts.Output
	if layout == "" && opts.Push == "" {
		layout = name + "-" + version + ".oci"
	}
	if layout != "" {
		if err := checkLayoutDir(layout); err != nil {
			return err
		}
		store, err := oci.NewWithContext(ctx, layout)
		if err != nil {
			return fmt.Errorf("opening the OCI layout %s: %w", layout, err)
		}
		desc, err := packaging.Build(ctx, p, files, store, bopts)
		if err != nil {
			return fmt.Errorf("building package %s %s into %s: %w", name, version, layout, err)
		}
		out.Layout, out.Digest = layout, desc.Digest.String()
		if !opts.JSON {
			fmt.Fprintf(opts.IO.Out, "Built package %s %s into %s (digest %s)\n", name, version, layout, out.Digest)
		}
		if opts.Push != "" {
			ro, err := oci.NewFromFS(ctx, os.DirFS(layout))
			if err != nil {
				return fmt.Errorf("reading back the OCI layout %s: %w", layout, err)
			}
			if out.Reference, err = push(ctx, opts.IO, opts.ErrIsTerminal, opts.Push, opts.registryOptions, ro, desc, name, version); err != nil {
				return err
			}
		}
	} else {
		store := memory.New()
		desc, err := packaging.Build(ctx, p, files, store, bopts)
		if err != nil {
			return fmt.Errorf("building package %s %s: %w", name, version, err)
		}
		out.Digest = desc.Digest.String()
		if out.Reference, err = push(ctx, opts.IO, opts.ErrIsTerminal, opts.Push, opts.registryOptions, store, desc, name, version); err != nil {
			return err
		}
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, out)
	}
	if out.Reference != "" {
		_, err = fmt.Fprintf(opts.IO.Out, "Pushed package %s %s: %s\n", name, version, out.Reference)
	}
	return err
}

// checkLayoutDir refuses to build into a directory that holds something
// else than an OCI layout.
func checkLayoutDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case os.IsNotExist(err):
		return nil
	case err != nil:
		return fmt.Errorf("-o %s: %w", dir, err)
	case len(entries) > 0 && !isLayout(dir):
		abs, _ := filepath.Abs(dir)
		return fmt.Errorf("-o %s: %s is not empty and not an OCI layout: give a new or empty directory", dir, abs)
	}
	return nil
}
