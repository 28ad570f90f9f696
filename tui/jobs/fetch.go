package jobs

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
	"github.com/cairn-dc/cairn/tui/internal/listpage"
)

// NoCron is what the page says when the cron framework is not connected.
const NoCron = "the cron framework is not running: cairn package install cron"

// The page's own messages (unexported, so other pages ignore them).
type (
	// debounceMsg: the quiet time after events is over.
	debounceMsg struct{}
	// pollMsg: time to look at active runs again.
	pollMsg struct{}
	// fetchedMsg is a refetch's answer.
	fetchedMsg struct {
		jobs []cronapi.Job
		err  error
		// detail is the job asked for with its history ("" for none).
		detail string
		job    *cronapi.Job
		jobErr error
	}
)

// fetch returns the command reading the jobs and, when a job is open,
// that job with its history. The page calls it only when its Refresher
// says so: one fetch at a time.
func (p *page) fetch() tea.Cmd {
	ctx, client, detail := p.env.Ctx, p.env.Client, p.detail
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		m := fetchedMsg{detail: detail}
		jobs, err := client.Jobs(ctx, cronapi.EmbedActiveRuns, cronapi.EmbedSchedules, cronapi.EmbedHistorySummary)
		if err != nil {
			m.err = err
			return m
		}
		slices.SortFunc(jobs, func(a, b cronapi.Job) int { return strings.Compare(a.ID, b.ID) })
		m.jobs = jobs
		if detail != "" {
			j, err := client.Job(ctx, detail, cronapi.EmbedHistory, cronapi.EmbedActiveRuns, cronapi.EmbedSchedules)
			if err != nil {
				m.jobErr = err
			} else {
				m.job = &j
			}
		}
		return m
	}
}

// fetched takes a refetch's answer: it keeps the cursor on the same job,
// starts the next fetch if one was asked for meanwhile, and arms the slow
// poll while runs are active.
func (p *page) fetched(m fetchedMsg) tea.Cmd {
	var cmds []tea.Cmd
	if p.refresh.Done() {
		cmds = append(cmds, p.fetch())
	}
	p.loaded = true
	p.err = m.err
	if m.err == nil {
		p.cursor = listpage.Keep(p.jobs, m.jobs, p.cursor, func(j cronapi.Job) string { return j.ID })
		p.jobs = m.jobs
	} else if isNoCron(m.err) {
		p.jobs = nil // gone with the framework
	}
	if m.detail != "" && m.detail == p.detail {
		p.jobErr = m.jobErr
		if m.job != nil {
			p.job = m.job
		}
		if p.job != nil {
			p.runCursor = listpage.Clamp(p.runCursor, len(runsOf(*p.job)))
		}
	}
	if !p.pollArmed && m.err == nil && slices.ContainsFunc(p.jobs, func(j cronapi.Job) bool { return len(j.ActiveRuns) > 0 }) {
		p.pollArmed = true
		cmds = append(cmds, p.after(activePoll, pollMsg{}))
	}
	return tea.Batch(cmds...)
}

func isNoCron(err error) bool {
	var nse *apiclient.NoServiceError
	return errors.As(err, &nse)
}

// errorText says what went wrong with the cron framework and what to do.
func errorText(err error) string {
	switch {
	case isNoCron(err):
		return NoCron
	case errors.Is(err, context.DeadlineExceeded):
		return "the cron framework did not answer in time: is it overloaded? press ctrl+r to try again"
	}
	return err.Error()
}

// isNotFound reports the cron framework's 404 (an unknown job or run).
func isNotFound(err error) bool {
	return apiclient.JobErrorStatus(err) == http.StatusNotFound
}
