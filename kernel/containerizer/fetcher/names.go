package fetcher

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// DefaultName names the file of a URI without a last path segment
// ("http://example.com/", "http://example.com/docs/"), as wget does.
const DefaultName = "index.html"

// maxNameBytes is the longest file name most filesystems accept.
const maxNameBytes = 255

// nameFromURI is the file name of a URI: its last path segment,
// URL-decoded (for URLs) and sanitized; the query and fragment are ignored.
func nameFromURI(uri string) string {
	var seg string
	if strings.HasPrefix(uri, "/") {
		seg = path.Base(uri)
	} else if u, err := url.Parse(uri); err == nil {
		p := u.EscapedPath()
		if p == "" {
			p = u.Opaque
		}
		seg = p[strings.LastIndexByte(p, '/')+1:]
		if s, err := url.PathUnescape(seg); err == nil {
			seg = s
		}
	}
	if n := sanitizeName(seg); n != "" {
		return n
	}
	return DefaultName
}

// sanitizeName makes s usable as one file name: '/', NUL and control
// characters become '_', a name longer than 255 bytes is shortened
// (keeping its extension, so archives stay recognisable); "", "." and ".."
// give "".
func sanitizeName(s string) string {
	if s == "" || s == "." || s == ".." {
		return ""
	}
	s = strings.Map(func(r rune) rune {
		if r == '/' || r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return '_'
		}
		return r
	}, s)
	if len(s) <= maxNameBytes {
		return s
	}
	ext := archiveExt(s)
	if ext == "" {
		ext = path.Ext(s)
	}
	if len(ext) > 32 {
		ext = ""
	}
	head := s[:maxNameBytes-len(ext)]
	for !utf8.ValidString(head) { // do not cut a rune in half
		head = head[:len(head)-1]
	}
	return head + ext
}

// outputPath checks a CommandURI's output_file: a relative path that stays
// inside the sandbox. It returns it cleaned.
func outputPath(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("output_file %q contains a NUL byte: fix the task's output_file", name)
	}
	if !filepath.IsLocal(name) {
		return "", fmt.Errorf("output_file %q must be a relative path inside the sandbox (not absolute, no ..): fix the task's output_file", name)
	}
	c := filepath.Clean(name)
	if c == "." {
		return "", fmt.Errorf("output_file %q names the sandbox itself: give a file name", name)
	}
	return c, nil
}

// safeRel checks an archive entry's name (slash-separated, as in tar and
// zip) and returns it cleaned, relative to the extraction directory, or
// "." for the directory itself. Absolute names and names escaping the
// directory (zip-slip: "../x", "a/../../x") are refused; nothing else is
// rewritten.
func safeRel(name string) (string, error) {
	switch {
	case name == "":
		return "", errors.New("empty name")
	case strings.IndexByte(name, 0) >= 0:
		return "", errors.New("name contains a NUL byte")
	case strings.HasPrefix(name, "/"):
		return "", errors.New("absolute path")
	}
	c := path.Clean(name)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", errors.New("path escapes the extraction directory (zip-slip)")
	}
	return c, nil
}

// safeJoin joins an archive entry's name to dir, refusing names that
// escape it (see safeRel).
func safeJoin(dir, name string) (string, error) {
	rel, err := safeRel(name)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, filepath.FromSlash(rel)), nil
}

// checkSymlink checks that a symlink at rel (a cleaned relative path whose
// parents are real directories) pointing to target stays inside the
// extraction directory however it is resolved: the target must be relative
// and its ".." components must all come first (a ".." after a name could
// climb out of a directory reached through another symlink), no more of
// them than rel has parent directories.
func checkSymlink(rel, target string) error {
	switch {
	case target == "":
		return errors.New("empty symlink target")
	case strings.IndexByte(target, 0) >= 0:
		return errors.New("symlink target contains a NUL byte")
	case strings.HasPrefix(target, "/"):
		return fmt.Errorf("symlink to absolute path %q", target)
	}
	depth := 0
	if d := path.Dir(rel); d != "." {
		depth = strings.Count(d, "/") + 1
	}
	ups, named := 0, false
	for _, part := range strings.Split(target, "/") {
		switch part {
		case "", ".":
		case "..":
			if named {
				return fmt.Errorf("symlink target %q has .. after a name", target)
			}
			ups++
		default:
			named = true
		}
	}
	if ups > depth {
		return fmt.Errorf("symlink target %q points outside the extraction directory", target)
	}
	return nil
}

// archive kinds, recognised by file name.
type archive int

const (
	notArchive archive = iota
	tarPlain
	tarGzip
	tarBzip2
	zipArchive
	gzipFile
)

var archiveSuffixes = []struct {
	ext  string
	kind archive
}{
	{".tar.gz", tarGzip}, {".tgz", tarGzip},
	{".tar.bz2", tarBzip2}, {".tbz2", tarBzip2}, {".tbz", tarBzip2},
	{".tar", tarPlain},
	{".zip", zipArchive},
	{".gz", gzipFile},
}

// archiveKind is the kind of archive a file name says, case-insensitively.
func archiveKind(name string) archive {
	lower := strings.ToLower(path.Base(filepath.ToSlash(name)))
	for _, s := range archiveSuffixes {
		if strings.HasSuffix(lower, s.ext) && len(lower) > len(s.ext) {
			return s.kind
		}
	}
	return notArchive
}

// archiveExt is the archive suffix of name as written ("" if none).
func archiveExt(name string) string {
	lower := strings.ToLower(name)
	for _, s := range archiveSuffixes {
		if strings.HasSuffix(lower, s.ext) {
			return name[len(name)-len(s.ext):]
		}
	}
	return ""
}
