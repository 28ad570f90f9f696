package repo

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

// AddOptions are the inputs of "cairn repo add".
type AddOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)

	Name string
	URI  string
	// Index is the priority to insert at (nil: last).
	Index         *int
	Username      string
	PasswordStdin bool
	PlainHTTP     bool
	JSON          bool
}

// NewCmdAdd returns "cairn repo add". runF replaces the run function in
// tests (nil runs addRun).
func NewCmdAdd(f *cmdutil.Factory, runF func(context.Context, *AddOptions) error) *cobra.Command {
	opts := &AddOptions{IO: f.IOStreams, APIClient: f.APIClient}
	var index int
	cmd := &cobra.Command{
		Use:   "add NAME URI",
		Short: "Add a package repository",
		Long: "Add a package repository: an OCI registry namespace, oci://HOST[:PORT]/NAMESPACE.\n" +
			"The master checks that the registry answers (and accepts the credentials)\n" +
			"before adding it. It is searched last, unless --index puts it at that\n" +
			"priority (0: first). Credentials: --username, with the password piped into\n" +
			"--password-stdin; without them the master reads the registry anonymously\n" +
			"or with its machine's Docker config. --plain-http talks http:// (always done\n" +
			"for loopback hosts).",
		Example: "  cairn repo add community oci://registry.example/cairn-packages\n" +
			"  cairn repo add local oci://10.0.0.5:5000/pkgs --plain-http --index 0\n" +
			"  echo \"$TOKEN\" | cairn repo add private oci://ghcr.io/acme/cairn --username acme-bot --password-stdin",
		Args: cmdutil.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = strings.TrimSpace(args[0])
			if opts.Name == "" || strings.ContainsAny(opts.Name, " \t\r\n") {
				return cmdutil.UsageErrorf("repository name %q: give a name without spaces, e.g. community", args[0])
			}
			opts.URI = strings.TrimSpace(args[1])
			if rest, ok := strings.CutPrefix(opts.URI, "oci://"); !ok || rest == "" || strings.HasPrefix(rest, "/") {
				return cmdutil.UsageErrorf("repository URI %q: give oci://HOST[:PORT][/NAMESPACE], e.g. oci://registry.example/cairn", args[1])
			}
			if cmd.Flags().Changed("index") {
				if index < 0 {
					return cmdutil.UsageErrorf("--index %d: give a priority of 0 (searched first) or more", index)
				}
				opts.Index = &index
			}
			if opts.PasswordStdin && opts.Username == "" {
				return cmdutil.UsageErrorf("--password-stdin needs --username")
			}
			if opts.Username != "" && !opts.PasswordStdin {
				return cmdutil.UsageErrorf("--username needs --password-stdin: pipe the password in (e.g. echo \"$PASSWORD\" | cairn repo add ... --password-stdin)")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return addRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&index, "index", 0, "the `priority` to insert at: 0 is searched first (default: last)")
	fl.StringVar(&opts.Username, "username", "", "registry `user` name")
	fl.BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the registry password from the standard input (with --username)")
	fl.BoolVar(&opts.PlainHTTP, "plain-http", false, "talk http:// to the registry")
	fl.BoolVar(&opts.JSON, "json", false, "print the repositories, as they are now, as a JSON array")
	return cmd
}

func addRun(ctx context.Context, opts *AddOptions) error {
	req := packageapi.RepositoryAddRequest{Name: opts.Name, URI: opts.URI, Index: opts.Index, Username: opts.Username, PlainHTTP: opts.PlainHTTP}
	if opts.PasswordStdin {
		pw, err := cmdutil.ReadSecret(opts.IO.In, "password")
		if err != nil {
			return err
		}
		req.Password = pw
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	res, err := client.RepositoryAdd(ctx, req)
	if err != nil {
		switch apiclient.PackageErrorType(err) {
		case packageapi.ErrRepositoryExists:
			return cmdutil.Hintf(err, "a repository named %s (or with URI %s) already exists: see cairn repo list, and remove it first with cairn repo remove %s to replace it",
				opts.Name, opts.URI, opts.Name)
		case packageapi.ErrRepositoryUnreachable:
			return fmt.Errorf("repository %s not added: %w (is the registry running? pass --plain-http for one without TLS)", opts.Name, err)
		case packageapi.ErrUnauthorized:
			return fmt.Errorf("repository %s not added: %w (check --username and the password given to --password-stdin)", opts.Name, err)
		}
		return apiError(err, "adding repository "+opts.Name)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, res.Repositories)
	}
	prio := "last"
	for _, r := range res.Repositories {
		if r.Name == opts.Name {
			prio = fmt.Sprintf("%d", r.Priority)
		}
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Added repository %s (%s) at priority %s\n", opts.Name, opts.URI, prio)
	return err
}
