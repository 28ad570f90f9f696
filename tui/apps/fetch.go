package apps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/tui/internal/listpage"
)

// The page's own messages (unexported, so other pages ignore them).
type (
	// debounceMsg: the quiet time after events is over.
	debounceMsg struct{}
	// pollMsg: time to look at deployments in progress again.
	pollMsg struct{}
	// fetchedMsg is a refetch's answer.
	fetchedMsg struct {
		apps  []marathon.AppStatus
		steps map[string]string
		err   error
		// detail is the app asked for with its tasks ("" for none).
		detail string
		app    *marathon.AppStatus
		appErr error
	}
)

// fetch returns the command reading the apps, the steps of deployments
// in progress and, when an app is open, that app with its tasks. The page
// calls it only when its Refresher says so: one fetch at a time.
func (p *page) fetch() tea.Cmd {
	ctx, client, detail := p.env.Ctx, p.env.Client, p.detail
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		m := fetchedMsg{detail: detail}
		apps, err := client.Apps(ctx, "")
		if err != nil {
			m.err = err
			return m
		}
		slices.SortFunc(apps, func(a, b marathon.AppStatus) int { return strings.Compare(a.ID, b.ID) })
		m.apps = apps
		if slices.ContainsFunc(apps, func(a marathon.AppStatus) bool { return len(a.Deployments) > 0 }) {
			deps, err := client.Deployments(ctx)
			if err == nil {
				m.steps = stepsOf(deps)
			}
			// without steps, deployments show by id: not worth an error
		}
		if detail != "" {
			a, err := client.App(ctx, detail)
			if err != nil {
				m.appErr = err
			} else {
				m.app = &a
			}
		}
		return m
	}
}

// stepsOf describes each deployment's progress: "step 1/2 ScaleApplication".
func stepsOf(deps []marathon.Deployment) map[string]string {
	steps := make(map[string]string, len(deps))
	for _, d := range deps {
		var acts []string
		for _, a := range d.CurrentActions {
			if !slices.Contains(acts, a.Action) {
				acts = append(acts, a.Action)
			}
		}
		s := fmt.Sprintf("step %d/%d", d.CurrentStep, d.TotalSteps)
		if len(acts) > 0 {
			s += " " + strings.Join(acts, ",")
		}
		steps[d.ID] = s
	}
	return steps
}

// fetched takes a refetch's answer: it keeps the cursor on the same app,
// starts the next fetch if one was asked for meanwhile, and arms the slow
// poll while deployments are in progress.
func (p *page) fetched(m fetchedMsg) tea.Cmd {
	var cmds []tea.Cmd
	if p.refresh.Done() {
		cmds = append(cmds, p.fetch())
	}
	p.loaded = true
	p.err = m.err
	if m.err == nil {
		p.cursor = listpage.Keep(p.apps, m.apps, p.cursor, func(a marathon.AppStatus) string { return a.ID })
		p.apps, p.steps = m.apps, m.steps
	}
	if m.detail != "" && m.detail == p.detail {
		p.appErr = m.appErr
		if m.app != nil {
			p.app = m.app
		} else if m.err == nil && m.appErr == nil {
			p.app = nil
		}
		if p.app != nil {
			p.taskCursor = listpage.Clamp(p.taskCursor, len(p.app.Tasks))
		}
	}
	if !p.pollArmed && m.err == nil && slices.ContainsFunc(p.apps, func(a marathon.AppStatus) bool { return len(a.Deployments) > 0 }) {
		p.pollArmed = true
		cmds = append(cmds, p.after(deploymentPoll, pollMsg{}))
	}
	return tea.Batch(cmds...)
}

// errorText says what went wrong with the services framework and what to
// do about it.
func errorText(err error) string {
	var nse *apiclient.NoServiceError
	switch {
	case errors.As(err, &nse):
		return "the services framework is not running: it starts with cairn up (see cairn framework list)"
	case errors.Is(err, context.DeadlineExceeded):
		return "the services framework did not answer in time: is it overloaded? press ctrl+r to try again"
	}
	return err.Error()
}

// isNotFound reports the services framework's own 404 (an unknown app),
// not the master's (no services framework).
func isNotFound(err error) bool {
	var ae *apiclient.APIError
	var nse *apiclient.NoServiceError
	return errors.As(err, &ae) && ae.StatusCode == 404 && !errors.As(err, &nse)
}
