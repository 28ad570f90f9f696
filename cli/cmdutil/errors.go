package cmdutil

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// UsageError is a mistake in how a command was invoked (unknown command or
// flag, bad flag value, wrong number of arguments). The binary prints it with
// a pointer to --help and exits with status 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// UsageErrorf formats a UsageError.
func UsageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// AsUsageError wraps err as a UsageError (nil stays nil; a UsageError is
// returned as is).
func AsUsageError(err error) error {
	if err == nil {
		return nil
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		return err
	}
	return &UsageError{Err: err}
}

// IsUsageError reports whether err is, or wraps, a UsageError.
func IsUsageError(err error) bool {
	var ue *UsageError
	return errors.As(err, &ue)
}

// FlagErrorFunc turns flag parsing errors into usage errors; set it on the
// root command (subcommands inherit it).
func FlagErrorFunc(_ *cobra.Command, err error) error { return AsUsageError(err) }

// NoArgs is cobra.NoArgs returning a UsageError.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return UsageErrorf("%q takes no arguments, got %q", cmd.CommandPath(), strings.Join(args, " "))
	}
	return nil
}

// ExactArgs is cobra.ExactArgs returning a UsageError.
func ExactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		return AsUsageError(cobra.ExactArgs(n)(cmd, args))
	}
}

// NounArgs is the Args of a command that only groups subcommands (the root,
// "agent", "task" ...): any argument is an unknown subcommand.
func NounArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", strings.Join(s, `" or "`))
	}
	return &UsageError{Err: errors.New(msg)}
}

// NewNounCmd returns a command that groups the verbs of a noun: "cairn
// agent" prints its help, "cairn agent bogus" is a usage error.
func NewNounCmd(use, short, long string) *cobra.Command {
	return &cobra.Command{
		Use:                        use,
		Short:                      short,
		Long:                       long,
		Args:                       NounArgs,
		SuggestionsMinimumDistance: 2,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
}

// ExitCodeError ends a command with a given exit code (e.g. a task's, for
// "task run --wait"). Err, when set, is printed as the error line.
type ExitCodeError struct {
	Code int
	Err  error
}

func (e *ExitCodeError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return fmt.Sprintf("exit status %d", e.Code)
}

// ExitCode is the process exit code to use.
func (e *ExitCodeError) ExitCode() int { return e.Code }

func (e *ExitCodeError) Unwrap() error { return e.Err }
