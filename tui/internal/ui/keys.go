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
