package packaging

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestOptionsDefaults(t *testing.T) {
	p := loadHello(t)
	user := map[string]any{"mem": 64, "service": map[string]any{"labels": map[string]any{"a": "b"}}}
	got, err := p.Options(user)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"cpus":      json.Number("0.1"),
		"mem":       json.Number("64"),
		"instances": json.Number("1"),
		"greeting":  "hello",
		"service":   map[string]any{"name": "hello", "labels": map[string]any{"a": "b"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Options = %#v\nwant %#v", got, want)
	}
	if _, ok := user["cpus"]; ok {
		t.Error("Options modified the user's map")
	}
	if _, ok := user["service"].(map[string]any)["name"]; ok {
		t.Error("Options modified the user's nested map")
	}
	// No options at all: every default, nested objects created.
	got, err = p.Options(nil)
	if err != nil {
		t.Fatal(err)
	}
	if svc, _ := got["service"].(map[string]any); svc["name"] != "hello" || svc["labels"] == nil {
		t.Errorf("Options(nil)[service] = %#v, want the nested defaults", got["service"])
	}
	// float64 from a caller's json.Unmarshal keeps integers integral.
	got, err = p.Options(map[string]any{"instances": float64(3), "mem": 1e6})
	if err != nil {
		t.Fatal(err)
	}
	if got["instances"] != json.Number("3") || got["mem"] != json.Number("1000000") {
		t.Errorf("numbers: instances %#v mem %#v", got["instances"], got["mem"])
	}
}

func TestOptionsNestedDefaultsAndRefs(t *testing.T) {
	p := pkgWithSchema(`{
		"type": "object",
		"$defs": {"port": {"type": "integer", "default": 8080, "minimum": 1024}},
		"properties": {
			"a": {"type": "object", "properties": {"b": {"type": "object", "properties": {"c": {"default": "deep"}}}}},
			"empty": {"type": "object", "properties": {"x": {"type": "string"}}},
			"port": {"$ref": "#/$defs/port"},
			"obj": {"type": "object", "default": {"k": 1}, "properties": {"k": {"type": "integer"}, "j": {"default": 2}}},
			"self": {"$ref": "#"}
		}
	}`)
	got, err := p.Options(map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if c := got["a"].(map[string]any)["b"].(map[string]any)["c"]; c != "deep" {
		t.Errorf("a.b.c = %v", c)
	}
	if _, ok := got["empty"]; ok {
		t.Error("an object without defaults was created")
	}
	if got["port"] != json.Number("8080") {
		t.Errorf("port = %#v (a default through $ref)", got["port"])
	}
	if obj := got["obj"].(map[string]any); obj["k"] != json.Number("1") || obj["j"] != json.Number("2") {
		t.Errorf("obj = %#v, want its default merged with nested defaults", obj)
	}
	// A user value wins over the default.
	got, err = p.Options(map[string]any{"a": map[string]any{"b": map[string]any{"c": "mine"}}, "port": 2000})
	if err != nil {
		t.Fatal(err)
	}
	if c := got["a"].(map[string]any)["b"].(map[string]any)["c"]; c != "mine" || got["port"] != json.Number("2000") {
		t.Errorf("user values lost: %#v", got)
	}
}

func TestOptionsErrors(t *testing.T) {
	p := loadHello(t)
	_, err := p.Options(map[string]any{
		"cpus":      0,
		"mem":       "lots",
		"instances": 1.5,
		"nope":      true,
		"service":   map[string]any{"name": "Bad Name", "extra": 1},
	})
	var oe *OptionsError
	if !errors.As(err, &oe) {
		t.Fatalf("Options error = %v, want *OptionsError", err)
	}
	wantPrefixes := []string{"/cpus: ", "/instances: ", "/mem: ", "/nope: unknown option", "/service/extra: unknown option", "/service/name: "}
	if len(oe.Errors) != len(wantPrefixes) {
		t.Fatalf("errors = %q, want one per prefix %q", oe.Errors, wantPrefixes)
	}
	for i, e := range oe.Errors {
		if !strings.HasPrefix(e, wantPrefixes[i]) {
			t.Errorf("error %d = %q, want prefix %q", i, e, wantPrefixes[i])
		}
	}
	if !strings.Contains(err.Error(), "/cpus: minimum") {
		t.Errorf("Error() = %q", err)
	}

	req := pkgWithSchema(`{"type": "object", "required": ["password"], "properties": {"password": {"type": "string", "minLength": 8}, "db": {"type": "object", "required": ["host"], "properties": {"host": {"type": "string"}}}}}`)
	_, err = req.Options(map[string]any{"db": map[string]any{}})
	if !errors.As(err, &oe) || !slices.Equal(oe.Errors, []string{"/db/host: is required", "/password: is required"}) {
		t.Errorf("required: %v", err)
	}
	_, err = req.Options(map[string]any{"password": "short", "db": map[string]any{"host": "h"}})
	if !errors.As(err, &oe) || len(oe.Errors) != 1 || !strings.HasPrefix(oe.Errors[0], "/password: minLength") {
		t.Errorf("minLength: %v", err)
	}
}

func TestOptionsWithoutSchema(t *testing.T) {
	p := pkgWithSchema("")
	got, err := p.Options(nil)
	if err != nil || len(got) != 0 {
		t.Errorf("Options(nil) = %v, %v", got, err)
	}
	_, err = p.Options(map[string]any{"x": 1})
	var oe *OptionsError
	if !errors.As(err, &oe) || !strings.Contains(oe.Errors[0], "/x: unknown option (package p takes no options)") {
		t.Errorf("Options(x) = %v", err)
	}
}

func TestOptionsBadSchema(t *testing.T) {
	for _, tc := range []struct{ schema, want string }{
		{`{"type": "object", "properties": {"x": {"type": "strnig"}}}`, "options.schema.json: not a valid JSON Schema: /properties/x/type: "},
		{`{"type": "string"}`, `options.schema.json: type: must be "object"`},
		{`[]`, `options.schema.json: must be a JSON Schema object (got a list)`},
		{`{"type": "object",}`, `options.schema.json: invalid JSON at line 1, column 19`},
		{`{"properties": {"x": {"$ref": "https://example.invalid/s.json"}}}`, `references outside options.schema.json are not allowed`},
		{`{"properties": {"x": {"$ref": "file:///etc/passwd"}}}`, `references outside options.schema.json are not allowed`},
		{`{"properties": {"x": {"pattern": "("}}}`, `options.schema.json: `},
	} {
		_, err := pkgWithSchema(tc.schema).Options(nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("schema %s: error %v, want %q", tc.schema, err, tc.want)
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.File != SchemaFile {
			t.Errorf("schema %s: error %v is not a *FieldError for %s", tc.schema, err, SchemaFile)
		}
	}
}
