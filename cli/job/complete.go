package job

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
)

// Candidates completes job ids (for show, run, remove ...).
func Candidates(ctx context.Context, c *apiclient.Client) ([]cobra.Completion, error) {
	jobs, err := c.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]cobra.Completion, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, cobra.CompletionWithDesc(j.ID, j.Description))
	}
	return out, nil
}
