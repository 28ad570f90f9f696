package packaging

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
)

// Load reads a package directory:
//
//	package.json              the Manifest
//	options.schema.json       the options schema (optional: no options)
//	app.json.tmpl             the launch template (a services app definition; optional for modules)
//	bin/<os>-<arch>/<name>    binaries per platform (executable)
//	resources/<name>          platform-independent files
//
// Names starting with "." (.gitkeep) are ignored, as are other top-level
// files (README.md). bin/ and resources/ are flat: no subdirectories.
// Files get their Size (their Digest once built). The package is
// validated (see Validate). Errors name the file and field
// ("package.json: version: \"1.x\" is not a semantic version").
func Load(dir fs.FS) (*Package, error) {
	data, err := readLimited(dir, ManifestFile, MaxConfigSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s not found: is this a package directory?", ManifestFile)
	}
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, err
	}
	p := &Package{Manifest: *m}
	if p.Schema, err = readLimited(dir, SchemaFile, MaxSchemaSize); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	tmpl, err := readLimited(dir, TemplateFile, MaxTemplateSize)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	p.Template = string(tmpl)
	if p.Files, err = loadFiles(dir); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// readLimited reads a file of at most limit bytes.
func readLimited(dir fs.FS, name string, limit int64) ([]byte, error) {
	f, err := dir.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fieldErr(name, "", "is larger than the %d bytes allowed", limit)
	}
	return data, nil
}

// loadFiles lists bin/<os>-<arch>/* and resources/*, sorted by name then
// platform (resources first).
func loadFiles(dir fs.FS) ([]File, error) {
	var files []File
	platforms, err := readDir(dir, "bin")
	if err != nil {
		return nil, err
	}
	for _, pd := range platforms {
		path := "bin/" + pd.Name()
		if !pd.IsDir() {
			return nil, fmt.Errorf("%s: not a directory: put binaries in bin/<os>-<arch>/ (e.g. bin/linux-amd64/)", path)
		}
		if !platformDirRE.MatchString(pd.Name()) {
			return nil, fmt.Errorf("%s: not a platform directory (want <os>-<arch>, e.g. linux-amd64)", path)
		}
		platform := strings.Replace(pd.Name(), "-", "/", 1)
		bins, err := listFiles(dir, path)
		if err != nil {
			return nil, err
		}
		for _, b := range bins {
			b.Platform, b.Executable = platform, true
			files = append(files, b)
		}
	}
	res, err := listFiles(dir, "resources")
	if err != nil {
		return nil, err
	}
	files = append(files, res...)
	slices.SortFunc(files, compareFiles)
	return files, nil
}

func compareFiles(a, b File) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return strings.Compare(a.Platform, b.Platform)
}

// readDir lists a directory without dotfiles; a missing one is empty.
func readDir(dir fs.FS, path string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(dir, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return strings.HasPrefix(e.Name(), ".") }), nil
}

// listFiles lists the regular files (symbolic links followed) of a flat
// directory.
func listFiles(dir fs.FS, path string) ([]File, error) {
	entries, err := readDir(dir, path)
	if err != nil {
		return nil, err
	}
	var files []File
	for _, e := range entries {
		p := path + "/" + e.Name()
		info, err := fs.Stat(dir, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: not a regular file (%s must be flat: no subdirectories)", p, path)
		}
		if err := checkFileName(e.Name()); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		files = append(files, File{Name: e.Name(), Size: info.Size()})
	}
	return files, nil
}
