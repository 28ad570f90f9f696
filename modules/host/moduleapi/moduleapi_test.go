package moduleapi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	s, err := Spec{Name: "dns", Kind: KindWatcher, Path: "/opt/m/../m/dns", SHA256: " SHA256:" + strings.ToUpper(sum) + " ",
		Config: json.RawMessage(`{ "zone" : "cairn." }`)}.Normalize()
	if err != nil || s.Path != "/opt/m/dns" || s.SHA256 != sum || string(s.Config) != `{"zone":"cairn."}` {
		t.Fatalf("Normalize: %+v %v", s, err)
	}
	if s, err := (Spec{Name: "a", Kind: KindHook, Path: "/a", SHA256: sum, Config: json.RawMessage("null")}).Normalize(); err != nil || s.Config != nil {
		t.Errorf("null config: %+v %v", s, err)
	}
	for _, tc := range []struct {
		spec Spec
		want string
	}{
		{Spec{}, "name: missing"},
		{Spec{Name: "-a"}, `name: "-a" is not a module name`},
		{Spec{Name: strings.Repeat("a", 64)}, "is not a module name"},
		{Spec{Name: "a"}, "module a: kind: missing"},
		{Spec{Name: "a", Kind: "x"}, `module a: kind: "x" is not a module kind`},
		{Spec{Name: "a", Kind: KindHook}, "module a: path: missing"},
		{Spec{Name: "a", Kind: KindHook, Path: "a"}, `module a: path: "a" is not absolute`},
		{Spec{Name: "a", Kind: KindHook, Path: "/a"}, "module a: sha256: missing"},
		{Spec{Name: "a", Kind: KindHook, Path: "/a", SHA256: strings.Repeat("g", 64)}, "is not a SHA-256"},
		{Spec{Name: "a", Kind: KindHook, Path: "/a", SHA256: sum, Config: json.RawMessage("{")}, "module a: config: not valid JSON"},
	} {
		if _, err := tc.spec.Normalize(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.spec, err, tc.want)
		}
	}
}

func TestConfigBytes(t *testing.T) {
	for in, want := range map[string]string{
		``:                     "",
		`null`:                 "",
		`{"a":1}`:              `{"a":1}`,
		`"zone = cairn.\n"`:    "zone = cairn.\n",
		`[1,2]`:                `[1,2]`,
		` {"a": "b"} `:         `{"a": "b"}`,
		`"not \u00e9 escaped"`: "not é escaped",
	} {
		if got := string(Spec{Config: json.RawMessage(in)}.ConfigBytes()); got != want {
			t.Errorf("ConfigBytes(%s) = %q, want %q", in, got, want)
		}
	}
}
