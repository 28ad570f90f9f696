package tui

import "charm.land/bubbles/v2/key"

// keyMap are the shell's own keys; pages add theirs (view.Page.Keys).
type keyMap struct {
	Quit, ForceQuit, Help, Next, Prev, Tab key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit, always")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "keys")),
		Next:      key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next page")),
		Prev:      key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous page")),
		Tab:       key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8", "9"), key.WithHelp("1-9", "go to page")),
	}
}

// global are the shell's keys, for the help.
func (k keyMap) global() []key.Binding {
	return []key.Binding{k.Tab, k.Next, k.Prev, k.Help, k.Quit, k.ForceQuit}
}
