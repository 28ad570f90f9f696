package configfile

import (
	"encoding/json"
	"testing"
)

// FuzzParse: no config file crashes Parse, and whatever it accepts is
// written and read back the same.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `{"current": "prod", "clusters": {"prod": {"url": "https://10.0.0.1:5050", "token": "t"}}}`,
		`{"clusters": {"-bad": {"url": "x"}}}`, `{"clusters": {"a": {"url": ""}}}`, `{"current": "b", "clusters": {"a": {"url": "u"}}}`,
		`{"clusters": {"a": {"url": "u", "extra": 1}}}`, `{"clusters": []}`, `{} {}`, `null`, `{"clusters": {"a": {"url": "u"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(cfg)
		if err != nil {
			t.Fatalf("re-encode accepted config: %v", err)
		}
		back, err := Parse(again)
		if err != nil {
			t.Fatalf("accepted config no longer valid after a round trip: %v\n%s", err, again)
		}
		if back.Current != cfg.Current || len(back.Clusters) != len(cfg.Clusters) {
			t.Fatalf("round trip changed the config: %+v -> %+v", cfg, back)
		}
	})
}
