package apps

import (
	"strconv"
	"strings"
	"time"

	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// instancesOf is an app's wanted instances (Marathon's default 1 when
// unset).
func instancesOf(a marathon.AppStatus) int {
	if a.Instances == nil {
		return 1
	}
	return *a.Instances
}

// command is what an app runs: its cmd, or its args.
func command(a marathon.AppStatus) string {
	if a.Cmd != nil && *a.Cmd != "" {
		return *a.Cmd
	}
	return strings.Join(a.Args, " ")
}

func float(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func mem(mb *float64) string {
	if mb == nil {
		return ""
	}
	return output.Mem(resources.FromFloat(*mb))
}

// resourcesOf prints an instance's resources: "cpus 0.5 · mem 128 MiB".
func resourcesOf(a marathon.AppStatus) string {
	var parts []string
	if a.CPUs != nil {
		parts = append(parts, "cpus "+float(a.CPUs))
	}
	if a.GPUs != nil && *a.GPUs > 0 {
		parts = append(parts, "gpus "+strconv.Itoa(*a.GPUs))
	}
	if a.Mem != nil {
		parts = append(parts, "mem "+mem(a.Mem))
	}
	if a.Disk != nil && *a.Disk > 0 {
		parts = append(parts, "disk "+mem(a.Disk))
	}
	return strings.Join(parts, " · ")
}

// ints prints ports: "31000,31001".
func ints(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

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

// parseTime reads a Marathon timestamp.
func parseTime(ts string) (time.Time, bool) {
	for _, layout := range []string{marathon.TimestampLayout, time.RFC3339Nano} {
		if t, err := time.Parse(layout, ts); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// ago prints how long ago a Marathon timestamp was: "5m ago" ("" when it
// is not one).
func ago(ts string, now time.Time) string {
	t, ok := parseTime(ts)
	if !ok {
		return ""
	}
	return output.Age(now.Sub(t)) + " ago"
}

// shortState drops the TASK_ prefix: "RUNNING".
func shortState(s string) string { return strings.TrimPrefix(s, "TASK_") }
