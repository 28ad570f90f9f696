package packaging

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadHello(t *testing.T) {
	p := loadHello(t)
	if p.Manifest.Name != "hello" || p.Manifest.Version != "1.2.0" || p.Manifest.Kind != KindService {
		t.Errorf("manifest = %+v", p.Manifest)
	}
	if len(p.Schema) == 0 || !strings.Contains(p.Template, `"healthChecks"`) {
		t.Error("schema or template missing")
	}
	want := []File{
		{Name: "README.txt", Size: 29},
		{Name: "hello", Platform: "linux/amd64", Executable: true, Size: 32},
		{Name: "hello", Platform: "linux/arm64", Executable: true, Size: 32},
	}
	if !slices.Equal(p.Files, want) {
		t.Errorf("files = %+v\nwant %+v", p.Files, want)
	}
	if p.Files[1].Path() != "bin/linux-amd64/hello" || p.Files[0].Path() != "resources/README.txt" {
		t.Errorf("paths %s %s", p.Files[1].Path(), p.Files[0].Path())
	}
	if err := p.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestLoadMinimalModule(t *testing.T) {
	p, err := Load(fstest.MapFS{
		"package.json":           {Data: []byte(`{"name": "dns", "version": "0.1.0", "description": "d", "maintainer": "m", "kind": "module", "module": {"kind": "watcher", "binary": "dns"}}`)},
		"bin/linux-amd64/dns":    {Data: []byte("bin")},
		"bin/linux-amd64/.keep":  {Data: nil},
		"README.md":              {Data: []byte("not packed")},
		"resources/Corefile":     {Data: []byte(". {}")},
		"resources/.hidden/file": {Data: []byte("ignored")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Schema != nil || p.Template != "" || len(p.Files) != 2 {
		t.Errorf("package = %+v", p)
	}
	if _, err := p.Render(RenderData{}); err == nil || !strings.Contains(err.Error(), "has no launch template") {
		t.Errorf("Render of a module without template: %v", err)
	}
	if err := p.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if f, ok := p.ModuleBinary("linux/amd64"); !ok || f.Name != "dns" || !f.Executable {
		t.Errorf("ModuleBinary(linux/amd64) = %+v, %v", f, ok)
	}
	if _, ok := p.ModuleBinary("linux/arm64"); ok {
		t.Error("ModuleBinary(linux/arm64) found a binary the package does not ship")
	}
	// The binary the manifest names must be shipped, and a module has no
	// launch template.
	p.Manifest.Module.Binary = "coredns"
	p.Template = "{}"
	err = p.Validate()
	for _, want := range []string{`package.json: module.binary: "coredns" is not among the package's binaries`, "app.json.tmpl: a module package has no launch template"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want %q", err, want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(fstest.MapFS)
		want   string
	}{
		{"no package.json", func(m fstest.MapFS) { delete(m, "package.json") }, "package.json not found"},
		{"bad version", func(m fstest.MapFS) {
			m["package.json"].Data = []byte(strings.Replace(string(m["package.json"].Data), `"1.2.0"`, `"1.x"`, 1))
		}, `package.json: version: "1.x" is not a semantic version (want MAJOR.MINOR.PATCH)`},
		{"unknown field", func(m fstest.MapFS) {
			m["package.json"].Data = []byte(strings.Replace(string(m["package.json"].Data), `"release"`, `"relaese"`, 1))
		}, `package.json: relaese: unknown field`},
		{"package.json too large", func(m fstest.MapFS) {
			m["package.json"].Data = make([]byte, MaxConfigSize+1)
		}, `package.json: is larger than the 1048576 bytes allowed`},
		{"bad schema", func(m fstest.MapFS) {
			m["options.schema.json"].Data = []byte(`{"type": "object", "properties": {"cpus": {"minimum": "x"}}}`)
		}, `options.schema.json: not a valid JSON Schema: /properties/cpus/minimum`},
		{"bad default", func(m fstest.MapFS) {
			m["options.schema.json"].Data = []byte(`{"type": "object", "properties": {"mem": {"type": "integer", "default": "lots"}}}`)
		}, `options.schema.json: the defaults do not satisfy the schema: /mem: got string, want integer`},
		{"no template", func(m fstest.MapFS) { delete(m, "app.json.tmpl") }, `app.json.tmpl: is required for a service package`},
		{"template syntax", func(m fstest.MapFS) { m["app.json.tmpl"].Data = []byte(`{"id": {{json .AppID}`) }, `app.json.tmpl: line 1: `},
		{"template option", func(m fstest.MapFS) { m["app.json.tmpl"].Data = []byte(`{"id": {{.Options.cpu}}}`) }, `map has no entry for key "cpu"`},
		{"template JSON", func(m fstest.MapFS) { m["app.json.tmpl"].Data = []byte(`{"id": {{.AppID}}}`) }, `app.json.tmpl rendered invalid JSON at line 1, column 8`},
		{"platform dir", func(m fstest.MapFS) { m["bin/linux_amd64/x"] = &fstest.MapFile{Data: []byte("x")} }, `bin/linux_amd64: not a platform directory`},
		{"file in bin", func(m fstest.MapFS) { m["bin/hello"] = &fstest.MapFile{Data: []byte("x")} }, `bin/hello: not a directory`},
		{"nested resource", func(m fstest.MapFS) { m["resources/conf/a.yaml"] = &fstest.MapFile{Data: []byte("x")} }, `resources/conf: not a regular file (resources must be flat`},
		{"bad file name", func(m fstest.MapFS) { m["resources/a b"] = &fstest.MapFile{Data: []byte("x")} }, `resources/a b: "a b" is not a valid file name`},
		{"binary and resource", func(m fstest.MapFS) { m["resources/hello"] = &fstest.MapFile{Data: []byte("x")} }, `"hello" is both a binary and a resource`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := helloMapFS(t)
			tc.change(m)
			_, err := Load(m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: error %v\nwant one containing %s", err, tc.want)
			}
		})
	}
}

func TestValidateRequiredOptionsGetPlaceholders(t *testing.T) {
	p := pkgWithSchema(`{"type": "object", "required": ["password", "db", "replicas", "mode"],
		"properties": {
			"password": {"type": "string", "minLength": 8},
			"replicas": {"type": "integer", "minimum": 1, "examples": [3]},
			"mode": {"enum": ["a", "b"]},
			"db": {"type": "object", "required": ["host"], "properties": {"host": {"type": "string"}, "port": {"type": "integer", "default": 5432}}}
		}}`)
	p.Manifest.Kind = KindService
	p.Template = `{"id": {{json .AppID}}, "env": {"PW": {{json .Options.password}}, "DB": {{json (printf "%s:%v" .Options.db.host .Options.db.port)}}}, "instances": {{.Options.replicas}}, "mode": {{json .Options.mode}}}`
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	// Options still insists on them.
	_, err := p.Options(nil)
	var oe *OptionsError
	if !errors.As(err, &oe) || len(oe.Errors) != 4 {
		t.Errorf("Options(nil) = %v, want 4 required options", err)
	}
}

func TestValidateFiles(t *testing.T) {
	p := loadHello(t)
	p.Files = append(p.Files, File{Name: "hello", Platform: "linux/amd64"}, File{Name: ".x"}, File{Name: "y", Platform: "linux"})
	err := p.Validate()
	for _, want := range []string{"bin/linux-amd64/hello: appears twice", `files[4]: ".x" is not a valid file name`, `bin/linux/y: platform "linux" is not OS/ARCH`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v\nwant %s", err, want)
		}
	}
}
