package sse

import (
	"errors"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	in := ": keepalive\n\nevent: A\ndata: one\ndata: two\n\ndata: unnamed\nid: 7\n\nevent: empty\n\n"
	var got []string
	err := Read(strings.NewReader(in), 1<<10, func(name string, data []byte) error {
		got = append(got, name+"="+string(data))
		return nil
	})
	if !errors.Is(err, ErrClosed) || strings.Join(got, "|") != "A=one\ntwo|message=unnamed" {
		t.Fatalf("events %q, err %v", got, err)
	}
	stop := errors.New("stop")
	if err := Read(strings.NewReader("data: x\n\ndata: y\n\n"), 1<<10, func(string, []byte) error { return stop }); err != stop {
		t.Errorf("dispatch's error: %v", err)
	}
	if err := Read(strings.NewReader("data: "+strings.Repeat("x", 100)+"\n\n"), 64, func(string, []byte) error { return nil }); err == nil ||
		!strings.Contains(err.Error(), "larger than 64 bytes") {
		t.Errorf("a long line: %v", err)
	}
}
