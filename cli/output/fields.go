package output

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Fields prints the "Name:  value" lines of a describe view, the values
// aligned. Like a Table's cells, values are Cleaned and an empty one
// prints as "-".
type Fields struct {
	tw *tabwriter.Writer
}

// NewFields starts a describe view's fields.
func NewFields(w io.Writer) *Fields {
	return &Fields{tw: tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)}
}

// Field adds a field.
func (f *Fields) Field(name, value string) {
	if value = Clean(value); value == "" {
		value = "-"
	}
	fmt.Fprintf(f.tw, "%s:\t%s\n", name, value)
}

// Flush writes the fields out; its error is the writer's, for the caller
// to say what it was writing.
func (f *Fields) Flush() error { return f.tw.Flush() }

// Now is a command's clock, now: now() when now is set (tests), else
// time.Now().
func Now(now func() time.Time) time.Time {
	if now != nil {
		return now()
	}
	return time.Now()
}
