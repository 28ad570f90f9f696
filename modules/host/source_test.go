package host

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/modules/host/moduleapi"
)

func TestStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a", "modules.json")
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if specs, err := s.Modules(ctx); err != nil || len(specs) != 0 {
		t.Fatalf("empty store: %v %v", specs, err)
	}
	sum := strings.Repeat("0", 64)
	for _, name := range []string{"b", "a", "b"} {
		if err := s.Put(ctx, moduleapi.Spec{Name: name, Kind: "hook", Path: "/bin/" + name, SHA256: sum}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, moduleapi.Spec{Name: "c"}); err == nil {
		t.Error("Put accepted an invalid spec")
	}
	specs, err := s.Modules(ctx)
	if err != nil || len(specs) != 2 || specs[0].Name != "a" || specs[1].Name != "b" {
		t.Fatalf("Modules: %+v %v", specs, err)
	}
	if ok, err := s.Delete(ctx, "a"); !ok || err != nil {
		t.Errorf("Delete a: %v %v", ok, err)
	}
	if ok, err := s.Delete(ctx, "a"); ok || err != nil {
		t.Errorf("Delete a again: %v %v", ok, err)
	}
	reopened, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if specs, _ := reopened.Modules(ctx); len(specs) != 1 || specs[0].Name != "b" {
		t.Errorf("reopened: %+v", specs)
	}
	if err := os.WriteFile(path, []byte(`{"modules": [{"name": "x", "kind": "hook", "path": "/x", "sha256": "`+sum+`", "extra": 1}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(path); err == nil || !strings.Contains(err.Error(), `unknown field "extra"`) || !strings.Contains(err.Error(), "fix or remove the file") {
		t.Errorf("OpenStore of a bad file: %v", err)
	}
	if _, err := OpenStore(""); err == nil {
		t.Error("OpenStore accepted an empty path")
	}
}

func TestDecodeSpecs(t *testing.T) {
	sum := strings.Repeat("0", 64)
	specs, err := DecodeSpecs([]byte(`[{"name": "dns", "kind": "watcher", "path": "/opt/dns", "sha256": "` + sum + `", "config": {"zone": "cairn."}}]`))
	if err != nil || len(specs) != 1 || string(specs[0].Config) != `{"zone":"cairn."}` {
		t.Errorf("DecodeSpecs: %+v %v", specs, err)
	}
	_, err = DecodeSpecs([]byte(`[{"name": "a", "kind": "hook", "path": "/a", "sha256": "` + sum + `"}, {"name": "a", "kind": "hook", "path": "/b", "sha256": "` + sum + `"}]`))
	if err == nil || err.Error() != `module list [1]: name "a" is used twice: give each module its own name` {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := DecodeSpecs([]byte(`[{"name": "a"}]`)); err == nil || !strings.HasPrefix(err.Error(), "module list [0]: module a: kind: missing") {
		t.Errorf("invalid: %v", err)
	}
}
