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
		wanted := 0
		if a.Instances != nil {
			wanted = *a.Instances
		}
		out = append(out, cobra.CompletionWithDesc(a.ID, fmt.Sprintf("%d/%d running", a.TasksRunning, wanted)))
	}
	return out, nil
}
