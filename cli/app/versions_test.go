package app

import (
	"encoding/json"
	"testing"

	"github.com/cairn-dc/cairn/cli/deployment/deploymenttest"
)

func TestVersions(t *testing.T) {
	m := newWeb(t, deploymenttest.Settings{Outcome: deploymenttest.Succeed})
	for _, n := range []string{"3", "1"} {
		if _, _, err := run(t, m, "", "scale", "web", n, "--wait"); err != nil {
			t.Fatal(err)
		}
	}
	out, _, err := run(t, m, "", "versions", "web")
	if err != nil {
		t.Fatal(err)
	}
	want := `VERSION                    AGE
2025-03-01T12:00:03.000Z   59m
2025-03-01T12:00:02.000Z   59m
2025-03-01T12:00:01.000Z   59m
`
	if out != want {
		t.Errorf("versions:\n%s\nwant:\n%s", out, want)
	}
	out, _, err = run(t, m, "", "versions", "/web", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	if err := json.Unmarshal([]byte(out), &vs); err != nil || len(vs) != 3 || vs[0] != "2025-03-01T12:00:03.000Z" {
		t.Errorf("json %q: %v", out, err)
	}
}
