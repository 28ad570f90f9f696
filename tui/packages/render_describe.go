package packages

import (
	"strings"

	"github.com/cairn-dc/cairn/tui/internal/listpage"
	"github.com/cairn-dc/cairn/tui/view"
)

// renderDescribe draws a package version in full, scrolled by the
// cursor keys.
func (p *page) renderDescribe(width, height int) string {
	th := p.env.Theme
	name := p.descName
	if p.descVersion != "" {
		name += " " + p.descVersion
	}
	title := th.Title.Render("Package "+name) + "  " + th.Muted.Render("i installs · esc goes back")
	switch {
	case p.descErr != nil:
		return title + "\n" + listpage.Problem(th, errorText(p.descErr, p.descName, p.descVersion), retry, width)
	case p.details == nil:
		return title + "\n" + th.Muted.Render("Loading package "+name+"…")
	}
	d := p.details
	var body []string
	field := func(label, value string) {
		if value == "" {
			return
		}
		lines := view.Wrap(view.Clean(value), max(10, width-13))
		for i, l := range lines {
			lead := view.Pad("", 13)
			if i == 0 {
				lead = th.Muted.Render(view.Pad(label, 13))
			}
			body = append(body, lead+l)
		}
	}
	field("Version", d.Version)
	field("Kind", string(d.Kind))
	field("Description", d.Description)
	field("Maintainer", d.Maintainer)
	field("Website", d.Website)
	field("Tags", strings.Join(d.Tags, ", "))
	field("Versions", strings.Join(p.versions, ", "))
	field("Repository", d.Repository+" ("+d.Source+")")
	field("Digest", d.Digest)
	field("Notes", d.PreInstallNotes)
	opts, err := parseOptions(d.Config)
	body = append(body, "")
	switch {
	case err != nil:
		body = append(body, th.Bad.Render(view.Fit(err.Error(), width)))
	case len(opts) == 0:
		body = append(body, th.Muted.Render("No options."))
	default:
		body = append(body, th.Header.Render("Options"))
		t := view.Table{
			Columns: []view.Column{
				{Title: "OPTION", Width: 12, Flex: 1},
				{Title: "TYPE", Width: 8},
				{Title: "DEFAULT", Width: 12, Flex: 1},
				{Title: "DESCRIPTION", Width: 16, Flex: 4},
			},
			Cursor: -1,
		}
		for _, o := range opts {
			name := o.Name
			if o.Required {
				name += " *"
			}
			t.Rows = append(t.Rows, []view.Cell{view.Plain(name), view.Plain(o.typeText()), view.Plain(o.defaultText()), view.Plain(o.Description)})
		}
		body = append(body, t.Render(th, width, len(opts)+1))
	}
	body = strings.Split(strings.Join(body, "\n"), "\n")
	visible := max(0, height-1)
	scroll := min(p.scroll, max(0, len(body)-visible))
	return title + "\n" + strings.Join(body[scroll:], "\n")
}
