package job

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/cmdutil"
)

func TestNoun(t *testing.T) {
	var out bytes.Buffer
	f := cmdutil.NewFactory(cmdutil.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out}, nil)
	cmd := NewCmdJob(f)
	var verbs []string
	for _, c := range cmd.Commands() {
		verbs = append(verbs, c.Name())
		if c.Name() == "schedule" {
			for _, s := range c.Commands() {
				verbs = append(verbs, "schedule "+s.Name())
			}
		}
	}
	slices.Sort(verbs)
	want := []string{"add", "graph", "history", "list", "remove", "run", "schedule", "schedule add", "schedule disable", "schedule enable", "schedule list", "schedule remove", "show", "stop", "update"}
	if !slices.Equal(verbs, want) {
		t.Errorf("verbs %q, want %q", verbs, want)
	}
	for _, part := range []string{"cron", "ISO 8601", "parent", "cairn package install cron", "prod.reports.daily"} {
		if !strings.Contains(cmd.Long, part) {
			t.Errorf("help lacks %q", part)
		}
	}
	cmd.SetArgs([]string{"bogus"})
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.Execute(); !cmdutil.IsUsageError(err) {
		t.Errorf("bogus verb: %v", err)
	}
	for _, c := range cmd.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue // cobra's
		}
		if c.Short == "" || c.Long == "" || (c.Example == "" && c.Name() != "schedule") {
			t.Errorf("%s lacks help", c.Name())
		}
	}
	graph, _, _ := cmd.Find([]string{"graph"})
	if !strings.Contains(graph.Example, "dot -Tsvg") {
		t.Errorf("graph help: %q", graph.Example)
	}
}
