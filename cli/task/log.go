package task

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"slices"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// LogOptions are the inputs of "cairn task log".
type LogOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)

	TaskID      protocol.TaskID
	FrameworkID protocol.FrameworkID
	Follow      bool
	Stderr      bool
	// Tail is how many last lines to print; negative: all.
	Tail int
}

// NewCmdLog returns "cairn task log". runF replaces the run function in
// tests (nil runs logRun).
func NewCmdLog(f *cmdutil.Factory, runF func(context.Context, *LogOptions) error) *cobra.Command {
	opts := &LogOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "log TASK",
		Aliases: []string{"logs"},
		Short:   "Print a task's output",
		Long: "Print a task's stdout (or, with --stderr, its stderr), read from its sandbox\n" +
			"on its agent through the master. With --follow, keep printing what the task\n" +
			"writes until it ends.",
		Example: "  cairn task log run-01JB8X5Q2M3N4P5R6S7T8V9W0X\n" +
			"  cairn task log web.1 --follow --tail 20\n" +
			"  cairn task log backup.1 --stderr --framework 01JB8X5Q2M3N4P5R6S7T8V9W0G",
	}
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "keep printing the output until the task ends")
	cmd.Flags().BoolVar(&opts.Stderr, "stderr", false, "print stderr instead of stdout")
	cmd.Flags().IntVarP(&opts.Tail, "tail", "n", 0, "print only the last `N` lines (then follow, with --follow)")
	return taskVerb(f, cmd, &opts.TaskID, &opts.FrameworkID, func() error {
		if !cmd.Flags().Changed("tail") {
			opts.Tail = -1
		} else if opts.Tail < 0 {
			return cmdutil.UsageErrorf("--tail must be 0 or more, got %d", opts.Tail)
		}
		return nil
	}, cmdutil.RunOrTest(opts, runF, logRun))
}

func logRun(ctx context.Context, opts *LogOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	t, err := client.FindTask(ctx, opts.TaskID, opts.FrameworkID)
	if err != nil {
		return err
	}
	if t.AgentID == "" {
		return fmt.Errorf("task %s has no agent yet (%s): retry once it is placed", t.ID, t.State)
	}
	stream := apiclient.Stdout
	if opts.Stderr {
		stream = apiclient.Stderr
	}
	follow := opts.Follow && !t.State.Terminal()
	var from int64
	if opts.Tail >= 0 {
		if from, err = printTail(ctx, client, t, stream, opts.Tail, follow, opts.IO.Out); err != nil {
			return fmt.Errorf("reading the %s of task %s: %w", stream, t.ID, err)
		}
		if !follow {
			return nil
		}
	}
	rc, err := client.TaskLog(ctx, t.AgentID, t.FrameworkID, t.ID, stream, from, follow)
	if err != nil {
		return fmt.Errorf("reading the %s of task %s: %w", stream, t.ID, err)
	}
	defer rc.Close()
	if _, err := io.Copy(opts.IO.Out, rc); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("reading the %s of task %s: %w", stream, t.ID, err)
	}
	return nil
}

// tailWindow is the first window of bytes read to find the last lines.
const (
	tailWindow    = 64 << 10
	maxTailWindow = 64 << 20
)

// printTail prints the last n lines of a task's log. When follow, it
// returns the file offset to follow from (the log's size when it looked).
func printTail(ctx context.Context, client *apiclient.Client, t protocol.Task, stream string, n int, follow bool, w io.Writer) (int64, error) {
	window := max(int64(tailWindow), int64(n)*256)
	if !follow {
		// Ask for the last window bytes; widen it until it holds n lines.
		for {
			data, err := readLog(ctx, client, t, stream, -window, -1)
			if err != nil {
				return 0, err
			}
			if int64(len(data)) < window || window >= maxTailWindow || countLines(data) > n {
				_, err := w.Write(lastLines(data, n))
				return 0, err
			}
			window *= 4
		}
	}
	// Following needs a file offset: the log's size, from the agent.
	size, err := logSize(ctx, client, t, stream)
	if err != nil {
		return 0, err
	}
	for {
		start := max(0, size-window)
		data, err := readLog(ctx, client, t, stream, start, size-start)
		if err != nil {
			return 0, err
		}
		if start == 0 || window >= maxTailWindow || countLines(data) > n {
			_, err := w.Write(lastLines(data, n))
			return start + int64(len(data)), err
		}
		window *= 4
	}
}

// readLog reads a log from offset (negative: from the end), at most limit
// bytes (negative: all).
func readLog(ctx context.Context, client *apiclient.Client, t protocol.Task, stream string, offset, limit int64) ([]byte, error) {
	if offset == 0 && limit == 0 {
		return nil, nil
	}
	rc, err := client.TaskLog(ctx, t.AgentID, t.FrameworkID, t.ID, stream, offset, false)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var r io.Reader = rc
	if limit >= 0 {
		r = io.LimitReader(rc, limit)
	}
	return io.ReadAll(r)
}

// logSize asks the task's agent how long the log is now.
func logSize(ctx context.Context, client *apiclient.Client, t protocol.Task, stream string) (int64, error) {
	st, err := client.AgentState(ctx, t.AgentID)
	if err != nil {
		return 0, fmt.Errorf("asking agent %s where the log ends (needed for --tail with --follow): %w", t.AgentID, err)
	}
	sandbox := ""
	for _, v := range slices.Concat(st.Tasks, st.Completed) {
		if v.ID == t.ID && v.FrameworkID == t.FrameworkID {
			sandbox = v.Sandbox
		}
	}
	if sandbox == "" {
		return 0, fmt.Errorf("agent %s does not list task %s: try without --tail", t.AgentID, t.ID)
	}
	fc, err := client.ReadFile(ctx, t.AgentID, path.Join(sandbox, stream), -1, 0)
	if err != nil {
		return 0, fmt.Errorf("asking agent %s where the log ends: %w", t.AgentID, err)
	}
	return fc.Offset, nil
}

// countLines counts the lines of data (a last line without '\n' counts).
func countLines(data []byte) int {
	n := bytes.Count(data, []byte{'\n'})
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return n
}

// lastLines returns the last n lines of data.
func lastLines(data []byte, n int) []byte {
	if n <= 0 {
		return nil
	}
	end := len(data)
	if end > 0 && data[end-1] == '\n' {
		end--
	}
	for i := end - 1; i >= 0; i-- {
		if data[i] == '\n' {
			n--
			if n == 0 {
				return data[i+1:]
			}
		}
	}
	return data
}
