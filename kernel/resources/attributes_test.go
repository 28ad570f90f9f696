package resources

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParseAttributes(t *testing.T) {
	got, err := ParseAttributes(" rack : r1 ; zone:a;level:3;ports:[1-5];zones:{b,a};temp:-1.5;url:http://x:80/y;ver:1.2.3;;")
	if err != nil {
		t.Fatal(err)
	}
	want := Attributes{
		{Name: "rack", Type: Text, Text: "r1"},
		{Name: "zone", Type: Text, Text: "a"},
		{Name: "level", Type: Scalar, Scalar: 3000},
		{Name: "ports", Type: Ranges, Ranges: RangeSet{{1, 5}}},
		{Name: "zones", Type: Set, Set: []string{"a", "b"}},
		{Name: "temp", Type: Scalar, Scalar: -1500},
		{Name: "url", Type: Text, Text: "http://x:80/y"},
		{Name: "ver", Type: Text, Text: "1.2.3"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
	if s := got.String(); s != "rack:r1;zone:a;level:3;ports:[1-5];zones:{a,b};temp:-1.5;url:http://x:80/y;ver:1.2.3" {
		t.Fatalf("String = %q", s)
	}
	values := map[string]string{"rack": "r1", "level": "3", "ports": "[1-5]", "zones": "{a,b}", "temp": "-1.5"}
	for name, v := range values {
		a, ok := got.Get(name)
		if !ok || a.Value() != v {
			t.Errorf("Get(%q).Value() = %q, %v; want %q", name, a.Value(), ok, v)
		}
	}
	if _, ok := got.Get("nope"); ok {
		t.Error("Get(nope) found something")
	}
	if empty, err := ParseAttributes(""); err != nil || empty != nil {
		t.Errorf("empty = %v, %v", empty, err)
	}
	checkAttributesRoundTrip(t, got)
}

func TestParseAttributesErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"rack:r1;rack:r2", `attribute "rack:r2": duplicate name rack (first given as "rack:r1"); an agent has one value per attribute`},
		{"rack", `attribute "rack": missing ':' between name and value; expected e.g. rack:r1`},
		{"rack:", `attribute "rack:": missing value after ':'`},
		{":r1", `attribute ":r1": missing name before ':'`},
		{"ra ck:r1", `attribute "ra ck:r1": attribute name "ra ck" contains ' '`},
		{"level:1.2345", `attribute "level:1.2345": value "1.2345" has more than 3 decimals`},
		{"p:[5-1]", `attribute "p:[5-1]": range 5-1 has begin > end`},
		{"z:{a,,b}", `attribute "z:{a,,b}": set {a,,b} has an empty item`},
		{"t:a\x01b", `attribute "t:a\x01b": value "a\x01b" contains the control character`},
		{`{"name":"rack","type":"TEXT"}`, `attribute "{\"name\":\"rack\",\"type\":\"TEXT\"}": text.value: missing`},
		{`[{"name":"rack","type":"TEXT","text":{"value":"a"}},{"name":"rack","type":"TEXT","text":{"value":"b"}}]`, `attributes[1].name: duplicate name rack`},
		{`[{"name":"rack","type":"SCALAR","scalar":{"value":"x"}}]`, `attributes[0].scalar.value: value "x" is not a number`},
		{`[{"name":"rack","type":"BLOB"}]`, `attributes[0].type: unknown type "BLOB"`},
		{`[{"name":"rack","type":"TEXT","text":{"value":"a"},"scalar":{"value":1}}]`, `attributes[0]: a TEXT attribute must only have "text"`},
	}
	for _, tt := range tests {
		_, err := ParseAttributes(tt.in)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseAttributes(%q) error\n  %v\nwant prefix\n  %q", tt.in, err, tt.want)
		}
	}
}

func TestAttributesJSON(t *testing.T) {
	const in = `[
  {"name":"rack","type":"TEXT","text":{"value":"r1"}},
  {"name":"level","type":"SCALAR","scalar":{"value":3}},
  {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":5}]}},
  {"name":"zones","type":"SET","set":{"item":["a","b"]}}
]`
	var as Attributes
	if err := json.Unmarshal([]byte(in), &as); err != nil {
		t.Fatal(err)
	}
	if as.String() != "rack:r1;level:3;ports:[1-5];zones:{a,b}" {
		t.Fatalf("decoded %q", as)
	}
	b, err := json.Marshal(as)
	if err != nil {
		t.Fatal(err)
	}
	const out = `[{"name":"rack","type":"TEXT","text":{"value":"r1"}},{"name":"level","type":"SCALAR","scalar":{"value":3}},{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":5}]}},{"name":"zones","type":"SET","set":{"item":["a","b"]}}]`
	if string(b) != out {
		t.Fatalf("marshal\n%s\nwant\n%s", b, out)
	}
	if b, _ := json.Marshal(Attributes(nil)); string(b) != "[]" {
		t.Fatalf("nil = %s", b)
	}
	checkAttributesRoundTrip(t, as)
}

// TEXT values that text cannot express are written as JSON entries.
func TestAttributesTextFallback(t *testing.T) {
	as := Attributes{
		{Name: "n", Type: Text, Text: "3"},
		{Name: "b", Type: Text, Text: "[x"},
		{Name: "s", Type: Text, Text: "a;b"},
		{Name: "w", Type: Text, Text: " padded "},
		{Name: "z", Type: Set, Set: []string{"a,b"}},
		{Name: "ok", Type: Text, Text: "plain"},
	}
	if err := as.Validate(); err != nil {
		t.Fatal(err)
	}
	s := as.String()
	if !strings.HasSuffix(s, ";ok:plain") || !strings.HasPrefix(s, `{"name":"n","type":"TEXT","text":{"value":"3"}}`) {
		t.Fatalf("String = %s", s)
	}
	checkAttributesRoundTrip(t, as)
}

func TestAttributesValidateEqual(t *testing.T) {
	a := MustParseAttributes("rack:r1;level:3")
	b := MustParseAttributes("level:3;rack:r1")
	if !a.Equal(b) || a.Equal(MustParseAttributes("rack:r1;level:4")) || a.Equal(MustParseAttributes("rack:r1")) {
		t.Fatal("Equal")
	}
	bad := Attributes{{Name: "a", Type: Text, Text: "x"}, {Name: "a", Type: Scalar, Scalar: 1}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "attributes[1].name: duplicate name a") {
		t.Fatalf("Validate = %v", err)
	}
	if err := (Attribute{Name: "a", Type: Text}).Validate(); err == nil || !strings.Contains(err.Error(), "text.value: is empty") {
		t.Fatalf("empty text: %v", err)
	}
}

func checkAttributesRoundTrip(t *testing.T, as Attributes) {
	t.Helper()
	back, err := ParseAttributes(as.String())
	if err != nil || !reflect.DeepEqual(back, as) {
		t.Fatalf("text round trip: %#v -> %q -> %#v, %v", as, as.String(), back, err)
	}
	b, err := json.Marshal(as)
	if err != nil {
		t.Fatal(err)
	}
	var j Attributes
	if err := json.Unmarshal(b, &j); err != nil || !reflect.DeepEqual(j, as) {
		t.Fatalf("JSON round trip: %#v -> %s -> %#v, %v", as, b, j, err)
	}
}
