package packages

import (
	"strings"

	"github.com/cairn-dc/cairn/tui/view"
)

// renderForm draws the install form: a line per field (its label, input
// and description), its error below it, the focused field kept in view.
func (p *page) renderForm(width, height int) string {
	th := p.env.Theme
	f := p.form
	head := []string{
		th.Title.Render("Install "+f.name+" "+f.version) + "  " +
			th.Muted.Render("tab/enter: next field · ctrl+s: install · esc: cancel"),
	}
	if f.notes != "" {
		head = append(head, th.Warn.Render(view.Fit(view.Clean(f.notes), width)))
	}
	if f.err != "" {
		for _, l := range view.Wrap(f.err, width) {
			head = append(head, th.Bad.Render(l))
		}
	}
	if f.sending {
		head = append(head, th.Warn.Render("Installing…"))
	}
	labelW := len(appIDField)
	for _, o := range f.options {
		labelW = max(labelW, len(o.Name)+2)
	}
	labelW = min(labelW, 24)
	inputW := max(8, min(36, width-labelW-4))
	descW := width - labelW - 1 - inputW - 4
	var body []string
	focusLine := 0
	for i := range f.inputs {
		label := f.label(i)
		desc := ""
		if i == 0 {
			desc = "default /" + f.name
		} else {
			o := f.options[i-1]
			if o.Required {
				label += " *"
			}
			desc = o.Description
		}
		marker := "  "
		if i == f.focus {
			marker = th.Key.Render("> ")
			focusLine = len(body)
		}
		in := f.inputs[i]
		in.SetWidth(inputW - 1)
		line := marker + th.Header.Render(view.Pad(label, labelW)) + " " + view.Pad(in.View(), inputW)
		if descW > 8 && desc != "" {
			line += "  " + th.Muted.Render(view.Fit(view.Clean(desc), descW))
		}
		body = append(body, line)
		if e := f.errs[i]; e != "" {
			body = append(body, strings.Repeat(" ", labelW+3)+th.Bad.Render(view.Fit("↳ "+view.Clean(e), width-labelW-3)))
		}
	}
	visible := max(1, height-len(head)-1)
	offset := 0
	if focusLine >= visible {
		offset = focusLine - visible + 2
	}
	offset = min(offset, max(0, len(body)-visible))
	return strings.Join(head, "\n") + "\n\n" + strings.Join(body[offset:], "\n")
}
