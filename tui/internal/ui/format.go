// Package ui holds the small drawing and formatting helpers of the TUI's
// cluster pages (overview, agents, frameworks, tasks): resource bars,
// sizes, ages, short IDs, key/value blocks.
package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// ShortID fits id into width cells: whole when it fits, else its head and
// tail around "…" (ULIDs differ in their tails when created together, and
// people recognise their heads).
func ShortID(id string, width int) string {
	if len(id) <= width || width <= 0 {
		return id
	}
	if width < 6 {
		return ansi.Truncate(id, width, "…")
	}
	tail := (width - 1) / 3
	head := width - 1 - tail
	return id[:head] + "…" + id[len(id)-tail:]
}

// Scalar is the total of a scalar resource (cpus, mem, disk) as a float.
func Scalar(rs resources.Resources, name string) float64 {
	return rs.ScalarTotal(name).Float()
}

// CPUs prints a number of CPUs: "2", "0.5", "1.25".
func CPUs(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// MB prints megabytes as people read them: "512M", "1.5G", "2T".
func MB(v float64) string {
	switch {
	case v >= 1024*1024:
		return trimZero(fmt.Sprintf("%.1f", v/(1024*1024))) + "T"
	case v >= 1024:
		return trimZero(fmt.Sprintf("%.1f", v/1024)) + "G"
	}
	return trimZero(fmt.Sprintf("%.0f", v)) + "M"
}

func trimZero(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// Age prints how long ago t was, in one unit ("12s", "5m", "3h", "2d"),
// "-" for the zero time.
func Age(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return output.Age(now.Sub(t))
}

// Seconds is a wire timestamp (seconds since the epoch) as a time; 0 is
// the zero time.
func Seconds(ts float64) time.Time {
	if ts == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(ts*1e9))
}
