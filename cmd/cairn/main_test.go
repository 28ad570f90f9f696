package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli"
)

// These tests set slog's default logger (as run does): do not run them in
// parallel.

func runMain(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

func TestExitCodes(t *testing.T) {
	down := closedURL(t)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"version", "--client"}, 0},
		{[]string{"version"}, 1}, // the client's version, then the master's: unreachable
		{[]string{}, 0},
		{[]string{"--help"}, 0},
		{[]string{"--bogus"}, 2},
		{[]string{"bogus"}, 2},
		{[]string{"agent", "list", "--url", down}, 1},
		{[]string{"agent", "list", "--log-level", "loud"}, 2},
		{[]string{"task", "list", "--state", "x"}, 2},
	} {
		code, _, stderr := runMain(t, map[string]string{"CAIRN_URL": down}, tc.args...)
		if code != tc.code {
			t.Errorf("cairn %v: exit %d, want %d (stderr %q)", tc.args, code, tc.code, stderr)
		}
	}
}

func TestLogLevel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("[]"))
	}))
	t.Cleanup(srv.Close)

	// At the default level the client's debug lines are not logged.
	code, _, stderr := runMain(t, nil, "agent", "list", "--url", srv.URL)
	if code != 0 || stderr != "" {
		t.Errorf("default level: exit %d, stderr %q", code, stderr)
	}
	// --log-level debug shows them; so does CAIRN_LOG_LEVEL; the flag wins.
	for _, tc := range []struct {
		env   string
		args  []string
		debug bool
	}{
		{"", []string{"--log-level", "debug"}, true},
		{"debug", nil, true},
		{"DEBUG", []string{"--log-level=warn"}, false},
	} {
		args := append([]string{"agent", "list", "--url", srv.URL}, tc.args...)
		code, _, stderr := runMain(t, map[string]string{"CAIRN_LOG_LEVEL": tc.env}, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr)
		}
		if got := strings.Contains(stderr, "level=DEBUG"); got != tc.debug {
			t.Errorf("env %q args %v: debug logged %v, want %v (stderr %q)", tc.env, tc.args, got, tc.debug, stderr)
		}
	}
	// A bad CAIRN_LOG_LEVEL warns and carries on.
	code, _, stderr = runMain(t, map[string]string{"CAIRN_LOG_LEVEL": "loud"}, "version", "--client")
	if code != 0 || !strings.Contains(stderr, `ignoring CAIRN_LOG_LEVEL="loud"`) {
		t.Errorf("bad env level: exit %d, stderr %q", code, stderr)
	}
}
