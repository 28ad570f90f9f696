package task

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/run/runapi"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// RunOptions are the inputs of "cairn task run".
type RunOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// ErrIsTerminal says whether IO.ErrOut is a terminal: --wait shows its
	// progress there only then.
	ErrIsTerminal bool
	// PollInterval is the longest wait between two looks at the run with
	// --wait (default 500ms).
	PollInterval time.Duration

	Request runapi.Request
	Wait    bool
}

// defaultPollInterval bounds how often --wait looks at the run.
const defaultPollInterval = 500 * time.Millisecond

// NewCmdRun returns "cairn task run". runF replaces the run function in
// tests (nil runs runRun).
func NewCmdRun(f *cmdutil.Factory, runF func(context.Context, *RunOptions) error) *cobra.Command {
	opts := &RunOptions{IO: f.IOStreams, APIClient: f.APIClient, ErrIsTerminal: isTerminal(f.IOStreams.ErrOut)}
	var (
		cpus, mem, disk float64
		env             []string
	)
	cmd := &cobra.Command{
		Use:   "run [flags] [--] COMMAND [ARG...]",
		Short: "Run a one-off task on the cluster",
		Long: "Run a command once, somewhere in the cluster, through the run framework\n" +
			"(started by cairn up). One argument is a shell command (sh -c); several are\n" +
			"a program and its arguments, run without a shell. Flags go before the\n" +
			"command; everything from the command on is the task's.\n\n" +
			"Without --wait it prints the task's ID once the run is queued. With --wait\n" +
			"it streams the task's stdout and exits with the task's exit code.",
		Example: "  cairn task run -- echo hello\n" +
			"  cairn task run --wait -- 'echo $HOST; uname -a'\n" +
			"  cairn task run --cpus 1 --mem 256 --env GREETING=hi --name greeter -- sh -c 'echo $GREETING'\n" +
			"  id=$(cairn task run -- sleep 600) && cairn task kill \"$id\"",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmdutil.UsageErrorf("give the command to run, e.g. %s -- echo hello", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := buildRequest(cmd, args, cpus, mem, disk, env)
			if err != nil {
				return cmdutil.AsUsageError(err)
			}
			opts.Request.Cmd, opts.Request.Args = req.Cmd, req.Args
			opts.Request.CPUs, opts.Request.Mem, opts.Request.Disk, opts.Request.Env = req.CPUs, req.Mem, req.Disk, req.Env
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runRun(cmd.Context(), opts)
		},
	}
	// Everything after the command is the command's, flags included.
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().Float64Var(&cpus, "cpus", runapi.DefaultCPUs, "`cpus` for the task")
	cmd.Flags().Float64Var(&mem, "mem", runapi.DefaultMem, "memory for the task, in `MB`")
	cmd.Flags().Float64Var(&disk, "disk", 0, "disk for the task's sandbox, in `MB`")
	cmd.Flags().IntVar(&opts.Request.Ports, "ports", 0, "`number` of host ports for the task ($PORT0, $PORTS ...)")
	cmd.Flags().StringArrayVarP(&env, "env", "e", nil, "set an environment variable `K=V` (repeatable)")
	cmd.Flags().StringVar(&opts.Request.Name, "name", "", "task `name` (default: the program's name)")
	cmd.Flags().BoolVarP(&opts.Wait, "wait", "w", false, "wait for the task to end, streaming its stdout; exit with its exit code")
	return cmd
}

// buildRequest checks the flags and arguments of "task run".
func buildRequest(cmd *cobra.Command, args []string, cpus, mem, disk float64, env []string) (runapi.Request, error) {
	var req runapi.Request
	if len(args) == 1 {
		if strings.TrimSpace(args[0]) == "" {
			return req, errors.New("the command is blank: give a command to run")
		}
		req.Cmd = args[0]
	} else {
		if args[0] == "" {
			return req, errors.New("the program to run (the first argument) is empty")
		}
		req.Args = args
	}
	if cpus <= 0 {
		return req, fmt.Errorf("--cpus must be more than 0, got %v", cpus)
	}
	if mem <= 0 {
		return req, fmt.Errorf("--mem must be more than 0, got %v", mem)
	}
	if disk < 0 {
		return req, fmt.Errorf("--disk must be 0 or more, got %v", disk)
	}
	if p, _ := cmd.Flags().GetInt("ports"); p < 0 {
		return req, fmt.Errorf("--ports must be 0 or more, got %d", p)
	}
	req.CPUs, req.Mem = &cpus, &mem
	if disk > 0 {
		req.Disk = &disk
	}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return req, fmt.Errorf("--env %q: use NAME=VALUE", kv)
		}
		if req.Env == nil {
			req.Env = map[string]string{}
		}
		req.Env[k] = v
	}
	return req, nil
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// ExitCodeError ends a command with a given exit code: the task's, for
// "task run --wait".
type ExitCodeError = cmdutil.ExitCodeError

// errNoRunFramework is what "task run" says when nothing serves runs.
var errNoRunFramework = errors.New("the run framework is not subscribed: start the cluster with cairn up")

func runRun(ctx context.Context, opts *RunOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	s, err := client.SubmitRun(ctx, opts.Request)
	if err != nil {
		var nse *apiclient.NoServiceError
		if errors.As(err, &nse) {
			return errNoRunFramework
		}
		return fmt.Errorf("submitting the run: %w", err)
	}
	if !opts.Wait {
		_, err := fmt.Fprintln(opts.IO.Out, s.ID)
		return err
	}
	return waitRun(ctx, opts, client, s.ID)
}

// streamable states: the agent has (or had) the task's sandbox.
func streamable(s protocol.TaskState) bool {
	switch s {
	case protocol.TaskStarting, protocol.TaskRunning, protocol.TaskKilling:
		return true
	case protocol.TaskError, protocol.TaskDropped:
		return false // never started
	}
	return s.Terminal()
}

// maxStreamFailures is how many times --wait tries to stream the output of
// a running task before it gives up on the output.
const maxStreamFailures = 5

// waitRun follows a run until it ends, streaming its stdout, and returns
// its outcome as an exit code.
func waitRun(ctx context.Context, opts *RunOptions, client *apiclient.Client, id protocol.TaskID) error {
	// On a terminal: lines for the milestones, and a spinner while the
	// task waits to start. Nothing otherwise (scripts read stdout only).
	var status *output.Status
	if opts.ErrIsTerminal {
		status = output.NewStatus(opts.IO.ErrOut, output.TerminalWidth(opts.IO.ErrOut))
		defer status.Clear()
	}
	progress := func(format string, args ...any) {
		if status != nil {
			status.Clear()
			fmt.Fprintf(opts.IO.ErrOut, format+"\n", args...)
		}
	}
	spin := func(format string, args ...any) {
		if status != nil {
			status.Set(fmt.Sprintf(format, args...))
		}
	}
	maxPoll := cmp.Or(opts.PollInterval, defaultPollInterval)
	poll := min(50*time.Millisecond, maxPoll)
	progress("submitted %s", id)
	spin("waiting for task %s to start…", id)
	var (
		offset        int64 // stdout bytes written so far
		streamDone    bool
		failures      int
		saidRunning   bool
		lastStreamErr error
	)
	for {
		r, err := client.Run(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var nse *apiclient.NoServiceError
			if errors.As(err, &nse) {
				return fmt.Errorf("following task %s: %w (was the cluster stopped?)", id, errNoRunFramework)
			}
			return fmt.Errorf("following task %s: %w", id, err)
		}
		terminal := r.State.Terminal()
		switch {
		case r.State == runapi.StatePending:
			spin("waiting for resources… (%s)", r.Message)
		case r.AgentID != "" && !saidRunning && streamable(r.State):
			saidRunning = true
			progress("running on %s", cmp.Or(r.Hostname, string(r.AgentID)))
		case !saidRunning && !terminal:
			spin("starting %s on %s… (%s)", id, cmp.Or(r.Hostname, string(r.AgentID), "an agent"), r.State)
		}
		if !streamDone && r.AgentID != "" && streamable(r.State) {
			n, err := followStdout(ctx, client, r, offset, opts.IO.Out)
			offset += n
			switch {
			case err == nil:
				streamDone = true // the agent ended the stream: the task ended
			case ctx.Err() != nil:
				return ctx.Err()
			default:
				failures++
				lastStreamErr = err
				if terminal || failures >= maxStreamFailures {
					streamDone = true
					if status != nil {
						status.Clear()
					}
					fmt.Fprintf(opts.IO.ErrOut, "Warning: cannot show the output of task %s: %s\n", id, oneLine(lastStreamErr))
				}
			}
			if streamDone && !terminal {
				poll = min(50*time.Millisecond, maxPoll) // the end is near
			}
		}
		if terminal && (streamDone || r.AgentID == "" || !streamable(r.State)) {
			return exitFor(r)
		}
		if err := sleepSpinning(ctx, poll, status); err != nil {
			return err
		}
		poll = min(2*poll, maxPoll)
	}
}

// spinInterval is how often a spinner turns.
const spinInterval = 100 * time.Millisecond

// sleepSpinning waits d (or until ctx ends), turning status's spinner
// meanwhile when it is shown.
func sleepSpinning(ctx context.Context, d time.Duration, status *output.Status) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	var tick <-chan time.Time
	if status != nil {
		t := time.NewTicker(spinInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return nil
		case <-tick:
			status.Tick()
		}
	}
}

// followStdout copies a task's stdout from offset to w until the agent
// ends the stream (the task ended) and returns how many bytes it copied.
func followStdout(ctx context.Context, client *apiclient.Client, r runapi.Run, offset int64, w io.Writer) (int64, error) {
	rc, err := client.TaskLog(ctx, r.AgentID, r.FrameworkID, r.ID, apiclient.Stdout, offset, true)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	return io.Copy(w, rc)
}

// exitFor turns an ended run into the command's outcome: nil for
// TASK_FINISHED, the exit code of a TASK_FAILED command, and exit code 1
// with a message for everything else.
func exitFor(r runapi.Run) error {
	switch r.State {
	case protocol.TaskFinished:
		return nil
	case protocol.TaskFailed:
		if r.ExitCode != nil && *r.ExitCode > 0 && *r.ExitCode < 256 {
			return &ExitCodeError{Code: *r.ExitCode}
		}
	}
	msg := fmt.Sprintf("task %s ended %s", r.ID, r.State)
	if r.ExitCode != nil {
		msg += fmt.Sprintf(" (exit code %d)", *r.ExitCode)
	}
	if r.Message != "" {
		msg += ": " + r.Message
	}
	return &ExitCodeError{Code: 1, Err: errors.New(msg)}
}

// oneLine flattens an error for a one-line message.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
