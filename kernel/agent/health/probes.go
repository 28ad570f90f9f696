package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// maxBodyDrain bounds how much of an HTTP response is read before closing.
const maxBodyDrain = 64 << 10

func (c *Checker) checkHTTP(ctx context.Context) (bool, string) {
	prefix := "HTTP GET " + c.url + ": "
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return false, prefix + err.Error()
	}
	req.Header.Set("User-Agent", "cairn-health-check")
	resp, err := c.client.Do(req)
	if err != nil {
		if timedOut(ctx) {
			return false, prefix + c.timeoutMsg()
		}
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return false, prefix + netErr(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBodyDrain))
	_ = resp.Body.Close()
	msg := prefix + resp.Status
	if statusOK(resp.StatusCode, c.check.HTTP.Statuses) {
		return true, msg
	}
	if len(c.check.HTTP.Statuses) > 0 {
		return false, fmt.Sprintf("%s (want one of %v)", msg, c.check.HTTP.Statuses)
	}
	return false, msg
}

func statusOK(code int, statuses []int) bool {
	if len(statuses) > 0 {
		return slices.Contains(statuses, code)
	}
	return code >= 200 && code < 400
}

func (c *Checker) checkTCP(ctx context.Context) (bool, string) {
	prefix := "TCP connect " + c.addr + ": "
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		if timedOut(ctx) {
			return false, prefix + c.timeoutMsg()
		}
		return false, prefix + netErr(err)
	}
	_ = conn.Close()
	return true, prefix + "connected"
}

// netErr drops the "dial tcp a:p:" prefix that the message already says.
func netErr(err error) string {
	var operr *net.OpError
	if errors.As(err, &operr) && operr.Err != nil {
		return operr.Err.Error()
	}
	return err.Error()
}

func (c *Checker) checkCommand(ctx context.Context) (bool, string) {
	cmd := c.check.Command
	env := c.target.Env
	if env == nil && c.target.RunCommand == nil {
		env = os.Environ()
	}
	if cmd.Environment != nil && len(cmd.Environment.Variables) > 0 {
		env = slices.Clone(env)
		for _, v := range cmd.Environment.Variables {
			env = append(env, v.Name+"="+v.Value)
		}
	}
	run := c.target.RunCommand
	if run == nil {
		run = runCommand
	}
	code, out, err := run(ctx, cmd, env, c.target.Dir)
	last := lastLine(out)
	switch {
	case timedOut(ctx):
		return false, c.timeoutMsg()
	case err != nil:
		return false, "could not run the check: " + err.Error()
	}
	msg := fmt.Sprintf("exited with status %d", code)
	if code < 0 {
		msg = "killed by a signal"
	}
	if last != "" {
		msg += ": " + last
	}
	return code == 0, msg
}

// maxLine bounds the output line quoted in a message.
const maxLine = 256

// lastLine is the last non-blank line of out, shortened to maxLine bytes.
func lastLine(out string) string {
	out = strings.TrimRight(out, " \t\r\n")
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	out = strings.TrimSpace(out)
	if len(out) > maxLine {
		cut := maxLine
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = out[:cut] + "…"
	}
	return strings.ToValidUTF8(out, "?")
}

// tail keeps the last tailSize bytes written to it.
type tail struct{ b []byte }

const tailSize = 4 << 10

func (t *tail) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= tailSize {
		t.b = append(t.b[:0], p[len(p)-tailSize:]...)
		return n, nil
	}
	t.b = append(t.b, p...)
	if len(t.b) > tailSize {
		t.b = append(t.b[:0], t.b[len(t.b)-tailSize:]...)
	}
	return n, nil
}

// runCommand runs a COMMAND check with os/exec: a shell command through
// /bin/sh -c, else Value (or Arguments[0] when Value is empty) as the
// executable with Arguments as its argv (Arguments[0] is argv[0], as Mesos).
// The check runs in its own process group, which is killed when ctx ends
// and again when the check exits (nothing it started outlives it). It
// returns the exit code (-1 when killed by a signal) and the tail of its
// combined stdout and stderr.
func runCommand(ctx context.Context, ci *protocol.CommandInfo, env []string, dir string) (int, string, error) {
	var cmd *exec.Cmd
	if ci.IsShell() {
		cmd = exec.CommandContext(ctx, "/bin/sh", "-c", ci.Value)
	} else {
		path, argv := ci.Value, ci.Arguments
		if path == "" {
			path = argv[0]
		}
		cmd = exec.CommandContext(ctx, path)
		if cmd.Err != nil {
			return -1, "", cmd.Err
		}
		if len(argv) > 0 {
			cmd.Args = slices.Clone(argv)
		}
	}
	cmd.Env = env
	cmd.Dir = dir
	pr, pw, err := os.Pipe()
	if err != nil {
		return -1, "", err
	}
	defer pr.Close()
	cmd.Stdout, cmd.Stderr = pw, pw
	setGroup(cmd)
	cmd.Cancel = func() error { return killGroup(cmd) }
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		_ = pw.Close()
		return -1, "", err
	}
	_ = pw.Close()
	var out tail
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(&out, pr)
	}()
	// Once the check has exited (not yet reaped, so its group id stays
	// reserved), kill what it left behind (background children holding the
	// output open); then give the copy a moment to drain and stop it.
	if waitExited(cmd.Process.Pid) {
		_ = killGroup(cmd)
	}
	werr := cmd.Wait()
	_ = pr.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	<-copied
	code := cmd.ProcessState.ExitCode()
	var exitErr *exec.ExitError
	if werr != nil && !errors.As(werr, &exitErr) {
		return code, string(out.b), werr
	}
	return code, string(out.b), nil
}
