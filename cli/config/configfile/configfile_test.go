package configfile

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestLoadMissing(t *testing.T) {
	cfg, err := Load(filepath.Join(t.TempDir(), "nope", FileName))
	if err != nil || cfg.Current != "" || cfg.Clusters == nil || len(cfg.Clusters) != 0 {
		t.Fatalf("Load of a missing file = %+v, %v; want an empty config", cfg, err)
	}
}

func TestSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", FileName)
	cfg := &File{Current: "prod", Clusters: map[string]Cluster{
		"prod":  {URL: "https://m.example.com:5050", Token: "s3cret"},
		"local": {URL: "http://127.0.0.1:5050"},
	}}
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if d, _ := os.Stat(filepath.Dir(path)); runtime.GOOS != "windows" && d.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", d.Mode().Perm())
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Current != "prod" || got.Clusters["prod"] != cfg.Clusters["prod"] || got.Clusters["local"] != cfg.Clusters["local"] {
		t.Errorf("round trip: %+v", got)
	}
	if names := strings.Join(got.Names(), ","); names != "local,prod" {
		t.Errorf("Names = %s", names)
	}
	// No temporary file is left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want 1", len(entries))
	}
}

func TestLoadBad(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"{", "ends too early"},
		{"{\n\"clusters\": {\"a\": {\"url\": 3}}}", "line 2"},
		{`{"clusters": {"a": {"url": "http://x", "tokne": "t"}}}`, `unknown field "tokne"`},
		{`{"clusters": {"a": {}}}`, "clusters.a.url is empty"},
		{`{"clusters": {"bad name": {"url": "http://x"}}}`, `cluster name "bad name"`},
		{`{"current": "b", "clusters": {"a": {"url": "http://x"}}}`, `current is "b", which is not one of the clusters (a)`},
		{`{} {}`, "more than one JSON value"},
	} {
		path := filepath.Join(t.TempDir(), FileName)
		if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("Load(%q) = %v; want an error naming the file and saying %q", tc.body, err, tc.want)
		}
	}
	// An empty file is an empty config.
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg, err := Load(path); err != nil || len(cfg.Clusters) != 0 {
		t.Errorf("empty file: %+v, %v", cfg, err)
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"prod", "a", "dc-1.eu_west", "9"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-x", ".x", "a b", "a/b", "é", strings.Repeat("x", 65)} {
		if err := ValidateName(bad); err == nil {
			t.Errorf("ValidateName(%q) accepted", bad)
		}
	}
}

func TestUserDir(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, tc := range []struct {
		goos string
		env  func(string) string
		want string
	}{
		{"linux", env("XDG_CONFIG_HOME", "/x", "HOME", "/h"), filepath.Join("/x", "cairn")},
		{"linux", env("HOME", "/h"), filepath.Join("/h", ".config", "cairn")},
		{"darwin", env("HOME", "/h"), filepath.Join("/h", "Library", "Application Support", "cairn")},
		{"windows", env("AppData", `C:\u`), filepath.Join(`C:\u`, "cairn")},
	} {
		got, err := UserDir(tc.goos, tc.env)
		if err != nil || got != tc.want {
			t.Errorf("UserDir(%s) = %q, %v; want %q", tc.goos, got, err, tc.want)
		}
	}
	if _, err := UserDir("linux", env()); err == nil || !strings.Contains(err.Error(), "CAIRN_CONFIG_DIR") {
		t.Errorf("no HOME: %v", err)
	}
	if _, err := UserDir("linux", env("XDG_CONFIG_HOME", "rel")); err == nil {
		t.Error("a relative XDG_CONFIG_HOME accepted")
	}
}
