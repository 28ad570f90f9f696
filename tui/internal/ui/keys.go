package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Nav are the list keys the cluster pages share.
type Nav struct {
	Up, Down, PageUp, PageDown, Top, Bottom, Open, Back key.Binding
}

// NewNav returns the list keys; open names what enter does.
func NewNav(open string) Nav {
	return Nav{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "first")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "last")),
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", open)),
		Back:     key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back")),
	}
}

// Delta is how far a navigation key moves a list whose page is page rows
// (ok false: msg is not one).
func (n Nav) Delta(msg tea.KeyPressMsg, page int) (delta int, ok bool) {
	const far = 1 << 30
	switch {
	case key.Matches(msg, n.Up):
		return -1, true
	case key.Matches(msg, n.Down):
		return 1, true
	case key.Matches(msg, n.PageUp):
		return -max(page, 1), true
	case key.Matches(msg, n.PageDown):
		return max(page, 1), true
	case key.Matches(msg, n.Top):
		return -far, true
	case key.Matches(msg, n.Bottom):
		return far, true
	}
	return 0, false
}

// List are the movement keys, for help.
func (n Nav) List() []key.Binding {
	return []key.Binding{n.Up, n.Down, n.PageUp, n.PageDown, n.Top, n.Bottom}
}

// KeyPress is the key message for a key name, as the page tests and the
// screenshot scripts type them: a single character (an upper case one
// with shift), or enter, esc, tab, shift+tab, up, down, backspace, ctrl+r,
// ctrl+s. It panics on any other name (a mistake in a script).
func KeyPress(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+r":
		return tea.KeyPressMsg{Code: 'r', Mod: tea.ModCtrl}
	case "ctrl+s":
		return tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl}
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("unknown key " + k)
	}
	if r[0] >= 'A' && r[0] <= 'Z' {
		return tea.KeyPressMsg{Code: r[0] + ('a' - 'A'), ShiftedCode: r[0], Mod: tea.ModShift, Text: k}
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}
