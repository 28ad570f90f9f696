package jobs

import (
	"charm.land/bubbles/v2/key"

	"github.com/cairn-dc/cairn/tui/internal/listpage"
)

// keyMap is the page's bindings.
type keyMap struct {
	listpage.KeyMap

	Open                   key.Binding
	Run, Stop, Log, Stderr key.Binding
}

func newKeyMap() keyMap {
	b := listpage.Binding
	return keyMap{
		KeyMap: listpage.NewKeyMap(),
		Open:   b("runs", "enter"),
		Run:    b("run now", "r"),
		Stop:   b("stop run", "x"),
		Log:    b("log", "l"),
		Stderr: b("stderr", "L"),
	}
}
