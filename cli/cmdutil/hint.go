package cmdutil

import "fmt"

// HintError is an error told in the CLI's words (what failed and what to
// do about it) in place of the error it wraps, which stays in its chain
// for errors.As (an API's typed error, say).
type HintError struct {
	Msg string
	Err error
}

func (e *HintError) Error() string { return e.Msg }
func (e *HintError) Unwrap() error { return e.Err }

// Hintf returns err told as format says.
func Hintf(err error, format string, args ...any) error {
	return &HintError{Msg: fmt.Sprintf(format, args...), Err: err}
}
