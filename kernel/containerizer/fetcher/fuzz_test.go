package fetcher

import (
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzSafeJoin checks the archive entry name sanitizer: whatever it
// accepts lands inside the directory, and it accepts every local name.
// Seeds: testdata/fuzz/FuzzSafeJoin.
func FuzzSafeJoin(f *testing.F) {
	const dir = "/sandbox/dir"
	f.Fuzz(func(t *testing.T, name string) {
		j, err := safeJoin(dir, name)
		rel, rerr := safeRel(name)
		if (err == nil) != (rerr == nil) {
			t.Fatalf("safeJoin and safeRel disagree on %q: %v, %v", name, err, rerr)
		}
		if err != nil {
			if filepath.IsLocal(name) && !strings.ContainsRune(name, 0) {
				t.Fatalf("local name %q refused: %v", name, err)
			}
			return
		}
		if j != dir && !strings.HasPrefix(j, dir+"/") {
			t.Fatalf("safeJoin(%q) = %q escapes %s", name, j, dir)
		}
		if rel != "." && !filepath.IsLocal(rel) {
			t.Fatalf("safeRel(%q) = %q is not local", name, rel)
		}
		if rel != path.Clean(rel) || strings.HasPrefix(rel, "/") {
			t.Fatalf("safeRel(%q) = %q is not clean and relative", name, rel)
		}
	})
}

// FuzzCheckSymlink checks that an accepted symlink target, resolved
// lexically from the link's directory, stays inside the directory, and
// that it holds no ".." after a name (see checkSymlink).
// Seeds: testdata/fuzz/FuzzCheckSymlink.
func FuzzCheckSymlink(f *testing.F) {
	f.Fuzz(func(t *testing.T, name, target string) {
		rel, err := safeRel(name)
		if err != nil || rel == "." {
			return
		}
		if checkSymlink(rel, target) != nil {
			return
		}
		resolved := path.Join(path.Dir(rel), target)
		if resolved != "." && !filepath.IsLocal(resolved) {
			t.Fatalf("link %q -> %q accepted but resolves to %q", rel, target, resolved)
		}
		named := false
		for _, p := range strings.Split(target, "/") {
			if p == ".." && named {
				t.Fatalf("link %q -> %q accepted with .. after a name", rel, target)
			}
			if p != "" && p != "." && p != ".." {
				named = true
			}
		}
	})
}
