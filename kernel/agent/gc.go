package agent

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"
)

// Sandboxes of ended tasks are removed after GCDelay, and sooner — oldest
// first — when the work dir's filesystem has less than GCDiskHeadroom free.

type sandboxRun struct {
	path  string
	mtime time.Time
}

// CollectGarbage removes old sandboxes now (it runs every 10 minutes anyway).
func (a *Agent) CollectGarbage(ctx context.Context) {
	live, err := query(ctx, a, func() map[string]bool {
		live := map[string]bool{}
		for _, t := range a.tasks {
			live[t.sandbox] = true
		}
		return live
	})
	if err == nil {
		a.gc(ctx, filepath.Join(a.cfg.WorkDir, "sandboxes"), live)
	}
}

// startGC collects the sandboxes in use (on the loop) and removes old ones
// off the loop.
func (a *Agent) startGC(ctx context.Context) {
	live := map[string]bool{}
	for _, t := range a.tasks {
		live[t.sandbox] = true
	}
	root := filepath.Join(a.cfg.WorkDir, "sandboxes")
	go a.gc(ctx, root, live)
}

func (a *Agent) gc(ctx context.Context, root string, live map[string]bool) {
	runs, _ := filepath.Glob(filepath.Join(root, "*", "*@*"))
	var old []sandboxRun
	for _, p := range runs {
		if live[p] {
			continue
		}
		st, err := os.Stat(p)
		if err != nil || !st.IsDir() {
			continue
		}
		old = append(old, sandboxRun{p, st.ModTime()})
	}
	sort.Slice(old, func(i, j int) bool { return old[i].mtime.Before(old[j].mtime) })
	removed := 0
	for _, r := range old {
		if ctx.Err() != nil {
			return
		}
		if time.Since(r.mtime) < a.cfg.GCDelay && diskFree(root) >= a.cfg.GCDiskHeadroom {
			break
		}
		if err := os.RemoveAll(r.path); err != nil {
			a.log.Warn("sandbox GC could not remove", "path", r.path, "err", err)
			continue
		}
		removed++
		_ = os.Remove(filepath.Dir(r.path)) // the framework's, once empty
	}
	if removed > 0 {
		a.log.Info("sandbox GC", "removed", removed)
	}
}

// diskFree is the free fraction of the filesystem holding dir.
func diskFree(dir string) float64 {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil || fs.Blocks == 0 {
		return 1
	}
	return float64(fs.Bavail) / float64(fs.Blocks)
}
