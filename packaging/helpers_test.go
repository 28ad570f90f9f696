package packaging

import (
	"io/fs"
	"os"
	"testing"
	"testing/fstest"
)

// helloDir is the good example package.
func helloDir() fs.FS { return os.DirFS("testdata/hello") }

// loadHello loads the good example package.
func loadHello(t testing.TB) *Package {
	t.Helper()
	p, err := Load(helloDir())
	if err != nil {
		t.Fatalf("Load(testdata/hello): %v", err)
	}
	return p
}

// helloMapFS copies testdata/hello into a MapFS tests can change.
func helloMapFS(t testing.TB) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(helloDir(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(helloDir(), path)
		if err != nil {
			return err
		}
		m[path] = &fstest.MapFile{Data: data, Mode: 0o644}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// pkgWithSchema is a minimal valid package with the given options schema.
func pkgWithSchema(schema string) *Package {
	p := &Package{
		Manifest: Manifest{Name: "p", Version: "1.0.0", Description: "d", Maintainer: "m", Kind: KindModule},
	}
	if schema != "" {
		p.Schema = []byte(schema)
	}
	return p
}
