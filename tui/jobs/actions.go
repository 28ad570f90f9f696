package jobs

import (
	"context"
	"errors"
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui/internal/listpage"
	"github.com/cairn-dc/cairn/tui/view"
)

// actionMsg is the answer to run now or stop.
type actionMsg struct {
	what  string // "run", "stop"
	jobID string
	runID string // the run stopped
	run   cronapi.Run
	err   error
}

// key handles a key press.
func (p *page) key(msg tea.KeyPressMsg) tea.Cmd {
	k := p.keys
	if by, ok := k.Step(msg); ok {
		p.move(by)
		return nil
	}
	switch {
	case key.Matches(msg, k.Refresh):
		return listpage.Refetch(&p.refresh, p.fetch)
	case key.Matches(msg, k.Open) && p.detail == "":
		j, ok := p.selected()
		if !ok {
			return nil
		}
		p.detail, p.job, p.jobErr, p.runCursor = j.ID, nil, nil, 0
		return listpage.Refetch(&p.refresh, p.fetch)
	case key.Matches(msg, k.Back) && p.detail != "":
		p.detail, p.job, p.jobErr = "", nil, nil
	case key.Matches(msg, k.Run):
		if j, ok := p.selected(); ok {
			return p.runCmd(j.ID)
		}
	case key.Matches(msg, k.Stop):
		return p.stop()
	case key.Matches(msg, k.Log) && p.detail != "":
		return p.openLog(false)
	case key.Matches(msg, k.Stderr) && p.detail != "":
		return p.openLog(true)
	}
	return nil
}

// move moves the cursor of the list, or of the open job's runs.
func (p *page) move(by int) {
	if p.detail != "" {
		n := 0
		if p.job != nil {
			n = len(runsOf(*p.job))
		}
		p.runCursor = listpage.Clamp(p.runCursor+by, n)
		return
	}
	p.cursor = listpage.Clamp(p.cursor+by, len(p.jobs))
}

// runCmd starts a run of job id now.
func (p *page) runCmd(id string) tea.Cmd {
	ctx, client := p.env.Ctx, p.env.Client
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		r, err := client.StartRun(ctx, id)
		return actionMsg{what: "run", jobID: id, run: r, err: err}
	}
}

// stop asks to confirm stopping a run: the one under the cursor of an
// open job, or the only active run of the job under the list's cursor.
func (p *page) stop() tea.Cmd {
	j, ok := p.selected()
	if !ok {
		return nil
	}
	var run *cronapi.Run
	if p.detail != "" {
		rows := runsOf(j)
		if p.runCursor >= len(rows) || rows[p.runCursor].active == nil {
			return view.FlashCmd("", errors.New("the selected run has ended: select an active run (at the top) to stop it"))
		}
		run = rows[p.runCursor].active
	} else {
		switch len(j.ActiveRuns) {
		case 0:
			return view.FlashCmd("", fmt.Errorf("job %s has no active run to stop", j.ID))
		case 1:
			run = &j.ActiveRuns[0]
		default:
			return view.FlashCmd("", fmt.Errorf("job %s has %d active runs: open it (enter) and select the one to stop", j.ID, len(j.ActiveRuns)))
		}
	}
	prompt := fmt.Sprintf("Stop run %s of job %s (its task is killed, the run FAILED)?", run.ID, j.ID)
	return view.ConfirmCmd(prompt, p.stopCmd(j.ID, run.ID))
}

func (p *page) stopCmd(jobID, runID string) tea.Cmd {
	ctx, client := p.env.Ctx, p.env.Client
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		r, err := client.StopRun(ctx, jobID, runID)
		return actionMsg{what: "stop", jobID: jobID, runID: runID, run: r, err: err}
	}
}

// acted reports an action's result on the status line and refetches.
func (p *page) acted(m actionMsg) tea.Cmd {
	var flash tea.Cmd
	switch {
	case m.err != nil && m.what == "run":
		flash = view.FlashCmd("", fmt.Errorf("run job %s: %s", m.jobID, errorText(m.err)))
	case m.err != nil && isNotFound(m.err):
		flash = view.FlashCmd("", fmt.Errorf("stop run %s of job %s: it has ended already (or the job is gone)", m.runID, m.jobID))
	case m.err != nil:
		flash = view.FlashCmd("", fmt.Errorf("stop run %s of job %s: %s", m.runID, m.jobID, errorText(m.err)))
	case m.what == "run":
		flash = view.FlashCmd(fmt.Sprintf("started run %s of job %s", m.run.ID, m.jobID), nil)
	default:
		flash = view.FlashCmd(fmt.Sprintf("stopping run %s of job %s", m.runID, m.jobID), nil)
	}
	if p.refresh.Now() {
		return tea.Batch(flash, p.fetch())
	}
	return flash
}

// openLog asks the shell for the log of the latest task of the active
// run under the cursor.
func (p *page) openLog(stderr bool) tea.Cmd {
	if p.job == nil {
		return nil
	}
	rows := runsOf(*p.job)
	if p.runCursor >= len(rows) {
		return nil
	}
	row := rows[p.runCursor]
	fid := p.fw.ID()
	if row.active == nil {
		// A finished run names its tasks only: the master, which keeps
		// the frameworks' completed tasks, tells on which agent it ran.
		if len(row.tasks) == 0 {
			return view.FlashCmd("", fmt.Errorf("run %s ended without a task: it has no log", row.id))
		}
		if fid == "" {
			return view.FlashCmd("", errors.New("the cron framework is not connected (the event stream tells of none): see cairn framework list"))
		}
		return p.openEndedLog(fid, row.id, protocol.TaskID(row.tasks[len(row.tasks)-1]), stderr)
	}
	t := lastTask(*row.active)
	if t == nil || t.AgentID == "" {
		return view.FlashCmd("", fmt.Errorf("run %s has no task on an agent yet: wait for it to launch", row.id))
	}
	if fid == "" {
		return view.FlashCmd("", errors.New("the cron framework is not connected (the event stream tells of none): see cairn framework list"))
	}
	task := protocol.Task{
		ID:          protocol.TaskID(t.ID),
		Name:        p.job.ID,
		FrameworkID: fid,
		AgentID:     protocol.AgentID(t.AgentID),
		State:       protocol.TaskState(t.Status),
	}
	return func() tea.Msg { return view.OpenLog{Task: task, Stderr: stderr} }
}

// openEndedLog looks the task of a finished run up on the master and opens
// its log.
func (p *page) openEndedLog(fid protocol.FrameworkID, run string, id protocol.TaskID, stderr bool) tea.Cmd {
	ctx, client := p.env.Ctx, p.env.Client
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		t, err := client.FindTask(ctx, id, fid)
		var unknown *apiclient.TaskNotFoundError
		switch {
		case errors.As(err, &unknown):
			return view.Flash{Err: fmt.Errorf("run %s: the master no longer knows its task %s (it keeps a framework's latest completed tasks only), so its log cannot be found", run, id)}
		case err != nil:
			return view.Flash{Err: fmt.Errorf("run %s: %w", run, err)}
		case t.AgentID == "":
			return view.Flash{Err: fmt.Errorf("run %s: its task %s never reached an agent: it has no log", run, id)}
		}
		return view.OpenLog{Task: t, Stderr: stderr}
	}
}
