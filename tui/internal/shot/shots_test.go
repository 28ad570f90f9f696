package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestShotsDeterministic draws every shot twice: the frames are the
// screens the shot wants, at its size, in colour, and the SVGs are the
// same bytes both times (so regenerating the docs' images changes them
// only when the TUI changed).
func TestShotsDeterministic(t *testing.T) {
	names := map[string]bool{}
	for _, s := range Shots() {
		if names[s.Name] {
			t.Fatalf("two shots are called %s", s.Name)
		}
		names[s.Name] = true
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			frame, err := Render(t.Context(), s)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(frame, "\n")
			if len(lines) != s.Height {
				t.Errorf("the frame has %d lines, want %d", len(lines), s.Height)
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > s.Width {
					t.Errorf("line %d is %d cells wide, more than %d", i+1, w, s.Width)
				}
			}
			plain := ansi.Strip(frame)
			for _, st := range s.steps {
				if !strings.Contains(plain, st.want) {
					t.Errorf("the screen does not show %q:\n%s", st.want, plain)
				}
			}
			if !strings.Contains(frame, "\x1b[38;2;") {
				t.Errorf("the frame has no truecolour foreground: not the coloured theme?\n%q", frame)
			}
			first := FrameSVG(frame, Window{Title: s.Title, Cols: s.Width, Rows: s.Height})
			parseSVG(t, first)
			again, err := Draw(t.Context(), s)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first, again) {
				t.Errorf("drawing %s twice gave different SVGs:\n%s\n---\n%s", s.Name, first, again)
			}
		})
	}
}

func TestGenerateWritesFiles(t *testing.T) {
	dir := t.TempDir()
	if err := generate(t.Context(), dir, "overview-80x24, help", false); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != "tui-help.svg tui-overview-80x24.svg" {
		t.Errorf("wrote %q", got)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "tui-help.svg"))
	if err != nil {
		t.Fatal(err)
	}
	p := parseSVG(t, svg)
	if p.title != "cairn tui — keys (?)" {
		t.Errorf("the help's title is %q", p.title)
	}
	if err := generate(t.Context(), dir, "nope", false); err == nil || !strings.Contains(err.Error(), `no shot "nope"`) {
		t.Errorf("an unknown shot gave %v", err)
	}
}
