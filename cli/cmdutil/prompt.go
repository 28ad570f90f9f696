package cmdutil

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// IsTerminalInput reports whether r is a terminal (a character device), so
// that a question can be asked on it.
func IsTerminalInput(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Confirm writes question and " [y/N] " to out and reads one line from in:
// true for "y" or "yes" (any case), false for anything else, an empty line
// or the end of the input.
func Confirm(in io.Reader, out io.Writer, question string) (bool, error) {
	if _, err := fmt.Fprintf(out, "%s [y/N] ", question); err != nil {
		return false, fmt.Errorf("asking for confirmation: %w", err)
	}
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("reading the answer: %w", err)
	}
	if err != nil {
		fmt.Fprintln(out) // the answer's newline never came
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// maxSecretBytes bounds a secret read from the standard input.
const maxSecretBytes = 64 << 10

// ReadSecret reads a secret (a password, a token) from in, as
// --password-stdin does: everything up to the end of the input, without
// the trailing newline. An empty secret is an error naming flag.
func ReadSecret(in io.Reader, flag string) (string, error) {
	if in == nil {
		in = strings.NewReader("")
	}
	data, err := io.ReadAll(io.LimitReader(in, maxSecretBytes+1))
	if err != nil {
		return "", fmt.Errorf("reading the %s from the standard input: %w", flag, err)
	}
	if len(data) > maxSecretBytes {
		return "", fmt.Errorf("the %s on the standard input is longer than %d KiB", flag, maxSecretBytes>>10)
	}
	s := strings.TrimRight(string(data), "\r\n")
	if s == "" {
		return "", fmt.Errorf("the standard input is empty: pipe the %s into it, e.g. echo \"$PASSWORD\" | cairn ... --%s-stdin", flag, flag)
	}
	return s, nil
}
