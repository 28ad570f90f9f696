package pkg

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/repository/packageapi"
)

// Candidates completes the names of the repositories' packages (for
// describe, install).
func Candidates(ctx context.Context, c *apiclient.Client) ([]cobra.Completion, error) {
	res, err := c.PackageSearch(ctx, packageapi.SearchRequest{})
	if err != nil {
		return nil, err
	}
	out := make([]cobra.Completion, 0, len(res.Packages))
	seen := map[string]bool{}
	for _, p := range res.Packages {
		if !seen[p.Name] {
			seen[p.Name] = true
			out = append(out, cobra.CompletionWithDesc(p.Name, p.Description))
		}
	}
	return out, nil
}
