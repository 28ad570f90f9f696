package marathon

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// normalizedJSON parses and normalises an app and returns its JSON as a
// generic value.
func normalizedJSON(t *testing.T, data string) map[string]any {
	t.Helper()
	a, _, err := ParseApp([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	a.Normalize()
	b, _ := json.Marshal(a)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// lookup follows "a.b[].c" (x[] is x's first element).
func lookup(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		first := strings.HasSuffix(part, "[]")
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[strings.TrimSuffix(part, "[]")]; !ok {
			return nil, false
		}
		if first {
			a, ok := v.([]any)
			if !ok || len(a) == 0 {
				return nil, false
			}
			v = a[0]
		}
	}
	return v, true
}

// TestDefaultsTable checks every row of README.md's defaults table that
// states a JSON value (or "unset") against Normalize.
func TestDefaultsTable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "<!-- defaults:begin -->")
	table, _, ok2 := strings.Cut(table, "<!-- defaults:end -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no defaults table markers")
	}
	// Everything omitted: the top-level defaults, and the nested ones of
	// empty health and readiness checks, fetch entries and containers.
	plain := normalizedJSON(t, `{"id": "a", "cmd": "x", "healthChecks": [{}], "readinessChecks": [{}],
		"fetch": [{"uri": "http://x/y"}], "container": {}}`)
	// Objects given without their fields.
	given := normalizedJSON(t, `{"id": "a", "cmd": "x", "networks": [{}], "unreachableStrategy": {}}`)
	useGiven := map[string]bool{"networks[].mode": true, "unreachableStrategy.inactiveAfterSeconds": true, "unreachableStrategy.expungeAfterSeconds": true}

	checked := 0
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		def := strings.TrimSpace(cells[2])
		for _, f := range strings.Split(cells[1], ",") {
			field := strings.Trim(strings.TrimSpace(f), "`")
			doc := plain
			if useGiven[field] {
				doc = given
			}
			got, present := lookup(doc, field)
			switch {
			case strings.HasPrefix(def, "(unset"):
				if present {
					t.Errorf("%s: documented unset, got %v", field, got)
				}
				checked++
			case strings.HasPrefix(def, "`"):
				lit := strings.SplitN(def, "`", 3)[1]
				var want any
				if err := json.Unmarshal([]byte(lit), &want); err != nil {
					t.Errorf("%s: README default %q is not JSON: %v", field, lit, err)
					continue
				}
				if !present && want == false {
					got, present = false, true // false is omitted from the JSON
				}
				if !present || !reflect.DeepEqual(got, want) {
					t.Errorf("%s: README says %s, Normalize gives %v (present %v)", field, lit, got, present)
				}
				checked++
			}
		}
	}
	if checked < 40 {
		t.Errorf("only %d defaults checked: is the table intact?", checked)
	}
}

func TestNormalizeIDsAndDependencies(t *testing.T) {
	a := App{ID: "prod//shop/./web/", Dependencies: []string{"db", "../cache", "/abs/x", "./sub/y", ""}}
	a.Normalize()
	if a.ID != "/prod/shop/web" {
		t.Errorf("id %q", a.ID)
	}
	want := []string{"/prod/shop/db", "/prod/cache", "/abs/x", "/prod/shop/sub/y", ""}
	if !reflect.DeepEqual(a.Dependencies, want) {
		t.Errorf("dependencies %q, want %q", a.Dependencies, want)
	}
	// An invalid id stays for Validate to report.
	b := App{ID: "Bad_ID"}
	b.Normalize()
	if b.ID != "/Bad_ID" {
		t.Errorf("id %q", b.ID)
	}
}

func TestNormalizeIdempotent(t *testing.T) {
	for _, name := range []string{"ubuntu.json", "web.json", "worker.json", "get_response.json", "docker_example.json"} {
		a, _, err := ParseApp(readTestdata(t, name))
		if err != nil {
			t.Fatal(err)
		}
		a.Normalize()
		b := a.Clone()
		b.Normalize()
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: Normalize is not idempotent", name)
		}
		if !reflect.DeepEqual(a, a.Clone()) {
			t.Errorf("%s: Clone differs", name)
		}
	}
}

// Health checks get portIndex 0 only when they probe a port, give neither
// port nor portIndex, and the app has ports.
func TestNormalizeHealthPortIndex(t *testing.T) {
	a := App{ID: "/a", HealthChecks: []HealthCheck{{Protocol: "TCP"}, {Protocol: "COMMAND"}, {Port: ptr(80)}, {PortIndex: ptr(1)}}}
	a.Normalize()
	if *a.HealthChecks[0].PortIndex != 0 || a.HealthChecks[1].PortIndex != nil || a.HealthChecks[2].PortIndex != nil || *a.HealthChecks[3].PortIndex != 1 {
		t.Errorf("%+v", a.HealthChecks)
	}
	b := App{ID: "/b", PortDefinitions: []PortDefinition{}, HealthChecks: []HealthCheck{{Protocol: "TCP"}}}
	b.Normalize()
	if b.HealthChecks[0].PortIndex != nil {
		t.Error("no ports: no portIndex")
	}
}
