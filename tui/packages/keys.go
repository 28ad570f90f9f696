package packages

import (
	"charm.land/bubbles/v2/key"

	"github.com/cairn-dc/cairn/tui/internal/listpage"
)

// keyMap is the page's bindings.
type keyMap struct {
	listpage.KeyMap

	Open, Search, Form, Uninstall key.Binding
	// In the search input and the install form.
	Submit, Cancel, Next, Prev, Install key.Binding
}

func newKeyMap() keyMap {
	b := listpage.Binding
	return keyMap{
		KeyMap:    listpage.NewKeyMap(),
		Open:      b("describe", "enter"),
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
