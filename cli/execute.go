package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/cmdutil"
)

// Exit codes of the cairn binary.
const (
	ExitOK    = 0 // success
	ExitError = 1 // the command ran and failed
	ExitUsage = 2 // the command was invoked wrongly (unknown command or flag, bad arguments)
)

// annotationUsageChecked marks commands whose Args validator Execute has
// wrapped.
const annotationUsageChecked = "cairn/usage-checked"

// Execute runs root with args under ctx and returns the exit code. Errors
// are printed to root's error stream: runtime errors as one line, usage
// errors with a pointer to --help. Commands added to the tree by others
// (daemons) get the same treatment: their argument validators and required
// flags report usage errors.
func Execute(ctx context.Context, root *cobra.Command, args []string) int {
	if args == nil {
		args = []string{} // nil makes cobra read os.Args
	}
	checkUsage(root)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	if cmd == nil {
		cmd = root
	}
	errOut := root.ErrOrStderr()
	switch {
	case cmdutil.IsUsageError(err):
		fmt.Fprintf(errOut, "Error: %s\nRun '%s --help' for usage.\n", err, cmd.CommandPath())
		return ExitUsage
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		fmt.Fprintln(errOut, "Error: interrupted")
		return ExitError
	case asExitCode(err) != nil:
		ece := asExitCode(err)
		if ece.Err != nil {
			fmt.Fprintf(errOut, "Error: %s\n", strings.Join(strings.Fields(ece.Err.Error()), " "))
		}
		if ece.Code == 0 {
			return ExitError
		}
		return ece.Code
	default:
		fmt.Fprintf(errOut, "Error: %s\n", strings.Join(strings.Fields(err.Error()), " "))
		return ExitError
	}
}

// checkUsage wraps the argument validation of every command in the tree so
// that wrong arguments, missing required flags and broken flag groups are
// usage errors, checked before any pre-run hook.
func checkUsage(c *cobra.Command) {
	if c.Annotations[annotationUsageChecked] == "" {
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations[annotationUsageChecked] = "yes"
		orig := c.Args
		if orig == nil && !c.HasParent() {
			orig = cmdutil.NounArgs // cobra's own check for the root, as a usage error
		}
		c.Args = func(cmd *cobra.Command, args []string) error {
			var err error
			if orig != nil {
				err = orig(cmd, args)
			}
			if err == nil {
				err = cmd.ValidateRequiredFlags()
			}
			if err == nil {
				err = cmd.ValidateFlagGroups()
			}
			return cmdutil.AsUsageError(err)
		}
	}
	for _, sub := range c.Commands() {
		checkUsage(sub)
	}
}

func asExitCode(err error) *cmdutil.ExitCodeError {
	var ece *cmdutil.ExitCodeError
	if errors.As(err, &ece) {
		return ece
	}
	return nil
}
