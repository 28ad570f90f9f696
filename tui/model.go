package tui

import (
	"context"
	"io"
	"log/slog"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/tui/cluster"
	"github.com/cairn-dc/cairn/tui/view"
)

// flashFor is how long a flash stays in the status line.
const flashFor = 6 * time.Second

// streamBuffer is how many stream messages may wait for the program.
const streamBuffer = 256

type flashExpired struct{ seq int }

// Model is the shell: the tabs, the status line, the help, the confirm
// modal and the log overlay around the pages. Make it with New.
type Model struct {
	env    view.Env
	cancel context.CancelFunc
	log    *slog.Logger
	mouse  bool

	pages  []view.Page
	active int
	width  int
	height int

	keys     keyMap
	help     help.Model
	showHelp bool
	confirm  *view.Confirm
	logv     *logView

	flash    view.Flash
	flashSeq int

	stream     view.StreamMsg
	streamSeen bool // a StreamMsg arrived
	events     chan tea.Msg
	resync     view.Refresher

	tabs []tabSpan // where the tabs were drawn, for mouse clicks
}

// New makes the shell and its pages. Its context ends when the program
// quits or ctx ends; call Close when the program has returned.
func New(ctx context.Context, opts Options) *Model {
	ctx, cancel := context.WithCancel(ctx)
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	env := view.Env{
		Ctx:     ctx,
		Client:  opts.Client,
		Theme:   view.NewTheme(opts.NoColor),
		Now:     opts.Now,
		Cluster: cluster.New(),
	}
	m := &Model{env: env, cancel: cancel, log: log, mouse: opts.Mouse, keys: newKeyMap(), help: newHelp(env.Theme)}
	pages := opts.Pages
	if pages == nil {
		pages = DefaultPages
	}
	m.pages = pages(env)
	return m
}

// Close ends the model's context: the event stream, a log's follow and
// the pages' requests stop.
func (m *Model) Close() { m.cancel() }

// Env is the environment the pages share.
func (m *Model) Env() view.Env { return m.env }

// Init starts the event stream and the pages' first fetches.
func (m *Model) Init() tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(m.pages)+1)
	if m.env.Client != nil {
		m.events = make(chan tea.Msg, streamBuffer)
		ctx, client, log, ch := m.env.Ctx, m.env.Client, m.log, m.events
		go stream(ctx, client, log, ch)
		cmds = append(cmds, listen(m.events))
	}
	for _, p := range m.pages {
		cmds = append(cmds, p.Init())
	}
	return tea.Batch(cmds...)
}

// Update handles a message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case streamed:
		m2, cmd := m.Update(msg.msg)
		return m2, tea.Batch(cmd, listen(m.events))
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		if m.logv != nil {
			m.logv.resize(m.width, m.bodyHeight())
		}
		return m, m.broadcast(msg)
	case view.EventMsg:
		return m, m.onEvent(msg)
	case view.StreamMsg:
		m.stream, m.streamSeen = msg, true
		return m, m.broadcast(msg)
	case view.Flash:
		return m, m.setFlash(msg)
	case flashExpired:
		if msg.seq == m.flashSeq {
			m.flash = view.Flash{}
		}
		return m, nil
	case view.Confirm:
		c := msg
		m.confirm = &c
		return m, nil
	case view.OpenLog:
		m.logv = newLogView(m.env, msg)
		m.logv.resize(m.width, m.bodyHeight())
		return m, m.logv.open()
	case logOpened, logChunkMsg:
		if m.logv != nil {
			cmd, _ := m.logv.update(msg)
			return m, cmd
		}
		closeLogMsg(msg)
		return m, nil
	case resyncTick:
		if m.resync.Fired() {
			return m, fetchUsage(m.env.Ctx, m.env.Client)
		}
		return m, nil
	case resyncDone:
		if msg.err != nil {
			m.log.Debug("refreshing agents' and frameworks' usage failed", "err", msg.err)
		} else {
			m.env.Cluster.SetUsage(msg.agents, msg.frameworks)
		}
		if m.resync.Done() {
			return m, fetchUsage(m.env.Ctx, m.env.Client)
		}
		return m, nil
	case tea.KeyPressMsg:
		return m, m.onKey(msg)
	case tea.MouseClickMsg:
		return m, m.onClick(msg)
	case tea.MouseWheelMsg:
		if m.logv != nil {
			cmd, _ := m.logv.update(msg)
			return m, cmd
		}
		return m, m.toActive(msg)
	}
	return m, m.broadcast(msg)
}

// onEvent applies an event to the store, asks for a usage refresh when
// tasks started or ended, and hands the event to every page.
func (m *Model) onEvent(msg view.EventMsg) tea.Cmd {
	change := m.env.Cluster.Apply(msg.Event)
	var cmd tea.Cmd
	if change.Has(cluster.Usage) && m.env.Client != nil && m.resync.Want() {
		cmd = tea.Tick(resyncDelay, func(time.Time) tea.Msg { return resyncTick{} })
	}
	return tea.Batch(cmd, m.broadcast(msg))
}

func (m *Model) setFlash(f view.Flash) tea.Cmd {
	m.flash = f
	m.flashSeq++
	seq := m.flashSeq
	if f.Err != nil {
		m.log.Debug("page error", "err", f.Err)
	}
	return tea.Tick(flashFor, func(time.Time) tea.Msg { return flashExpired{seq: seq} })
}

// onKey routes a key: to the confirm modal, the log, the help, a capturing
// page, the shell's keys, or else the shown page.
func (m *Model) onKey(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, m.keys.ForceQuit) {
		return m.quit()
	}
	if m.confirm != nil {
		c := m.confirm
		m.confirm = nil
		if msg.String() == "y" || msg.String() == "Y" {
			return c.Yes
		}
		return m.setFlash(view.Flash{Text: "cancelled"})
	}
	if m.logv != nil {
		cmd, closed := m.logv.update(msg)
		if closed {
			m.logv = nil
		}
		return cmd
	}
	if m.showHelp {
		if key.Matches(msg, m.keys.Help, m.keys.Quit) || msg.String() == "esc" {
			m.showHelp = false
		}
		return nil
	}
	if p := m.page(); p != nil && p.Capturing() {
		return m.toActive(msg)
	}
	switch {
	case key.Matches(msg, m.keys.Quit):
		return m.quit()
	case key.Matches(msg, m.keys.Help):
		m.showHelp = true
		return nil
	case key.Matches(msg, m.keys.Next):
		m.switchTo(m.active + 1)
		return nil
	case key.Matches(msg, m.keys.Prev):
		m.switchTo(m.active - 1)
		return nil
	case key.Matches(msg, m.keys.Tab):
		if n := int(msg.String()[0] - '1'); n < len(m.pages) {
			m.active = n
		}
		return nil
	}
	return m.toActive(msg)
}

func (m *Model) quit() tea.Cmd {
	if m.logv != nil {
		m.logv.close()
	}
	m.cancel()
	return tea.Quit
}

func (m *Model) switchTo(i int) {
	if n := len(m.pages); n > 0 {
		m.active = (i%n + n) % n
	}
}

func (m *Model) onClick(msg tea.MouseClickMsg) tea.Cmd {
	mouse := msg.Mouse()
	if mouse.Y != 0 || m.confirm != nil || m.logv != nil {
		return nil
	}
	for _, t := range m.tabs {
		if mouse.X >= t.from && mouse.X < t.to {
			m.active = t.page
			m.showHelp = false
		}
	}
	return nil
}

// page is the shown page (nil without pages).
func (m *Model) page() view.Page {
	if m.active < len(m.pages) {
		return m.pages[m.active]
	}
	return nil
}

// toActive hands msg to the shown page only (keys, mouse).
func (m *Model) toActive(msg tea.Msg) tea.Cmd {
	if m.active >= len(m.pages) {
		return nil
	}
	var cmd tea.Cmd
	m.pages[m.active], cmd = m.pages[m.active].Update(msg)
	return cmd
}

// broadcast hands msg to every page (events, sizes, the pages' own
// results: each page knows its own message types).
func (m *Model) broadcast(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, len(m.pages))
	for i, p := range m.pages {
		m.pages[i], cmds[i] = p.Update(msg)
	}
	return tea.Batch(cmds...)
}

// closeLogMsg closes the body a log message carries after its view closed.
func closeLogMsg(msg tea.Msg) {
	switch msg := msg.(type) {
	case logOpened:
		if msg.body != nil {
			_ = msg.body.Close()
		}
	case logChunkMsg:
		if msg.err == nil {
			_ = msg.body.Close()
		}
	}
}
