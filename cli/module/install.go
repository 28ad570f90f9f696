package module

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/modules/host/moduleapi"
)

// maxConfigBytes bounds a module's configuration.
const maxConfigBytes = 512 << 10

// InstallOptions are the inputs of "cairn module install".
type InstallOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)

	Name   string
	Kind   string
	Path   string
	SHA256 string
	// ConfigFile is a JSON file ("-": the standard input); ConfigTextFile
	// a file of any format, sent as a string. At most one is set.
	ConfigFile     string
	ConfigTextFile string
	JSON           bool
}

// NewCmdInstall returns "cairn module install". runF replaces the run
// function in tests (nil runs installRun).
func NewCmdInstall(f *cmdutil.Factory, runF func(context.Context, *InstallOptions) error) *cobra.Command {
	opts := &InstallOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "install NAME --path PATH --kind watcher|hook",
		Aliases: []string{"add"},
		Short:   "Add (or replace) a module on the master's module host",
		Long: "Add a module to the master's module host, or replace the one of that name\n" +
			"added earlier, and start it. PATH is the module binary's absolute path on\n" +
			"the master's machine; the host refuses to start a binary whose SHA-256 is\n" +
			"not --sha256. Without --sha256, it is computed from the file at PATH on this\n" +
			"machine (so only where the CLI and the master share that file): that pins\n" +
			"the binary as it is now.\n\n" +
			"--config FILE gives the module a JSON configuration (- reads the standard\n" +
			"input); --config-text FILE any other text, passed as it is. The host keeps\n" +
			"the module in its store file across restarts; modules from its own\n" +
			"configuration cannot be replaced here.",
		Example: "  cairn module install echo --kind watcher --path /opt/cairn/modules/echo\n" +
			"  cairn module install echo --kind watcher --path /opt/cairn/modules/echo \\\n" +
			"      --sha256 $(sha256sum echo | cut -d' ' -f1) --config echo.json\n" +
			"  echo '{\"greeting\": \"hi\"}' | cairn module install greeter --kind hook --path /opt/cairn/modules/echo --config -",
		Args: cmdutil.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = strings.TrimSpace(args[0])
			if err := moduleapi.ValidateName(opts.Name); err != nil {
				return cmdutil.UsageErrorf("%v", err)
			}
			switch opts.Kind {
			case moduleapi.KindWatcher, moduleapi.KindHook:
			case "":
				return cmdutil.UsageErrorf("give the module's --kind: %s or %s", moduleapi.KindWatcher, moduleapi.KindHook)
			default:
				return cmdutil.UsageErrorf("--kind %q: give %s or %s", opts.Kind, moduleapi.KindWatcher, moduleapi.KindHook)
			}
			if opts.Path == "" {
				return cmdutil.UsageErrorf("give the module binary's --path (absolute, on the master's machine)")
			}
			if !filepath.IsAbs(opts.Path) {
				return cmdutil.UsageErrorf("--path %q: give the binary's absolute path on the master's machine", opts.Path)
			}
			if opts.SHA256 != "" {
				sum, err := moduleapi.NormalizeSHA256(opts.SHA256)
				if err != nil {
					return cmdutil.UsageErrorf("--%v", err)
				}
				opts.SHA256 = sum
			}
			if opts.ConfigFile != "" && opts.ConfigTextFile != "" {
				return cmdutil.UsageErrorf("give --config or --config-text, not both")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return installRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Kind, "kind", "", "what the module is: watcher or hook")
	fl.StringVar(&opts.Path, "path", "", "the module binary's absolute `path` on the master's machine")
	fl.StringVar(&opts.SHA256, "sha256", "", "the binary's SHA-256 in `hex` (default: computed from the file at --path here)")
	fl.StringVar(&opts.ConfigFile, "config", "", "a JSON `file` with the module's configuration (- for the standard input)")
	fl.StringVar(&opts.ConfigTextFile, "config-text", "", "a `file` of any format, passed to the module as it is (- for the standard input)")
	fl.BoolVar(&opts.JSON, "json", false, "print the module's status as JSON")
	return cmd
}

func installRun(ctx context.Context, opts *InstallOptions) error {
	spec := moduleapi.Spec{Name: opts.Name, Kind: opts.Kind, Path: opts.Path, SHA256: opts.SHA256}
	if spec.SHA256 == "" {
		sum, err := localSHA256(opts.Path)
		if err != nil {
			return err
		}
		spec.SHA256 = sum
		fmt.Fprintf(opts.IO.ErrOut, "Pinning %s at sha256 %s (computed on this machine)\n", opts.Path, sum)
	}
	switch {
	case opts.ConfigFile != "":
		data, err := readConfig(opts.ConfigFile, opts.IO.In)
		if err != nil {
			return err
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(&v); err != nil || dec.More() {
			if err == nil {
				err = errors.New("more than one JSON value")
			}
			return fmt.Errorf("--config %s is not JSON (%v): fix it, or pass another format with --config-text", opts.ConfigFile, err)
		}
		spec.Config = data
	case opts.ConfigTextFile != "":
		data, err := readConfig(opts.ConfigTextFile, opts.IO.In)
		if err != nil {
			return err
		}
		s, _ := json.Marshal(string(data))
		spec.Config = s
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	st, replaced, err := client.ModuleInstall(ctx, spec)
	if err != nil {
		return apiError(err, "installing module "+opts.Name)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, st)
	}
	verb := "Installed"
	if replaced {
		verb = "Replaced"
	}
	_, err = fmt.Fprintf(opts.IO.Out, "%s module %s (%s): %s; see cairn module describe %s\n", verb, st.Name, st.Kind, st.State, st.Name)
	return err
}

// localSHA256 hashes the binary at path on this machine.
func localSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", cmdutil.UsageErrorf("%s is not on this machine, so its SHA-256 cannot be computed here: give --sha256 (sha256sum %s on the master's machine)", path, path)
	}
	if err != nil {
		return "", fmt.Errorf("reading %s to compute its SHA-256: %w (or give --sha256)", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s to compute its SHA-256: %w (or give --sha256)", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// readConfig reads a configuration file ("-": in).
func readConfig(path string, in io.Reader) ([]byte, error) {
	name, r := path, in
	if path == "-" {
		name = "the standard input"
		if r == nil {
			r = strings.NewReader("")
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("reading the module's configuration: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the module's configuration from %s: %w", name, err)
	}
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("the module's configuration in %s is larger than %d KiB", name, maxConfigBytes>>10)
	}
	return data, nil
}
