// Package pkg is "cairn package": find packages in the configured
// repositories, install them as apps of the services framework and remove
// them (through the master's package API), and build, push and verify
// package artifacts (locally, with the packaging library and oras-go).
package pkg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

// NewCmdPackage returns "cairn package" and its verbs.
func NewCmdPackage(f *cmdutil.Factory) *cobra.Command {
	cmd := cmdutil.NewNounCmd("package", "Find, install and build packages",
		"Packages are versioned OCI artifacts (a manifest, an options schema, a launch\n"+
			"template and binaries) kept in package repositories: OCI registries, the\n"+
			"embedded one of cairn up first (see cairn repo). Installing a package renders\n"+
			"its launch template with your options into an app of the services framework,\n"+
			"labelled with the package's name, version and digest.\n\n"+
			"search, describe, install, uninstall, update and list talk to the master's package\n"+
			"API; build, push and verify work on package directories and artifacts\n"+
			"directly, without a master.")
	cmd.Aliases = []string{"pkg", "packages"}
	cmd.AddCommand(
		NewCmdSearch(f, nil),
		NewCmdDescribe(f, nil),
		NewCmdInstall(f, nil),
		NewCmdUninstall(f, nil),
		NewCmdUpdate(f, nil),
		NewCmdList(f, nil),
		NewCmdBuild(f, nil),
		NewCmdPush(f, nil),
		NewCmdVerify(f, nil),
	)
	return cmd
}

// hint tells err in the CLI's words (what failed, what to do), keeping it
// in the chain.
func hint(err error, format string, args ...any) error {
	return cmdutil.Hintf(err, format, args...)
}

// apiError reports a failed package API call: the errors every call may
// meet in the CLI's words, the others after what was being done
// ("installing package hello: ..."; the API's message says what to do).
func apiError(err error, doing, name, version string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	switch apiclient.PackageErrorType(err) {
	case packageapi.ErrPackageNotFound:
		return hint(err, "no repository has package %q: see cairn package search (and cairn repo list for the repositories searched)", name)
	case packageapi.ErrVersionNotFound:
		return hint(err, "package %s has no version %q: see cairn package describe %s for its versions", name, version, name)
	case packageapi.ErrEndpointNotFound:
		return hint(err, "%s: the master's package API does not know this call (%s): is the master older than this cairn CLI?", doing, err)
	case packageapi.ErrServicesUnavailable:
		return hint(err, "%s: the services framework did not answer (%s): it starts with cairn up; see cairn framework list", doing, err)
	case "":
		var ae *apiclient.APIError
		if errors.As(err, &ae) && (ae.StatusCode == http.StatusNotFound || ae.StatusCode == http.StatusMethodNotAllowed) {
			return hint(err, "%s: the master does not serve the package API (%s %s): is it a Cairn master started by cairn up (or cairn master with the package manager)?",
				doing, ae.Status, ae.URL)
		}
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// schemaError handles a JsonSchemaMismatch: it prints each failing option
// to errOut and returns an error pointing at them and at the schema
// (nil when err is something else). source says where the options came
// from ("" when none were given).
func schemaError(errOut io.Writer, err error, source, name, version string) error {
	var pe *apiclient.PackageError
	if !errors.As(err, &pe) || pe.Type != packageapi.ErrOptionsInvalid {
		return nil
	}
	what := "The package's default options do not"
	if source != "" {
		what = "The options in " + source + " do not"
	}
	fmt.Fprintf(errOut, "%s match the options schema of %s:\n", what, describing(name, version))
	for _, e := range pe.Errors {
		fmt.Fprintf(errOut, "  %s\n", output.Clean(e))
	}
	if len(pe.Errors) == 0 {
		fmt.Fprintf(errOut, "  %s\n", output.Clean(pe.Message))
	}
	schema := "cairn package describe " + name + " --config"
	if version != "" {
		schema = "cairn package describe " + name + " --version " + version + " --config"
	}
	return hint(err, "invalid options for %s (%d above): fix them (see the schema with %s)",
		describing(name, version), max(len(pe.Errors), 1), schema)
}

// parsePackageName checks a package name argument.
func parsePackageName(s string) (string, error) {
	name := strings.TrimSpace(s)
	if name == "" || strings.ContainsAny(name, " \t\r\n/:@") {
		return "", cmdutil.UsageErrorf("package name %q: give a name as cairn package search shows it, e.g. hello", s)
	}
	return name, nil
}

// parseAppID reads an --app-id: "hello" and "/hello" are "/hello".
func parseAppID(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	id, err := marathon.CanonicalID(strings.TrimSpace(s))
	if err != nil {
		return "", cmdutil.UsageErrorf("--app-id: app id %v", err)
	}
	return id, nil
}

// maxOptionsBytes bounds an options file.
const maxOptionsBytes = 1 << 20

// readOptions reads a package's options: a JSON object in a file, or in
// in for "-". Numbers keep their exact text.
func readOptions(path string, in io.Reader) (map[string]any, error) {
	name := path
	var r io.Reader
	if path == "-" {
		name, r = "the standard input", in
		if r == nil {
			r = strings.NewReader("")
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("reading the options: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxOptionsBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the options from %s: %w", name, err)
	}
	if len(data) > maxOptionsBytes {
		return nil, fmt.Errorf("the options in %s are larger than %d MiB", name, maxOptionsBytes>>20)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var opts map[string]any
	err = dec.Decode(&opts)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err != nil || opts == nil {
		if err == nil {
			err = errors.New("null")
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(data, se.Offset)
			err = fmt.Errorf("line %d, column %d: %w", line, col, err)
		}
		return nil, fmt.Errorf("the options in %s are not a JSON object (%v): give one such as {\"port\": 8080} (see cairn package describe NAME --config)", name, err)
	}
	return opts, nil
}

// position is the line and column (from 1) of byte offset off in data.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 1), int64(len(data))+1)
	before := data[:off-1]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off-1) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// promptOptions are what the commands that ask before acting share.
type promptOptions struct {
	// InIsTerminal says whether the standard input is a terminal, to ask
	// on.
	InIsTerminal bool
	// Yes answers yes to the question.
	Yes bool
}

func (o *promptOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation (required when the standard input is not a terminal)")
}

// check fails early when there is no one to ask and --yes is not given.
func (o *promptOptions) check(doing string) error {
	if !o.Yes && !o.InIsTerminal {
		return cmdutil.UsageErrorf("the standard input is not a terminal, so there is no one to ask before %s: pass --yes to go ahead", doing)
	}
	return nil
}

// optionsFor does what a command taking --options and asking first does
// before anything else: refuse "--options -" without --yes (stdin cannot
// hold both), fail early when there is no one to ask, and read the options
// (nil without a file).
func (o *promptOptions) optionsFor(doing, file string, in io.Reader) (map[string]any, error) {
	if file == "-" && !o.Yes {
		return nil, cmdutil.UsageErrorf("--options - reads the options from the standard input, so nothing is left there to answer the question: pass --yes")
	}
	if err := o.check(doing); err != nil {
		return nil, err
	}
	if file == "" {
		return nil, nil
	}
	return readOptions(file, in)
}

// confirm asks question on errOut, unless --yes; a "no" is an error saying
// what was not done.
func (o *promptOptions) confirm(in io.Reader, errOut io.Writer, question, notDone string) error {
	if o.Yes {
		return nil
	}
	ok, err := cmdutil.Confirm(in, errOut, question)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("cancelled: " + notDone)
	}
	return nil
}

// printNotes prints a package's notes under a title, indented.
func printNotes(w io.Writer, title, notes string) {
	notes = strings.TrimSpace(notes)
	if notes == "" {
		return
	}
	fmt.Fprintln(w, title)
	for line := range strings.SplitSeq(notes, "\n") {
		fmt.Fprintln(w, strings.TrimRight("  "+safeLine(line), " "))
	}
}

// safeLine makes a line of text from a package safe for a terminal:
// control characters (escape sequences, carriage returns) become spaces;
// tabs stay.
func safeLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r != '\t' && unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// shortDigest prints a digest for a table: "sha256:0123456789ab".
func shortDigest(d string) string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return alg + ":" + hex[:12]
}
