// Package listpage is what the fetched list pages (apps, jobs, modules,
// packages) share: the list keys and their moves, the cursor kept on the
// same row across refetches, the page's timers, and the "no master" and
// error texts.
package listpage

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/tui/view"
)

// Binding is a key binding whose help names its first key.
func Binding(help string, keys ...string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(keys[0], help))
}

// KeyMap is the bindings every list page has: the moves, back and
// refresh. Pages embed it in their own key maps.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding

	Back, Refresh key.Binding
}

// NewKeyMap returns the list bindings: ↑↓/jk, pgup/pgdown, g/G (home,
// end), esc and ctrl+r.
func NewKeyMap() KeyMap {
	return KeyMap{
		Up:       Binding("up", "up", "k"),
		Down:     Binding("down", "down", "j"),
		PageUp:   Binding("page up", "pgup"),
		PageDown: Binding("page down", "pgdown"),
		Top:      Binding("first", "home", "g"),
		Bottom:   Binding("last", "end", "G"),
		Back:     Binding("back", "esc"),
		Refresh:  Binding("refresh", "ctrl+r"),
	}
}

// pageStep is how far PageUp and PageDown move; Top and Bottom move by far
// more than any list holds (Clamp stops them at the ends).
const (
	pageStep = 10
	far      = 1 << 30
)

// Step is how far a move key moves the cursor, and whether msg is one.
func (k KeyMap) Step(msg tea.KeyPressMsg) (int, bool) {
	switch {
	case key.Matches(msg, k.Up):
		return -1, true
	case key.Matches(msg, k.Down):
		return 1, true
	case key.Matches(msg, k.PageUp):
		return -pageStep, true
	case key.Matches(msg, k.PageDown):
		return pageStep, true
	case key.Matches(msg, k.Top):
		return -far, true
	case key.Matches(msg, k.Bottom):
		return far, true
	}
	return 0, false
}

// Clamp keeps a cursor inside n rows (0 when there are none).
func Clamp(cursor, n int) int {
	return max(0, min(cursor, n-1))
}

// Keep is the cursor over rows, a refetch of old: on the row whose id is
// the one that was under cursor, else where it was, inside rows.
func Keep[T any](old, rows []T, cursor int, id func(T) string) int {
	var selected string
	if cursor >= 0 && cursor < len(old) {
		selected = id(old[cursor])
	}
	for i, r := range rows {
		if id(r) == selected {
			cursor = i
			break
		}
	}
	return Clamp(cursor, len(rows))
}

// At is the row under cursor, if there is one.
func At[T any](rows []T, cursor int) (T, bool) {
	if cursor < 0 || cursor >= len(rows) {
		var zero T
		return zero, false
	}
	return rows[cursor], true
}

// Tick arms a timer that delivers msg after d: a page's timers, which
// tests replace to fire them themselves.
func Tick(d time.Duration, msg tea.Msg) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return msg })
}

// Refetch starts fetch when the refresher lets it run now (one fetch at a
// time); else the refresher runs it again once the fetch in flight is done.
func Refetch(r *view.Refresher, fetch func() tea.Cmd) tea.Cmd {
	if r.Now() {
		return fetch()
	}
	return nil
}

// NoClient is what a page titled title draws without a master to ask.
func NoClient(th view.Theme, title string, width, height int) string {
	return view.Clip(th.Title.Render(title)+"\n"+th.Muted.Render(view.NoClientText), width, height)
}

// Retry is the hint under a page's error.
const Retry = "press ctrl+r to try again"

// Problem draws an error text wrapped to width, and hint under it.
func Problem(th view.Theme, text, hint string, width int) string {
	lines := view.Wrap(text, width)
	for i, l := range lines {
		lines[i] = th.Bad.Render(l)
	}
	return strings.Join(append(lines, th.Muted.Render(hint)), "\n")
}
