// Package completion is "cairn completion": shell completion scripts
// (cobra's), for bash, zsh, fish and PowerShell.
package completion

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/cmdutil"
)

// Options are the inputs of "cairn completion SHELL".
type Options struct {
	IO cmdutil.IOStreams

	Shell string
	// NoDescriptions leaves the descriptions out of the completions.
	NoDescriptions bool
}

// shell is one shell's script and how to install it.
type shell struct {
	name, title string // "powershell", "PowerShell"
	// intro comes after "Print the completion script for TITLE." in the
	// help, before how to load the script.
	intro string
	// load loads the completions in the current shell (the example);
	// persist says how to load them in every new shell.
	load, persist string
	gen           func(root *cobra.Command, w io.Writer, desc bool) error
}

func (sh shell) short() string { return "Print the completion script for " + sh.title }

func (sh shell) long() string {
	return sh.short() + "." + sh.intro + "\n\n" +
		"To load completions in the current shell:\n\n" +
		"  " + sh.load + "\n\n" + sh.persist
}

// withOrWithoutDesc is a gen from cobra's pair of generators, one with
// descriptions, one without.
func withOrWithoutDesc(with, without func(*cobra.Command, io.Writer) error) func(*cobra.Command, io.Writer, bool) error {
	return func(root *cobra.Command, w io.Writer, desc bool) error {
		if desc {
			return with(root, w)
		}
		return without(root, w)
	}
}

var shells = []shell{
	{
		name:  "bash",
		title: "bash",
		intro: " It needs the bash-completion package\n" +
			"(your distribution's, or brew install bash-completion@2 on macOS).",
		load: "source <(cairn completion bash)",
		persist: "To load them in every new shell, once:\n\n" +
			"  Linux:  cairn completion bash | sudo tee /etc/bash_completion.d/cairn >/dev/null\n" +
			"          (or, without root: mkdir -p ~/.local/share/bash-completion/completions &&\n" +
			"           cairn completion bash > ~/.local/share/bash-completion/completions/cairn)\n" +
			"  macOS:  cairn completion bash > $(brew --prefix)/etc/bash_completion.d/cairn",
		gen: (*cobra.Command).GenBashCompletionV2,
	},
	{
		name:  "zsh",
		title: "zsh",
		intro: "\n\nIf completion is not already enabled in your zsh, enable it once:\n\n" +
			"  echo \"autoload -U compinit; compinit\" >> ~/.zshrc",
		load: "source <(cairn completion zsh)",
		persist: "To load them in every new shell, once (then start a new shell):\n\n" +
			"  cairn completion zsh > \"${fpath[1]}/_cairn\"\n" +
			"  (macOS with Homebrew: cairn completion zsh > $(brew --prefix)/share/zsh/site-functions/_cairn)",
		gen: withOrWithoutDesc((*cobra.Command).GenZshCompletion, (*cobra.Command).GenZshCompletionNoDesc),
	},
	{
		name:  "fish",
		title: "fish",
		load:  "cairn completion fish | source",
		persist: "To load them in every new shell, once:\n\n" +
			"  cairn completion fish > ~/.config/fish/completions/cairn.fish",
		gen: (*cobra.Command).GenFishCompletion,
	},
	{
		name:  "powershell",
		title: "PowerShell",
		load:  "cairn completion powershell | Out-String | Invoke-Expression",
		persist: "To load them in every new shell, add that line to your PowerShell profile\n" +
			"(notepad $PROFILE).",
		gen: withOrWithoutDesc((*cobra.Command).GenPowerShellCompletionWithDesc, (*cobra.Command).GenPowerShellCompletion),
	},
}

// NewCmdCompletion returns "cairn completion" and a verb per shell. runF
// replaces the run function in tests (nil writes the script).
func NewCmdCompletion(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	cmd := cmdutil.NewNounCmd("completion", "Print shell completion scripts (bash, zsh, fish, powershell)",
		"Print a script that makes your shell complete cairn's commands, flags and\n"+
			"arguments: task, agent, app, job and deployment ids and package names are\n"+
			"asked of the master as you type (quietly, and only for a moment).\n"+
			"See cairn completion SHELL --help for how to install it.")
	cmd.Example = "  source <(cairn completion bash)\n" +
		"  cairn completion zsh > \"${fpath[1]}/_cairn\"\n" +
		"  cairn completion fish > ~/.config/fish/completions/cairn.fish"
	for _, sh := range shells {
		opts := &Options{IO: f.IOStreams, Shell: sh.name}
		sub := &cobra.Command{
			Use:                   sh.name,
			Short:                 sh.short(),
			Long:                  sh.long(),
			Example:               "  " + sh.load,
			Args:                  cmdutil.NoArgs,
			DisableFlagsInUseLine: true,
			ValidArgsFunction:     cobra.NoFileCompletions,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if runF != nil {
					return runF(cmd.Context(), opts)
				}
				if err := sh.gen(cmd.Root(), opts.IO.Out, !opts.NoDescriptions); err != nil {
					return fmt.Errorf("writing the %s completion script: %w", sh.name, err)
				}
				return nil
			},
		}
		sub.Flags().BoolVar(&opts.NoDescriptions, "no-descriptions", false, "complete without descriptions")
		cmd.AddCommand(sub)
	}
	return cmd
}
