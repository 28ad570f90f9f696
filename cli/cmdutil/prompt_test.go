package cmdutil

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestConfirm(t *testing.T) {
	for in, want := range map[string]bool{
		"y\n": true, "YES\n": true, " yes \r\n": true, "y": true,
		"\n": false, "": false, "n\n": false, "yep\n": false,
	} {
		var out bytes.Buffer
		got, err := Confirm(strings.NewReader(in), &out, "Continue installing?")
		if err != nil || got != want {
			t.Errorf("Confirm(%q) = %v, %v; want %v", in, got, err, want)
		}
		if !strings.HasPrefix(out.String(), "Continue installing? [y/N] ") {
			t.Errorf("question %q", out.String())
		}
	}
}

func TestReadSecret(t *testing.T) {
	if s, err := ReadSecret(strings.NewReader("s3cret\n"), "password"); err != nil || s != "s3cret" {
		t.Errorf("ReadSecret = %q, %v", s, err)
	}
	if s, err := ReadSecret(strings.NewReader(" a b \r\n"), "password"); err != nil || s != " a b " {
		t.Errorf("ReadSecret keeps inner spaces: %q, %v", s, err)
	}
	if _, err := ReadSecret(strings.NewReader("\n"), "password"); err == nil || !strings.Contains(err.Error(), "--password-stdin") {
		t.Errorf("empty: %v", err)
	}
	if _, err := ReadSecret(nil, "password"); err == nil {
		t.Error("nil input accepted")
	}
}

func TestIsTerminalInput(t *testing.T) {
	if IsTerminalInput(strings.NewReader("")) {
		t.Error("a reader is a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminalInput(f) {
		t.Error("a file is a terminal")
	}
}
