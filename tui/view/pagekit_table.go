package view

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Column is a column of a Table.
type Column struct {
	Title string
	// Width is the column's width in cells (its minimum when Flex > 0).
	Width int
	// Flex is the column's share of the width left over; 0 keeps Width.
	Flex int
}

// Cell is one cell of a Table: its text (one line; longer text is cut
// with "…") and, optionally, its style (nil: plain).
type Cell struct {
	Text  string
	Style *lipgloss.Style
}

// Plain is a cell without style.
func Plain(text string) Cell { return Cell{Text: text} }

// Styled is a cell drawn with style.
func Styled(text string, style lipgloss.Style) Cell { return Cell{Text: text, Style: &style} }

// Table draws rows under a header, with a selected row (Cursor, -1 for
// none) kept in view. Columns that do not fit the width are dropped from
// the right; the spare width goes to the flexible ones.
type Table struct {
	Columns []Column
	Rows    [][]Cell
	Cursor  int
}

// columnGap is the space between two columns.
const columnGap = 2

// widths fits the columns into width: how many are shown and their widths.
func (t Table) widths(width int) []int {
	n := len(t.Columns)
	for n > 1 {
		total := (n - 1) * columnGap
		for _, c := range t.Columns[:n] {
			total += c.Width
		}
		if total <= width {
			break
		}
		n--
	}
	ws := make([]int, n)
	used, flex := (n-1)*columnGap, 0
	for i, c := range t.Columns[:n] {
		ws[i] = c.Width
		used += c.Width
		flex += c.Flex
	}
	spare := width - used
	if spare > 0 && flex > 0 {
		given := 0
		last := -1
		for i, c := range t.Columns[:n] {
			if c.Flex == 0 {
				continue
			}
			add := spare * c.Flex / flex
			ws[i] += add
			given += add
			last = i
		}
		ws[last] += spare - given
	}
	if spare < 0 { // one column, wider than the page
		ws[0] = max(width, 1)
	}
	return ws
}

// Render draws the table into width×height cells (the header takes one
// line). It shows the rows around the cursor.
func (t Table) Render(th Theme, width, height int) string {
	if width <= 0 || height <= 0 {
		return ""
	}
	ws := t.widths(width)
	lines := make([]string, 0, height)
	head := make([]string, len(ws))
	for i, w := range ws {
		head[i] = Pad(t.Columns[i].Title, w)
	}
	lines = append(lines, th.Header.Render(Fit(strings.Join(head, strings.Repeat(" ", columnGap)), width)))
	visible := height - 1
	offset := 0
	if t.Cursor >= visible {
		offset = t.Cursor - visible + 1
	}
	for r := offset; r < len(t.Rows) && len(lines) < height; r++ {
		lines = append(lines, t.row(th, r, ws, width))
	}
	return strings.Join(lines, "\n")
}

// row draws row r: the selected row in one style, so it stays visible
// without colour; others with their cells' styles.
func (t Table) row(th Theme, r int, ws []int, width int) string {
	cells := t.Rows[r]
	parts := make([]string, len(ws))
	selected := r == t.Cursor
	for i, w := range ws {
		var c Cell
		if i < len(cells) {
			c = cells[i]
		}
		text := Pad(Clean(c.Text), w)
		if c.Style != nil && !selected {
			text = c.Style.Render(text)
		}
		parts[i] = text
	}
	line := strings.Join(parts, strings.Repeat(" ", columnGap))
	if selected {
		return th.Selected.Render(Pad(line, width))
	}
	return line
}

// Clean makes s one line: control characters (newlines, escapes) become
// spaces, and surrounding space is trimmed.
func Clean(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s))
}

// Fit cuts s (which may hold styles) to at most width cells, ending it
// with "…" when it was cut.
func Fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// Pad fits s into exactly width cells: cut with "…", or padded with
// spaces.
func Pad(s string, width int) string {
	s = Fit(s, width)
	if w := ansi.StringWidth(s); w < width {
		s += strings.Repeat(" ", width-w)
	}
	return s
}

// Clip fits a rendered block into width×height: every line cut to width,
// lines past height dropped.
func Clip(s string, width, height int) string {
	if width <= 0 || height <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for i, l := range lines {
		lines[i] = Fit(l, width)
	}
	return strings.Join(lines, "\n")
}

// Wrap breaks text into lines of at most width cells, at spaces where it
// can (inside long words where it cannot).
func Wrap(text string, width int) []string {
	if width <= 0 {
		return nil
	}
	return strings.Split(ansi.Wrap(text, width, ""), "\n")
}
