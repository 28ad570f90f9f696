// Package repo is "cairn repo": the package repositories the master's
// package API searches, in order (OCI registry namespaces,
// oci://host:port/namespace).
package repo

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
)

// NewCmdRepo returns "cairn repo" and its verbs.
func NewCmdRepo(f *cmdutil.Factory) *cobra.Command {
	cmd := cmdutil.NewNounCmd("repo", "Manage package repositories",
		"Package repositories are OCI registry namespaces (oci://HOST[:PORT]/NAMESPACE)\n"+
			"holding packages, one OCI repository per package, tagged by version. The\n"+
			"master searches them in order of priority (0 first): the first one holding\n"+
			"a package wins. cairn up configures the embedded registry's repository.")
	cmd.Aliases = []string{"repository", "repos"}
	cmd.AddCommand(
		NewCmdList(f, nil),
		NewCmdDescribe(f, nil),
		NewCmdAdd(f, nil),
		NewCmdRemove(f, nil),
	)
	return cmd
}

// apiError reports a failed call after what was being done; a master
// without the package API is told as such.
func apiError(err error, doing string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var ae *apiclient.APIError
	if apiclient.PackageErrorType(err) == "" && errors.As(err, &ae) &&
		(ae.StatusCode == http.StatusNotFound || ae.StatusCode == http.StatusMethodNotAllowed) {
		return cmdutil.Hintf(err, "%s: the master does not serve the package API (%s %s): is it a Cairn master started by cairn up (or cairn master with the package manager)?",
			doing, ae.Status, ae.URL)
	}
	return fmt.Errorf("%s: %w", doing, err)
}
