package apps

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-dc/cairn/cli/app"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/tui/internal/listpage"
	"github.com/cairn-dc/cairn/tui/view"
)

func (p *page) Render(width, height int) string {
	if width <= 0 || height <= 0 {
		return ""
	}
	if p.env.Client == nil {
		return listpage.NoClient(p.env.Theme, "Apps", width, height)
	}
	var footer []string
	if p.scale != nil {
		in := p.scale.input
		in.SetWidth(max(1, width-len(in.Prompt)-2))
		footer = append(footer, view.Fit(p.env.Theme.Title.Render("Scale "+p.scale.appID)+"  "+in.View(), width))
		if p.inputErr != "" {
			footer = append(footer, p.env.Theme.Bad.Render(view.Fit(p.inputErr, width)))
		} else {
			footer = append(footer, p.env.Theme.Muted.Render(view.Fit("enter applies · esc cancels", width)))
		}
	}
	bodyHeight := max(0, height-len(footer))
	var body string
	if p.detail != "" {
		body = p.renderDetail(width, bodyHeight)
	} else {
		body = p.renderList(width, bodyHeight)
	}
	lines := []string{}
	if body != "" {
		lines = append(lines, body)
	}
	lines = append(lines, footer...)
	return view.Clip(strings.Join(lines, "\n"), width, height)
}

// renderList draws the title line and the apps table.
func (p *page) renderList(width, height int) string {
	th := p.env.Theme
	if !p.loaded {
		return th.Title.Render("Apps") + "\n" + th.Muted.Render("Loading the apps of the services framework…")
	}
	if p.err != nil && len(p.apps) == 0 {
		return th.Title.Render("Apps") + "\n" + listpage.Problem(th, errorText(p.err), listpage.Retry, width)
	}
	deploying := 0
	for _, a := range p.apps {
		if len(a.Deployments) > 0 {
			deploying++
		}
	}
	summary := fmt.Sprintf("%d apps", len(p.apps))
	if deploying > 0 {
		summary += fmt.Sprintf(" · %d deploying", deploying)
	}
	lines := []string{th.Title.Render("Apps") + "  " + th.Muted.Render(summary)}
	errLine := ""
	if p.err != nil {
		errLine = th.Bad.Render(view.Fit("not refreshed: "+errorText(p.err), width))
	}
	if len(p.apps) == 0 {
		lines = append(lines, th.Muted.Render("No apps: add one with cairn app add FILE, or install a package from the Packages tab."))
	} else {
		tableHeight := height - 1
		if errLine != "" {
			tableHeight--
		}
		lines = append(lines, p.appsTable().Render(th, width, tableHeight))
	}
	if errLine != "" {
		lines = append(lines, errLine)
	}
	return strings.Join(lines, "\n")
}

func (p *page) appsTable() view.Table {
	th := p.env.Theme
	t := view.Table{
		Columns: []view.Column{
			{Title: "ID", Width: 14, Flex: 2},
			{Title: "INSTANCES", Width: 9},
			{Title: "HEALTHY", Width: 7},
			{Title: "CPUS", Width: 5},
			{Title: "MEM", Width: 8},
			{Title: "DEPLOYMENT", Width: 12, Flex: 2},
			{Title: "CMD", Width: 10, Flex: 3},
		},
		Cursor: p.cursor,
	}
	for _, a := range p.apps {
		want := app.InstancesOf(a.App)
		inst := view.Styled(fmt.Sprintf("%d/%d", a.TasksRunning, want), th.OK)
		if a.TasksRunning != want {
			inst = view.Styled(inst.Text, th.Warn)
		}
		healthy := view.Plain("")
		if len(a.HealthChecks) > 0 {
			healthy = view.Styled(strconv.Itoa(a.TasksHealthy), th.OK)
			if a.TasksUnhealthy > 0 || a.TasksHealthy < a.TasksRunning {
				healthy = view.Styled(healthy.Text, th.Bad)
			}
		}
		dep := view.Plain("")
		if len(a.Deployments) > 0 {
			dep = view.Styled(p.deploymentText(a.Deployments[0].ID), th.Warn)
		}
		t.Rows = append(t.Rows, []view.Cell{
			view.Plain(a.ID), inst, healthy, view.Plain(output.OptionalFloat(a.CPUs)), view.Plain(output.OptionalMem(a.Mem)), dep, view.Plain(app.Command(a.App)),
		})
	}
	return t
}

// deploymentText is a deployment's progress when known, else its id.
func (p *page) deploymentText(id string) string {
	if s := p.steps[id]; s != "" {
		return s
	}
	return id
}

// renderDetail draws the open app's fields and its tasks.
func (p *page) renderDetail(width, height int) string {
	th := p.env.Theme
	a, ok := p.selected()
	title := th.Title.Render("App "+p.detail) + "  " + th.Muted.Render("esc: back to the list")
	switch {
	case p.appErr != nil && isNotFound(p.appErr):
		return title + "\n" + th.Bad.Render("app "+p.detail+" no longer exists: esc returns to the list")
	case p.appErr != nil && p.app == nil:
		return title + "\n" + listpage.Problem(th, errorText(p.appErr), listpage.Retry, width)
	case !ok || p.app == nil:
		return title + "\n" + th.Muted.Render("Loading app "+p.detail+"…")
	}
	now := p.env.Time()
	lines := []string{title}
	field := func(name, value string, style func(...string) string) {
		if value == "" {
			value = "-"
		}
		lines = append(lines, th.Muted.Render(view.Pad(name, 13))+style(view.Clean(value)))
	}
	plain := func(s ...string) string { return strings.Join(s, " ") }
	inst := fmt.Sprintf("%d/%d running", a.TasksRunning, app.InstancesOf(a.App))
	if a.TasksStaged > 0 {
		inst += fmt.Sprintf(", %d staged", a.TasksStaged)
	}
	if len(a.HealthChecks) > 0 {
		inst += fmt.Sprintf(", %d healthy, %d unhealthy", a.TasksHealthy, a.TasksUnhealthy)
	}
	instStyle := th.OK.Render
	if a.TasksRunning != app.InstancesOf(a.App) || a.TasksUnhealthy > 0 {
		instStyle = th.Warn.Render
	}
	field("Command", app.Command(a.App), plain)
	field("Instances", inst, instStyle)
	field("Resources", app.Resources(a.App), plain)
	version := a.Version
	if s := ago(a.Version, now); s != "" {
		version += " (" + s + ")"
	}
	field("Version", version, plain)
	var deps []string
	for _, d := range a.Deployments {
		deps = append(deps, d.ID+" "+p.steps[d.ID])
	}
	field("Deployment", strings.Join(deps, ", "), th.Warn.Render)
	if f := a.LastTaskFailure; f != nil {
		msg := fmt.Sprintf("%s %s on %s", shortState(f.State), ago(f.Timestamp, now), f.Host)
		if f.Message != "" {
			msg += ": " + f.Message
		}
		field("Last failure", msg, th.Bad.Render)
	}
	if p.appErr != nil {
		lines = append(lines, th.Bad.Render(view.Fit("not refreshed: "+errorText(p.appErr), width)))
	}
	lines = append(lines, "")
	if len(a.Tasks) == 0 {
		lines = append(lines, th.Muted.Render("No tasks."))
		return strings.Join(lines, "\n")
	}
	lines = append(lines, p.tasksTable(a, now).Render(th, width, max(0, height-len(lines))))
	return strings.Join(lines, "\n")
}

func (p *page) tasksTable(a marathon.AppStatus, now time.Time) view.Table {
	th := p.env.Theme
	t := view.Table{
		Columns: []view.Column{
			{Title: "TASK", Width: 20, Flex: 3},
			{Title: "STATE", Width: 9},
			{Title: "HEALTH", Width: 9},
			{Title: "HOST", Width: 12, Flex: 1},
			{Title: "PORTS", Width: 11, Flex: 1},
			{Title: "STARTED", Width: 8},
		},
		Cursor: p.taskCursor,
	}
	for _, tk := range a.Tasks {
		state := view.Styled(shortState(tk.State), th.Warn)
		switch tk.State {
		case "TASK_RUNNING":
			state.Style = &th.OK
		case "TASK_FAILED", "TASK_ERROR", "TASK_LOST", "TASK_GONE", "TASK_DROPPED":
			state.Style = &th.Bad
		}
		health := view.Plain("")
		switch h := taskHealth(tk); h {
		case "healthy":
			health = view.Styled(h, th.OK)
		case "unhealthy":
			health = view.Styled(h, th.Bad)
		}
		t.Rows = append(t.Rows, []view.Cell{
			view.Plain(tk.ID), state, health, view.Plain(tk.Host), view.Plain(output.Ints(tk.Ports)), view.Plain(ago(tk.StartedAt, now)),
		})
	}
	return t
}
