package packaging

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

const goodManifest = `{"name": "hello", "version": "1.2.0", "description": "d", "maintainer": "m", "kind": "service"}`

// withField returns goodManifest with field set to the raw JSON value (or
// removed when raw is "").
func withField(t *testing.T, field, raw string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(goodManifest), &m); err != nil {
		t.Fatal(err)
	}
	if raw == "" {
		delete(m, field)
	} else {
		m[field] = json.RawMessage(raw)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withFields is goodManifest with several fields replaced.
func withFields(t *testing.T, fields map[string]string) []byte {
	t.Helper()
	data := []byte(goodManifest)
	for f, raw := range fields {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		m[f] = json.RawMessage(raw)
		var err error
		if data, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
	}
	return data
}

func TestParseManifestGood(t *testing.T) {
	data, err := os.ReadFile("testdata/hello/package.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "hello" || m.Version != "1.2.0" || m.Release != 3 || m.Kind != KindService ||
		len(m.Tags) != 2 || len(m.UpgradesFrom) != 2 || len(m.Licenses) != 1 || m.Licenses[0].Name != "Apache-2.0" ||
		m.Website != "https://cairn.invalid/hello" || m.PostInstallNotes == "" {
		t.Errorf("ParseManifest = %+v", m)
	}
	// Round trip: what Build writes as the config, ParseManifest reads.
	b, _ := json.Marshal(m)
	m2, err := ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(m2)
	if string(b) != string(b2) {
		t.Errorf("round trip:\n%s\n%s", b, b2)
	}
	for _, v := range []string{`"1.0.0-rc.1"`, `"1.0.0+build.7"`} {
		if _, err := ParseManifest(withField(t, "version", v)); err != nil {
			t.Errorf("version %s: %v", v, err)
		}
	}
	mod := withFields(t, map[string]string{"kind": `"module"`, "module": `{"kind": "hook", "binary": "greeter"}`})
	if m, err := ParseManifest(mod); err != nil || m.Module == nil || m.Module.Kind != ModuleHook || m.Module.Binary != "greeter" {
		t.Errorf("module manifest: %+v %v", m, err)
	}
	if _, err := ParseManifest(withField(t, "upgradesFrom", `["*"]`)); err != nil {
		t.Error(err)
	}
}

func TestParseManifestErrors(t *testing.T) {
	long := strings.Repeat("a", 64)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"bad version", withField(t, "version", `"1.x"`), `package.json: version: "1.x" is not a semantic version (want MAJOR.MINOR.PATCH)`},
		{"v prefix", withField(t, "version", `"v1.0.0"`), `package.json: version: "v1.0.0" is not a semantic version`},
		{"no version", withField(t, "version", ""), `package.json: version: is required`},
		{"version type", withField(t, "version", `1`), `package.json: version: want a string, got the number 1`},
		{"no name", withField(t, "name", ""), `package.json: name: is required`},
		{"upper name", withField(t, "name", `"Hello"`), `package.json: name: "Hello" is not a valid name`},
		{"dash name", withField(t, "name", `"hello-"`), `package.json: name: "hello-" is not a valid name`},
		{"long name", withField(t, "name", `"`+long+`"`), `package.json: name: "` + long + `" is longer than 63 characters`},
		{"reserved name", withField(t, "name", `"cairn-index"`), `package.json: name: "cairn-index" is reserved`},
		{"negative release", withField(t, "release", `-1`), `package.json: release: -1 is negative`},
		{"fractional release", withField(t, "release", `1.5`), `package.json: release: want an integer, got the number 1.5`},
		{"no description", withField(t, "description", ""), `package.json: description: is required`},
		{"no maintainer", withField(t, "maintainer", `"  "`), `package.json: maintainer: is required`},
		{"bad kind", withField(t, "kind", `"daemon"`), `package.json: kind: "daemon" is not a kind (want one of framework, module, service)`},
		{"no kind", withField(t, "kind", ""), `package.json: kind: is required`},
		{"tags type", withField(t, "tags", `"x"`), `package.json: tags: want a list of strings, got a string`},
		{"tag type", withField(t, "tags", `["a", 2]`), `package.json: tags[1]: want a string, got the number 2`},
		{"empty tag", withField(t, "tags", `["a", ""]`), `package.json: tags[1]: is empty`},
		{"space tag", withField(t, "tags", `["a b"]`), `package.json: tags[0]: "a b" contains white space`},
		{"upgradesFrom", withField(t, "upgradesFrom", `["1.0.0", "1.0"]`), `package.json: upgradesFrom[1]: "1.0" is not a semantic version or "*"`},
		{"license name", withField(t, "licenses", `[{"url": "https://x.invalid/l"}]`), `package.json: licenses[0].name: is required`},
		{"license url", withField(t, "licenses", `[{"name": "MIT"}, {"name": "MIT", "url": "ftp://x"}]`), `package.json: licenses[1].url: "ftp://x" is not an http(s) URL`},
		{"license field", withField(t, "licenses", `[{"name": "MIT", "nmae": "x"}]`), `package.json: licenses[0].nmae: unknown field`},
		{"license type", withField(t, "licenses", `["MIT"]`), `package.json: licenses[0]: want a license object, got a string`},
		{"website", withField(t, "website", `"cairn.invalid"`), `package.json: website: "cairn.invalid" is not an http(s) URL`},
		{"module without module", withField(t, "kind", `"module"`), `package.json: module: is required for a module package`},
		{"module on a service", withField(t, "module", `{"kind": "hook", "binary": "x"}`), `package.json: module: is only for module packages (this one is a service)`},
		{"module kind", withFields(t, map[string]string{"kind": `"module"`, "module": `{"kind": "daemon", "binary": "x"}`}), `package.json: module.kind: "daemon" is not a module kind (want watcher or hook)`},
		{"module binary", withFields(t, map[string]string{"kind": `"module"`, "module": `{"kind": "hook", "binary": "../x"}`}), `package.json: module.binary: "../x" is not a valid file name`},
		{"module field", withFields(t, map[string]string{"kind": `"module"`, "module": `{"kind": "hook", "binary": "x", "args": "y"}`}), `package.json: module.args: unknown field (known: binary, kind)`},
		{"module type", withFields(t, map[string]string{"kind": `"module"`, "module": `"hook"`}), `package.json: module: want a module object, got a string`},
		{"unknown field", withField(t, "maintainers", `"x"`), `package.json: maintainers: unknown field`},
		{"case-folded field", withField(t, "Name", `"x"`), `package.json: Name: unknown field`},
		{"duplicate field", []byte(`{"name": "a", "name": "b"}`), `package.json: name: duplicate field`},
		{"duplicate nested", []byte(`{"licenses": [{"name": "a", "name": "b"}]}`), `package.json: licenses[0].name: duplicate field`},
		{"syntax", []byte("{\n  \"name\": \"a\",\n  \"version\" \"1.0.0\"\n}"), `package.json: invalid JSON at line 3, column 13`},
		{"truncated", []byte(`{"name": "a"`), `package.json: invalid JSON: unexpected end of input`},
		{"trailing", []byte(goodManifest + ` {}`), `package.json: invalid JSON at line 1, column 97: invalid character '{' after top-level value`},
		{"not object", []byte(`[]`), `package.json: must be a JSON object (got a list)`},
		{"null", []byte(`null`), `package.json: must be a JSON object (got null)`},
		{"too large", []byte(`"` + strings.Repeat("x", MaxConfigSize) + `"`), `package.json: is 1048578 bytes, more than the 1048576 allowed`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseManifest(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseManifest(%s)\n got error %v\nwant error containing %s", tc.data, err, tc.want)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.File != ManifestFile {
				t.Errorf("error %v is not a *FieldError for %s", err, ManifestFile)
			}
		})
	}
}

func TestManifestValidateReportsEveryField(t *testing.T) {
	m := Manifest{Name: "Bad!", Version: "x", Kind: "k", Release: -2}
	err := m.Validate()
	for _, field := range []string{"name:", "version:", "release:", "description:", "maintainer:", "kind:"} {
		if err == nil || !strings.Contains(err.Error(), "package.json: "+field) {
			t.Errorf("Validate() = %v, want an error naming %s", err, field)
		}
	}
}
