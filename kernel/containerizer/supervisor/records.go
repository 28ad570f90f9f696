package supervisor

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The supervisor's records are one append-only journal, Dir/journal.jsonl:
// a JSON line per event, written with a single write(2) on an O_APPEND
// descriptor before the event is announced:
//
//	{"start":{"key":…,"pid":…,"start_ticks":…,"started_at":…,"spec":{…}}}
//	{"exit":{"key":…,"pid":…,"exit":{"code":…,…}}}
//	{"forget":"key"}
//
// A journal instead of a file per process: creating a file costs an inode
// allocation, which on a busy ext4 took 0.3-1.2 ms here (more than the
// fork it records); an append costs a few microseconds. The journal is
// rewritten without the forgotten processes at startup and whenever most
// of its lines are garbage. See README.md.

const journalName = "journal.jsonl"

type journalLine struct {
	Start  *procRecord `json:"start,omitempty"`
	Exit   *Proc       `json:"exit,omitempty"`
	Forget string      `json:"forget,omitempty"`
}

// known is what the journal says about one key.
type known struct {
	rec       *procRecord
	exit      *Proc
	startLine []byte
	exitLine  []byte
}

type journal struct {
	mu    sync.Mutex
	path  string
	fd    int
	lines int // lines in the file
	buf   []byte
}

// replayJournal reads a journal: the latest start and exit of every key
// not forgotten since. A line that does not parse (torn by a host crash)
// is skipped.
func replayJournal(path string) (map[string]*known, int, error) {
	m := map[string]*known{}
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return m, 0, nil
		}
		return nil, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineSize)
	lines := 0
	for sc.Scan() {
		lines++
		var l journalLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			continue
		}
		raw := bytes.Clone(sc.Bytes())
		switch {
		case l.Start != nil && validKey(l.Start.Key) == nil:
			m[l.Start.Key] = &known{rec: l.Start, startLine: raw}
		case l.Exit != nil && validKey(l.Exit.Key) == nil:
			k := m[l.Exit.Key]
			if k == nil {
				k = &known{}
				m[l.Exit.Key] = k
			}
			k.exit, k.exitLine = l.Exit, raw
		case l.Forget != "":
			delete(m, l.Forget)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", path, err)
	}
	return m, lines, nil
}

func (j *journal) open() error {
	fd, err := openRetry(j.path, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return &os.PathError{Op: "open", Path: j.path, Err: err}
	}
	j.fd = fd
	return nil
}

func (j *journal) close() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.fd >= 0 {
		unix.Close(j.fd)
		j.fd = -1
	}
}

// append writes one line (v encoded) in one write(2).
func (j *journal) append(v *journalLine) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.fd < 0 {
		return errors.New("journal closed")
	}
	j.buf = append(append(j.buf[:0], b...), '\n')
	n, err := writeRetry(j.fd, j.buf)
	if err == nil && n != len(j.buf) {
		err = fmt.Errorf("short write (%d of %d bytes)", n, len(j.buf))
	}
	if err != nil {
		return &os.PathError{Op: "write", Path: j.path, Err: err}
	}
	j.lines++
	if cap(j.buf) > 1<<20 {
		j.buf = nil
	}
	return nil
}

// compact rewrites the journal with the start and exit lines of the keys
// for which keep is true (through a temporary file and a rename).
func (j *journal) compact(keep func(key string) bool) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	m, _, err := replayJournal(j.path)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	n := 0
	for key, k := range m {
		if !keep(key) {
			continue
		}
		for _, l := range [][]byte{k.startLine, k.exitLine} {
			if l != nil {
				out.Write(l)
				out.WriteByte('\n')
				n++
			}
		}
	}
	if err := writeAtomic(j.path, out.Bytes(), 0o600); err != nil {
		return err
	}
	if j.fd >= 0 {
		unix.Close(j.fd)
	}
	j.lines = n
	return j.open()
}

// needsCompaction: most lines are garbage (forgotten processes).
func (j *journal) needsCompaction(live int) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.lines > 4096 && j.lines > 4*live
}

// maybeCompact compacts the journal in the background when worthwhile.
func (s *server) maybeCompact() {
	s.mu.Lock()
	n := len(s.procs)
	s.mu.Unlock()
	if !s.journal.needsCompaction(n) || !s.compacting.CompareAndSwap(false, true) {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.compacting.Store(false)
		if err := s.journal.compact(s.keepKey); err != nil {
			s.log.Error("compact the journal", "err", err)
		}
	}()
}

// keepKey: the key is known (not forgotten).
func (s *server) keepKey(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.procs[key] != nil
}

// load replays the journal at startup: recorded exits are known again,
// live processes (same pid and same start time) are re-adopted and watched
// through pidfds, and processes that died while no supervisor ran get an
// Unknown exit, recorded before anyone can ask. Then the journal is
// compacted.
func (s *server) load() error {
	m, _, err := replayJournal(s.journal.path)
	if err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	adopted, dead := 0, 0
	for key, k := range m {
		if k.rec == nil {
			// An exit without its start (cannot happen unless edited).
			if k.exit != nil && k.exit.Exit != nil {
				s.procs[key] = &entry{key: key, pid: k.exit.PID, startedAt: k.exit.StartedAt, cgroup: k.exit.Cgroup, exit: k.exit.Exit, pidfd: -1, recorded: true, replied: true, startKill: -1}
			}
			continue
		}
		rec := k.rec
		e := &entry{key: key, pid: rec.PID, startedAt: rec.StartedAt, cgroup: rec.Cgroup, pidns: rec.PIDNS, pidfd: -1, recorded: true, replied: true, startKill: -1}
		if k.exit != nil {
			e.exit = k.exit.Exit
			if e.exit == nil {
				e.exit = &Exit{Code: -1, Unknown: true, Time: time.Now()}
			}
			s.procs[key] = e
			continue
		}
		if pidfd, ok := sameProcess(rec.PID, rec.StartTicks); ok {
			if s.watcher == nil {
				w, err := newPidfdWatcher(s)
				if err != nil {
					unix.Close(pidfd)
					return fmt.Errorf("supervisor: %w", err)
				}
				s.watcher = w
				s.wg.Add(1)
				go w.run()
			}
			e.adopted = true
			e.pidfd = pidfd
			s.mu.Lock()
			s.byPID[e.pid] = e
			s.procs[key] = e
			err := s.watcher.add(e)
			s.mu.Unlock()
			if err != nil {
				return fmt.Errorf("supervisor: watch pid %d: %w", e.pid, err)
			}
			adopted++
			continue
		}
		// It died while no supervisor was running.
		e.exit = &Exit{Code: -1, Unknown: true, Time: time.Now()}
		p := e.proc()
		if err := s.journal.append(&journalLine{Exit: &p}); err != nil {
			s.log.Error("cannot record an exit", "key", key, "err", err)
		}
		s.procs[key] = e
		dead++
	}
	if err := s.journal.compact(s.keepKey); err != nil {
		return fmt.Errorf("supervisor: compact the journal: %w", err)
	}
	if adopted+dead > 0 {
		s.log.Info("re-adopted the processes of a previous supervisor", "running", adopted, "exited_meanwhile", dead)
	}
	return nil
}

// sameProcess opens a pidfd for pid if it is still the process that was
// recorded (same start time, not a zombie). Opening the pidfd first pins
// the process: if the check passes, the pidfd is that process.
func sameProcess(pid int, startTicks uint64) (int, bool) {
	if startTicks == 0 || pid <= 0 {
		return -1, false
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, false
	}
	ticks, state, _, err := procStat(pid)
	if err != nil || ticks != startTicks || state == 'Z' || state == 'X' {
		unix.Close(fd)
		return -1, false
	}
	return fd, true
}

func journalPath(dir string) string { return filepath.Join(dir, journalName) }
