// Package module is "cairn module": the kernel modules the master's module
// host runs (go-plugin processes, such as the DNS module): their state, and
// adding or removing them at runtime.
package module

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/modules/host/moduleapi"
)

// NewCmdModule returns "cairn module" and its verbs.
func NewCmdModule(f *cmdutil.Factory) *cobra.Command {
	cmd := cmdutil.NewNounCmd("module", "Manage the kernel's modules",
		"Modules extend the kernel as separate processes the master's module host\n"+
			"starts (checking each binary's SHA-256), supervises and restarts: watchers\n"+
			"follow the cluster (the DNS module), hooks change tasks before they launch.\n"+
			"See docs/modules.md.")
	cmd.AddCommand(
		NewCmdList(f, nil),
		NewCmdDescribe(f, nil),
		NewCmdInstall(f, nil),
		NewCmdRemove(f, nil),
	)
	return cmd
}

// apiError says what failed, with a hint for a master without a module host.
// parseName reads a module name argument.
func parseName(arg string) (string, error) {
	name := strings.TrimSpace(arg)
	if err := moduleapi.ValidateName(name); err != nil {
		return "", cmdutil.UsageErrorf("%v (see cairn module list)", err)
	}
	return name, nil
}

// moduleError reports a failed call about one module: an unknown name in
// the CLI's words, the rest as apiError does.
func moduleError(err error, name, doing string) error {
	var ae *apiclient.APIError
	if errors.As(err, &ae) && ae.StatusCode == 404 {
		return cmdutil.Hintf(err, "there is no module named %s (see cairn module list)", name)
	}
	return apiError(err, doing)
}

func apiError(err error, doing string) error {
	if errors.Is(err, apiclient.ErrNoModuleAPI) {
		return cmdutil.Hintf(err, "%s: this master serves no module API (/v1/modules): its module host is not enabled (cairn up runs one)", doing)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// uptime is how long a running module has run ("" otherwise).
func uptime(st moduleapi.Status, now time.Time) string {
	if st.State != moduleapi.Running || st.StartedAt == nil {
		return ""
	}
	return output.Age(now.Sub(*st.StartedAt))
}
