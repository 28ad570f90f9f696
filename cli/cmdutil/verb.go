package cmdutil

import (
	"context"
	"strings"

	"github.com/spf13/cobra"
)

// OneArg makes cmd a verb of one argument ("describe AGENT", "kill TASK",
// "use NAME" ...): it takes exactly one, completed by complete (none when
// nil); arg takes it into the verb's options, or says what is wrong with
// it, and then run runs.
func OneArg(cmd *cobra.Command, complete cobra.CompletionFunc, arg func(string) error, run func(context.Context) error) *cobra.Command {
	cmd.Args = ExactArgs(1)
	if complete != nil {
		cmd.ValidArgsFunction = complete
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := arg(args[0]); err != nil {
			return err
		}
		return run(cmd.Context())
	}
	return cmd
}

// RunOrTest is what a verb runs: runF, a test's, when it is set, else run;
// either is given opts.
func RunOrTest[O any](opts *O, runF, run func(context.Context, *O) error) func(context.Context) error {
	return func(ctx context.Context) error {
		if runF != nil {
			return runF(ctx, opts)
		}
		return run(ctx, opts)
	}
}

// NonBlank is the arg of OneArg for a name: it takes the argument,
// trimmed, into *dst; a blank one is a usage error saying blank.
func NonBlank(dst *string, blank string) func(string) error {
	return func(arg string) error {
		*dst = strings.TrimSpace(arg)
		if *dst == "" {
			return UsageErrorf("%s", blank)
		}
		return nil
	}
}
