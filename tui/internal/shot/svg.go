package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/color"
	"strconv"
	"strings"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
)

// The SVG's geometry: a fixed cell, so that every run of text is placed at
// its column and the columns line up whatever font the viewer has.
const (
	cellWidth  = 8.43 // px: 0.602 em, the advance of Menlo and DejaVu Sans Mono
	cellHeight = 17.0 // px
	fontSize   = 14   // px
	baseline   = 13.0 // px from a row's top to the text's baseline
	padding    = 16.0 // px around the terminal's grid
	titleBar   = 34.0 // px, the window's title bar
	cornerR    = 8.0  // px, the window's rounded corners
	fontFamily = "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"
)

// The window's colours: the background and default foreground of the
// coloured theme's palette (Tokyo Night), which the TUI's theme is drawn
// for.
const (
	defaultBg  = "#1a1b26"
	defaultFg  = "#c0caf5"
	titleBarBg = "#16161e"
	titleFg    = "#737aa2"
)

// palette is what the 16 basic colours (SGR 30-37, 90-97, 40-47, 100-107,
// and 38;5;0-15) look like: a terminal palette that goes with the theme.
var palette = [16]string{
	"#15161e", "#f7768e", "#9ece6a", "#e0af68", "#7aa2f7", "#bb9af7", "#7dcfff", "#a9b1d6",
	"#414868", "#ff899d", "#9fe044", "#faba4a", "#8db0ff", "#c7a9ff", "#a4daff", "#c0caf5",
}

// Window is what FrameSVG draws around a frame.
type Window struct {
	// Title is written in the title bar (and is the SVG's accessible
	// title). Empty: no title text, the bar still has its three dots.
	Title string
	// Cols and Rows are the terminal's size in cells; 0 takes the frame's
	// widest line and its number of lines. Cells beyond them are dropped.
	Cols, Rows int
}

// cellStyle is a cell's look, resolved to colours: reverse video and faint
// applied, defaults filled in.
type cellStyle struct {
	fg, bg            string // bg "" is the window's background
	bold, italic      bool
	underline, strike bool
}

// cell is one grapheme on the grid.
type cell struct {
	text  string
	col   int // first column
	width int // columns it takes (2 for wide characters)
	style cellStyle
}

// parseFrame decodes a frame (text with ANSI SGR sequences, lines split by
// "\n") into rows of cells, with ultraviolet's parser: the same one
// lipgloss uses to lay out styled strings. Other sequences are ignored.
func parseFrame(frame string, cols, rows int) [][]cell {
	frame = strings.ReplaceAll(frame, "\r\n", "\n")
	lines := uv.NewStyledString(frame).Lines(ansi.GraphemeWidth)
	if rows <= 0 {
		rows = len(lines)
	}
	out := make([][]cell, rows)
	for y := 0; y < rows && y < len(lines); y++ {
		col := 0
		for _, c := range lines[y] {
			if c.Width <= 0 {
				continue
			}
			if cols > 0 && col+c.Width > cols {
				break
			}
			out[y] = append(out[y], cell{text: c.Content, col: col, width: c.Width, style: resolve(c.Style)})
			col += c.Width
		}
	}
	return out
}

// frameSize is the widest line's width and the number of lines.
func frameSize(frame string) (cols, rows int) {
	lines := strings.Split(strings.ReplaceAll(frame, "\r\n", "\n"), "\n")
	for _, l := range lines {
		cols = max(cols, ansi.StringWidth(l))
	}
	return cols, len(lines)
}

// resolve turns an SGR pen into the colours a cell is drawn with.
func resolve(s uv.Style) cellStyle {
	fg, bg := defaultFg, ""
	if s.Fg != nil {
		fg = hexColor(s.Fg)
	}
	if s.Bg != nil {
		bg = hexColor(s.Bg)
	}
	if s.Attrs&uv.AttrReverse != 0 {
		fg, bg = bg, fg
		if fg == "" {
			fg = defaultBg
		}
	}
	if s.Attrs&uv.AttrFaint != 0 {
		under := bg
		if under == "" {
			under = defaultBg
		}
		fg = mix(fg, under, 0.55)
	}
	if s.Attrs&uv.AttrConceal != 0 {
		fg = bg
		if fg == "" {
			fg = defaultBg
		}
	}
	return cellStyle{
		fg: fg, bg: bg,
		bold:      s.Attrs&uv.AttrBold != 0,
		italic:    s.Attrs&uv.AttrItalic != 0,
		underline: s.Underline != uv.UnderlineNone,
		strike:    s.Attrs&uv.AttrStrikethrough != 0,
	}
}

// hexColor is c as #rrggbb; the 16 basic colours come from the palette,
// the rest of the 256 from the xterm cube and grey ramp, truecolour as
// it is.
func hexColor(c color.Color) string {
	switch c := c.(type) {
	case ansi.BasicColor:
		if int(c) < len(palette) {
			return palette[c]
		}
	case ansi.IndexedColor:
		if int(c) < len(palette) {
			return palette[c]
		}
	}
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8)
}

// mix is a weighted mean of two #rrggbb colours: w of a, 1-w of b.
func mix(a, b string, w float64) string {
	pa, pb := parseHex(a), parseHex(b)
	var out [3]uint8
	for i := range out {
		out[i] = uint8(float64(pa[i])*w + float64(pb[i])*(1-w) + 0.5)
	}
	return fmt.Sprintf("#%02x%02x%02x", out[0], out[1], out[2])
}

func parseHex(s string) [3]uint8 {
	var v [3]uint8
	if len(s) != 7 || s[0] != '#' {
		return v
	}
	for i := range v {
		n, err := strconv.ParseUint(s[1+2*i:3+2*i], 16, 8)
		if err == nil {
			v[i] = uint8(n)
		}
	}
	return v
}

// num formats a length in px: at most two decimals, no trailing zeros.
func num(f float64) string {
	return strconv.FormatFloat(float64(int64(f*100+0.5))/100, 'f', -1, 64)
}

// esc escapes s for XML text and attribute values (characters XML cannot
// hold become U+FFFD).
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// run is cells next to each other with the same style.
type run struct {
	col, width int
	text       string
	style      cellStyle
}

// runs groups a row's cells by style, splitting where a column is skipped.
// same decides which styles group.
func runs(row []cell, same func(a, b cellStyle) bool) []run {
	var out []run
	for _, c := range row {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.col+last.width == c.col && same(last.style, c.style) {
				last.text += c.text
				last.width += c.width
				continue
			}
		}
		out = append(out, run{col: c.col, width: c.width, text: c.text, style: c.style})
	}
	return out
}

// FrameSVG draws a rendered frame as an SVG terminal window: a title bar
// with three dots, the background, a rect per run of cells with a
// background colour, and a <text> per row with a <tspan> per run of
// style, each placed at its column with its length fixed to its cells.
// The output depends only on frame and w.
func FrameSVG(frame string, w Window) []byte {
	cols, rows := w.Cols, w.Rows
	if cols <= 0 || rows <= 0 {
		fc, fr := frameSize(frame)
		if cols <= 0 {
			cols = fc
		}
		if rows <= 0 {
			rows = fr
		}
	}
	grid := parseFrame(frame, cols, rows)
	width := 2*padding + float64(cols)*cellWidth
	height := titleBar + 2*padding + float64(rows)*cellHeight
	top := titleBar + padding

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-label="%s">`+"\n",
		num(width), num(height), num(width), num(height), esc(w.Title))
	if w.Title != "" {
		fmt.Fprintf(&b, "<title>%s</title>\n", esc(w.Title))
	}
	fmt.Fprintf(&b, "<style>text{font-family:%s;font-size:%dpx;white-space:pre}"+
		".b{font-weight:700}.i{font-style:italic}.u{text-decoration:underline}.s{text-decoration:line-through}.us{text-decoration:underline line-through}"+
		".t{font-size:13px;fill:%s}</style>\n", fontFamily, fontSize, titleFg)
	// The window: rounded, with its title bar.
	fmt.Fprintf(&b, `<rect width="%s" height="%s" rx="%s" fill="%s"/>`+"\n", num(width), num(height), num(cornerR), defaultBg)
	fmt.Fprintf(&b, `<path d="M0 %s a%s %s 0 0 1 %s -%s h%s a%s %s 0 0 1 %s %s v%s h-%s z" fill="%s"/>`+"\n",
		num(cornerR), num(cornerR), num(cornerR), num(cornerR), num(cornerR), num(width-2*cornerR),
		num(cornerR), num(cornerR), num(cornerR), num(cornerR), num(titleBar-cornerR), num(width), titleBarBg)
	for i, c := range []string{"#ff5f57", "#febc2e", "#28c840"} {
		fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="6" fill="%s"/>`+"\n", num(padding+4+float64(i)*20), num(titleBar/2), c)
	}
	if w.Title != "" {
		fmt.Fprintf(&b, `<text class="t" x="%s" y="%s" text-anchor="middle">%s</text>`+"\n", num(width/2), num(titleBar/2+4.5), esc(w.Title))
	}

	// Backgrounds first, so text draws over them.
	fmt.Fprintf(&b, `<g shape-rendering="crispEdges">`+"\n")
	for y, row := range grid {
		for _, r := range runs(row, func(a, b cellStyle) bool { return a.bg == b.bg }) {
			if r.style.bg == "" {
				continue
			}
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n",
				num(padding+float64(r.col)*cellWidth), num(top+float64(y)*cellHeight),
				num(float64(r.width)*cellWidth), num(cellHeight), r.style.bg)
		}
	}
	b.WriteString("</g>\n")

	for y, row := range grid {
		rs := runs(row, func(a, b cellStyle) bool {
			return a.fg == b.fg && a.bold == b.bold && a.italic == b.italic && a.underline == b.underline && a.strike == b.strike
		})
		var line strings.Builder
		for _, r := range rs {
			writeRun(&line, r)
		}
		if line.Len() == 0 {
			continue
		}
		fmt.Fprintf(&b, `<text y="%s" xml:space="preserve">%s</text>`+"\n", num(top+float64(y)*cellHeight+baseline), line.String())
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// writeRun writes a run as a tspan at its column, without its leading and
// trailing blanks (unless they are underlined or struck through); a run
// of blanks writes nothing (its background is a rect).
func writeRun(b *strings.Builder, r run) {
	text, col, width := r.text, r.col, r.width
	if !r.style.underline && !r.style.strike {
		trimmed := strings.TrimLeft(text, " ")
		col += len(text) - len(trimmed)
		width -= len(text) - len(trimmed)
		text = trimmed
		trimmed = strings.TrimRight(text, " ")
		width -= len(text) - len(trimmed)
		text = trimmed
	}
	if text == "" {
		return
	}
	var class []string
	if r.style.bold {
		class = append(class, "b")
	}
	if r.style.italic {
		class = append(class, "i")
	}
	switch {
	case r.style.underline && r.style.strike:
		class = append(class, "us")
	case r.style.underline:
		class = append(class, "u")
	case r.style.strike:
		class = append(class, "s")
	}
	fmt.Fprintf(b, `<tspan x="%s"`, num(padding+float64(col)*cellWidth))
	fmt.Fprintf(b, ` fill="%s"`, r.style.fg)
	if len(class) > 0 {
		fmt.Fprintf(b, ` class="%s"`, strings.Join(class, " "))
	}
	if width > 1 {
		fmt.Fprintf(b, ` textLength="%s" lengthAdjust="spacingAndGlyphs"`, num(float64(width)*cellWidth))
	}
	fmt.Fprintf(b, ">%s</tspan>", esc(text))
}
