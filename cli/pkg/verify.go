package pkg

import (
	"context"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"
	"oras.land/oras-go/v2/content"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/packaging"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

// VerifyOptions are the inputs of "cairn package verify".
type VerifyOptions struct {
	IO cmdutil.IOStreams
	registryOptions

	// Source is an oci-layout directory (DIR[:TAG|@DIGEST]) or a remote
	// artifact (oci://HOST/NS/NAME:VERSION or @DIGEST).
	Source string
	JSON   bool
}

// NewCmdVerify returns "cairn package verify". runF replaces the run
// function in tests (nil runs verifyRun).
func NewCmdVerify(f *cmdutil.Factory, runF func(context.Context, *VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "verify SOURCE",
		Short: "Check a package artifact's digests and contents",
		Long: "Read a whole package artifact, its files included, checking the digest of\n" +
			"every blob and that the package is valid (manifest, schema, template). SOURCE\n" +
			"is an OCI layout directory made by cairn package build (DIR, DIR:TAG or\n" +
			"DIR@DIGEST) or an artifact in a registry: oci://HOST[:PORT]/NAMESPACE/NAME:VERSION\n" +
			"or oci://HOST[:PORT]/NAMESPACE/NAME@sha256:... (credentials as for cairn\n" +
			"package push). Exits 1 when anything does not match.",
		Example: "  cairn package verify hello-1.0.0.oci\n" +
			"  cairn package verify oci://127.0.0.1:5000/cairn/hello:1.0.0\n" +
			"  cairn package verify oci://registry.example/pkgs/hello@sha256:0123...",
		Args: cmdutil.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Source = strings.TrimSpace(args[0])
			if !strings.HasPrefix(opts.Source, "oci://") && (cmd.Flags().Changed("username") || opts.PasswordStdin || opts.PlainHTTP) {
				return cmdutil.UsageErrorf("--username, --password-stdin and --plain-http go with an oci:// SOURCE")
			}
			if err := opts.registryOptions.check(opts.IO.In); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return verifyRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the verified package as JSON")
	opts.registryOptions.addFlags(cmd)
	return cmd
}

// verified is what verify --json prints.
type verified struct {
	Name    string                `json:"name"`
	Version string                `json:"version"`
	Kind    packaging.Kind        `json:"kind"`
	Digest  string                `json:"digest"`
	Files   []packageapi.FileInfo `json:"files"`
}

func verifyRun(ctx context.Context, opts *VerifyOptions) error {
	var (
		src  content.Fetcher
		desc ocispec.Descriptor
	)
	if strings.HasPrefix(opts.Source, "oci://") {
		a, err := openRemoteArtifact(opts.Source, opts.registryOptions)
		if err != nil {
			return err
		}
		if desc, err = a.repo.Resolve(ctx, a.ref.Reference); err != nil {
			return fmt.Errorf("finding %s: %w (check the name and version with cairn package search, or the credentials)", opts.Source, err)
		}
		src = a.repo
	} else {
		dir, ref := splitLayoutRef(opts.Source)
		switch {
		case isLayout(dir):
		case isPackageDir(dir):
			return fmt.Errorf("%s is a package directory: build it first (cairn package build %s), then verify the OCI layout", dir, dir)
		case isDir(dir):
			return fmt.Errorf("%s is not an OCI layout (it has no %s file): give one made by cairn package build, or an oci:// reference", dir, layoutFile)
		default:
			return fmt.Errorf("%s: no such directory: give an OCI layout made by cairn package build, or an oci:// reference", opts.Source)
		}
		store, d, err := openLayout(ctx, dir, ref)
		if err != nil {
			return err
		}
		src, desc = store, d
	}
	p, err := packaging.Verify(ctx, src, desc)
	if err != nil {
		return fmt.Errorf("%s (%s) did not verify: %w", opts.Source, desc.Digest, err)
	}
	digest := desc.Digest.String()
	if opts.JSON {
		files := make([]packageapi.FileInfo, len(p.Files))
		for i, f := range p.Files {
			files[i] = packageapi.FileInfo{Name: f.Name, Platform: f.Platform, Executable: f.Executable, Digest: f.Digest, Size: f.Size}
		}
		return output.JSON(opts.IO.Out, verified{Name: p.Manifest.Name, Version: p.Manifest.Version, Kind: p.Manifest.Kind, Digest: digest, Files: files})
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Verified %s %s (%s, digest %s)\n", p.Manifest.Name, p.Manifest.Version, plural(len(p.Files), "file"), digest)
	return err
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
