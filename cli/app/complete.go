package app

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
)

// Candidates completes app ids (for show, scale, update ...).
func Candidates(ctx context.Context, c *apiclient.Client) ([]cobra.Completion, error) {
	apps, err := c.Apps(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]cobra.Completion, 0, len(apps))
	for _, a := range apps {
		out = append(out, cobra.CompletionWithDesc(a.ID, fmt.Sprintf("%d/%d running", a.TasksRunning, a.Instances)))
	}
	return out, nil
}
