package fetcher

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// appEntries is a small application tree: files with modes, a directory
// with its own mode, symlinks that stay inside, a hard link.
var appEntries = []entry{
	{name: "app/", typ: tar.TypeDir, mode: 0o755},
	{name: "app/bin/run", body: "#!/bin/sh\nexec app\n", mode: 0o4755}, // setuid is dropped
	{name: "app/README", body: "read me\n", mode: 0o600},
	{name: "app/data/", typ: tar.TypeDir, mode: 0o750},
	{name: "app/current", typ: tar.TypeSymlink, link: "bin/run"},
	{name: "app/bin/readme", typ: tar.TypeSymlink, link: "../README"},
	{name: "./app/data/seed", body: "seed", mode: 0o644},
}

func checkApp(t *testing.T, dir string, hardlink bool) {
	t.Helper()
	for p, want := range map[string]string{"app/bin/run": "#!/bin/sh\nexec app\n", "app/README": "read me\n",
		"app/data/seed": "seed", "app/current": "#!/bin/sh\nexec app\n", "app/bin/readme": "read me\n"} {
		if got := readFile(t, filepath.Join(dir, p)); got != want {
			t.Errorf("%s: %q, want %q", p, got, want)
		}
	}
	for p, want := range map[string]fs.FileMode{"app/bin/run": 0o755, "app/README": 0o600, "app/data": fs.ModeDir | 0o750,
		"app/current": fs.ModeSymlink | 0o777} {
		if got := modeOf(t, filepath.Join(dir, p)); got != want {
			t.Errorf("%s: mode %v, want %v", p, got, want)
		}
	}
	if l, err := os.Readlink(filepath.Join(dir, "app/current")); err != nil || l != "bin/run" {
		t.Errorf("app/current -> %q, %v", l, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "app/README"))
	if err != nil || !fi.ModTime().Equal(mtime) {
		t.Errorf("app/README mtime %v, want %v (%v)", fi.ModTime(), mtime, err)
	}
	if hardlink {
		a, _ := os.Stat(filepath.Join(dir, "app/data/seed"))
		b, _ := os.Stat(filepath.Join(dir, "app/seed-link"))
		if !os.SameFile(a, b) {
			t.Error("app/seed-link is not a hard link of app/data/seed")
		}
	}
}

func bzip2CLI(t *testing.T, b []byte) []byte {
	t.Helper()
	if _, err := exec.LookPath("bzip2"); err != nil {
		t.Skip("no bzip2 command to build the archive (the Go library only reads bzip2); TestExtractBzip2Fixture covers reading")
	}
	cmd := exec.Command("bzip2", "-c")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExtractArchives(t *testing.T) {
	tarEntries := append(append([]entry{}, appEntries...), entry{name: "app/seed-link", typ: tar.TypeLink, link: "app/data/seed"})
	plain := makeTar(t, tarEntries...)
	for _, tc := range []struct {
		name     string
		build    func(t *testing.T) []byte
		hardlink bool
	}{
		{"app.tar", func(t *testing.T) []byte { return plain }, true},
		{"app.tar.gz", func(t *testing.T) []byte { return gz(t, plain) }, true},
		{"APP.TGZ", func(t *testing.T) []byte { return gz(t, plain) }, true},
		{"app.tar.bz2", func(t *testing.T) []byte { return bzip2CLI(t, plain) }, true},
		{"app.tbz2", func(t *testing.T) []byte { return bzip2CLI(t, plain) }, true},
		{"app.zip", func(t *testing.T) []byte { return makeZip(t, appEntries...) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			archive := tc.build(t)
			srv := newServer(t, map[string][]byte{"/" + tc.name: archive})
			dir := newSandbox(t)
			res := fetch(t, newFetcher(t, Config{}), dir, protocol.CommandURI{Value: srv.URL + "/" + tc.name})
			if res[0].Path != filepath.Join(dir, tc.name) || res[0].Digest != digestOf(archive) {
				t.Fatalf("result %+v", res[0])
			}
			if got := readFile(t, res[0].Path); got != string(archive) {
				t.Fatal("the archive was not kept next to its contents")
			}
			checkApp(t, dir, tc.hardlink)
		})
	}
}

func TestExtractBzip2Fixture(t *testing.T) {
	// testdata/hello.tar.bz2: made with `tar cjf` (hello/hello.txt = "hello\n").
	dir := newSandbox(t)
	fetch(t, newFetcher(t, Config{}), dir, protocol.CommandURI{Value: mustAbs(t, "testdata/hello.tar.bz2")})
	if got := readFile(t, filepath.Join(dir, "hello/hello.txt")); got != "hello\n" {
		t.Fatalf("%q", got)
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestExtractGzipSingleFile(t *testing.T) {
	srv := newServer(t, map[string][]byte{"/notes.txt.gz": gz(t, []byte("notes\n"))})
	dir := newSandbox(t)
	res := fetch(t, newFetcher(t, Config{}), dir, protocol.CommandURI{Value: srv.URL + "/notes.txt.gz", OutputFile: "sub/n.txt.gz"})
	if res[0].Path != filepath.Join(dir, "sub/n.txt.gz") {
		t.Fatalf("path %s", res[0].Path)
	}
	// Unpacked into the sandbox (as Mesos), named without .gz.
	if got := readFile(t, filepath.Join(dir, "n.txt")); got != "notes\n" {
		t.Fatalf("%q", got)
	}
	if m := modeOf(t, filepath.Join(dir, "n.txt")); m != 0o644 {
		t.Fatalf("mode %v", m)
	}
}

func TestExtractFalse(t *testing.T) {
	srv := newServer(t, map[string][]byte{"/app.tgz": gz(t, makeTar(t, appEntries...))})
	dir := newSandbox(t)
	fetch(t, newFetcher(t, Config{}), dir, protocol.CommandURI{Value: srv.URL + "/app.tgz", Extract: ptr(false)})
	if ents, _ := os.ReadDir(dir); len(ents) != 1 || ents[0].Name() != "app.tgz" {
		t.Fatalf("sandbox %v, want only app.tgz", ents)
	}
}

func TestExtractNotAnArchive(t *testing.T) {
	srv := newServer(t, map[string][]byte{"/bad.tgz": []byte("<html>not found</html>")})
	_, err := newFetcher(t, Config{}).Fetch(context.Background(), []protocol.CommandURI{{Value: srv.URL + "/bad.tgz"}}, newSandbox(t))
	if err == nil || !strings.Contains(err.Error(), "fetch "+srv.URL+"/bad.tgz: extract bad.tgz: not gzip-compressed") ||
		!strings.Contains(err.Error(), "extract=false") {
		t.Fatalf("err %v", err)
	}
}

func TestExtractRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		archive func(t *testing.T) []byte
		want    string
	}{
		{"slip.tar", func(t *testing.T) []byte { return makeTar(t, entry{name: "../evil", body: "x"}) }, "zip-slip"},
		{"slip2.tar", func(t *testing.T) []byte { return makeTar(t, entry{name: "a/../../evil", body: "x"}) }, "zip-slip"},
		{"abs.tar", func(t *testing.T) []byte { return makeTar(t, entry{name: "/tmp/evil", body: "x"}) }, "absolute path"},
		{"link-out.tar", func(t *testing.T) []byte {
			return makeTar(t, entry{name: "a/l", typ: tar.TypeSymlink, link: "../../evil"})
		}, "points outside"},
		{"link-abs.tar", func(t *testing.T) []byte {
			return makeTar(t, entry{name: "l", typ: tar.TypeSymlink, link: "/etc/passwd"})
		}, "absolute path"},
		{"link-dotdot.tar", func(t *testing.T) []byte {
			// s -> . is fine, but s/.. would resolve to the sandbox's parent.
			return makeTar(t, entry{name: "s", typ: tar.TypeSymlink, link: "."},
				entry{name: "l", typ: tar.TypeSymlink, link: "s/.."})
		}, ".. after a name"},
		{"through-link.tar", func(t *testing.T) []byte {
			return makeTar(t, entry{name: "d/", typ: tar.TypeDir, mode: 0o755},
				entry{name: "l", typ: tar.TypeSymlink, link: "d"},
				entry{name: "l/evil", body: "x"})
		}, "written through symlinks"},
		{"hardlink-out.tar", func(t *testing.T) []byte {
			return makeTar(t, entry{name: "h", typ: tar.TypeLink, link: "../evil"})
		}, "zip-slip"},
		{"hardlink-symlink.tar", func(t *testing.T) []byte {
			return makeTar(t, entry{name: "a/b/l", typ: tar.TypeSymlink, link: "../.."},
				entry{name: "h", typ: tar.TypeLink, link: "a/b/l"})
		}, "not a regular file"},
		{"slip.zip", func(t *testing.T) []byte { return makeZip(t, entry{name: "../evil", body: "x"}) }, "zip-slip"},
		{"abs.zip", func(t *testing.T) []byte { return makeZip(t, entry{name: "/tmp/evil", body: "x"}) }, "absolute path"},
		{"link-out.zip", func(t *testing.T) []byte {
			return makeZip(t, entry{name: "l", typ: tar.TypeSymlink, link: "../evil"})
		}, "points outside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, map[string][]byte{"/" + tc.name: tc.archive(t)})
			dir := newSandbox(t)
			_, err := newFetcher(t, Config{}).Fetch(context.Background(), []protocol.CommandURI{{Value: srv.URL + "/" + tc.name}}, dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "extract "+tc.name+": entry") {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if _, err := os.Lstat(filepath.Join(filepath.Dir(dir), "evil")); !errors.Is(err, os.ErrNotExist) {
				t.Fatal("an entry escaped the sandbox")
			}
		})
	}
}

func TestExtractSkipsSpecialFiles(t *testing.T) {
	archive := makeTar(t,
		entry{name: "dev/null", typ: tar.TypeChar},
		entry{name: "dev/sda", typ: tar.TypeBlock},
		entry{name: "fifo", typ: tar.TypeFifo},
		entry{name: "after", body: "ok"})
	srv := newServer(t, map[string][]byte{"/special.tar": archive})
	dir := newSandbox(t)
	fetch(t, newFetcher(t, Config{}), dir, protocol.CommandURI{Value: srv.URL + "/special.tar"})
	for _, p := range []string{"dev/null", "dev/sda", "fifo"} {
		if _, err := os.Lstat(filepath.Join(dir, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was created", p)
		}
	}
	if readFile(t, filepath.Join(dir, "after")) != "ok" {
		t.Fatal("the entry after the special files is missing")
	}
}

func TestExtractReplacesEarlierEntries(t *testing.T) {
	// A later entry replaces an earlier file or symlink (never writing through it).
	outside := filepath.Join(t.TempDir(), "target")
	os.WriteFile(outside, []byte("untouched"), 0o644)
	archive := makeTar(t,
		entry{name: "f", body: "first"},
		entry{name: "f", body: "second"},
		entry{name: "l", typ: tar.TypeSymlink, link: "f"},
		entry{name: "l", body: "now a file"})
	srv := newServer(t, map[string][]byte{"/r.tar": archive})
	dir := newSandbox(t)
	fetch(t, newFetcher(t, Config{}), dir, protocol.CommandURI{Value: srv.URL + "/r.tar"})
	if readFile(t, filepath.Join(dir, "f")) != "second" || readFile(t, filepath.Join(dir, "l")) != "now a file" {
		t.Fatal("later entries did not replace earlier ones")
	}
}

func TestExtractReadOnlyDirectory(t *testing.T) {
	archive := makeTar(t, entry{name: "ro/", typ: tar.TypeDir, mode: 0o555}, entry{name: "ro/f", body: "x", mode: 0o444})
	srv := newServer(t, map[string][]byte{"/ro.tar": archive})
	dir := newSandbox(t)
	fetch(t, newFetcher(t, Config{}), dir, protocol.CommandURI{Value: srv.URL + "/ro.tar"})
	if readFile(t, filepath.Join(dir, "ro/f")) != "x" {
		t.Fatal("missing ro/f")
	}
	// Owner rwx is kept so the agent can remove the sandbox.
	if m := modeOf(t, filepath.Join(dir, "ro")); m != fs.ModeDir|0o755 {
		t.Fatalf("mode %v", m)
	}
}

func TestExtractLimit(t *testing.T) {
	archive := gz(t, makeTar(t, entry{name: "a", body: strings.Repeat("0", 600)}, entry{name: "b", body: strings.Repeat("0", 600)}))
	srv := newServer(t, map[string][]byte{"/bomb.tgz": archive})
	_, err := newFetcher(t, Config{MaxExtractBytes: 1000}).Fetch(context.Background(),
		[]protocol.CommandURI{{Value: srv.URL + "/bomb.tgz"}}, newSandbox(t))
	if err == nil || !strings.Contains(err.Error(), "MaxExtractBytes = 1000 bytes") {
		t.Fatalf("err %v", err)
	}
}

func TestExtractCancelled(t *testing.T) {
	srv := newServer(t, map[string][]byte{"/a.tar": makeTar(t, entry{name: "a", body: "x"})})
	f := newFetcher(t, Config{})
	root, err := os.OpenRoot(newSandbox(t))
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	fetch(t, f, root.Name(), protocol.CommandURI{Value: srv.URL + "/a.tar", Extract: ptr(false)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.extract(ctx, root, "a.tar", tarPlain); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func TestExtractZipWithoutModes(t *testing.T) {
	// Zips made on FAT/Windows carry no Unix modes: files get 0644, dirs 0755.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.Create("d/")
	w, _ := zw.Create("d/f")
	w.Write([]byte("x"))
	zw.Close()
	srv := newServer(t, map[string][]byte{"/w.zip": buf.Bytes()})
	dir := newSandbox(t)
	fetch(t, newFetcher(t, Config{}), dir, protocol.CommandURI{Value: srv.URL + "/w.zip"})
	if readFile(t, filepath.Join(dir, "d/f")) != "x" {
		t.Fatal("missing d/f")
	}
	if m := modeOf(t, filepath.Join(dir, "d/f")); m != 0o644 {
		t.Errorf("d/f mode %v", m)
	}
	if m := modeOf(t, filepath.Join(dir, "d")); m != fs.ModeDir|0o755 {
		t.Errorf("d mode %v", m)
	}
}
