package resources

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// Examples in the shapes of the Mesos documentation (agent --resources,
// operator RESERVE/CREATE_VOLUMES, agent state).
func TestMesosJSONExamples(t *testing.T) {
	tests := []struct {
		name, json, text string
	}{
		{"agent --resources", `[
  {
    "name": "cpus",
    "type": "SCALAR",
    "scalar": {
      "value": 24
    }
  },
  {
    "name": "mem",
    "type": "SCALAR",
    "scalar": {
      "value": 24576
    }
  },
  {
    "name": "ports",
    "type": "RANGES",
    "ranges": {
      "range": [
        {
          "begin": 21000,
          "end": 24000
        },
        {
          "begin": 30000,
          "end": 34000
        }
      ]
    }
  },
  {
    "name": "bugs",
    "type": "SET",
    "set": {
      "item": [
        "a",
        "b",
        "c"
      ]
    }
  }
]`, "bugs:{a,b,c};cpus:24;mem:24576;ports:[21000-24000,30000-34000]"},
		{"static role (deprecated field)", `[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1},"role":"prod"},
  {"name":"cpus","type":"SCALAR","scalar":{"value":0.2},"role":"*"}]`, "cpus:0.2;cpus(prod):0.1"},
		{"agent state with allocation_info", `[{"name":"cpus","type":"SCALAR","scalar":{"value":1.5},"role":"*",
  "allocation_info":{"role":"web"}}]`, "cpus:1.5"},
		{"static reservations", `[{"name":"mem","type":"SCALAR","scalar":{"value":512},
  "reservations":[{"type":"STATIC","role":"prod"}]}]`, "mem(prod):512"},
	}
	for _, tt := range tests {
		var got Resources
		if err := json.Unmarshal([]byte(tt.json), &got); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got.String() != tt.text {
			t.Errorf("%s: decoded %q; want %q", tt.name, got, tt.text)
		}
		viaParse, err := Parse("\n " + tt.json)
		if err != nil || !viaParse.Equal(got) {
			t.Errorf("%s: Parse(JSON) = %v, %v", tt.name, viaParse, err)
		}
		checkJSONRoundTrip(t, got)
	}
}

func TestMesosJSONReservationsAndVolumes(t *testing.T) {
	refined := `[{"name":"cpus","type":"SCALAR","scalar":{"value":8},
  "reservations":[
    {"type":"STATIC","role":"ads"},
    {"type":"DYNAMIC","role":"ads/web","principal":"ops","labels":{"labels":[{"key":"foo","value":"bar"},{"key":"empty"}]}}
  ]}]`
	var r Resources
	if err := json.Unmarshal([]byte(refined), &r); err != nil {
		t.Fatal(err)
	}
	want := Resources{{Name: "cpus", Type: Scalar, Scalar: 8000, Reservations: []Reservation{
		{Type: Static, Role: "ads"},
		{Type: Dynamic, Role: "ads/web", Principal: "ops", Labels: map[string]string{"foo": "bar", "empty": ""}},
	}}}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("got %#v", r)
	}
	checkJSONRoundTrip(t, r)

	// The pre-refinement format: "role" plus "reservation" is a dynamic
	// reservation; plus a persistent volume.
	legacy := `[{"name":"disk","type":"SCALAR","scalar":{"value":2048},"role":"db",
  "reservation":{"principal":"fw","labels":{"labels":[{"key":"k","value":"v"}]}},
  "disk":{"persistence":{"id":"vol-1","principal":"fw"},"volume":{"container_path":"data","mode":"RW"}}}]`
	if err := json.Unmarshal([]byte(legacy), &r); err != nil {
		t.Fatal(err)
	}
	want = Resources{{Name: "disk", Type: Scalar, Scalar: 2048000,
		Reservations: []Reservation{{Type: Dynamic, Role: "db", Principal: "fw", Labels: map[string]string{"k": "v"}}},
		Disk:         &DiskInfo{Persistence: &Persistence{ID: "vol-1", Principal: "fw"}, Volume: &Volume{ContainerPath: "data", Mode: "RW"}},
	}}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("got %#v", r)
	}
	checkJSONRoundTrip(t, r)
	b, _ := json.Marshal(r)
	const out = `[{"name":"disk","type":"SCALAR","scalar":{"value":2048},"reservations":[{"type":"DYNAMIC","role":"db","principal":"fw","labels":{"labels":[{"key":"k","value":"v"}]}}],"disk":{"persistence":{"id":"vol-1","principal":"fw"},"volume":{"container_path":"data","mode":"RW"}}}]`
	if string(b) != out {
		t.Fatalf("marshal:\n%s\nwant\n%s", b, out)
	}

	// Labels as a plain object are accepted too.
	var x Reservation
	if err := json.Unmarshal([]byte(`{"type":"DYNAMIC","role":"a","labels":{"k":"v"}}`), &x); err != nil || x.Labels["k"] != "v" {
		t.Fatalf("plain labels: %v %v", x, err)
	}
}

func TestJSONOutputShape(t *testing.T) {
	r := MustParse("cpus:0.1;ports:[31000-32000];zones:{b,a};cpus(prod):2")
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	const want = `[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},` +
		`{"name":"cpus","type":"SCALAR","scalar":{"value":2},"reservations":[{"type":"STATIC","role":"prod"}]},` +
		`{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]}},` +
		`{"name":"zones","type":"SET","set":{"item":["a","b"]}}]`
	if string(b) != want {
		t.Fatalf("got\n%s\nwant\n%s", b, want)
	}
	if b, _ := json.Marshal(Resources(nil)); string(b) != "[]" {
		t.Fatalf("nil = %s", b)
	}
	// Embedded in a wire message.
	type offer struct {
		ID        string    `json:"id"`
		Resources Resources `json:"resources"`
	}
	b, _ = json.Marshal(offer{"o1", MustParse("mem:1.5")})
	if string(b) != `{"id":"o1","resources":[{"name":"mem","type":"SCALAR","scalar":{"value":1.5}}]}` {
		t.Fatalf("embedded = %s", b)
	}
	var o offer
	if err := json.Unmarshal(b, &o); err != nil || o.Resources.String() != "mem:1.5" {
		t.Fatalf("embedded decode = %v, %v", o, err)
	}
}

func TestJSONErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1}},{"name":"mem","type":"SCALAR","scalar":{"value":1}},{"name":"cpus","type":"SCALAR","scalar":{"value":-2}}]`,
			"resources[2].scalar.value: must be >= 0 (got -2)"},
		{`[{"type":"SCALAR","scalar":{"value":1}}]`, "resources[0].name: missing"},
		{`[{"name":"cpus","type":"FLOAT","scalar":{"value":1}}]`, `resources[0].type: unknown type "FLOAT" for cpus; expected SCALAR, RANGES or SET`},
		{`[{"name":"cpus","type":"TEXT","scalar":{"value":1}}]`, `resources[0].type: unknown type "TEXT"`},
		{`[{"name":"cpus","scalar":{"value":1},"set":{"item":["a"]}}]`, "resources[0].type: missing for cpus"},
		{`[{"name":"cpus","type":"SCALAR"}]`, "resources[0].scalar.value: missing for SCALAR resource cpus"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{}}]`, "resources[0].scalar.value: missing"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":null}}]`, "resources[0].scalar.value: missing"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":"abc"}}]`, `resources[0].scalar.value: value "abc" is not a number`},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":true}}]`, "resources[0].scalar.value: expected a number, got a boolean"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1e20}}]`, `resources[0].scalar.value: value "1e20" is too large`},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"ranges":{"range":[]}}]`, "resources[0].ranges: not allowed on a SCALAR resource"},
		{`[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":10,"end":5}]}}]`, "resources[0].ranges.range[0]: range 10-5 has begin > end"},
		{`[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":2},{"begin":3}]}}]`, "resources[0].ranges.range[1].end: missing"},
		{`[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":-1,"end":2}]}}]`, "resources[0].ranges.range[0].begin: -1 is not an integer"},
		{`[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1.5,"end":2}]}}]`, "resources[0].ranges.range[0].begin: 1.5 is not an integer"},
		{`[{"name":"ports","type":"RANGES","ranges":{"range":{}}}]`, "resources[0].ranges.range: expected an array, got JSON object"},
		{`[{"name":"z","type":"SET","set":{"item":["a",""]}}]`, "resources[0].set.item[0]: is empty"},
		{`[{"name":"z","type":"SET","set":{"item":[1]}}]`, "resources[0].set.item: expected a string, got JSON number"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"role":"a"}]}]`, "resources[0].reservations[0].type: missing; use STATIC or DYNAMIC"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"-a"}]}]`, `resources[0].reservations[0].role: invalid role "-a"`},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"a","labels":{"labels":[{"key":"k"},{"key":"k"}]}}]}]`, `resources[0].reservations[0].labels.labels[1].key: duplicate label key "k"`},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"a","labels":{"k":1}}]}]`, `resources[0].reservations[0].labels.k: label values must be strings`},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"b","reservations":[{"type":"DYNAMIC","role":"a"}]}]`, `resources[0].role: "b" disagrees with the reservations`},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservation":{"principal":"p"}}]`, "resources[0].reservation: a dynamic reservation needs a role"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"revocable":{}}]`, "resources[0].revocable: revocable resources are not supported"},
		{`[{"name":"disk","type":"SCALAR","scalar":{"value":1},"disk":{"source":{"type":"MOUNT"}}}]`, "resources[0].disk.source: disk sources"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"disk":{"persistence":{"id":"x"}}}]`, "resources[0].disk: only disk resources"},
		{`[{"name":"disk","type":"SCALAR","scalar":{"value":1},"disk":{"persistence":{"id":""}}}]`, "resources[0].disk.persistence.id: missing"},
		{`[{"name":"foo","type":"SCALAR","scalar":{"value":1}},{"name":"foo","type":"SET","set":{"item":["a"]}}]`, "resources[1].type: foo is SET here but SCALAR in resources[0]"},
		{`[{"name":"gpus","type":"SCALAR","scalar":{"value":0.5}}]`, "resources[0].scalar.value: gpus must be a whole number"},
		{`{"name":"cpus"}`, "resources: expected a JSON array of resources"},
		{`[1]`, "resources[0]: expected a JSON object"},
		{`[{"name":5}]`, "resources[0].name: expected a string, got JSON number"},
	}
	for _, tt := range tests {
		var r Resources
		err := json.Unmarshal([]byte(tt.in), &r)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("decode %s\n  error %v\n  want prefix %q", tt.in, err, tt.want)
		}
	}
	var r Resource
	if err := json.Unmarshal([]byte(`{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}`), &r); err == nil ||
		err.Error() != "resource.scalar.value: must be >= 0 (got -1)" {
		t.Errorf("single resource error: %v", err)
	}
}

func TestJSONLenientInputs(t *testing.T) {
	tests := []struct{ in, text string }{
		{`null`, ""},
		{`[]`, ""},
		{`[{"name":"cpus","scalar":{"value":2}}]`, "cpus:2"},                       // type inferred
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":"2.5"}}]`, "cpus:2.5"}, // proto3 string number
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":0.12345}}]`, "cpus:0.123"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":0.0005}}]`, "cpus:0.001"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1.5e2}}]`, "cpus:150"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":0}}]`, ""},
		{`[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":"5","end":"9"},{"begin":1,"end":4}]}}]`, "ports:[1-9]"},
		{`[{"name":"ports","type":"RANGES","ranges":{}}]`, ""},
		{`[{"name":"z","type":"SET","set":{"item":["b","a","b"]}}]`, "z:{a,b}"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"disk":{}}]`, "cpus:1"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"revocable":null,"role":""}]`, "cpus:1"},
	}
	for _, tt := range tests {
		var r Resources
		if err := json.Unmarshal([]byte(tt.in), &r); err != nil || r.String() != tt.text {
			t.Errorf("decode %s = %q, %v; want %q", tt.in, r, err, tt.text)
		}
	}
}

// checkJSONRoundTrip checks that r survives JSON and text unchanged.
func checkJSONRoundTrip(t *testing.T, r Resources) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("marshal %v: %v", r, err)
	}
	var back Resources
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	if !back.Equal(r) {
		t.Fatalf("JSON round trip: %v -> %s -> %v", r, b, back)
	}
	text, err := Parse(r.String())
	if err != nil || !text.Equal(r) {
		t.Fatalf("text round trip: %v -> %q -> %v, %v", r, r.String(), text, err)
	}
}
