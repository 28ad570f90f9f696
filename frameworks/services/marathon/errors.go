package marathon

import (
	"fmt"
	"strconv"
	"strings"
)

// Messages of the two kinds of ValidationError, as Marathon's.
const (
	MessageInvalidJSON   = "Invalid JSON"
	MessageInvalidObject = "Object is not valid"
)

// ValidationError is Marathon's 422 body: every problem, each under the
// path of the field it is about.
type ValidationError struct {
	Message string   `json:"message"`
	Details []Detail `json:"details"`
}

// Detail is the problems of one field.
type Detail struct {
	Path   string   `json:"path"` // e.g. "/instances", "/healthChecks(0)/portIndex"
	Errors []string `json:"errors"`
}

// Error lists every problem: "Object is not valid: /instances: must be
// at least 0; /cmd: ...".
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	for i, d := range e.Details {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(d.Path)
		b.WriteString(": ")
		b.WriteString(strings.Join(d.Errors, ", "))
	}
	return b.String()
}

// Errors returns the messages recorded under path (nil if none).
func (e *ValidationError) Errors(path string) []string {
	if e == nil {
		return nil
	}
	for _, d := range e.Details {
		if d.Path == path {
			return d.Errors
		}
	}
	return nil
}

// problems collects details in the order they are found, one Detail per path.
type problems struct {
	details []Detail
	index   map[string]int
}

func (p *problems) add(path, format string, args ...any) {
	if path == "" {
		path = "/"
	}
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	if p.index == nil {
		p.index = map[string]int{}
	}
	if i, ok := p.index[path]; ok {
		p.details[i].Errors = append(p.details[i].Errors, msg)
		return
	}
	p.index[path] = len(p.details)
	p.details = append(p.details, Detail{Path: path, Errors: []string{msg}})
}

func (p *problems) err(message string) *ValidationError {
	if len(p.details) == 0 {
		return nil
	}
	return &ValidationError{Message: message, Details: p.details}
}

// Path helpers: Marathon's "/field/sub(3)/leaf".
func at(path, key string) string { return path + "/" + key }
func idx(path string, i int) string {
	return path + "(" + strconv.Itoa(i) + ")"
}
