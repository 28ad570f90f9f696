package modules

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/modules/host/moduleapi"
	"github.com/cairn-dc/cairn/tui/internal/listpage"
	"github.com/cairn-dc/cairn/tui/view"
)

func (p *page) Render(width, height int) string {
	if width <= 0 || height <= 0 {
		return ""
	}
	if p.env.Client == nil {
		return listpage.NoClient(p.env.Theme, "Modules", width, height)
	}
	var body string
	if p.detail != "" {
		body = p.renderDetail(width)
	} else {
		body = p.renderList(width, height)
	}
	return view.Clip(body, width, height)
}

func (p *page) renderList(width, height int) string {
	th := p.env.Theme
	title := th.Title.Render("Modules")
	switch {
	case !p.loaded:
		return title + "\n" + th.Muted.Render("Loading the modules of the master's module host…")
	case p.err != nil && len(p.mods) == 0:
		return title + "\n" + listpage.Problem(th, errorText(p.err), listpage.Retry, width)
	}
	running := 0
	for _, m := range p.mods {
		if m.State == moduleapi.Running {
			running++
		}
	}
	lines := []string{title + "  " + th.Muted.Render(fmt.Sprintf("%d modules · %d running", len(p.mods), running))}
	errLine := ""
	if p.err != nil {
		errLine = th.Bad.Render(view.Fit("not refreshed: "+errorText(p.err), width))
	}
	if len(p.mods) == 0 {
		lines = append(lines, th.Muted.Render("No modules: install one with cairn module install, or a module package from the Packages tab."))
	} else {
		t := view.Table{
			Columns: []view.Column{
				{Title: "NAME", Width: 10, Flex: 1},
				{Title: "KIND", Width: 7},
				{Title: "STATE", Width: 8},
				{Title: "RESTARTS", Width: 8},
				{Title: "PID", Width: 7},
				{Title: "SOURCE", Width: 7},
				{Title: "LAST ERROR", Width: 14, Flex: 4},
			},
			Cursor: p.cursor,
		}
		for _, m := range p.mods {
			pid := ""
			if m.PID > 0 {
				pid = strconv.Itoa(m.PID)
			}
			t.Rows = append(t.Rows, []view.Cell{
				view.Plain(m.Name), view.Plain(m.Kind), p.state(m.State), view.Plain(strconv.Itoa(m.Restarts)),
				view.Plain(pid), view.Plain(m.Source), view.Styled(m.LastError, th.Bad),
			})
		}
		tableHeight := height - 1
		if errLine != "" {
			tableHeight--
		}
		lines = append(lines, t.Render(th, width, tableHeight))
	}
	if errLine != "" {
		lines = append(lines, errLine)
	}
	return strings.Join(lines, "\n")
}

func (p *page) state(s moduleapi.State) view.Cell {
	th := p.env.Theme
	switch s {
	case moduleapi.Running:
		return view.Styled(string(s), th.OK)
	case moduleapi.Failed, moduleapi.Backoff:
		return view.Styled(string(s), th.Bad)
	}
	return view.Styled(string(s), th.Warn)
}

func (p *page) renderDetail(width int) string {
	th := p.env.Theme
	title := th.Title.Render("Module "+p.detail) + "  " + th.Muted.Render("esc: back to the list")
	m, ok := p.selected()
	if !ok {
		return title + "\n" + th.Bad.Render("module "+p.detail+" is gone (removed, or its host restarted without it): esc returns to the list")
	}
	now := p.env.Time()
	lines := []string{title}
	field := func(label, value string, cell *view.Cell) {
		if value == "" && cell == nil {
			return
		}
		lead := th.Muted.Render(view.Pad(label, 13))
		if cell != nil && cell.Style != nil {
			lines = append(lines, lead+cell.Style.Render(cell.Text))
			return
		}
		for i, l := range view.Wrap(view.Clean(value), max(10, width-13)) {
			if i > 0 {
				lead = view.Pad("", 13)
			}
			lines = append(lines, lead+l)
		}
	}
	state := p.state(m.State)
	field("State", "", &state)
	field("Kind", m.Kind, nil)
	field("Source", m.Source, nil)
	if m.Package != nil {
		field("Package", m.Package.Name+" "+m.Package.Version+" ("+m.Package.Source+")", nil)
	}
	field("Path", m.Path, nil)
	field("SHA-256", m.SHA256, nil)
	if m.PID > 0 {
		field("PID", strconv.Itoa(m.PID), nil)
	}
	field("Restarts", strconv.Itoa(m.Restarts), nil)
	field("Started", when(m.StartedAt, now), nil)
	field("Next start", when(m.NextStart, now), nil)
	field("SDK version", m.SDKVersion, nil)
	if m.LastError != "" {
		for i, l := range view.Wrap(view.Clean(m.LastError), max(10, width-13)) {
			lead := view.Pad("", 13)
			if i == 0 {
				lead = th.Muted.Render(view.Pad("Last error", 13))
			}
			lines = append(lines, lead+th.Bad.Render(l))
		}
	}
	return strings.Join(lines, "\n")
}

// when prints a time with how far it is from now: "2026-03-01T11:58:00Z
// (2m ago)" ("" for none).
func when(t *time.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	rel := output.Age(now.Sub(*t)) + " ago"
	if t.After(now) {
		rel = "in " + output.Age(t.Sub(now))
	}
	return t.UTC().Format(time.RFC3339) + " (" + rel + ")"
}
