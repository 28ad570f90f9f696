package agent

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// The agent checkpoints under WorkDir/meta:
//
//	agent-id          the agent's ID (kept for its life)
//	tasks.jsonl       an append-only journal: one JSON line per change of a
//	                  task ({"task": <checkpoint>}, the whole task as it now
//	                  stands) or {"forget": …} when a task is done; the
//	                  latest line of a task wins. Rewritten without the dead
//	                  lines at start and when mostly garbage.
//	supervisor/       the supervisor's socket, pid and journal
//
// A journal rather than a file per task: creating and renaming files costs
// an inode each, which takes 0.3–1.3 ms on this kind of disk (more than
// the fork it records); an append is one write(2) of a few µs. Lines are
// written with one write on an O_APPEND descriptor, so a crash leaves
// whole lines (a torn last line is skipped). No fsync: a machine crash
// loses at most the last changes, which the at-least-once update stream
// and reconciliation cover.

// taskCheckpoint is a task as it is checkpointed.
type taskCheckpoint struct {
	Framework     protocol.FrameworkInfo `json:"framework"`
	Role          string                 `json:"role"`
	Info          protocol.TaskInfo      `json:"info"`
	RunID         string                 `json:"run_id"`
	Sandbox       string                 `json:"sandbox"`
	Key           string                 `json:"key"`
	Cgroup        string                 `json:"cgroup,omitempty"`
	State         protocol.TaskState     `json:"state"`
	Healthy       *bool                  `json:"healthy,omitempty"`
	Launched      bool                   `json:"launched,omitempty"` // the supervisor was asked to start it
	Labels        map[string]string      `json:"labels,omitempty"`   // added by the launch hooks
	KillRequested bool                   `json:"kill_requested,omitempty"`
	Updates       []protocol.TaskStatus  `json:"updates,omitempty"` // not yet acknowledged, oldest first
	StartedAt     float64                `json:"started_at,omitempty"`
}

func (a *Agent) metaDir() string     { return filepath.Join(a.cfg.WorkDir, "meta") }
func (a *Agent) journalPath() string { return filepath.Join(a.metaDir(), "tasks.jsonl") }

// writeFileAtomic writes data to path via a temporary file and a rename.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

type journalLine struct {
	Task   *taskCheckpoint `json:"task,omitempty"`
	Forget *forgetRecord   `json:"forget,omitempty"`
}

type forgetRecord struct {
	FrameworkID protocol.FrameworkID `json:"framework_id"`
	TaskID      protocol.TaskID      `json:"task_id"`
}

// taskJournal appends task checkpoints; owned by the agent's loop.
type taskJournal struct {
	path  string
	f     *os.File
	lines int
}

func openJournal(path string) (*taskJournal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	return &taskJournal{path: path, f: f}, nil
}

func (j *taskJournal) append(l journalLine) error {
	data, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if _, err := j.f.Write(append(data, '\n')); err != nil {
		return err
	}
	j.lines++
	return nil
}

// rewrite replaces the journal with one line per live task.
func (j *taskJournal) rewrite(live []taskCheckpoint) error {
	var buf bytes.Buffer
	for i := range live {
		data, err := json.Marshal(journalLine{Task: &live[i]})
		if err != nil {
			return err
		}
		buf.Write(data)
		buf.WriteByte('\n')
	}
	if err := writeFileAtomic(j.path, buf.Bytes()); err != nil {
		return err
	}
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	_ = j.f.Close()
	j.f, j.lines = f, len(live)
	return nil
}

func (j *taskJournal) close() error { return j.f.Close() }

func (a *Agent) checkpoint(t *task) error {
	cp := t.checkpoint()
	if err := a.journal.append(journalLine{Task: &cp}); err != nil {
		return fmt.Errorf("checkpoint task %s: %w (is the work dir %s writable and not full?)", t.info.TaskID, err, a.cfg.WorkDir)
	}
	return nil
}

func (a *Agent) removeCheckpoint(t *task) {
	if err := a.journal.append(journalLine{Forget: &forgetRecord{FrameworkID: t.fid, TaskID: t.info.TaskID}}); err != nil {
		a.log.Warn("cannot record a forgotten task", "task", t.info.TaskID, "err", err)
	}
}

// compactJournal rewrites the journal when most of its lines are stale.
func (a *Agent) compactJournal(force bool) {
	if !force && a.journal.lines < 4*len(a.tasks)+1024 {
		return
	}
	live := make([]taskCheckpoint, 0, len(a.tasks))
	for _, t := range a.tasks {
		live = append(live, t.checkpoint())
	}
	if err := a.journal.rewrite(live); err != nil {
		a.log.Warn("cannot compact the task journal", "err", err)
	}
}

// loadCheckpoints replays the journal: the latest line of every task not
// forgotten since.
func (a *Agent) loadCheckpoints() ([]taskCheckpoint, error) {
	f, err := os.Open(a.journalPath())
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	defer f.Close()
	type key struct {
		fid protocol.FrameworkID
		tid protocol.TaskID
	}
	latest := map[key]taskCheckpoint{}
	var order []key
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for sc.Scan() {
		n++
		var l journalLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			a.log.Warn("skipping an unreadable line of the task journal (torn by a crash?)", "line", n, "err", err)
			continue
		}
		switch {
		case l.Task != nil && l.Task.Info.TaskID != "":
			k := key{l.Task.Framework.ID, l.Task.Info.TaskID}
			if _, ok := latest[k]; !ok {
				order = append(order, k)
			}
			latest[k] = *l.Task
		case l.Forget != nil:
			delete(latest, key{l.Forget.FrameworkID, l.Forget.TaskID})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", a.journalPath(), err)
	}
	out := make([]taskCheckpoint, 0, len(latest))
	for _, k := range order {
		if cp, ok := latest[k]; ok {
			out = append(out, cp)
		}
	}
	return out, nil
}

// loadOrCreateID returns the agent ID kept in the work dir, creating it.
func loadOrCreateID(workDir string) (protocol.AgentID, error) {
	path := filepath.Join(workDir, "meta", "agent-id")
	if b, err := os.ReadFile(path); err == nil {
		id := strings.TrimSpace(string(b))
		if err := protocol.ValidateToken("agent id in "+path, id); err != nil {
			return "", err
		}
		return protocol.AgentID(id), nil
	}
	id := protocol.NewID()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return "", err
	}
	return protocol.AgentID(id), writeFileAtomic(path, []byte(id+"\n"))
}
