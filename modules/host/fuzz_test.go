package host

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeSpecs: no module list (the host's configuration, its store
// file) crashes DecodeSpecs, and whatever it accepts is read back the same.
func FuzzDecodeSpecs(f *testing.F) {
	sum := "8fe64f58446df2187b273e39e761081c5062adff86b45991b29589a18c2dcc21"
	for _, s := range []string{
		``, `[]`, `{"modules": []}`,
		`[{"name": "dns", "kind": "watcher", "path": "/opt/m/dns", "sha256": "` + sum + `", "config": {"listen": "127.0.0.1:8053"}}]`,
		`[{"name": "echo", "kind": "hook", "path": "/m/echo", "sha256": "sha256:` + sum + `", "config": "text",
		   "package": {"name": "echo", "version": "1.0.0", "source": "oci://r/ns", "digest": "sha256:` + sum + `"}}]`,
		`[{"name": "a", "kind": "hook", "path": "rel", "sha256": "x"}]`, `[{"name": "a"}, {"name": "a"}]`, `{"modules": [{"nope": 1}]}`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		specs, err := DecodeSpecs(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(specs)
		if err != nil {
			t.Fatalf("re-encode accepted specs: %v", err)
		}
		back, err := DecodeSpecs(again)
		if err != nil {
			t.Fatalf("accepted specs no longer valid after a round trip: %v\n%s", err, again)
		}
		if len(back) != len(specs) {
			t.Fatalf("round trip changed the list: %d -> %d", len(specs), len(back))
		}
	})
}
