package supervisor

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestJournalReplayAndCompact(t *testing.T) {
	dir := t.TempDir()
	j := &journal{path: journalPath(dir), fd: -1}
	if err := j.open(); err != nil {
		t.Fatal(err)
	}
	defer j.close()
	now := time.Now().UTC()
	start := func(key string, pid int) {
		if err := j.append(&journalLine{Start: &procRecord{Key: key, PID: pid, StartTicks: 7, StartedAt: now, Spec: StartSpec{Key: key, Path: "/bin/x"}}}); err != nil {
			t.Fatal(err)
		}
	}
	exit := func(key string, pid, code int) {
		if err := j.append(&journalLine{Exit: &Proc{Key: key, PID: pid, Exit: &Exit{Code: code, Time: now}}}); err != nil {
			t.Fatal(err)
		}
	}
	start("a", 10)
	start("b", 11)
	exit("a", 10, 3)
	j.append(&journalLine{Forget: "a"})
	start("a", 12) // the key again, after forget
	start("c", 13)
	exit("c", 13, 0)
	// A torn line (host crash in the middle of a write) is skipped.
	f, _ := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"exit":{"key":"b","pid":11,"exi`)
	f.Close()

	m, lines, err := replayJournal(j.path)
	if err != nil {
		t.Fatal(err)
	}
	if lines != 8 {
		t.Errorf("lines = %d", lines)
	}
	if len(m) != 3 || m["a"].rec.PID != 12 || m["a"].exit != nil || m["b"].exit != nil || m["c"].exit.Exit.Code != 0 {
		t.Errorf("replay: %+v", m)
	}
	if err := j.compact(func(k string) bool { return k != "c" }); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(j.path)
	if n := bytes.Count(b, []byte("\n")); n != 2 || j.lines != 2 {
		t.Errorf("after compaction: %d lines (%d counted):\n%s", n, j.lines, b)
	}
	m, _, _ = replayJournal(j.path)
	if len(m) != 2 || m["a"].rec.PID != 12 || m["b"].rec.PID != 11 {
		t.Errorf("replay after compaction: %+v", m)
	}
	// Appends go on after a compaction.
	exit("b", 11, 1)
	m, _, _ = replayJournal(j.path)
	if m["b"].exit == nil || m["b"].exit.Exit.Code != 1 {
		t.Errorf("append after compaction: %+v", m["b"])
	}
}

func TestJournalCompactsAfterForgets(t *testing.T) {
	c, dir := inProcess(t, Config{})
	ctx := ctxT(t)
	const n = 1400 // 3 lines each, over the 4,096-line threshold
	exits := make(chan string, n)
	go func() {
		for p := range c.Exits() {
			exits <- p.Key
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				if _, err := c.Start(ctx, StartSpec{Key: fmt.Sprint("t", i), Path: "/bin/true"}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		select {
		case k := <-exits:
			if err := c.Forget(ctx, k); err != nil {
				t.Fatal(err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("%d exits missing", n-i)
		}
	}
	c.Start(ctx, sleepSpec("survivor"))
	eventually(t, 30*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, journalName))
		// Without compaction: 4,201 lines.
		return bytes.Count(b, []byte("\n")) < 1000
	}, "a compacted journal")
	m := records(t, dir)
	if len(m) != 1 || m["survivor"] == nil {
		keys := []string{}
		for k := range m {
			keys = append(keys, k)
		}
		t.Errorf("records: %s", strings.Join(keys, " "))
	}
}
