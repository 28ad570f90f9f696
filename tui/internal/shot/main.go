// Command shot draws screenshots of cairn tui for the docs: it runs the
// TUI's shell with the coloured theme against a fake master that serves
// the golden tests' fixed cluster (tui/internal/fixture) with their fixed
// clock, presses keys to reach each view, and writes each screen as an SVG
// terminal window.
//
//	go run ./tui/internal/shot -out docs/images
//	go run ./tui/internal/shot -out docs/images -only overview -png
//
// The output is the same on every run, so the images change only when the
// TUI does.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
)

func main() {
	out := flag.String("out", "docs/images", "the directory to write the SVGs to")
	only := flag.String("only", "", "comma-separated shot names to draw (default: all)")
	list := flag.Bool("list", false, "list the shots and exit")
	png := flag.Bool("png", false, "also convert each SVG to a PNG with rsvg-convert (librsvg2-bin)")
	flag.Parse()
	if *list {
		for _, s := range Shots() {
			fmt.Printf("%-16s %dx%d  %s\n", s.Name, s.Width, s.Height, s.Title)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := generate(ctx, *out, *only, *png); err != nil {
		fmt.Fprintln(os.Stderr, "shot:", err)
		os.Exit(1)
	}
}

func generate(ctx context.Context, out, only string, png bool) error {
	shots, err := pick(Shots(), only)
	if err != nil {
		return err
	}
	rsvg := ""
	if png {
		if rsvg, err = exec.LookPath("rsvg-convert"); err != nil {
			return fmt.Errorf("-png needs rsvg-convert (apt-get install librsvg2-bin): %w", err)
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, s := range shots {
		svg, err := Draw(ctx, s)
		if err != nil {
			return err
		}
		path := filepath.Join(out, "tui-"+s.Name+".svg")
		if err := os.WriteFile(path, svg, 0o644); err != nil {
			return err
		}
		fmt.Println(path)
		if rsvg != "" {
			pngPath := strings.TrimSuffix(path, ".svg") + ".png"
			if b, err := exec.CommandContext(ctx, rsvg, "--output", pngPath, path).CombinedOutput(); err != nil {
				return fmt.Errorf("rsvg-convert %s: %w: %s", path, err, b)
			}
			fmt.Println(pngPath)
		}
	}
	return nil
}

// Draw renders a shot and converts it to an SVG.
func Draw(ctx context.Context, s Shot) ([]byte, error) {
	frame, err := Render(ctx, s)
	if err != nil {
		return nil, err
	}
	return FrameSVG(frame, Window{Title: s.Title, Cols: s.Width, Rows: s.Height}), nil
}

// pick keeps the shots named in only (all when only is empty).
func pick(all []Shot, only string) ([]Shot, error) {
	if only == "" {
		return all, nil
	}
	var out []Shot
	for _, name := range strings.Split(only, ",") {
		found := false
		for _, s := range all {
			if s.Name == strings.TrimSpace(name) {
				out, found = append(out, s), true
			}
		}
		if !found {
			return nil, fmt.Errorf("no shot %q (go run ./tui/internal/shot -list)", name)
		}
	}
	return out, nil
}
