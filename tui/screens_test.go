package tui_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/cairn-dc/cairn/tui"
	"github.com/cairn-dc/cairn/tui/internal/fixture"
	"github.com/cairn-dc/cairn/tui/internal/ui"
	"github.com/cairn-dc/cairn/tui/view"
)

// fixedModel is the shell on the fixture's cluster, plain (NO_COLOR),
// with the fixture's clock and no client: the test feeds the events.
func fixedModel(t *testing.T, noColor bool) *tui.Model {
	t.Helper()
	m := tui.New(context.Background(), tui.Options{NoColor: noColor, Now: fixture.Now})
	t.Cleanup(m.Close)
	return m
}

// drive runs m under teatest at w×h, feeds it the fixture's events and
// keys, waits until the screen shows want (when not empty), and returns
// the final model and the terminal output.
func drive(t *testing.T, m *tui.Model, w, h int, want string, keys ...string) (*tui.Model, []byte) {
	t.Helper()
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	tm.Send(view.EventMsg{Event: fixture.Subscribed()})
	for _, ev := range fixture.Events() {
		tm.Send(view.EventMsg{Event: ev})
	}
	for _, k := range keys {
		tm.Send(ui.KeyPress(k))
	}
	var out bytes.Buffer
	if want != "" {
		teatest.WaitFor(t, io.TeeReader(tm.Output(), &out), func(b []byte) bool {
			return strings.Contains(ansi.Strip(string(b)), want)
		}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	}
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*tui.Model)
	rest, _ := io.ReadAll(tm.FinalOutput(t))
	out.Write(rest)
	return final, out.Bytes()
}

// screen is the model's screen as text without escape sequences, trailing
// spaces trimmed (what the golden files hold).
func screen(m *tui.Model) string {
	lines := strings.Split(ansi.Strip(m.Render()), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestScreens pins the rendered screens at 80×24 and 160×48.
func TestScreens(t *testing.T) {
	cases := []struct {
		name string
		want string // text that shows the screen is drawn
		keys []string
	}{
		{"overview", "", nil},
		{"agents", "", []string{"2"}},
		{"agent", "", []string{"2", "enter"}},
		{"frameworks", "", []string{"3", "down", "down"}},
		{"framework", "", []string{"3", "enter"}},
		{"tasks", "", []string{"4"}},
		{"tasks_filtered", "", []string{"4", "s", "s", "/", "w", "e", "b", "enter"}},
		{"task", "", []string{"4", "down", "down", "down", "enter"}},
		{"kill_confirm", "Confirm", []string{"4", "down", "down", "down", "down", "x"}},
		{"help", "", []string{"4", "?"}},
	}
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s_%dx%d", c.name, size[0], size[1]), func(t *testing.T) {
				m, _ := drive(t, fixedModel(t, true), size[0], size[1], c.want, c.keys...)
				s := screen(m)
				if n := strings.Count(s, "\n"); n != size[1] {
					t.Errorf("the screen has %d lines, want %d", n, size[1])
				}
				for i, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
					if w := ansi.StringWidth(l); w > size[0] {
						t.Errorf("line %d is %d cells wide, more than %d: %q", i+1, w, size[0], l)
					}
				}
				golden.RequireEqual(t, s)
			})
		}
	}
}

// colour matches SGR sequences that set a colour: 30-37, 38;…, 39, 40-49,
// 90-97, 100-107 among their parameters.
var sgr = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

func colourParams(out []byte) []string {
	var bad []string
	for _, m := range sgr.FindAllSubmatch(out, -1) {
		for _, p := range strings.FieldsFunc(string(m[1]), func(r rune) bool { return r == ';' || r == ':' }) {
			var n int
			if _, err := fmt.Sscan(p, &n); err != nil {
				continue
			}
			if (n >= 30 && n <= 49) || (n >= 90 && n <= 107) {
				bad = append(bad, string(m[0]))
				break
			}
		}
	}
	return bad
}

// TestNoColor: with NO_COLOR the terminal gets no colour escape sequences
// at all (only bold, faint and reverse), while the coloured theme does use
// colours (so the check can fail).
func TestNoColor(t *testing.T) {
	_, out := drive(t, fixedModel(t, true), 100, 30, "node-1", "4")
	if bad := colourParams(out); len(bad) > 0 {
		t.Errorf("NO_COLOR output has %d colour sequences, e.g. %q", len(bad), bad[0])
	}
	if !bytes.Contains(out, []byte("\x1b[")) {
		t.Error("the output has no escape sequences at all: was the screen drawn?")
	}
	m := tui.New(context.Background(), tui.Options{Now: fixture.Now})
	t.Cleanup(m.Close)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.TrueColor)))
	tm.Send(view.EventMsg{Event: fixture.Subscribed()})
	var coloured bytes.Buffer
	teatest.WaitFor(t, io.TeeReader(tm.Output(), &coloured), func(b []byte) bool {
		return strings.Contains(ansi.Strip(string(b)), "node-1")
	}, teatest.WithDuration(5*time.Second))
	_ = tm.Quit()
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if len(colourParams(coloured.Bytes())) == 0 {
		t.Error("the coloured theme drew no colour: the NO_COLOR check cannot tell")
	}
}
