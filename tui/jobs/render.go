package jobs

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/cairn-dc/cairn/cli/job"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
	"github.com/cairn-dc/cairn/tui/internal/listpage"
	"github.com/cairn-dc/cairn/tui/view"
)

func (p *page) Render(width, height int) string {
	if width <= 0 || height <= 0 {
		return ""
	}
	if p.env.Client == nil {
		return listpage.NoClient(p.env.Theme, "Jobs", width, height)
	}
	var body string
	if p.detail != "" {
		body = p.renderDetail(width, height)
	} else {
		body = p.renderList(width, height)
	}
	return view.Clip(body, width, height)
}

// renderList draws the title line and the jobs table.
func (p *page) renderList(width, height int) string {
	th := p.env.Theme
	title := th.Title.Render("Jobs")
	switch {
	case !p.loaded:
		return title + "\n" + th.Muted.Render("Loading the jobs of the cron framework…")
	case p.err != nil && isNoCron(p.err):
		lines := []string{title, th.Warn.Render(view.Fit(NoCron, width))}
		for _, l := range view.Wrap("Installed already? See cairn framework list: the page looks again when cron connects (or press ctrl+r).", width) {
			lines = append(lines, th.Muted.Render(l))
		}
		return strings.Join(lines, "\n")
	case p.err != nil && len(p.jobs) == 0:
		return title + "\n" + listpage.Problem(th, errorText(p.err), listpage.Retry, width)
	}
	now := p.env.Time()
	active := 0
	for _, j := range p.jobs {
		active += len(j.ActiveRuns)
	}
	summary := plural(len(p.jobs), "job") + " · " + plural(active, "active run")
	lines := []string{title + "  " + th.Muted.Render(summary)}
	errLine := ""
	if p.err != nil {
		errLine = th.Bad.Render(view.Fit("not refreshed: "+errorText(p.err), width))
	}
	if len(p.jobs) == 0 {
		lines = append(lines, th.Muted.Render("No jobs: add one with cairn job add FILE."))
	} else {
		tableHeight := height - 1
		if errLine != "" {
			tableHeight--
		}
		lines = append(lines, p.jobsTable(now).Render(th, width, tableHeight))
	}
	if errLine != "" {
		lines = append(lines, errLine)
	}
	return strings.Join(lines, "\n")
}

func (p *page) jobsTable(now time.Time) view.Table {
	th := p.env.Theme
	t := view.Table{
		Columns: []view.Column{
			{Title: "ID", Width: 16, Flex: 2},
			{Title: "NEXT RUN", Width: 9},
			{Title: "LAST RESULT", Width: 16},
			{Title: "ACTIVE", Width: 8},
			{Title: "SCHEDULES", Width: 14, Flex: 3},
		},
		Cursor: p.cursor,
	}
	for _, j := range p.jobs {
		next := ""
		if n := job.NextRun(j.Schedules); n != nil {
			next = output.Relative(*n, now)
		}
		activeCell := view.Plain("idle")
		if n := len(j.ActiveRuns); n > 0 {
			activeCell = view.Styled(fmt.Sprintf("%d active", n), th.Warn)
		}
		t.Rows = append(t.Rows, []view.Cell{
			view.Plain(j.ID), view.Plain(next), lastResult(th, j.HistorySummary, now), activeCell, view.Plain(job.Schedules(j, false)),
		})
	}
	return t
}

// lastResult is how a job's last finished run ended: "SUCCESS 3m ago".
func lastResult(th view.Theme, h *cronapi.HistorySummary, now time.Time) view.Cell {
	if h == nil {
		return view.Plain("")
	}
	s, f := h.LastSuccessAt, h.LastFailureAt
	switch {
	case s != nil && (f == nil || !f.After(*s)):
		return view.Styled(cronapi.RunSuccess+" "+output.Relative(*s, now), th.OK)
	case f != nil:
		return view.Styled(cronapi.RunFailed+" "+output.Relative(*f, now), th.Bad)
	}
	return view.Plain("never run")
}

// renderDetail draws the open job's fields and its runs.
func (p *page) renderDetail(width, height int) string {
	th := p.env.Theme
	title := th.Title.Render("Job "+p.detail) + "  " + th.Muted.Render("esc: back to the list")
	switch {
	case p.jobErr != nil && isNotFound(p.jobErr):
		return title + "\n" + th.Bad.Render("job "+p.detail+" no longer exists: esc returns to the list")
	case p.jobErr != nil && p.job == nil:
		return title + "\n" + listpage.Problem(th, errorText(p.jobErr), listpage.Retry, width)
	case p.job == nil:
		return title + "\n" + th.Muted.Render("Loading job "+p.detail+"…")
	}
	j := *p.job
	now := p.env.Time()
	lines := []string{title}
	field := func(name, value string) {
		if value == "" {
			value = "-"
		}
		lines = append(lines, th.Muted.Render(view.Pad(name, 12))+view.Clean(value))
	}
	if j.Description != "" {
		field("Description", j.Description)
	}
	field("Command", job.Command(j.Run))
	field("Resources", job.RunResources(j.Run))
	if len(j.Parents) > 0 {
		field("Runs after", strings.Join(j.Parents, ", "))
	}
	for _, s := range j.Schedules {
		v := s.ID + ": " + job.ScheduleSpec(s)
		switch {
		case !s.IsEnabled():
			v += " (disabled)"
		case s.NextRunAt != nil:
			v += ", next " + output.Relative(*s.NextRunAt, now)
		}
		field("Schedule", v)
	}
	if h := j.History; h != nil {
		field("History", fmt.Sprintf("%d succeeded, %d failed, %d skipped", h.SuccessCount, h.FailureCount, h.SkippedCount))
	}
	if p.jobErr != nil {
		lines = append(lines, th.Bad.Render(view.Fit("not refreshed: "+errorText(p.jobErr), width)))
	}
	lines = append(lines, "")
	rows := runsOf(j)
	if len(rows) == 0 {
		lines = append(lines, th.Muted.Render("No runs yet: r runs the job now."))
		return strings.Join(lines, "\n")
	}
	lines = append(lines, p.runsTable(rows, now).Render(th, width, max(0, height-len(lines))))
	return strings.Join(lines, "\n")
}

func (p *page) runsTable(rows []runRow, now time.Time) view.Table {
	th := p.env.Theme
	t := view.Table{
		Columns: []view.Column{
			{Title: "RUN", Width: 18, Flex: 2},
			{Title: "STATUS", Width: 8},
			{Title: "STARTED", Width: 8},
			{Title: "TOOK", Width: 6},
			{Title: "TRIGGER", Width: 9, Flex: 1},
			{Title: "MESSAGE", Width: 12, Flex: 3},
		},
		Cursor: p.runCursor,
	}
	for _, r := range rows {
		var style lipgloss.Style
		switch r.status {
		case cronapi.RunSuccess:
			style = th.OK
		case cronapi.RunFailed:
			style = th.Bad
		default:
			style = th.Warn
		}
		end := now
		if r.ended != nil {
			end = *r.ended
		}
		t.Rows = append(t.Rows, []view.Cell{
			view.Plain(r.id), view.Styled(r.status, style), view.Plain(output.Relative(r.started, now)),
			view.Plain(output.Age(end.Sub(r.started))), view.Plain(r.trigger), view.Plain(r.message),
		})
	}
	return t
}

// plural counts things: "1 job", "3 jobs".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
