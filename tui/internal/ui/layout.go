package ui

import "strings"

// Section is a titled block of a page whose rows share the height left
// over (the overview's agents, frameworks, events).
type Section struct {
	Title string
	// Want is how many rows the section could use; Min how many it gets
	// before other sections get more than their Min.
	Want, Min int
	// Draw returns the section's lines (without the title) for a budget
	// of rows lines and width cells.
	Draw func(width, rows int) []string
}

// Stack draws sections one under the other into width×height, a blank
// line between them. Rows go first to every section's Min, then in order
// up to each one's Want; sections that get no row at all are left out.
func Stack(sections []Section, width, height int) []string {
	budget := height
	for i := range sections {
		budget-- // title
		if i > 0 {
			budget-- // gap
		}
	}
	rows := make([]int, len(sections))
	for i, s := range sections {
		n := min(s.Min, s.Want, max(budget, 0))
		rows[i] = n
		budget -= n
	}
	for i, s := range sections {
		if budget <= 0 {
			break
		}
		n := min(s.Want-rows[i], budget)
		if n > 0 {
			rows[i] += n
			budget -= n
		}
	}
	var out []string
	for i, s := range sections {
		if rows[i] == 0 && s.Want > 0 {
			continue
		}
		if len(out) > 0 {
			out = append(out, "")
		}
		out = append(out, s.Title)
		if rows[i] > 0 {
			lines := s.Draw(width, rows[i])
			if len(lines) > rows[i] {
				lines = lines[:rows[i]]
			}
			out = append(out, lines...)
		}
	}
	return out
}

// SideBySide joins two columns of lines, the left one padded to leftWidth,
// with gap spaces between them.
func SideBySide(left, right []string, leftWidth, gap int) []string {
	n := max(len(left), len(right))
	out := make([]string, n)
	for i := range out {
		var l, r string
		if i < len(left) {
			l = left[i]
		}
		if i < len(right) {
			r = right[i]
		}
		out[i] = padTo(l, leftWidth) + strings.Repeat(" ", gap) + r
	}
	return out
}
