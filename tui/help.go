package tui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"github.com/cairn-dc/cairn/tui/view"
)

// newHelp is the help bubble in th's styles.
func newHelp(th view.Theme) help.Model {
	h := help.New()
	h.Styles = help.Styles{
		Ellipsis:       th.Muted,
		ShortKey:       th.Key,
		ShortDesc:      th.Muted,
		ShortSeparator: th.Muted,
		FullKey:        th.Key,
		FullDesc:       th.Muted,
		FullSeparator:  th.Muted,
	}
	return h
}

// helpRows is how many bindings go in one column of the full help.
const helpRows = 8

// renderHelp draws every key: the shown page's, then the shell's and the
// log's, in columns packed into rows as wide as the screen.
func (m *Model) renderHelp(width, height int) string {
	th := m.env.Theme
	var groups [][]key.Binding
	title := "Keys"
	if p := m.page(); p != nil {
		title = "Keys · " + p.Title()
		groups = append(groups, columns(p.Keys())...)
	}
	groups = append(groups, m.keys.global(), newLogKeys().list())
	h := m.help
	h.SetWidth(0) // no truncation: rows are packed to fit below
	const gap = 4
	var rows []string
	var row [][]key.Binding
	rowWidth := 0
	for _, g := range groups {
		w := lipgloss.Width(h.FullHelpView([][]key.Binding{g}))
		if len(row) > 0 && rowWidth+gap+w > width {
			rows = append(rows, h.FullHelpView(row))
			row, rowWidth = nil, 0
		}
		if len(row) > 0 {
			rowWidth += gap
		}
		row = append(row, g)
		rowWidth += w
	}
	if len(row) > 0 {
		rows = append(rows, h.FullHelpView(row))
	}
	b := strings.Builder{}
	b.WriteString(th.Title.Render(title) + "\n\n")
	b.WriteString(strings.Join(rows, "\n\n"))
	b.WriteString("\n\n" + th.Muted.Render("The page's keys, then the shell's, then the log's. esc closes this help."))
	return view.Clip(b.String(), width, height)
}

// columns splits bindings into columns of at most helpRows.
func columns(bs []key.Binding) [][]key.Binding {
	var out [][]key.Binding
	for len(bs) > helpRows {
		out = append(out, bs[:helpRows])
		bs = bs[helpRows:]
	}
	if len(bs) > 0 {
		out = append(out, bs)
	}
	return out
}
