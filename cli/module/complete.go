package module

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
)

// Candidates completes module names (for describe, remove).
func Candidates(ctx context.Context, c *apiclient.Client) ([]cobra.Completion, error) {
	mods, err := c.Modules(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]cobra.Completion, 0, len(mods))
	for _, m := range mods {
		out = append(out, cobra.CompletionWithDesc(m.Name, m.Kind+" "+string(m.State)))
	}
	return out, nil
}
