package modules

import (
	"charm.land/bubbles/v2/key"

	"github.com/cairn-dc/cairn/tui/internal/listpage"
)

// keyMap is the page's bindings.
type keyMap struct {
	listpage.KeyMap

	Open, Remove key.Binding
}

func newKeyMap() keyMap {
	b := listpage.Binding
	return keyMap{
		KeyMap: listpage.NewKeyMap(),
		Open:   b("describe", "enter"),
		Remove: b("remove", "x"),
	}
}
