package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui/view"
)

// Log view limits.
const (
	// logTail is how much of a log is shown when it opens (bytes before
	// its end).
	logTail = 64 << 10
	// logMaxLines is how many lines the view keeps (the oldest go).
	logMaxLines = 5000
	// logChunk is the most read at once.
	logChunk = 32 << 10
)

type logKeys struct {
	Close, Stream, Follow, Up, Down, PageUp, PageDown, Top, Bottom key.Binding
}

func newLogKeys() logKeys {
	return logKeys{
		Close:    key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc", "close log")),
		Stream:   key.NewBinding(key.WithKeys("s", "e"), key.WithHelp("s", "stdout/stderr")),
		Follow:   key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "follow on/off")),
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", " "), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
		Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),
	}
}

func (k logKeys) list() []key.Binding {
	return []key.Binding{k.Close, k.Stream, k.Follow, k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
}

// Messages of a log stream; gen tells streams apart (an old one's messages
// are dropped after the stream was switched).
type (
	logOpened struct {
		gen  int
		body io.ReadCloser
		err  error
	}
	logChunkMsg struct {
		gen  int
		body io.ReadCloser
		data []byte
		err  error // io.EOF: the task ended (the follow is over)
	}
)

// logView shows a task's stdout or stderr, following it.
type logView struct {
	env    view.Env
	keys   logKeys
	task   protocol.Task
	stderr bool
	follow bool // keep the bottom in view as lines arrive

	gen    int
	cancel context.CancelFunc
	lines  []string
	part   string // a line not ended yet
	ended  bool
	err    error
	vp     viewport.Model
}

func newLogView(env view.Env, req view.OpenLog) *logView {
	vp := viewport.New()
	vp.MouseWheelEnabled = true
	return &logView{env: env, keys: newLogKeys(), task: req.Task, stderr: req.Stderr, follow: true, vp: vp}
}

func (l *logView) streamName() string {
	if l.stderr {
		return apiclient.Stderr
	}
	return apiclient.Stdout
}

// open (re)starts the stream; the previous one, if any, is cancelled.
func (l *logView) open() tea.Cmd {
	l.close()
	l.gen++
	l.lines, l.part, l.ended, l.err = nil, "", false, nil
	l.vp.SetContentLines(nil)
	ctx, cancel := context.WithCancel(l.env.Ctx)
	l.cancel = cancel
	gen, client, t, stream := l.gen, l.env.Client, l.task, l.streamName()
	return func() tea.Msg {
		if client == nil {
			return logOpened{gen: gen, err: errors.New("no operator API client")}
		}
		body, err := client.TaskLog(ctx, t.AgentID, t.FrameworkID, t.ID, stream, -logTail, true)
		return logOpened{gen: gen, body: body, err: err}
	}
}

// close ends the stream.
func (l *logView) close() {
	if l.cancel != nil {
		l.cancel()
		l.cancel = nil
	}
}

func readLog(gen int, body io.ReadCloser) tea.Cmd {
	return func() tea.Msg {
		buf := make([]byte, logChunk)
		n, err := body.Read(buf)
		if err != nil && n == 0 {
			_ = body.Close()
		}
		return logChunkMsg{gen: gen, body: body, data: buf[:n], err: err}
	}
}

// update handles the stream's messages and keys; closed reports that the
// user closed the view.
func (l *logView) update(msg tea.Msg) (cmd tea.Cmd, closed bool) {
	switch msg := msg.(type) {
	case logOpened:
		if msg.gen != l.gen {
			if msg.body != nil {
				_ = msg.body.Close()
			}
			return nil, false
		}
		if msg.err != nil {
			l.err = msg.err
			return nil, false
		}
		return readLog(l.gen, msg.body), false
	case logChunkMsg:
		if msg.gen != l.gen {
			if msg.err == nil {
				_ = msg.body.Close()
			}
			return nil, false
		}
		l.add(msg.data)
		if msg.err != nil {
			if errors.Is(msg.err, io.EOF) {
				l.ended = true
			} else if l.env.Ctx.Err() == nil {
				l.err = msg.err
			}
			if len(msg.data) > 0 {
				_ = msg.body.Close()
			}
			return nil, false
		}
		return readLog(l.gen, msg.body), false
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, l.keys.Close):
			l.close()
			return nil, true
		case key.Matches(msg, l.keys.Stream):
			l.stderr = !l.stderr
			return l.open(), false
		case key.Matches(msg, l.keys.Follow):
			l.follow = !l.follow
			if l.follow {
				l.vp.GotoBottom()
			}
		case key.Matches(msg, l.keys.Up):
			l.vp.ScrollUp(1)
			l.follow = false
		case key.Matches(msg, l.keys.Down):
			l.vp.ScrollDown(1)
		case key.Matches(msg, l.keys.PageUp):
			l.vp.PageUp()
			l.follow = false
		case key.Matches(msg, l.keys.PageDown):
			l.vp.PageDown()
		case key.Matches(msg, l.keys.Top):
			l.vp.GotoTop()
			l.follow = false
		case key.Matches(msg, l.keys.Bottom):
			l.vp.GotoBottom()
			l.follow = true
		}
	case tea.MouseWheelMsg:
		var cmd tea.Cmd
		l.vp, cmd = l.vp.Update(msg)
		l.follow = l.vp.AtBottom()
		return cmd, false
	}
	return nil, false
}

// add appends data: whole lines to the view, the rest kept until its
// newline comes. Terminal escapes are removed, tabs expanded.
func (l *logView) add(data []byte) {
	if len(data) == 0 {
		return
	}
	text := l.part + string(data)
	parts := strings.Split(text, "\n")
	l.part = parts[len(parts)-1]
	for _, p := range parts[:len(parts)-1] {
		l.lines = append(l.lines, cleanLogLine(p))
	}
	if over := len(l.lines) - logMaxLines; over > 0 {
		l.lines = append(l.lines[:0:0], l.lines[over:]...)
	}
	l.refresh()
}

func (l *logView) refresh() {
	lines := l.lines
	if l.part != "" {
		lines = append(lines[:len(lines):len(lines)], cleanLogLine(l.part))
	}
	l.vp.SetContentLines(lines)
	if l.follow {
		l.vp.GotoBottom()
	}
}

func cleanLogLine(s string) string {
	s = ansi.Strip(strings.TrimRight(s, "\r"))
	s = strings.ReplaceAll(s, "\t", "    ")
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// resize fits the view into width×height (with its title line).
func (l *logView) resize(width, height int) {
	l.vp.SetWidth(width)
	l.vp.SetHeight(max(height-1, 0))
	if l.follow {
		l.vp.GotoBottom()
	}
}

// render draws the view into width×height: a title line, the log.
func (l *logView) render(width, height int) string {
	th := l.env.Theme
	state := "following"
	switch {
	case l.err != nil:
		state = th.Bad.Render("error: " + view.Clean(l.err.Error()))
	case l.ended:
		state = "ended"
	case !l.follow:
		state = "paused (f follows)"
	}
	name := l.task.Name
	if name == "" {
		name = string(l.task.ID)
	}
	title := th.Title.Render("Log "+string(l.task.ID)) + th.Muted.Render(fmt.Sprintf("  %s · %s · ", name, l.streamName())) + state
	body := l.vp.View()
	if len(l.lines) == 0 && l.part == "" {
		msg := "waiting for output…"
		if l.err != nil {
			msg = "the log could not be read: " + view.Clean(l.err.Error())
		} else if l.ended {
			msg = "(empty)"
		}
		body = th.Muted.Render(msg)
	}
	return view.Fit(title, width) + "\n" + body
}
