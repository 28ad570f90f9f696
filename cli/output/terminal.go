package output

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// IsTerminal reports whether w is a terminal (a character device).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// defaultWidth is the width assumed for a terminal whose size is unknown.
const defaultWidth = 80

// TerminalWidth is the number of columns of the terminal w, or 80 when w
// is not a terminal or its size is unknown.
func TerminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if n := terminalWidth(f); n > 0 {
			return n
		}
	}
	return defaultWidth
}

// Truncate shortens s to at most n runes, ending it with "…" when it was
// cut.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Age prints how long ago something happened, in one unit, as kubectl
// does: "12s", "5m", "3h", "2d" ("0s" for the future).
func Age(d time.Duration) string {
	switch {
	case d < time.Second:
		return "0s"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d"
}

// spinner are the frames of a Status's spinner.
var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// Status is one line of progress on a terminal, with a spinner, redrawn in
// place: Set changes its text, Tick turns the spinner, Clear erases it
// (call it before printing anything else). It is not safe for concurrent
// use.
type Status struct {
	w     io.Writer
	width int
	text  string
	frame int
	shown bool
}

// NewStatus returns a status line written to the terminal w, which is
// width columns wide.
func NewStatus(w io.Writer, width int) *Status {
	if width <= 0 {
		width = defaultWidth
	}
	return &Status{w: w, width: width}
}

// Set shows text (one line: control characters become spaces; cut to the
// terminal's width).
func (s *Status) Set(text string) {
	s.text = Clean(text)
	s.draw()
}

// Tick turns the spinner.
func (s *Status) Tick() {
	s.frame = (s.frame + 1) % len(spinner)
	if s.shown {
		s.draw()
	}
}

func (s *Status) draw() {
	// Leave the last column free: writing there wraps on some terminals.
	line := Truncate(spinner[s.frame]+" "+s.text, s.width-1)
	_, _ = fmt.Fprint(s.w, "\r\x1b[K"+strings.TrimRight(line, " "))
	s.shown = true
}

// Clear erases the line.
func (s *Status) Clear() {
	if s.shown {
		_, _ = io.WriteString(s.w, "\r\x1b[K")
		s.shown = false
	}
}
