package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/go-plugin/runner"
)

// verifyBinary checks that path is a regular file whose SHA-256 is want
// (lower-case hex). Its errors are permanent (a *permanentError): retrying
// will not fix them.
func verifyBinary(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return permanent(fmt.Errorf("binary %s does not exist: install the module there, or fix its path", path))
		}
		return permanent(fmt.Errorf("cannot read binary %s: %w", path, err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return permanent(fmt.Errorf("cannot stat binary %s: %w", path, err))
	}
	if !st.Mode().IsRegular() {
		return permanent(fmt.Errorf("binary %s is not a regular file (%s): give the path of the module's executable", path, st.Mode().Type()))
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return permanent(fmt.Errorf("cannot read binary %s: %w", path, err))
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return permanent(&ChecksumError{Path: path, Expected: want, Actual: got})
	}
	if st.Mode().Perm()&0o111 == 0 {
		return permanent(fmt.Errorf("binary %s is not executable: chmod +x it", path))
	}
	return nil
}

// ChecksumError says a module binary is not the one configured.
type ChecksumError struct {
	Path     string
	Expected string
	Actual   string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("refusing to start %s: its sha256 is %s, expected %s: the binary changed since the module was configured; "+
		"reinstall the right binary, or (if this one is trusted) configure the module with its new sha256", e.Path, e.Actual, e.Expected)
}

// permanentError marks a failure the host does not retry (the module goes
// to state failed until its spec changes).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err: err} }

// procRunner runs a module's process for go-plugin (runner.Runner) and
// tells the host the moment it exits, with its exit status.
type procRunner struct {
	cmd    *exec.Cmd
	stdout io.ReadCloser
	stderr io.ReadCloser
	path   string
	pid    int

	exited  chan struct{} // closed when the process has exited
	waitErr error         // set before exited is closed
}

func newProcRunner(cmd *exec.Cmd) (*procRunner, error) {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("module %s: stdout pipe: %w", cmd.Path, err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("module %s: stderr pipe: %w", cmd.Path, err)
	}
	return &procRunner{cmd: cmd, stdout: stdout, stderr: stderr, path: cmd.Path, exited: make(chan struct{})}, nil
}

var _ runner.Runner = (*procRunner)(nil)

func (r *procRunner) Start(context.Context) error {
	if err := r.cmd.Start(); err != nil {
		close(r.exited)
		return fmt.Errorf("cannot start %s: %w", r.path, err)
	}
	r.pid = r.cmd.Process.Pid
	return nil
}

// Wait is called once by go-plugin, after the process's output is drained.
func (r *procRunner) Wait(context.Context) error {
	err := r.cmd.Wait()
	r.waitErr = err
	close(r.exited)
	return err
}

func (r *procRunner) Kill(context.Context) error {
	if r.cmd.Process == nil {
		return nil
	}
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

func (r *procRunner) Stdout() io.ReadCloser { return r.stdout }
func (r *procRunner) Stderr() io.ReadCloser { return r.stderr }
func (r *procRunner) Name() string          { return r.path }
func (r *procRunner) ID() string            { return strconv.Itoa(r.pid) }

func (r *procRunner) Diagnose(context.Context) string {
	return "the module binary " + r.path + " did not answer the go-plugin handshake: is it a Cairn module (built with modules/sdk, sdk.Serve in main) for this machine's OS and architecture?"
}

func (r *procRunner) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

func (r *procRunner) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}

// exitError describes how the process ended; call after exited is closed.
func (r *procRunner) exitError() error {
	if r.waitErr != nil {
		return fmt.Errorf("its process %d exited: %w", r.pid, r.waitErr)
	}
	return fmt.Errorf("its process %d exited with status 0", r.pid)
}

// tailWriter keeps the last lines written to it (a module's stderr), to
// explain a crash.
type tailWriter struct {
	mu    sync.Mutex
	lines []string
	cur   []byte
	max   int
}

func newTailWriter(maxLines int) *tailWriter { return &tailWriter{max: maxLines} }

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range p {
		if b == '\n' {
			w.push(string(w.cur))
			w.cur = w.cur[:0]
			continue
		}
		if len(w.cur) < 1024 {
			w.cur = append(w.cur, b)
		}
	}
	return len(p), nil
}

func (w *tailWriter) push(line string) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	w.lines = append(w.lines, line)
	if len(w.lines) > w.max {
		w.lines = w.lines[len(w.lines)-w.max:]
	}
}

// String is the last lines, joined with " | ".
func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := w.lines
	if len(w.cur) > 0 {
		lines = append(lines[:len(lines):len(lines)], string(w.cur))
	}
	return strings.Join(lines, " | ")
}
