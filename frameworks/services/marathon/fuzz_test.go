package marathon

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// FuzzParseApp: ParseApp never panics; whatever parses, normalises and
// validates survives a JSON round trip unchanged, and the things derived
// from it (task ids, health checks, environment, updates) work.
// Seeds: the testdata apps and testdata/fuzz/FuzzParseApp.
func FuzzParseApp(f *testing.F) {
	for _, name := range []string{"ubuntu.json", "web.json", "worker.json", "get_response.json", "docker_example.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, _, err := ParseApp(data)
		if err != nil {
			if _, ok := err.(*ValidationError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		// Updates made of the same document never panic either.
		if u, _, err := ParseAppUpdate(data); err == nil {
			_ = u.ValidateFor("/base")
			next := u.Apply(App{ID: "/base", Cmd: ptr("x")})
			next.Normalize()
			_ = next.Validate()
		}
		a.Normalize()
		if verr := a.Validate(); verr != nil {
			if len(verr.Details) == 0 {
				t.Fatal("a ValidationError without details")
			}
			return
		}
		out, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("Marshal of a valid app: %v", err)
		}
		b, warnings, err := ParseApp(out)
		if err != nil || len(warnings) > 0 {
			t.Fatalf("valid app does not parse back: %v %q\n%s", err, warnings, out)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip changed the app:\n%#v\n%#v\n%s", a, b, out)
		}
		var c App
		if err := json.Unmarshal(out, &c); err != nil {
			t.Fatalf("encoding/json cannot read a valid app: %v\n%s", err, out)
		}
		if again, _ := json.Marshal(c); !bytes.Equal(out, again) {
			t.Fatalf("encoding/json round trip changed the app:\n%s\n%s", out, again)
		}
		c.Normalize()
		if !reflect.DeepEqual(a, c) {
			t.Fatalf("Normalize not idempotent after a round trip")
		}

		tid := NewTaskID(a.ID)
		if err := protocol.ValidateTaskID("task", tid); err != nil {
			t.Fatal(err)
		}
		if id, ok := AppIDOf(tid); !ok || id != a.ID {
			t.Fatalf("AppIDOf(%q) = %q, %v", tid, id, ok)
		}
		ports := make([]uint64, len(a.PortDefinitions))
		for i := range ports {
			ports[i] = uint64(31000 + i)
		}
		for i, h := range a.HealthChecks {
			if _, err := h.ToMesos(ports); err != nil {
				t.Fatalf("health check %d of a valid app: %v", i, err)
			}
		}
		_ = TaskEnv(a, ports, "host")
	})
}
