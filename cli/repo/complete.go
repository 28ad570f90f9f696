package repo

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
)

// Candidates completes repository names (for describe, remove).
func Candidates(ctx context.Context, c *apiclient.Client) ([]cobra.Completion, error) {
	res, err := c.RepositoryList(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]cobra.Completion, 0, len(res.Repositories))
	for _, r := range res.Repositories {
		out = append(out, cobra.CompletionWithDesc(r.Name, r.URI))
	}
	return out, nil
}
