// Package deployment is "cairn deployment": the changes the services
// framework (Cairn's Marathon) is carrying out on apps. It also holds what
// "cairn app" shares with it: following a deployment to its end (Watcher)
// and reporting the services framework's absence (ServiceError).
package deployment

import (
	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/cmdutil"
)

// NewCmdDeployment returns "cairn deployment" and its verbs.
func NewCmdDeployment(f *cmdutil.Factory) *cobra.Command {
	cmd := cmdutil.NewNounCmd("deployment", "Follow and roll back changes to apps",
		"Every change to an app (add, update, scale, restart, remove) is carried out by\n"+
			"a deployment of the services framework, step by step. A deployment that\n"+
			"cannot progress (no resources, failing tasks) can be rolled back.")
	cmd.AddCommand(
		NewCmdList(f, nil),
		NewCmdDescribe(f, nil),
		NewCmdWatch(f, nil),
		NewCmdRollback(f, nil),
	)
	return cmd
}
