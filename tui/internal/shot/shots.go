package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui"
	"github.com/cairn-dc/cairn/tui/internal/fixture"
	"github.com/cairn-dc/cairn/tui/internal/ui"
)

// step is keys pressed, then what the screen shows once they took effect.
type step struct {
	keys []string
	want string
}

// Shot is one screenshot: the TUI at a size, after some keys.
type Shot struct {
	Name          string // the file's name, without .svg
	Title         string // the window's title
	Width, Height int
	steps         []step
	// extra are events the stream sends after the fixture's.
	extra []protocol.ClusterEvent
}

// cronBack is the cron framework connecting again (the fixture's last
// framework event disconnects it), so that the jobs page has jobs.
func cronBack() []protocol.ClusterEvent {
	fw := fixture.State().Frameworks[2]
	fw.Connected, fw.DisconnectedTime = true, 0
	return []protocol.ClusterEvent{{Type: protocol.EvFrameworkUpdated, Timestamp: protocol.Timestamp(fixture.Now()), Framework: &fw}}
}

// Shots are the screenshots of docs/tui.md and the README, in order.
func Shots() []Shot {
	const w, h = 120, 36
	return []Shot{
		{Name: "overview", Title: "cairn tui — overview", Width: w, Height: h, steps: []step{{want: "Recent events"}}},
		{Name: "overview-80x24", Title: "cairn tui — 80×24", Width: 80, Height: 24, steps: []step{{want: "Agents"}}},
		{Name: "agents", Title: "cairn tui — agents", Width: w, Height: h, steps: []step{{keys: []string{"2"}, want: "node-3"}}},
		{Name: "agent", Title: "cairn tui — agent details", Width: w, Height: h, steps: []step{{keys: []string{"2", "enter"}, want: "Tasks on node-1"}}},
		{Name: "frameworks", Title: "cairn tui — frameworks", Width: w, Height: h, steps: []step{{keys: []string{"3"}, want: "services"}}},
		{Name: "tasks", Title: "cairn tui — tasks, filtered", Width: w, Height: h,
			steps: []step{{keys: []string{"4", "s", "s", "/", "w", "e", "b", "enter"}, want: "2 of 9"}}},
		{Name: "apps", Title: "cairn tui — apps", Width: w, Height: h, steps: []step{{keys: []string{"5"}, want: "/prod/web"}}},
		{Name: "app", Title: "cairn tui — app details", Width: w, Height: h, steps: []step{
			{keys: []string{"5"}, want: "/prod/web"},
			{keys: []string{"down", "down", "enter"}, want: "prod_web.9b1e0d44"},
		}},
		{Name: "jobs", Title: "cairn tui — jobs", Width: w, Height: h, extra: cronBack(), steps: []step{{keys: []string{"6"}, want: "reports.daily"}}},
		{Name: "packages", Title: "cairn tui — packages", Width: w, Height: h, steps: []step{{keys: []string{"7"}, want: "redis"}}},
		{Name: "modules", Title: "cairn tui — modules", Width: w, Height: h, steps: []step{{keys: []string{"8"}, want: "audit"}}},
		{Name: "help", Title: "cairn tui — keys (?)", Width: w, Height: h, steps: []step{{keys: []string{"4", "?"}, want: "esc closes this help"}}},
	}
}

// Timing of Render: how often the screen is looked at, how long it must
// stay the same to count as drawn, and how long to wait at most.
const (
	pollEvery  = 20 * time.Millisecond
	stableFor  = 300 * time.Millisecond
	waitAtMost = 15 * time.Second
)

// snapMsg asks the program for its screen.
type snapMsg struct{ reply chan<- snapshot }

type snapshot struct {
	frame  string
	synced bool
	events int // events the store recorded
}

// harness runs the shell and answers snapMsg from the program's own
// goroutine, so that reading the model never races its updates.
type harness struct{ m *tui.Model }

func (h harness) Init() tea.Cmd { return h.m.Init() }

func (h harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if s, ok := msg.(snapMsg); ok {
		c := h.m.Env().Cluster
		s.reply <- snapshot{frame: h.m.Render(), synced: c.Synced(), events: len(c.Events())}
		return h, nil
	}
	_, cmd := h.m.Update(msg)
	return h, cmd
}

func (h harness) View() tea.View { return h.m.View() }

// Render runs the TUI against a fake master of the fixture's cluster,
// with the fixture's clock and the coloured theme, at the shot's size;
// presses the shot's keys; and returns the screen (with its escape
// sequences) once it shows what the shot wants and has stopped changing.
func Render(ctx context.Context, s Shot) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, waitAtMost)
	defer cancel()
	fake := newMaster(s.extra)
	defer fake.Close()
	defer fake.CloseClientConnections()
	client, err := apiclient.New(fake.URL, "", nil)
	if err != nil {
		return "", err
	}
	m := tui.New(ctx, tui.Options{Client: client, Now: fixture.Now})
	defer m.Close()
	p := tea.NewProgram(harness{m}, tea.WithContext(ctx), tea.WithInput(nil), tea.WithOutput(io.Discard),
		tea.WithoutRenderer(), tea.WithoutSignals(), tea.WithWindowSize(s.Width, s.Height),
		tea.WithColorProfile(colorprofile.TrueColor), tea.WithEnvironment([]string{"TERM=xterm-256color"}))
	done := make(chan error, 1)
	go func() {
		_, err := p.Run()
		done <- err
	}()
	defer func() {
		p.Quit()
		m.Close()
		<-done
	}()
	p.Send(tea.WindowSizeMsg{Width: s.Width, Height: s.Height})

	snap := func() (snapshot, error) {
		reply := make(chan snapshot, 1)
		p.Send(snapMsg{reply: reply})
		select {
		case sn := <-reply:
			return sn, nil
		case err := <-done:
			done <- err
			return snapshot{}, fmt.Errorf("the program stopped: %v", err)
		case <-ctx.Done():
			return snapshot{}, ctx.Err()
		}
	}
	// until waits until ok holds for the snapshot and the frame has not
	// changed for stableFor.
	until := func(what string, ok func(snapshot) bool) (string, error) {
		var last string
		var since time.Time
		for {
			sn, err := snap()
			if err != nil {
				return "", fmt.Errorf("%s: waiting for %s: %w (the screen was:\n%s)", s.Name, what, err, ansi.Strip(last))
			}
			switch {
			case !ok(sn):
				since = time.Time{}
			case sn.frame != last || since.IsZero():
				since = time.Now()
			case time.Since(since) >= stableFor:
				return sn.frame, nil
			}
			last = sn.frame
			select {
			case <-time.After(pollEvery):
			case <-ctx.Done():
				return "", fmt.Errorf("%s: waiting for %s: %w (the screen was:\n%s)", s.Name, what, ctx.Err(), ansi.Strip(last))
			}
		}
	}
	// The stream's events first, so keys act on the whole cluster.
	if _, err := until("the event stream", func(sn snapshot) bool {
		return sn.synced && sn.events == fake.streamed() && strings.Contains(ansi.Strip(sn.frame), "● live")
	}); err != nil {
		return "", err
	}
	var frame string
	for _, st := range s.steps {
		for _, k := range st.keys {
			p.Send(ui.KeyPress(k))
		}
		frame, err = until(fmt.Sprintf("%q", st.want), func(sn snapshot) bool {
			return strings.Contains(ansi.Strip(sn.frame), st.want)
		})
		if err != nil {
			return "", err
		}
	}
	if frame == "" {
		return "", errors.New(s.Name + ": no steps")
	}
	return frame, nil
}
