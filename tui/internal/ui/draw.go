package ui

import (
	"math"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/cairn-dc/cairn/tui/view"
)

// Bar draws used/total as a bar width cells wide: the used part in
// th.BarFull, the rest in th.BarEmpty. The glyphs differ, so it reads
// without colour too.
func Bar(th view.Theme, used, total float64, width int) string {
	if width <= 0 {
		return ""
	}
	full := barFull(used, total, width)
	return th.BarFull.Render(strings.Repeat("█", full)) + th.BarEmpty.Render(strings.Repeat("░", width-full))
}

// PlainBar is Bar without styles (for a table cell, which takes one
// style).
func PlainBar(used, total float64, width int) string {
	n := barFull(used, total, width)
	return strings.Repeat("█", n) + strings.Repeat("░", max(width-n, 0))
}

// barFull is how many of width cells used/total fills.
func barFull(used, total float64, width int) int {
	frac := 0.0
	if total > 0 {
		frac = math.Min(math.Max(used/total, 0), 1)
	}
	full := int(math.Round(frac * float64(width)))
	if full == 0 && used > 0 {
		full = 1
	}
	return min(full, width)
}

// Percent prints used/total as "37%" ("-" without a total).
func Percent(used, total float64) string {
	if total <= 0 {
		return "-"
	}
	return strconv.Itoa(int(math.Round(100*used/total))) + "%"
}

// KV draws key/value lines, keys padded to one width in th.Muted.
func KV(th view.Theme, pairs [][2]string) []string {
	w := 0
	for _, p := range pairs {
		w = max(w, ansi.StringWidth(p[0]))
	}
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = th.Muted.Render(view.Pad(p[0], w)) + "  " + p[1]
	}
	return out
}

// Block joins lines and fits them into width×height, padding with empty
// lines so the block is exactly height lines.
func Block(lines []string, width, height int) string {
	if height <= 0 || width <= 0 {
		return ""
	}
	if len(lines) > height {
		lines = lines[:height]
	}
	out := make([]string, height)
	for i := range out {
		if i < len(lines) {
			out[i] = view.Fit(lines[i], width)
		}
	}
	return strings.Join(out, "\n")
}

// Lines splits a rendered block into lines.
func Lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// padTo pads s (which may hold styles) with spaces to width cells, or cuts
// it.
func padTo(s string, width int) string { return view.Pad(s, width) }

// WaitingText is what the cluster pages say before the first SUBSCRIBED.
const WaitingText = "Waiting for the cluster's state from the master's event stream…"

// Waiting is a cluster page before the store is synced.
func Waiting(th view.Theme, width, height int) string {
	return Block([]string{th.Muted.Render(WaitingText)}, width, height)
}

// Heading is a title with a muted note after it: "Agents  3".
func Heading(th view.Theme, title, note string) string {
	return th.Title.Render(title) + th.Muted.Render("  "+note)
}
