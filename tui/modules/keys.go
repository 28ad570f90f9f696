package modules

import "charm.land/bubbles/v2/key"

// keyMap is the page's bindings.
type keyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding

	Open, Back, Refresh, Remove key.Binding
}

func newKeyMap() keyMap {
	b := func(help string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(keys[0], help))
	}
	return keyMap{
		Up:       b("up", "up", "k"),
		Down:     b("down", "down", "j"),
		PageUp:   b("page up", "pgup"),
		PageDown: b("page down", "pgdown"),
		Top:      b("first", "home", "g"),
		Bottom:   b("last", "end", "G"),
		Open:     b("describe", "enter"),
		Back:     b("back", "esc"),
		Refresh:  b("refresh", "ctrl+r"),
		Remove:   b("remove", "x"),
	}
}
