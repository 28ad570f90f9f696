package packaging

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"testing"
)

// Seed corpora also live in testdata/fuzz/<FuzzName>/. Run a target with
// e.g. go test ./packaging -run '^$' -fuzz '^FuzzParseManifest$' -fuzztime 30s

func FuzzParseManifest(f *testing.F) {
	if good, err := os.ReadFile("testdata/hello/package.json"); err == nil {
		f.Add(good)
	}
	f.Add([]byte(goodManifest))
	f.Add([]byte(`{"name": "a", "name": "b"}`))
	f.Add([]byte(`{"licenses": [{"name": "MIT", "url": "http://x"}, null, 1], "tags": [null]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FieldError", err)
			}
			return
		}
		// What parses is valid, and survives a round trip (Build writes it
		// as the config blob, Read parses it back).
		if err := m.Validate(); err != nil {
			t.Fatalf("parsed but invalid: %v", err)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := ParseManifest(b)
		if err != nil {
			t.Fatalf("round trip of %s: %v", b, err)
		}
		if !reflect.DeepEqual(normalizeManifest(*m), normalizeManifest(*m2)) {
			t.Fatalf("round trip changed the manifest:\n%+v\n%+v", m, m2)
		}
	})
}

// normalizeManifest makes empty and nil lists equal (omitempty drops them).
func normalizeManifest(m Manifest) Manifest {
	if len(m.Tags) == 0 {
		m.Tags = nil
	}
	if len(m.UpgradesFrom) == 0 {
		m.UpgradesFrom = nil
	}
	if len(m.Licenses) == 0 {
		m.Licenses = nil
	}
	return m
}

func FuzzOptions(f *testing.F) {
	if schema, err := os.ReadFile("testdata/hello/options.schema.json"); err == nil {
		f.Add(schema, []byte(`{"mem": 64, "service": {"labels": {"a": "b"}}}`))
		f.Add(schema, []byte(`{"cpus": 0, "nope": 1}`))
	}
	f.Add([]byte(`{"properties": {"a": {"$ref": "#"}, "b": {"default": {"c": 1}}}}`), []byte(`{}`))
	f.Add([]byte(`{"$defs": {"p": {"type": "integer", "default": 80}}, "properties": {"p": {"$ref": "#/$defs/p"}}, "required": ["q"]}`), []byte(`{"p": 1e400}`))
	f.Fuzz(func(t *testing.T, schema, options []byte) {
		var user map[string]any
		dec := json.NewDecoder(bytes.NewReader(options))
		dec.UseNumber()
		if dec.Decode(&user) != nil {
			return
		}
		p := pkgWithSchema("")
		p.Schema = schema
		opts, err := p.Options(user)
		if err != nil {
			return
		}
		// The result is complete and valid: taking it again changes nothing.
		again, err := p.Options(opts)
		if err != nil {
			t.Fatalf("Options(Options(x)) failed: %v\nschema %s\noptions %s", err, schema, options)
		}
		if !reflect.DeepEqual(opts, again) {
			t.Fatalf("Options is not idempotent:\n%v\n%v", opts, again)
		}
	})
}

func FuzzCompareVersions(f *testing.F) {
	f.Add("1.0.0", "1.0.0-rc.1")
	f.Add("1.0.0-alpha.10", "1.0.0-alpha.9")
	f.Add("latest", "0.1.0+b")
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := CompareVersions(a, b), CompareVersions(b, a)
		if ab != -ba {
			t.Fatalf("CompareVersions(%q, %q) = %d but reversed = %d", a, b, ab, ba)
		}
		if CompareVersions(a, a) != 0 {
			t.Fatalf("CompareVersions(%q, itself) != 0", a)
		}
		if ValidVersion(a) && VersionFromTag(VersionTag(a)) != a {
			t.Fatalf("tag round trip of %q", a)
		}
	})
}
