package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
)

// span is a <tspan> of an SVG: where it is and how it looks.
type span struct {
	row   int // the row, from the <text>'s y
	x     float64
	fill  string
	class string
	text  string
	tlen  string // textLength
}

// box is a background <rect> inside the grid's group.
type box struct {
	x, y, width float64
	fill        string
}

// parsed is what a test reads back from FrameSVG's output; parsing it
// with encoding/xml also checks that it is well-formed.
type parsed struct {
	title string
	spans []span
	boxes []box
}

func parseSVG(t *testing.T, svg []byte) parsed {
	t.Helper()
	var p parsed
	d := xml.NewDecoder(bytes.NewReader(svg))
	var inGrid, inTitle bool
	var cur *span
	row := -1
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			attr := func(name string) string {
				for _, a := range tok.Attr {
					if a.Name.Local == name {
						return a.Value
					}
				}
				return ""
			}
			f := func(name string) float64 {
				v, err := strconv.ParseFloat(attr(name), 64)
				if err != nil {
					t.Fatalf("%s %s=%q: %v", tok.Name.Local, name, attr(name), err)
				}
				return v
			}
			switch tok.Name.Local {
			case "title":
				inTitle = true
			case "g":
				inGrid = true
			case "rect":
				if inGrid {
					p.boxes = append(p.boxes, box{x: f("x"), y: f("y"), width: f("width"), fill: attr("fill")})
				}
			case "text":
				if attr("class") != "t" {
					row = int((f("y") - baseline - titleBar - padding) / cellHeight)
				}
			case "tspan":
				cur = &span{row: row, x: f("x"), fill: attr("fill"), class: attr("class"), tlen: attr("textLength")}
			}
		case xml.EndElement:
			switch tok.Name.Local {
			case "g":
				inGrid = false
			case "title":
				inTitle = false
			case "tspan":
				p.spans = append(p.spans, *cur)
				cur = nil
			}
		case xml.CharData:
			if cur != nil {
				cur.text += string(tok)
			}
			if inTitle {
				p.title += string(tok)
			}
		}
	}
	return p
}

// find is the span whose text is text, or fails.
func (p parsed) find(t *testing.T, text string) span {
	t.Helper()
	for _, s := range p.spans {
		if s.text == text {
			return s
		}
	}
	t.Fatalf("no tspan %q in %+v", text, p.spans)
	return span{}
}

func colX(col int) float64 { return padding + float64(col)*cellWidth }

func near(a, b float64) bool { return a-b < 0.01 && b-a < 0.01 }

func TestColours(t *testing.T) {
	frame := "\x1b[38;2;1;2;3mtrue\x1b[m " + // truecolour
		"\x1b[38;5;196m256\x1b[m " + // the xterm cube
		"\x1b[38;5;244mgrey\x1b[m " + // the grey ramp
		"\x1b[38;5;1mindexed\x1b[m " + // 256-colour index of a basic colour
		"\x1b[31mred\x1b[m " +
		"\x1b[92mbright\x1b[m " +
		"\x1b[38:2::10:20:30mcolon\x1b[m " + // ITU T.416 form
		"plain"
	p := parseSVG(t, FrameSVG(frame, Window{}))
	for text, want := range map[string]string{
		"true":    "#010203",
		"256":     "#ff0000",
		"grey":    "#808080",
		"indexed": palette[1],
		"red":     palette[1],
		"bright":  palette[10],
		"colon":   "#0a141e",
		"plain":   defaultFg,
	} {
		if got := p.find(t, text).fill; got != want {
			t.Errorf("%q is drawn in %s, want %s", text, got, want)
		}
	}
	if len(p.boxes) != 0 {
		t.Errorf("no background was set, yet there are rects: %+v", p.boxes)
	}
}

func TestBackgrounds(t *testing.T) {
	frame := "ab\x1b[48;2;51;70;124mcde\x1b[49mf\x1b[44mg\x1b[48;5;22mh\x1b[m\n" +
		"\x1b[48;2;51;70;124m  \x1b[m"
	p := parseSVG(t, FrameSVG(frame, Window{}))
	want := []box{
		{x: colX(2), y: titleBar + padding, width: 3 * cellWidth, fill: "#33467c"},
		{x: colX(6), y: titleBar + padding, width: cellWidth, fill: palette[4]},
		{x: colX(7), y: titleBar + padding, width: cellWidth, fill: "#005f00"},
		{x: colX(0), y: titleBar + padding + cellHeight, width: 2 * cellWidth, fill: "#33467c"},
	}
	if len(p.boxes) != len(want) {
		t.Fatalf("rects %+v, want %+v", p.boxes, want)
	}
	for i, w := range want {
		g := p.boxes[i]
		if !near(g.x, w.x) || !near(g.y, w.y) || !near(g.width, w.width) || g.fill != w.fill {
			t.Errorf("rect %d is %+v, want %+v", i, g, w)
		}
	}
	// The blanks on a background are drawn by the rect alone.
	for _, s := range p.spans {
		if strings.TrimSpace(s.text) == "" {
			t.Errorf("a tspan of blanks: %+v", s)
		}
	}
	// Text runs go by foreground: the backgrounds do not split them.
	if s := p.find(t, "abcdefgh"); !near(s.x, colX(0)) {
		t.Errorf("abcdefgh at x=%v, want %v", s.x, colX(0))
	}
}

func TestBoldFaintAndReset(t *testing.T) {
	frame := "\x1b[1mbold\x1b[22m norm \x1b[1;3;4mall\x1b[0m \x1b[2mfaint\x1b[m \x1b[9mgone\x1b[m"
	p := parseSVG(t, FrameSVG(frame, Window{}))
	if c := p.find(t, "bold").class; c != "b" {
		t.Errorf("bold has class %q, want b", c)
	}
	if c := p.find(t, "norm").class; c != "" {
		t.Errorf("after SGR 22 the text has class %q, want none", c)
	}
	if c := p.find(t, "all").class; c != "b i u" {
		t.Errorf("bold italic underlined has class %q", c)
	}
	if c := p.find(t, "gone").class; c != "s" {
		t.Errorf("struck through has class %q", c)
	}
	if f := p.find(t, "faint").fill; f != mix(defaultFg, defaultBg, 0.55) || f == defaultFg {
		t.Errorf("faint text is %s, want %s (dimmer than %s)", f, mix(defaultFg, defaultBg, 0.55), defaultFg)
	}
}

func TestReverse(t *testing.T) {
	frame := "\x1b[7mrev\x1b[27m \x1b[7;38;2;255;0;0;48;2;0;0;255mswap\x1b[m"
	p := parseSVG(t, FrameSVG(frame, Window{}))
	if s := p.find(t, "rev"); s.fill != defaultBg {
		t.Errorf("reversed default text is %s, want the background %s", s.fill, defaultBg)
	}
	if s := p.find(t, "swap"); s.fill != "#0000ff" {
		t.Errorf("reversed red on blue is drawn in %s, want blue", s.fill)
	}
	if len(p.boxes) != 2 || p.boxes[0].fill != defaultFg || p.boxes[1].fill != "#ff0000" ||
		!near(p.boxes[0].width, 3*cellWidth) || !near(p.boxes[1].x, colX(4)) {
		t.Errorf("reverse-video rects %+v, want the default foreground under rev and red under swap", p.boxes)
	}
}

func TestXMLEscaping(t *testing.T) {
	frame := "\x1b[1m<a href=\"x\">&amp;</a>\x1b[m 'q' ]]> \x01"
	svg := FrameSVG(frame, Window{Title: `Tom & "Jerry" <3`})
	p := parseSVG(t, svg)
	if p.title != `Tom & "Jerry" <3` {
		t.Errorf("title %q", p.title)
	}
	if s := p.find(t, `<a href="x">&amp;</a>`); s.class != "b" {
		t.Errorf("the markup-like text lost its style: %+v", s)
	}
	if bytes.Contains(svg, []byte("<a ")) || bytes.Contains(svg, []byte("]]>")) {
		t.Errorf("unescaped text in the SVG:\n%s", svg)
	}
}

func TestWideRunes(t *testing.T) {
	// A wide character takes two columns: what follows starts two columns
	// later, and the run's length is its cells'.
	frame := "世界\x1b[31mX\x1b[m ▕██░░▏ok\n" +
		"abcd\x1b[31mX"
	p := parseSVG(t, FrameSVG(frame, Window{}))
	xs := []span{}
	for _, s := range p.spans {
		if s.text == "X" {
			xs = append(xs, s)
		}
	}
	if len(xs) != 2 || !near(xs[0].x, colX(4)) || !near(xs[1].x, colX(4)) || xs[0].row != 0 || xs[1].row != 1 {
		t.Fatalf("the X after two wide characters and the X after four narrow ones are at %+v, want both at column 4 (x=%v)", xs, colX(4))
	}
	wide := p.find(t, "世界")
	if !near(wide.x, colX(0)) || wide.tlen != num(4*cellWidth) {
		t.Errorf("世界 at x=%v textLength=%s, want x=%v textLength=%s", wide.x, wide.tlen, colX(0), num(4*cellWidth))
	}
	bar := p.find(t, "▕██░░▏ok")
	if !near(bar.x, colX(6)) || bar.tlen != num(8*cellWidth) {
		t.Errorf("the bar at x=%v textLength=%s, want x=%v textLength=%s", bar.x, bar.tlen, colX(6), num(8*cellWidth))
	}
}

func TestGridSize(t *testing.T) {
	// Cols and Rows cut the frame; the SVG's size follows them.
	frame := "0123456789\nsecond\nthird"
	svg := FrameSVG(frame, Window{Cols: 4, Rows: 2})
	p := parseSVG(t, svg)
	var texts []string
	for _, s := range p.spans {
		texts = append(texts, s.text)
	}
	if strings.Join(texts, "|") != "0123|seco" {
		t.Errorf("a 4×2 window shows %q, want 0123|seco", texts)
	}
	w, h := num(2*padding+4*cellWidth), num(titleBar+2*padding+2*cellHeight)
	if !bytes.Contains(svg, []byte(`width="`+w+`" height="`+h+`"`)) {
		t.Errorf("the SVG is not %s×%s:\n%s", w, h, svg[:200])
	}
	// Without Cols and Rows, the frame's size.
	w, h = num(2*padding+10*cellWidth), num(titleBar+2*padding+3*cellHeight)
	if svg := FrameSVG(frame, Window{}); !bytes.Contains(svg, []byte(`width="`+w+`" height="`+h+`"`)) {
		t.Errorf("the SVG is not %s×%s:\n%s", w, h, svg[:200])
	}
}

func TestStyleCrossesLines(t *testing.T) {
	// As in a terminal, a style set on one line holds on the next until
	// reset (lipgloss resets per line, but a frame need not).
	p := parseSVG(t, FrameSVG("\x1b[32mone\ntwo\x1b[m three", Window{}))
	if p.find(t, "two").fill != palette[2] || p.find(t, "three").fill != defaultFg {
		t.Errorf("spans %+v", p.spans)
	}
}
