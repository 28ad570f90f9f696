package job

import (
	"testing"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

func TestGraph(t *testing.T) {
	m := newFakeCron(t)
	m.put(cronapi.Job{ID: "a", Run: cronapi.JobRun{Cmd: "x"}}, cronapi.History{})
	m.put(cronapi.Job{ID: "b", Run: cronapi.JobRun{Cmd: "x"}, Parents: []string{"a"}}, cronapi.History{})
	r := run(t, m.URL, "", false, "graph")
	if r.err != nil || r.out != "digraph jobs {\n  \"a\";\n  \"b\";\n  \"a\" -> \"b\";\n}\n" {
		t.Errorf("graph: %v %q", r.err, r.out)
	}
	if r := run(t, m.URL, "", false, "graph", "x"); !cmdutil.IsUsageError(r.err) {
		t.Errorf("argument: %v", r.err)
	}
}
