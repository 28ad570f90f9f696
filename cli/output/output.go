// Package output prints command results: aligned tables for people, JSON for
// scripts, and short readable forms of resources.
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/cairn-dc/cairn/kernel/resources"
)

// JSON writes v as indented JSON (two spaces) and a newline.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

// Table prints rows under a header, columns aligned.
type Table struct {
	tw   *tabwriter.Writer
	cols int
}

// NewTable starts a table with the given column headers.
func NewTable(w io.Writer, headers ...string) *Table {
	t := &Table{tw: tabwriter.NewWriter(w, 0, 0, 3, ' ', 0), cols: len(headers)}
	t.Row(headers...)
	return t
}

// Row adds a row. Empty cells print as "-"; tabs, newlines and other control
// characters in cells become spaces, so a cell can never break the table
// (or the terminal).
func (t *Table) Row(cells ...string) {
	for i := range t.cols {
		if i > 0 {
			_, _ = io.WriteString(t.tw, "\t")
		}
		c := ""
		if i < len(cells) {
			c = Clean(cells[i])
		}
		if c == "" {
			c = "-"
		}
		_, _ = io.WriteString(t.tw, c)
	}
	_, _ = io.WriteString(t.tw, "\n")
}

// Flush writes the table out.
func (t *Table) Flush() error {
	if err := t.tw.Flush(); err != nil {
		return fmt.Errorf("writing table: %w", err)
	}
	return nil
}

// Clean makes s safe for one table cell: control characters become spaces
// and surrounding space is trimmed.
func Clean(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

// Mem formats a mem (or disk) quantity in MiB, as Mesos counts them, with a
// binary unit: "512 MiB", "8 GiB", "1.5 TiB".
func Mem(mb resources.Value) string {
	f := mb.Float()
	switch {
	case f >= 1024*1024:
		return trimFloat(f/(1024*1024)) + " TiB"
	case f >= 1024:
		return trimFloat(f/1024) + " GiB"
	default:
		return mb.String() + " MiB"
	}
}

// trimFloat prints f with at most one decimal, without a trailing ".0".
func trimFloat(f float64) string {
	return strconv.FormatFloat(float64(int64(f*10+0.5))/10, 'f', -1, 64)
}

// UsedOf prints "used/total", e.g. "1.5/4" or "2 GiB/8 GiB".
func UsedOf(used, total string) string { return used + "/" + total }

// YesNo prints a boolean for people.
func YesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// OptionalYesNo prints a tri-state boolean: yes, no, or "-" when unknown.
func OptionalYesNo(b *bool) string {
	if b == nil {
		return "-"
	}
	return YesNo(*b)
}

// Summary is a one-line reading of the common scalars of rs, e.g.
// "cpus 4 · mem 8 GiB · disk 10 GiB" ("-" when there are none).
func Summary(rs resources.Resources) string {
	var parts []string
	for _, name := range []string{"cpus", "gpus", "mem", "disk"} {
		v := rs.ScalarTotal(name)
		if v == 0 {
			continue
		}
		s := v.String()
		if name == "mem" || name == "disk" {
			s = Mem(v)
		}
		parts = append(parts, name+" "+s)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " · ")
}
