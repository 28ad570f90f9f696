package apps

import (
	"strings"
	"time"

	"github.com/cairn-dc/cairn/cli/app"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
)

// taskHealth is "healthy" when every health check passes, "unhealthy"
// when one fails, "" without results.
func taskHealth(t marathon.Task) string {
	if len(t.HealthCheckResults) == 0 {
		return ""
	}
	for _, r := range t.HealthCheckResults {
		if !r.Alive {
			return "unhealthy"
		}
	}
	return "healthy"
}

// ago prints how long ago a Marathon timestamp was: "5m ago" ("" when it
// is not one).
func ago(ts string, now time.Time) string {
	if a := app.Age(ts, now); a != "" {
		return a + " ago"
	}
	return ""
}

// shortState drops the TASK_ prefix: "RUNNING".
func shortState(s string) string { return strings.TrimPrefix(s, "TASK_") }
