package pkg

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/deployment"
	"github.com/cairn-dc/cairn/modules/host/moduleapi"
)

// maxModuleRestarts is how many times a freshly installed module may crash
// before waitModule reports it as failing.
const maxModuleRestarts = 3

// waitModule polls an installed module until it runs (its handshake and
// configuration passed), showing progress as cfg says; it fails when the
// host gave up on the module, or it keeps crashing.
func waitModule(ctx context.Context, client *apiclient.Client, name string, cfg deployment.Config) (string, error) {
	poll := cmp.Or(cfg.PollInterval, time.Second)
	if cfg.Status != nil {
		defer cfg.Status.Clear()
	}
	failures := 0
	for {
		st, err := client.Module(ctx, name)
		switch {
		case ctx.Err() != nil:
			return "", ctx.Err()
		case err != nil:
			if failures++; failures >= maxLookFailures {
				return "", fmt.Errorf("following module %s: %w", name, err)
			}
		case st.State == moduleapi.Running:
			return fmt.Sprintf("Module %s is running (pid %d)", name, st.PID), nil
		case st.State == moduleapi.Failed:
			return "", fmt.Errorf("module %s failed to start: %s (see cairn module describe %s)", name, st.LastError, name)
		case st.Restarts >= maxModuleRestarts:
			return "", fmt.Errorf("module %s crashed %d times: %s (see cairn module describe %s)", name, st.Restarts, st.LastError, name)
		default:
			failures = 0
			line := fmt.Sprintf("module %s: %s", name, st.State)
			if cfg.Status != nil {
				cfg.Status.Set(line)
			}
			if cfg.Lines != nil {
				fmt.Fprintln(cfg.Lines, line)
			}
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(poll):
			if cfg.Status != nil {
				cfg.Status.Tick()
			}
		}
	}
}
