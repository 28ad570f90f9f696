package tui_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/frameworks/run"
	"github.com/cairn-dc/cairn/frameworks/run/runapi"
	"github.com/cairn-dc/cairn/kernel/master"
	"github.com/cairn-dc/cairn/kernel/testcluster"
	"github.com/cairn-dc/cairn/tui"
	"github.com/cairn-dc/cairn/tui/internal/ui"
)

// probe asks the running program for its screen; the program's filter
// (which runs on the program's goroutine) answers, so tests read the
// model without racing its Update.
type probe struct {
	reply chan string
	raw   bool // the screen with its escape sequences
}

// probeFilter answers probes with the model's screen, as plain text.
func probeFilter(m tea.Model, msg tea.Msg) tea.Msg {
	if p, ok := msg.(probe); ok {
		s := m.(*tui.Model).Render()
		if !p.raw {
			s = ansi.Strip(s)
		}
		p.reply <- s
		return nil
	}
	return msg
}

// screenOf is the program's current screen.
func screenOf(t *testing.T, tm *teatest.TestModel) string {
	t.Helper()
	reply := make(chan string, 1)
	tm.Send(probe{reply: reply})
	select {
	case s := <-reply:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("the program did not answer a probe within 10s")
		return ""
	}
}

// waitScreen waits until the screen satisfies cond, failing with the last
// screen after d.
func waitScreen(t *testing.T, tm *teatest.TestModel, d time.Duration, what string, cond func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := screenOf(t, tm)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; the screen:\n%s", d, what, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func has(parts ...string) func(string) bool {
	return func(s string) bool {
		for _, p := range parts {
			if !strings.Contains(s, p) {
				return false
			}
		}
		return true
	}
}

func row(pattern string) func(string) bool {
	re := regexp.MustCompile(`(?m)^` + pattern)
	return func(s string) bool { return re.MatchString(s) }
}

// TestLiveTasks drives the TUI against an in-process cluster: the
// overview shows the agents, the tasks page follows a run going RUNNING
// (from events), filters by text and state, and kills it after a
// confirmation.
func TestLiveTasks(t *testing.T) {
	c := testcluster.New(t)
	c.Agents(2, "cpus:4;mem:8192;disk:10000;ports:[31000-31009]", nil)
	url := c.HTTP(master.HTTPConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f, err := run.Start(ctx, run.Config{Conn: c.Conn("run"), Logger: c.Log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	client, err := apiclient.New(url, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	testcluster.WaitFor(t, 10*time.Second, "the run framework behind the master's proxy", func() bool {
		_, err := client.Runs(ctx)
		return err == nil
	})

	m := tui.New(ctx, tui.Options{Client: client, NoColor: true})
	t.Cleanup(m.Close)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii), tea.WithFilter(probeFilter)))

	waitScreen(t, tm, 10*time.Second, "the overview with both agents, live", has("Agents  2", "host-1", "host-2", "● live"))

	tm.Send(ui.KeyPress("4"))
	waitScreen(t, tm, 5*time.Second, "the tasks page", has("Tasks  0 of 0", "No task in the cluster yet."))

	other, err := client.SubmitRun(ctx, runapi.Request{Cmd: "sleep 600", Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	mine, err := client.SubmitRun(ctx, runapi.Request{Cmd: "sleep 600", Name: "tuitest",
		Labels: map[string]string{"sim.start_delay": "300ms"}})
	if err != nil {
		t.Fatal(err)
	}
	waitScreen(t, tm, 10*time.Second, "both runs listed", has(string(other.ID), string(mine.ID)))

	for _, k := range []string{"/", "t", "u", "i", "t", "e", "s", "t", "enter"} {
		tm.Send(ui.KeyPress(k))
	}
	s := waitScreen(t, tm, 10*time.Second, "the filtered run RUNNING", row(regexp.QuoteMeta(string(mine.ID))+` +tuitest +RUNNING`))
	if strings.Contains(s, string(other.ID)) || !strings.Contains(s, "1 of 2") {
		t.Fatalf("the text filter shows other tasks:\n%s", s)
	}

	tm.Send(ui.KeyPress("x"))
	waitScreen(t, tm, 5*time.Second, "the kill confirmation", has("Confirm", "Kill task "+string(mine.ID)))
	tm.Send(ui.KeyPress("y"))
	waitScreen(t, tm, 10*time.Second, "the run KILLED", row(regexp.QuoteMeta(string(mine.ID))+` +tuitest +KILLED`))

	// The state filter: running tasks only; the killed one goes.
	tm.Send(ui.KeyPress("s"))
	tm.Send(ui.KeyPress("s"))
	waitScreen(t, tm, 5*time.Second, "no running task matching tuitest", has("state running", "0 of 2", "No task matches the filters"))

	// The other run is untouched, and the overview counts it.
	tm.Send(ui.KeyPress("c"))
	waitScreen(t, tm, 5*time.Second, "the other run still running", row(regexp.QuoteMeta(string(other.ID))+` +other +RUNNING`))
	tm.Send(ui.KeyPress("1"))
	waitScreen(t, tm, 10*time.Second, "the overview's task counts", has("RUNNING 1", "KILLED 1"))

	// Drain the first agent from the agents page, then undrain it.
	tm.Send(ui.KeyPress("2"))
	waitScreen(t, tm, 5*time.Second, "the agents page", row(`\S+ +host-1 +ACTIVE`))
	tm.Send(ui.KeyPress("d"))
	waitScreen(t, tm, 5*time.Second, "the drain confirmation", has("Confirm", "Drain host-1?"))
	tm.Send(ui.KeyPress("y"))
	waitScreen(t, tm, 10*time.Second, "host-1 drained", row(`\S+ +host-1 +DRAIN(ING|ED)`))
	tm.Send(ui.KeyPress("u"))
	waitScreen(t, tm, 5*time.Second, "the undrain confirmation", has("Confirm", "Undrain host-1?"))
	tm.Send(ui.KeyPress("y"))
	waitScreen(t, tm, 10*time.Second, "host-1 active again", row(`\S+ +host-1 +ACTIVE`))

	tm.Send(ui.KeyPress("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
}
