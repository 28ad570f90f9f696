// Package version is "cairn version": what binary this is, and what master
// it talks to.
package version

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
)

// Version is the release version, set when building a release:
//
//	go build -ldflags "-X github.com/cairn-dc/cairn/cli/version.Version=v0.1.0" ./cmd/cairn
//
// When empty, the module version from the build info is used ("(devel)" for
// a build from a checkout).
var Version = ""

// Info describes the running binary.
type Info struct {
	Version    string `json:"version"`
	Commit     string `json:"commit,omitempty"`
	CommitTime string `json:"commit_time,omitempty"`
	Modified   bool   `json:"modified,omitempty"`
	GoVersion  string `json:"go_version"`
	Platform   string `json:"platform"`
}

// Get reads the version information of the running binary.
func Get() Info {
	info := Info{Version: Version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		if info.Version == "" {
			info.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Commit = s.Value
			case "vcs.time":
				info.CommitTime = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	return info
}

// String is the one-line form, e.g.
// "v0.1.0 (commit 1a2b3c4d5e6f, 2026-01-02T03:04:05Z, modified) go1.26.0 linux/amd64".
func (i Info) String() string {
	var b strings.Builder
	b.WriteString(i.Version)
	var vcs []string
	if i.Commit != "" {
		c := i.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		vcs = append(vcs, "commit "+c)
	}
	if i.CommitTime != "" {
		vcs = append(vcs, i.CommitTime)
	}
	if i.Modified {
		vcs = append(vcs, "modified")
	}
	if len(vcs) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(vcs, ", "))
	}
	fmt.Fprintf(&b, " %s %s", i.GoVersion, i.Platform)
	return b.String()
}

// Master is the master's side of "cairn version --json".
type Master struct {
	// URL is where the CLI reached the master.
	URL      string `json:"url"`
	ID       string `json:"id,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	Version  string `json:"version,omitempty"`
	Leader   bool   `json:"leader"`
	// Status is the master's /health status: "ok", "not ready" ...
	Status string `json:"status"`
}

// Output is what "cairn version --json" prints: the binary's Info (at the
// top level, as before the master was added) and the master's.
type Output struct {
	Info
	Master *Master `json:"master,omitempty"`
}

// masterTimeout bounds asking the master for its version.
const masterTimeout = 5 * time.Second

// Options are the inputs of "cairn version".
type Options struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)

	JSON bool
	// Client skips the master.
	Client bool
}

// NewCmdVersion returns "cairn version".
func NewCmdVersion(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of this cairn binary and of the master",
		Long: "Print the version of this cairn binary, then ask the master (GET /health)\n" +
			"for its own. When the master cannot be reached the client's version is\n" +
			"still printed, and the command fails saying why; --client skips the master.",
		Example: "  cairn version\n  cairn version --client\n  cairn version --json | jq -r .master.version",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, `print the versions as JSON: the client's fields, and "master"`)
	cmd.Flags().BoolVar(&opts.Client, "client", false, "print only the client's version; do not ask the master")
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	out := Output{Info: Get()}
	var masterErr error
	if !opts.Client {
		out.Master, masterErr = askMaster(ctx, opts)
	}
	if opts.JSON {
		if err := output.JSON(opts.IO.Out, out); err != nil {
			return err
		}
		return masterErr
	}
	if _, err := fmt.Fprintf(opts.IO.Out, "cairn %s\n", out.Info); err != nil {
		return err
	}
	if m := out.Master; m != nil {
		line := "master " + cmp.Or(m.Version, "(unknown version)") + " at " + m.URL
		var notes []string
		if m.Hostname != "" {
			notes = append(notes, "host "+m.Hostname)
		}
		if m.Status != "ok" {
			notes = append(notes, m.Status)
		}
		if !m.Leader {
			notes = append(notes, "not the leader")
		}
		if len(notes) > 0 {
			line += " (" + strings.Join(notes, ", ") + ")"
		}
		if _, err := fmt.Fprintln(opts.IO.Out, line); err != nil {
			return err
		}
	}
	return masterErr
}

// askMaster reads the master's version from /health. A master that is
// up but not ready still tells its version.
func askMaster(ctx context.Context, opts *Options) (*Master, error) {
	client, err := opts.APIClient()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, masterTimeout)
	defer cancel()
	hs, err := client.MasterHealth(ctx)
	var ae *apiclient.APIError
	if err != nil && !(errors.As(err, &ae) && hs.Status != "") {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("asking the master at %s for its version: no answer within %s — is `cairn up` running? set --url, CAIRN_URL or `cairn config use CLUSTER`", client.BaseURL(), masterTimeout)
		}
		return nil, fmt.Errorf("asking the master for its version: %w", err)
	}
	return &Master{URL: client.BaseURL(), ID: hs.Master.ID, Hostname: hs.Master.Hostname, Version: hs.Master.Version,
		Leader: hs.Leader, Status: hs.Status}, nil
}
