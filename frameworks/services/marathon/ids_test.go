package marathon

import (
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

func TestCanonicalID(t *testing.T) {
	for in, want := range map[string]string{
		"web":                  "/web",
		"/web":                 "/web",
		"/prod/web/":           "/prod/web",
		"//prod///web":         "/prod/web",
		"prod/./web":           "/prod/web",
		"/prod/staging/../web": "/prod/web",
		"/../web":              "/web",
		"/a.b/c-d/0":           "/a.b/c-d/0",
		"/svc.v1.2/x":          "/svc.v1.2/x",
		"/9":                   "/9",
	} {
		got, err := CanonicalID(in)
		if err != nil || got != want {
			t.Errorf("CanonicalID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"":                                     "empty",
		"/":                                    "root group",
		"/..":                                  "root group",
		"/Web":                                 "uppercase",
		"/my_app":                              "'_'",
		"/a b":                                 "' '",
		"/-a":                                  "'-'",
		"/a-":                                  "'-'",
		"/a.-b":                                "'-'",
		"/a..b":                                "empty part between dots",
		"/.a":                                  "empty part between dots",
		"/a.":                                  "empty part between dots",
		"/...":                                 "empty part between dots",
		"/prod/restart":                        "reserved",
		"/versions":                            "reserved",
		"/héllo":                               "character",
		"/" + strings.Repeat("a", MaxIDLength): "limits app ids",
	} {
		_, err := CanonicalID(in)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("CanonicalID(%q): %v, want an error containing %q", in, err, msg)
		}
	}
	// The longest id accepted still makes valid task ids.
	long := "/" + strings.Repeat("a", MaxIDLength-1)
	if _, err := CanonicalID(long); err != nil {
		t.Fatal(err)
	}
	if err := protocol.ValidateTaskID("t", NewTaskID(long)); err != nil {
		t.Error(err)
	}
}

func TestResolveID(t *testing.T) {
	for _, c := range []struct{ base, id, want string }{
		{"/prod", "db", "/prod/db"},
		{"/prod/shop", "../db", "/prod/db"},
		{"/prod", "/other/db", "/other/db"},
		{"/", "db", "/db"},
		{"/prod", "./cache/redis", "/prod/cache/redis"},
	} {
		got, err := ResolveID(c.base, c.id)
		if err != nil || got != c.want {
			t.Errorf("ResolveID(%q, %q) = %q, %v; want %q", c.base, c.id, got, err, c.want)
		}
	}
}

func TestTaskIDs(t *testing.T) {
	for id, prefix := range map[string]string{
		"/ubuntu":          "ubuntu.",
		"/prod/web":        "prod_web.",
		"/prod/web.v2/api": "prod_web.v2_api.",
		"/a-b/c.d.e/0":     "a-b_c.d.e_0.",
	} {
		tid := NewTaskID(id)
		if !strings.HasPrefix(string(tid), prefix) || len(tid) != len(prefix)+26 {
			t.Errorf("NewTaskID(%q) = %q, want %s<ulid>", id, tid, prefix)
		}
		if err := protocol.ValidateTaskID("task", tid); err != nil {
			t.Error(err)
		}
		if got, ok := AppIDOf(tid); !ok || got != id {
			t.Errorf("AppIDOf(%q) = %q, %v; want %q", tid, got, ok, id)
		}
		// Lowercased ULIDs (Marathon's ids are lowercase) are read too.
		if got, ok := AppIDOf(protocol.TaskID(strings.ToLower(string(tid)))); !ok || got != id {
			t.Errorf("AppIDOf(lowercased %q) = %q, %v", tid, got, ok)
		}
	}
	if NewTaskID("/a") == NewTaskID("/a") {
		t.Error("task ids repeat")
	}
	for _, bad := range []string{
		"", "ubuntu", "ubuntu.", ".01J0000000000000000000000", "ubuntu.notaulid",
		"Ubuntu.01HZZZZZZZZZZZZZZZZZZZZZZZ", "a__b.01HZZZZZZZZZZZZZZZZZZZZZZZ", "_a.01HZZZZZZZZZZZZZZZZZZZZZZZ",
		"my_tasks.01HZZZZZZZZZZZZZZZZZZZZZZZ", // "/my/tasks": a reserved word
		"ubuntu.3f2a3f2a-d91b-11e4-b351-56847afe9799",
	} {
		if id, ok := AppIDOf(protocol.TaskID(bad)); ok {
			t.Errorf("AppIDOf(%q) = %q, want false", bad, id)
		}
	}
	// Defensive: ids that bypassed validation still give valid task ids.
	for _, id := range []string{"", "/", "/A B/_x_", "/.a./", "/" + strings.Repeat("é", 300)} {
		if err := protocol.ValidateTaskID("t", NewTaskID(id)); err != nil {
			t.Errorf("NewTaskID(%q): %v", id, err)
		}
	}
}

// FuzzTaskID: every valid app id round-trips through its task ids, and
// AppIDOf never accepts anything NewTaskID could not have made.
func FuzzTaskID(f *testing.F) {
	for _, s := range []string{"/ubuntu", "prod/web", "/a.b/c-d", "/x/../y", "/Web", "/a_b", "/a..b", "/0/1/2", "a.b.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if id, err := CanonicalID(s); err == nil {
			tid := NewTaskID(id)
			if err := protocol.ValidateTaskID("task", tid); err != nil {
				t.Fatalf("NewTaskID(%q) = %q: %v", id, tid, err)
			}
			got, ok := AppIDOf(tid)
			if !ok || got != id {
				t.Fatalf("AppIDOf(NewTaskID(%q)) = %q, %v", id, got, ok)
			}
			if again, err := CanonicalID(id); err != nil || again != id {
				t.Fatalf("CanonicalID not idempotent: %q → %q, %v", id, again, err)
			}
		}
		if err := protocol.ValidateTaskID("task", NewTaskID(s)); err != nil {
			t.Fatalf("NewTaskID(%q) invalid: %v", s, err)
		}
		if id, ok := AppIDOf(protocol.TaskID(s)); ok {
			if c, err := CanonicalID(id); err != nil || c != id {
				t.Fatalf("AppIDOf(%q) = %q, not canonical (%v)", s, id, err)
			}
			if err := protocol.ValidateTaskID("task", protocol.TaskID(s)); err != nil {
				t.Fatalf("AppIDOf accepted an invalid task id %q", s)
			}
		}
	})
}
