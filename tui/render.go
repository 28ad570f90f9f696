package tui

import (
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cairn-dc/cairn/tui/view"
)

// tabSpan is where a tab was drawn on the first line.
type tabSpan struct{ from, to, page int }

// bodyHeight is the height between the tab bar and the status line.
func (m *Model) bodyHeight() int { return max(m.height-2, 0) }

// View draws the screen: the tab bar, the shown page (or the help, or a
// log) with the confirm modal over it, and the status line.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.WindowTitle = "cairn"
	if m.mouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	return v
}

// Render is the screen as text (View's content).
func (m *Model) Render() string {
	if m.width <= 0 || m.height <= 0 {
		return "starting…"
	}
	w, h := m.width, m.bodyHeight()
	var body string
	switch {
	case m.logv != nil:
		body = m.logv.render(w, h)
	case m.showHelp:
		body = m.renderHelp(w, h)
	case m.page() != nil:
		body = m.page().Render(w, h)
	}
	body = fill(body, w, h)
	if m.confirm != nil {
		body = m.overlayConfirm(body, w, h)
	}
	return m.tabBar(w) + "\n" + body + "\n" + m.statusLine(w)
}

// fill makes s exactly height lines of at most width cells.
func fill(s string, width, height int) string {
	if height <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = view.Fit(l, width)
	}
	return strings.Join(lines, "\n")
}

// tabBar draws the tabs, numbered, and the cluster's name on the right
// when there is room. Labels shrink to fit narrow terminals.
func (m *Model) tabBar(width int) string {
	th := m.env.Theme
	labels := make([]string, len(m.pages))
	for i, p := range m.pages {
		labels[i] = p.Title()
	}
	// Each tab is " n Title " (pad 1), else " n Title" (half), else its
	// title shortened until all fit.
	pad, half := 1, false
	fits := func(n int) bool { // n: the longest a title may be
		total := 0
		for i, l := range labels {
			total += len(strconv.Itoa(i+1)) + 1 + min(ansi.StringWidth(l), n) + 2*pad
			if half {
				total--
			}
		}
		return total <= width
	}
	longest := 0
	for _, l := range labels {
		longest = max(longest, ansi.StringWidth(l))
	}
	if !fits(longest) {
		half = true
	}
	for longest > 3 && !fits(longest) {
		longest--
	}
	if !fits(longest) {
		pad, half = 0, false
	}
	m.tabs = m.tabs[:0]
	var b strings.Builder
	x := 0
	for i, l := range labels {
		text := strings.Repeat(" ", pad) + strconv.Itoa(i+1) + " " + view.Fit(l, longest)
		if !half {
			text += strings.Repeat(" ", pad)
		}
		style := lipgloss.NewStyle()
		if i == m.active {
			style = th.TabOn.Padding(0)
		} else if !th.Plain {
			style = th.Tab.Padding(0)
		}
		cell := style.Render(text)
		wd := ansi.StringWidth(text)
		m.tabs = append(m.tabs, tabSpan{from: x, to: x + wd, page: i})
		x += wd
		b.WriteString(cell)
	}
	if name := m.clusterName(); name != "" && width-x >= ansi.StringWidth(name)+3 {
		b.WriteString(strings.Repeat(" ", width-x-ansi.StringWidth(name)-1))
		b.WriteString(th.Muted.Render(name))
	}
	return view.Fit(b.String(), width)
}

// clusterName names what the TUI watches: the master's hostname or its
// URL.
func (m *Model) clusterName() string {
	if mi := m.env.Cluster.Master(); mi.Hostname != "" {
		return "cairn · " + mi.Hostname
	}
	if m.env.Client != nil {
		return "cairn · " + strings.TrimPrefix(strings.TrimPrefix(m.env.Client.BaseURL(), "http://"), "https://")
	}
	return "cairn"
}

// statusLine draws the stream's state, the latest flash, and key hints.
func (m *Model) statusLine(width int) string {
	th := m.env.Theme
	var left string
	switch {
	case m.stream.Connected:
		left = th.OK.Render("● live")
	case m.streamSeen:
		left = th.Bad.Render("○ reconnecting")
		if m.stream.Err != nil {
			left += th.Muted.Render(": " + view.Clean(m.stream.Err.Error()))
		}
	case m.env.Client != nil:
		left = th.Warn.Render("○ connecting")
	}
	var flash string
	switch {
	case m.flash.Err != nil:
		flash = th.Bad.Render(view.Clean(m.flash.Err.Error()))
		if m.flash.Text != "" {
			flash = th.Bad.Render(view.Clean(m.flash.Text + ": " + m.flash.Err.Error()))
		}
	case m.flash.Text != "":
		flash = view.Clean(m.flash.Text)
	}
	hints := m.hints()
	parts := []string{}
	if left != "" {
		parts = append(parts, left)
	}
	if flash != "" {
		parts = append(parts, flash)
	}
	line := strings.Join(parts, "  ")
	lw, hw := ansi.StringWidth(line), ansi.StringWidth(hints)
	if lw+hw+2 <= width {
		return line + strings.Repeat(" ", width-lw-hw) + hints
	}
	if flash != "" || lw >= width {
		return view.Fit(line, width)
	}
	return line + "  " + view.Fit(hints, width-lw-2)
}

// hints are the short key help of the status line: the shown page's first
// keys, then the shell's.
func (m *Model) hints() string {
	th := m.env.Theme
	var items []string
	add := func(k, d string) { items = append(items, th.Key.Render(k)+" "+th.Muted.Render(d)) }
	switch {
	case m.confirm != nil:
		add("y", "confirm")
		add("any key", "cancel")
	case m.logv != nil:
		add("esc", "close")
		add("s", "stdout/stderr")
		add("f", "follow")
	case m.showHelp:
		add("esc", "close help")
	default:
		if p := m.page(); p != nil {
			n := 0
			for _, b := range p.Keys() {
				if !b.Enabled() || n == 3 {
					continue
				}
				add(b.Help().Key, b.Help().Desc)
				n++
			}
		}
		add("?", "help")
		add("q", "quit")
	}
	return strings.Join(items, "  ")
}

// overlayConfirm draws the confirm modal in the middle of the body.
func (m *Model) overlayConfirm(body string, width, height int) string {
	th := m.env.Theme
	boxWidth := min(max(ansi.StringWidth(m.confirm.Prompt)+4, 40), width)
	prompt := lipgloss.NewStyle().Width(boxWidth - 4).Render(view.Clean(m.confirm.Prompt))
	hint := th.Key.Render("y") + " " + th.Muted.Render("yes") + "   " + th.Key.Render("any other key") + " " + th.Muted.Render("no")
	box := th.Border.Padding(0, 1).Width(boxWidth).Render(th.Title.Render("Confirm") + "\n\n" + prompt + "\n\n" + hint)
	bw, bh := lipgloss.Width(box), lipgloss.Height(box)
	x, y := max((width-bw)/2, 0), max((height-bh)/2, 0)
	c := lipgloss.NewCompositor(lipgloss.NewLayer(body), lipgloss.NewLayer(box).X(x).Y(y).Z(1))
	return fill(c.Render(), width, height)
}
