package resources

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzParse feeds text and JSON to Parse: it must never panic, and whatever
// parses must be valid, normalised, and round-trip through String/Parse and
// through JSON.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"",
		"cpus:4;mem:8192;disk:10000;ports:[31000-32000,33000-33010];zones:{a,b}",
		"cpus(prod):2;cpus:1;cpus(prod):0.5",
		" cpus ( eng/web ) : 0.001 ; ; mem : 1.5 ",
		"ports:[1-5,3-8,10];ports:[9]",
		"ports:[0-18446744073709551615]",
		"cpus:9223372036854775.807;cpus:0.001",
		"gpus:2;zones:{ b , a }",
		"cpus:abc", "ports:[5-1]", "cpus:0.0001", "cpus(-x):1", "{a,b}",
		`{"name":"disk","type":"SCALAR","scalar":{"value":100},"reservations":[{"type":"DYNAMIC","role":"db","principal":"ops","labels":{"labels":[{"key":"k","value":"v;w"}]}}],"disk":{"persistence":{"id":"v1"},"volume":{"container_path":"data","mode":"RW"}}};cpus:1`,
		`[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},{"name":"cpus","role":"prod","scalar":{"value":0.2}}]`,
		`[{"name":"cpus","type":"SCALAR","scalar":{"value":1.2345e2},"reservations":[{"type":"STATIC","role":"a"},{"type":"DYNAMIC","role":"a/b"}]}]`,
		`[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":"5","end":9}]}},{"name":"z","type":"SET","set":{"item":[" x","y,z"]}}]`,
		`[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"we)ird"}]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("Parse(%q) gave invalid resources: %v", s, err)
		}
		if !isNormal(r) {
			t.Fatalf("Parse(%q) not normalised: %#v", s, r)
		}
		text := r.String()
		back, err := Parse(text)
		if err != nil || !back.Equal(r) {
			t.Fatalf("Parse(%q) = %#v; String = %q; Parse again = %#v, %v", s, r, text, back, err)
		}
		if back.String() != text {
			t.Fatalf("String unstable: %q then %q", text, back.String())
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var j Resources
		if err := json.Unmarshal(b, &j); err != nil || !j.Equal(r) {
			t.Fatalf("JSON round trip of %q: %s -> %#v, %v", s, b, j, err)
		}
		if !r.Contains(r) || !r.Minus(r).IsEmpty() || !r.Plus(r).Contains(r) {
			t.Fatalf("algebra on %q", s)
		}
	})
}

// FuzzParseAttributes: never panic; whatever parses round-trips through
// String/ParseAttributes and through JSON.
func FuzzParseAttributes(f *testing.F) {
	for _, s := range []string{
		"",
		"rack:r1;zone:a;level:3;ports:[1-5];zones:{a,b}",
		" rack : r1 ;; temp:-1.5;url:http://x:80/y;ver:1.2.3",
		"rack:r1;rack:r2", "level:1.2345", "p:[5-1]", "x:{a,,b}",
		`{"name":"n","type":"TEXT","text":{"value":"3"}};ok:plain`,
		`[{"name":"rack","type":"TEXT","text":{"value":"r1"}},{"name":"level","type":"SCALAR","scalar":{"value":-3.5}}]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		as, err := ParseAttributes(s)
		if err != nil {
			return
		}
		if err := as.Validate(); err != nil {
			t.Fatalf("ParseAttributes(%q) gave invalid attributes: %v", s, err)
		}
		text := as.String()
		back, err := ParseAttributes(text)
		if err != nil || !reflect.DeepEqual(back, as) {
			t.Fatalf("ParseAttributes(%q) = %#v; String = %q; parse again = %#v, %v", s, as, text, back, err)
		}
		b, err := json.Marshal(as)
		if err != nil {
			t.Fatal(err)
		}
		var j Attributes
		if err := json.Unmarshal(b, &j); err != nil || !reflect.DeepEqual(j, as) {
			t.Fatalf("JSON round trip of %q: %s -> %#v, %v", s, b, j, err)
		}
	})
}

// FuzzFastJSON: the fast JSON paths agree with the general ones.
func FuzzFastJSON(f *testing.F) {
	for _, s := range []string{
		`[]`, ` [ ] `, `null`,
		`[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},{"name":"mem","type":"SCALAR","scalar":{"value":32}}]`,
		`[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000},{"end":5,"begin":1}]}}]`,
		`[{"type":"SET","name":"zones","set":{"item":["b","a","b"]}}]`,
		`[{"name":"cpus","type":"SCALAR","scalar":{"value":1e2}},{"name":"cpus","type":"SCALAR","scalar":{"value":-0}}]`,
		`[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"name":"mem"}]`,
		`[{"name":"cpus","type":"RANGES","scalar":{"value":1}}]`,
		`[{"Name":"cpus","type":"SCALAR","scalar":{"value":1}}]`,
		`[{"name":"gpus","type":"SCALAR","scalar":{"value":0.5}}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := fastDecodeResources(data)
		var general Resources
		gerr := general.slowUnmarshal(data)
		if ok {
			if gerr != nil {
				t.Fatalf("fast path accepted %q, general refused: %v", data, gerr)
			}
			if !fast.Equal(general) || fast.String() != general.String() {
				t.Fatalf("paths disagree on %q: fast %#v general %#v", data, fast, general)
			}
		}
		if gerr != nil {
			return
		}
		if out, ok := appendResourcesFast(nil, general); ok {
			slow, err := general.slowMarshal()
			if err != nil || string(out) != string(slow) {
				t.Fatalf("encoders disagree on %#v:\nfast %s\nslow %s (%v)", general, out, slow, err)
			}
		}
	})
}
