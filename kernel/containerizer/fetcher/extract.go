package fetcher

import (
	"archive/tar"
	"archive/zip"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

// maxSymlinkTarget bounds a zip symlink's target (stored as its content).
const maxSymlinkTarget = 4096

// extract unpacks the archive at name (sandbox-relative) into the sandbox.
func (f *Fetcher) extract(ctx context.Context, root *os.Root, name string, kind archive) error {
	x := &extractor{ctx: ctx, root: root, left: f.maxExtract, limit: f.maxExtract,
		dirs: map[string]bool{".": true}, log: f.log.With("archive", name)}
	if err := x.run(name, kind); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("extract %s: %w: the fetch was cancelled", name, ctx.Err())
		}
		return fmt.Errorf("extract %s: %w: fix the archive, or fetch it with extract=false to keep it unextracted", name, err)
	}
	return nil
}

// extractor writes archive entries under a root, refusing any that would
// land (or, for symlinks, point) outside it.
type extractor struct {
	ctx   context.Context
	root  *os.Root
	left  int64 // bytes the archive may still unpack to
	limit int64
	dirs  map[string]bool // relative paths known to be real directories
	modes []dirMode       // applied last: a read-only directory still receives its entries
	log   *slog.Logger
}

type dirMode struct {
	rel   string
	mode  fs.FileMode
	mtime time.Time
}

func (x *extractor) run(name string, kind archive) error {
	file, err := x.root.Open(name)
	if err != nil {
		return err
	}
	defer file.Close()
	switch kind {
	case tarPlain:
		err = x.tar(file)
	case tarGzip:
		zr, gerr := gzip.NewReader(file)
		if gerr != nil {
			return fmt.Errorf("not gzip-compressed: %w", gerr)
		}
		err = x.tar(zr)
	case tarBzip2:
		err = x.tar(bzip2.NewReader(file))
	case zipArchive:
		fi, serr := file.Stat()
		if serr != nil {
			return serr
		}
		zr, zerr := zip.NewReader(file, fi.Size())
		if zerr != nil && !errors.Is(zerr, zip.ErrInsecurePath) { // insecure names are refused below, one by one
			return fmt.Errorf("not a zip archive: %w", zerr)
		}
		err = x.zip(zr)
	case gzipFile:
		zr, gerr := gzip.NewReader(file)
		if gerr != nil {
			return fmt.Errorf("not gzip-compressed: %w", gerr)
		}
		base := path.Base(name)
		out := base[:len(base)-len(".gz")]
		if out == "" || out == "." || out == ".." {
			return fmt.Errorf("cannot name the file %q unpacks to", base)
		}
		err = x.file(out, 0o644, zr, zr.ModTime)
	default:
		return fmt.Errorf("unknown archive kind %d", kind)
	}
	if err != nil {
		return err
	}
	return x.finish()
}

func (x *extractor) tar(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) { // insecure names are refused below
			return fmt.Errorf("read tar: %w", err)
		}
		rel, err := safeRel(hdr.Name)
		if err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
		mode := fs.FileMode(hdr.Mode) & fs.ModePerm
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = x.dir(rel, mode, hdr.ModTime)
		case tar.TypeReg, tar.TypeGNUSparse, '\x00':
			err = x.file(rel, mode, tr, hdr.ModTime)
		case tar.TypeSymlink:
			err = x.symlink(rel, hdr.Linkname)
		case tar.TypeLink:
			err = x.hardlink(rel, hdr.Linkname)
		case tar.TypeXGlobalHeader:
		case tar.TypeChar, tar.TypeBlock:
			x.skip(rel, "device file")
		case tar.TypeFifo:
			x.skip(rel, "named pipe")
		default:
			x.skip(rel, fmt.Sprintf("tar entry type %q", hdr.Typeflag))
		}
		if err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
	}
}

func (x *extractor) zip(zr *zip.Reader) error {
	for _, zf := range zr.File {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		rel, err := safeRel(zf.Name)
		if err != nil {
			return fmt.Errorf("entry %q: %w", zf.Name, err)
		}
		mode := zf.Mode()
		if !unixZip(zf) { // FAT/NTFS creators store no permissions: use unzip's defaults
			if mode.IsDir() {
				mode = fs.ModeDir | 0o755
			} else if mode.IsRegular() {
				mode = 0o644
			}
		}
		switch {
		case mode&fs.ModeSymlink != 0:
			err = x.zipSymlink(rel, zf)
		case mode.IsDir() || strings.HasSuffix(zf.Name, "/"):
			err = x.dir(rel, mode.Perm(), zf.Modified)
		case mode.IsRegular():
			var rc io.ReadCloser
			if rc, err = zf.Open(); err == nil {
				err = x.file(rel, mode.Perm(), rc, zf.Modified)
				rc.Close()
			}
		default:
			x.skip(rel, "special file ("+mode.Type().String()+")")
		}
		if err != nil {
			return fmt.Errorf("entry %q: %w", zf.Name, err)
		}
	}
	return nil
}

// unixZip reports whether a zip entry was made on a system storing Unix
// modes (Unix, macOS).
func unixZip(zf *zip.File) bool {
	switch zf.CreatorVersion >> 8 {
	case 3, 19: // creatorUnix, creatorMacOSX
		return true
	}
	return false
}

func (x *extractor) zipSymlink(rel string, zf *zip.File) error {
	rc, err := zf.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxSymlinkTarget+1))
	if err != nil {
		return err
	}
	if len(b) > maxSymlinkTarget {
		return errors.New("symlink target too long")
	}
	return x.symlink(rel, string(b))
}

func (x *extractor) skip(rel, what string) {
	x.log.Warn("archive entry skipped: only files, directories and links are extracted", "entry", rel, "type", what)
}

// parents makes sure every parent directory of rel is a real directory
// (creating missing ones): entries are never written through symlinks.
func (x *extractor) parents(rel string) error {
	d := path.Dir(rel)
	if x.dirs[d] {
		return nil
	}
	cur := ""
	for _, p := range strings.Split(d, "/") {
		if cur == "" {
			cur = p
		} else {
			cur += "/" + p
		}
		if !x.dirs[cur] {
			if err := x.realDir(cur); err != nil {
				return err
			}
		}
	}
	return nil
}

// realDir makes sure rel, whose parents are real directories, is one too.
func (x *extractor) realDir(rel string) error {
	fi, err := x.root.Lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := x.root.Mkdir(rel, 0o755); err != nil {
			return err
		}
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symlink: entries may not be written through symlinks", rel)
	case !fi.IsDir():
		return fmt.Errorf("%s exists and is not a directory", rel)
	}
	x.dirs[rel] = true
	return nil
}

// clear prepares rel for a new non-directory entry: parents created, any
// previous file or link there removed (never written through: it may be
// hard-linked from the cache).
func (x *extractor) clear(rel string) error {
	if rel == "." {
		return errors.New("a file entry names the extraction directory itself")
	}
	if err := x.parents(rel); err != nil {
		return err
	}
	fi, err := x.root.Lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("%s is a directory", rel)
	}
	return x.root.Remove(rel)
}

func (x *extractor) dir(rel string, mode fs.FileMode, mtime time.Time) error {
	if rel == "." {
		return nil // the sandbox itself: leave its mode alone
	}
	if err := x.parents(rel); err != nil {
		return err
	}
	if !x.dirs[rel] {
		if err := x.realDir(rel); err != nil {
			return err
		}
	}
	x.modes = append(x.modes, dirMode{rel: rel, mode: mode, mtime: mtime})
	return nil
}

func (x *extractor) file(rel string, mode fs.FileMode, r io.Reader, mtime time.Time) error {
	if err := x.clear(rel); err != nil {
		return err
	}
	out, err := x.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(out, &ctxReader{ctx: x.ctx, r: io.LimitReader(r, x.left+1)})
	x.left -= n
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if x.left < 0 {
		return fmt.Errorf("the archive unpacks to more than %s (MaxExtractBytes = %d bytes): unpack it in the task, or raise the agent's limit", humanBytes(x.limit), x.limit)
	}
	if err := x.root.Chmod(rel, mode&fs.ModePerm); err != nil {
		return err
	}
	if !mtime.IsZero() {
		return x.root.Chtimes(rel, mtime, mtime)
	}
	return nil
}

func (x *extractor) symlink(rel, target string) error {
	if err := checkSymlink(rel, target); err != nil {
		return err
	}
	if err := x.clear(rel); err != nil {
		return err
	}
	return x.root.Symlink(target, rel)
}

// hardlink links rel to an earlier regular file of the archive (a link to
// a symlink could carry it to a depth where it points outside).
func (x *extractor) hardlink(rel, target string) error {
	trel, err := safeRel(target)
	if err != nil {
		return fmt.Errorf("hard link target %q: %w", target, err)
	}
	fi, err := x.root.Lstat(trel)
	if err != nil {
		return fmt.Errorf("hard link target %q: %w", target, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("hard link target %q is not a regular file", target)
	}
	if err := x.clear(rel); err != nil {
		return err
	}
	return x.root.Link(trel, rel)
}

// finish sets directory modes (always owner rwx, so the agent can clean
// the sandbox up) and times, deepest first.
func (x *extractor) finish() error {
	slices.SortStableFunc(x.modes, func(a, b dirMode) int {
		return strings.Count(b.rel, "/") - strings.Count(a.rel, "/")
	})
	for _, d := range x.modes {
		if err := x.root.Chmod(d.rel, d.mode|0o700); err != nil {
			return err
		}
		if !d.mtime.IsZero() {
			if err := x.root.Chtimes(d.rel, d.mtime, d.mtime); err != nil {
				return err
			}
		}
	}
	return nil
}
