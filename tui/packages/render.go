package packages

import (
	"fmt"
	"strings"

	"github.com/cairn-dc/cairn/repository/packageapi"
	"github.com/cairn-dc/cairn/tui/internal/listpage"
	"github.com/cairn-dc/cairn/tui/view"
)

func (p *page) Render(width, height int) string {
	if width <= 0 || height <= 0 {
		return ""
	}
	if p.env.Client == nil {
		return listpage.NoClient(p.env.Theme, "Packages", width, height)
	}
	var footer []string
	if p.search != nil {
		in := *p.search
		in.SetWidth(max(1, width-len(in.Prompt)-1))
		footer = append(footer, view.Fit(in.View(), width),
			p.env.Theme.Muted.Render(view.Fit("enter searches · esc cancels", width)))
	}
	bodyHeight := max(0, height-len(footer))
	var body string
	switch p.mode {
	case modeInstalled:
		body = p.renderInstalled(width, bodyHeight)
	case modeResults:
		body = p.renderResults(width, bodyHeight)
	case modeDescribe:
		body = p.renderDescribe(width, bodyHeight)
	case modeForm:
		body = p.renderForm(width, bodyHeight)
	}
	return view.Clip(strings.Join(append([]string{body}, footer...), "\n"), width, height)
}

func (p *page) renderInstalled(width, height int) string {
	th := p.env.Theme
	title := th.Title.Render("Packages")
	switch {
	case !p.loaded:
		return title + "\n" + th.Muted.Render("Loading the installed packages…")
	case p.err != nil && len(p.installed) == 0:
		return title + "\n" + listpage.Problem(th, errorText(p.err, "", ""), retry, width)
	}
	lines := []string{title + "  " + th.Muted.Render(fmt.Sprintf("%d installed · / searches the repositories", len(p.installed)))}
	errLine := ""
	if p.err != nil {
		errLine = th.Bad.Render(view.Fit("not refreshed: "+errorText(p.err, "", ""), width))
	}
	if len(p.installed) == 0 {
		lines = append(lines, th.Muted.Render("No packages installed: / searches the repositories, i installs."))
	} else {
		t := view.Table{
			Columns: []view.Column{
				{Title: "NAME", Width: 12, Flex: 1},
				{Title: "VERSION", Width: 9},
				{Title: "APP / MODULE", Width: 14, Flex: 2},
				{Title: "STATUS", Width: 14},
				{Title: "KIND", Width: 9},
				{Title: "DESCRIPTION", Width: 12, Flex: 3},
			},
			Cursor: p.cursor,
		}
		for _, in := range p.installed {
			t.Rows = append(t.Rows, []view.Cell{
				view.Plain(in.PackageName), view.Plain(in.PackageVersion), view.Plain(installedAs(in)),
				p.status(in), view.Plain(in.Kind), view.Plain(in.Description),
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

// status is an installed package's state: "2/3 running", "1 healthy",
// or its module's state.
func (p *page) status(in packageapi.Installed) view.Cell {
	th := p.env.Theme
	if in.AppID == "" {
		switch in.ModuleState {
		case "running":
			return view.Styled(in.ModuleState, th.OK)
		case "failed", "backoff":
			return view.Styled(in.ModuleState, th.Bad)
		}
		return view.Styled(in.ModuleState, th.Warn)
	}
	text := fmt.Sprintf("%d/%d running", in.TasksRunning, in.Instances)
	if in.TasksRunning != in.Instances {
		return view.Styled(text, th.Warn)
	}
	return view.Styled(text, th.OK)
}

func (p *page) renderResults(width, height int) string {
	th := p.env.Theme
	q := p.query
	if q == "" {
		q = "everything"
	}
	title := th.Title.Render("Search") + "  " + th.Muted.Render(view.Clean(q))
	switch {
	case p.searching:
		return title + "\n" + th.Muted.Render("Searching the repositories…")
	case p.resultsErr != nil:
		return title + "\n" + listpage.Problem(th, errorText(p.resultsErr, "", ""), retry, width)
	case len(p.results) == 0:
		return title + "\n" + th.Muted.Render("No package matches: / searches again (empty: all), esc returns.")
	}
	t := view.Table{
		Columns: []view.Column{
			{Title: "NAME", Width: 12, Flex: 1},
			{Title: "VERSION", Width: 9},
			{Title: "KIND", Width: 9},
			{Title: "INSTALLED", Width: 9},
			{Title: "REPOSITORY", Width: 10},
			{Title: "DESCRIPTION", Width: 14, Flex: 4},
		},
		Cursor: p.resultCursor,
	}
	for _, s := range p.results {
		inst := view.Plain("")
		if s.Installed > 0 {
			inst = view.Styled(fmt.Sprintf("%d", s.Installed), th.OK)
		}
		t.Rows = append(t.Rows, []view.Cell{
			view.Plain(s.Name), view.Plain(s.CurrentVersion), view.Plain(s.Kind), inst, view.Plain(s.Repository), view.Plain(s.Description),
		})
	}
	title += th.Muted.Render(fmt.Sprintf(" · %d packages · enter describes, i installs", len(p.results)))
	return title + "\n" + t.Render(th, width, height-1)
}

// retry is the hint under the page's errors (esc leaves a search or a
// description).
const retry = listpage.Retry + " (esc goes back)"
