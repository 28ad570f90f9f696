package apps

import (
	"charm.land/bubbles/v2/key"

	"github.com/cairn-dc/cairn/tui/internal/listpage"
)

// keyMap is the page's bindings.
type keyMap struct {
	listpage.KeyMap

	Open                        key.Binding
	Scale, Restart, Log, Stderr key.Binding
	Submit, Cancel              key.Binding
}

func newKeyMap() keyMap {
	b := listpage.Binding
	return keyMap{
		KeyMap:  listpage.NewKeyMap(),
		Open:    b("tasks", "enter"),
		Scale:   b("scale", "s"),
		Restart: b("restart", "r"),
		Log:     b("log", "l"),
		Stderr:  b("stderr", "L"),
		Submit:  b("apply", "enter"),
		Cancel:  b("cancel", "esc"),
	}
}
