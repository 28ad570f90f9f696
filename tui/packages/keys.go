package packages

import "charm.land/bubbles/v2/key"

// keyMap is the page's bindings.
type keyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding

	Open, Back, Refresh, Search, Form, Uninstall key.Binding
	// In the search input and the install form.
	Submit, Cancel, Next, Prev, Install key.Binding
}

func newKeyMap() keyMap {
	b := func(help string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(keys[0], help))
	}
	return keyMap{
		Up:        b("up", "up", "k"),
		Down:      b("down", "down", "j"),
		PageUp:    b("page up", "pgup"),
		PageDown:  b("page down", "pgdown"),
		Top:       b("first", "home", "g"),
		Bottom:    b("last", "end", "G"),
		Open:      b("describe", "enter"),
		Back:      b("back", "esc"),
		Refresh:   b("refresh", "ctrl+r"),
		Search:    b("search", "/"),
		Form:      b("install", "i"),
		Uninstall: b("uninstall", "x"),
		Submit:    b("search", "enter"),
		Cancel:    b("cancel", "esc"),
		Next:      b("next field", "tab", "down", "enter"),
		Prev:      b("previous field", "shift+tab", "up"),
		Install:   b("install", "ctrl+s"),
	}
}
