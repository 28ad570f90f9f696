package apps

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/app"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui/internal/listpage"
	"github.com/cairn-dc/cairn/tui/view"
)

// maxInstances bounds what the scale input accepts.
const maxInstances = 100000

// actionMsg is the answer to a scale or a restart.
type actionMsg struct {
	what  string // "scale", "restart"
	appID string
	n     int // the instances asked for (scale)
	res   apiclient.DeploymentResult
	err   error
}

// key handles a key press.
func (p *page) key(msg tea.KeyPressMsg) tea.Cmd {
	if p.scale != nil {
		return p.scaleKey(msg)
	}
	k := p.keys
	if by, ok := k.Step(msg); ok {
		p.move(by)
		return nil
	}
	switch {
	case key.Matches(msg, k.Refresh):
		return listpage.Refetch(&p.refresh, p.fetch)
	case key.Matches(msg, k.Open) && p.detail == "":
		a, ok := p.selected()
		if !ok {
			return nil
		}
		p.detail, p.app, p.appErr, p.taskCursor = a.ID, nil, nil, 0
		return listpage.Refetch(&p.refresh, p.fetch)
	case key.Matches(msg, k.Back) && p.detail != "":
		p.detail, p.app, p.appErr = "", nil, nil
	case key.Matches(msg, k.Scale):
		return p.startScale()
	case key.Matches(msg, k.Restart):
		return p.restart()
	case key.Matches(msg, k.Log) && p.detail != "":
		return p.openLog(false)
	case key.Matches(msg, k.Stderr) && p.detail != "":
		return p.openLog(true)
	}
	return nil
}

// move moves the cursor of the list, or of the open app's tasks.
func (p *page) move(by int) {
	if p.detail != "" {
		n := 0
		if p.app != nil {
			n = len(p.app.Tasks)
		}
		p.taskCursor = listpage.Clamp(p.taskCursor+by, n)
		return
	}
	p.cursor = listpage.Clamp(p.cursor+by, len(p.apps))
}

// startScale opens the instance count input for the selected app.
func (p *page) startScale() tea.Cmd {
	a, ok := p.selected()
	if !ok {
		return nil
	}
	in := view.NewInput(p.env.Theme, "instances: ", "a number ≥ 0")
	in.CharLimit = 7
	in.SetValue(strconv.Itoa(app.InstancesOf(a.App)))
	in.CursorEnd()
	p.scale = &scaleForm{appID: a.ID, input: in}
	p.inputErr = ""
	return p.scale.input.Focus()
}

// scaleKey handles a key while the scale input has focus.
func (p *page) scaleKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, p.keys.Cancel):
		p.scale, p.inputErr = nil, ""
		return nil
	case key.Matches(msg, p.keys.Submit):
		n, err := parseInstances(p.scale.input.Value())
		if err != nil {
			p.inputErr = err.Error()
			return nil
		}
		id := p.scale.appID
		p.scale, p.inputErr = nil, ""
		return p.scaleCmd(id, n, false)
	}
	var cmd tea.Cmd
	p.scale.input, cmd = p.scale.input.Update(msg)
	p.inputErr = ""
	return cmd
}

// parseInstances reads the scale input.
func parseInstances(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("type the number of instances (0 stops every instance)")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a number of instances: type a whole number ≥ 0", s)
	}
	if n > maxInstances {
		return 0, fmt.Errorf("%d instances is more than %d: type a smaller number", n, maxInstances)
	}
	return n, nil
}

func (p *page) scaleCmd(id string, n int, force bool) tea.Cmd {
	ctx, client := p.env.Ctx, p.env.Client
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		res, err := client.ScaleApp(ctx, id, n, force)
		return actionMsg{what: "scale", appID: id, n: n, res: res, err: err}
	}
}

// restart asks to confirm a rolling restart of the selected app.
func (p *page) restart() tea.Cmd {
	a, ok := p.selected()
	if !ok {
		return nil
	}
	prompt := fmt.Sprintf("Restart app %s (a rolling restart of its %d instances)?", a.ID, app.InstancesOf(a.App))
	return view.ConfirmCmd(prompt, p.restartCmd(a.ID, false))
}

func (p *page) restartCmd(id string, force bool) tea.Cmd {
	ctx, client := p.env.Ctx, p.env.Client
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		res, err := client.RestartApp(ctx, id, force)
		return actionMsg{what: "restart", appID: id, res: res, err: err}
	}
}

// acted reports an action's result on the status line and refetches. An
// app locked by a deployment may be changed anyway, if the user confirms.
func (p *page) acted(m actionMsg) tea.Cmd {
	var le *apiclient.AppLockedError
	if errors.As(m.err, &le) {
		prompt := fmt.Sprintf("Deployment %s holds app %s: %s it anyway (overriding the deployment)?",
			strings.Join(le.Deployments, ", "), m.appID, m.what)
		yes := p.restartCmd(m.appID, true)
		if m.what == "scale" {
			yes = p.scaleCmd(m.appID, m.n, true)
		}
		return view.ConfirmCmd(prompt, yes)
	}
	var cmds []tea.Cmd
	if m.err != nil {
		cmds = append(cmds, view.FlashCmd("", fmt.Errorf("%s app %s: %s", m.what, m.appID, errorText(m.err))))
	} else {
		text := fmt.Sprintf("restarting app %s (deployment %s)", m.appID, m.res.DeploymentID)
		if m.what == "scale" {
			text = fmt.Sprintf("scaling app %s to %d instances (deployment %s)", m.appID, m.n, m.res.DeploymentID)
		}
		cmds = append(cmds, view.FlashCmd(text, nil))
	}
	if p.refresh.Now() {
		cmds = append(cmds, p.fetch())
	}
	return tea.Batch(cmds...)
}

// openLog asks the shell for the log of the task under the cursor.
func (p *page) openLog(stderr bool) tea.Cmd {
	if p.app == nil || p.taskCursor >= len(p.app.Tasks) {
		return nil
	}
	t := p.app.Tasks[p.taskCursor]
	fid := p.fw.ID()
	if fid == "" {
		return view.FlashCmd("", errors.New("the services framework is not connected (the event stream tells of none): its tasks' logs are out of reach until it is; see cairn framework list"))
	}
	task := protocol.Task{
		ID:          protocol.TaskID(t.ID),
		Name:        t.AppID,
		FrameworkID: fid,
		AgentID:     protocol.AgentID(t.SlaveID),
		State:       protocol.TaskState(t.State),
	}
	return func() tea.Msg { return view.OpenLog{Task: task, Stderr: stderr} }
}
