package pkg

import (
	"context"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/packaging"
)

// PushOptions are the inputs of "cairn package push".
type PushOptions struct {
	IO cmdutil.IOStreams
	// ErrIsTerminal says whether stderr is a terminal: the progress is
	// shown there live only then (a line per blob otherwise).
	ErrIsTerminal bool
	registryOptions

	// Source is a package directory, or an oci-layout directory
	// (DIR[:TAG|@DIGEST]).
	Source    string
	Repo      string
	Platforms []string
	JSON      bool
}

// NewCmdPush returns "cairn package push". runF replaces the run function
// in tests (nil runs pushRun).
func NewCmdPush(f *cmdutil.Factory, runF func(context.Context, *PushOptions) error) *cobra.Command {
	opts := &PushOptions{IO: f.IOStreams, ErrIsTerminal: output.IsTerminal(f.IOStreams.ErrOut)}
	cmd := &cobra.Command{
		Use:     "push SOURCE --repo oci://HOST[:PORT]/NAMESPACE",
		Aliases: []string{"publish"},
		Short:   "Publish a package to a package repository",
		Long: "Publish a package to a package repository (an OCI registry namespace): it goes\n" +
			"to NAMESPACE/NAME, tagged with its version, and the repository's index is\n" +
			"updated so that cairn package search finds it. SOURCE is a package directory\n" +
			"(built on the fly, as cairn package build does) or an OCI layout directory\n" +
			"made by cairn package build (DIR, or DIR:TAG / DIR@DIGEST when it holds\n" +
			"several artifacts).\n\n" +
			"It prints the artifact's pinned reference (oci://.../NAME@sha256:...). The\n" +
			"registry's credentials come from --username and --password-stdin, or else\n" +
			"from the Docker config (docker login / oras login). Progress goes to stderr.",
		Example: "  cairn package push ./hello --repo oci://127.0.0.1:5000/cairn\n" +
			"  cairn package push hello-1.0.0.oci --repo oci://registry.example/pkgs\n" +
			"  echo \"$PASSWORD\" | cairn package push hello-1.0.0.oci:1.0.0 --repo oci://registry.example/pkgs --username me --password-stdin\n" +
			"  cairn package push ./hello --repo oci://10.0.0.5:5000/cairn --plain-http --json | jq -r .reference",
		Args: cmdutil.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Source = args[0]
			if opts.Repo == "" {
				return cmdutil.UsageErrorf("--repo is required: give the package repository to push to, e.g. --repo oci://127.0.0.1:5000/cairn (see cairn repo list)")
			}
			uri, err := parseRepoURI("--repo", opts.Repo)
			if err != nil {
				return err
			}
			opts.Repo = uri
			if err := opts.registryOptions.check(opts.IO.In); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return pushRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Repo, "repo", "", "the package `repository` to push to (oci://HOST[:PORT]/NAMESPACE)")
	fl.StringSliceVar(&opts.Platforms, "platform", nil, "for a package directory: pack only the binaries of these `platforms` (OS/ARCH)")
	fl.BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	opts.registryOptions.addFlags(cmd)
	return cmd
}

func pushRun(ctx context.Context, opts *PushOptions) error {
	var (
		src  content.ReadOnlyStorage
		desc ocispec.Descriptor
		pkg  *packaging.Package
	)
	dir, ref := splitLayoutRef(opts.Source)
	switch {
	case isLayout(dir):
		if len(opts.Platforms) > 0 {
			return cmdutil.UsageErrorf("--platform chooses what a build packs: %s is already built", dir)
		}
		store, d, err := openLayout(ctx, dir, ref)
		if err != nil {
			return err
		}
		if pkg, err = packaging.Read(ctx, store, d); err != nil {
			return fmt.Errorf("%s in the OCI layout %s is not a valid package: %w", d.Digest, dir, err)
		}
		src, desc = store, d
	case ref == "" && isPackageDir(dir):
		p, files, err := loadPackage(dir)
		if err != nil {
			return err
		}
		store := memory.New()
		d, err := packaging.Build(ctx, p, files, store, packaging.BuildOptions{Platforms: opts.Platforms})
		if err != nil {
			return fmt.Errorf("building package %s %s: %w", p.Manifest.Name, p.Manifest.Version, err)
		}
		src, desc, pkg = store, d, p
	case isDir(dir):
		return fmt.Errorf("%s is neither a package directory (with %s) nor an OCI layout (with %s)", dir, packaging.ManifestFile, layoutFile)
	default:
		return fmt.Errorf("%s: no such directory: give a package directory or an OCI layout made by cairn package build", opts.Source)
	}
	name, version := pkg.Manifest.Name, pkg.Manifest.Version
	reference, err := push(ctx, opts.IO, opts.ErrIsTerminal, opts.Repo, opts.registryOptions, src, desc, name, version)
	if err != nil {
		return err
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, built{Name: name, Version: version, Digest: desc.Digest.String(), Reference: reference})
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Pushed package %s %s: %s\n", name, version, reference)
	return err
}
