package agents

import (
	"errors"

	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui/view"
)

// drain asks to confirm, then drains (or undrains) a.
func (p *Page) drain(a protocol.Agent, on bool) tea.Cmd {
	return view.FlashCmd("", errors.New("draining agents is not in this build yet: use cairn node drain when it lands"))
}
