package view

import (
	"image/color"

	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"
)

// NewInput returns a text input styled by th: no colour in a plain theme,
// and a steady cursor (no blink timer, so renders are reproducible).
func NewInput(th Theme, prompt, placeholder string) textinput.Model {
	in := textinput.New()
	in.Prompt = prompt
	in.Placeholder = placeholder
	s := textinput.DefaultDarkStyles()
	if th.Plain {
		plain := lipgloss.NewStyle()
		s.Focused = textinput.StyleState{Text: plain, Placeholder: th.Muted, Suggestion: th.Muted, Prompt: th.Key}
		s.Blurred = textinput.StyleState{Text: plain, Placeholder: th.Muted, Suggestion: th.Muted, Prompt: plain}
		s.Cursor.Color = color.Color(lipgloss.NoColor{})
	}
	s.Cursor.Blink = false
	in.SetStyles(s)
	return in
}
