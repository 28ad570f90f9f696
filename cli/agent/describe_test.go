package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

const (
	agent1 = protocol.AgentID("01JB8X5Q2M3N4P5R6S7T8V9W0A")
	agent2 = protocol.AgentID("01JB8X5Q2M3N4P5R6S7T8V9W0B")
	agent3 = protocol.AgentID("01JC000000000000000000000C")
	fwWeb  = protocol.FrameworkID("01JB8X5Q2M3N4P5R6S7T8V9W0F")
)

var registered = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func describeAgents() []protocol.Agent {
	return []protocol.Agent{
		{ID: agent1, Hostname: "agent-1", Address: "10.0.0.1", URL: "http://10.0.0.1:5051", Version: "0.1.0", Status: protocol.AgentActive,
			Resources:        resources.MustParse("cpus:4;mem:8192;disk:10240;ports:[31000-31999]"),
			UsedResources:    resources.MustParse("cpus:1.5;mem:2048;ports:[31000-31001]"),
			OfferedResources: resources.MustParse("cpus:0.5;mem:512"),
			Attributes:       resources.MustParseAttributes("rack:r1;zone:a"),
			RegisteredTime:   protocol.Timestamp(registered), ActiveTasks: 2},
		{ID: agent2, Hostname: "agent-2", Status: protocol.AgentUnreachable, Resources: resources.MustParse("cpus:2;mem:1024"),
			RegisteredTime: protocol.Timestamp(registered), UnreachableTime: protocol.Timestamp(registered.Add(time.Hour))},
		{ID: agent3, Hostname: "agent-3", Status: protocol.AgentActive, Resources: resources.MustParse("cpus:1;mem:512")},
	}
}

func describeTasks() []protocol.Task {
	return []protocol.Task{
		{ID: "web.2", Name: "web", FrameworkID: fwWeb, AgentID: agent1, State: protocol.TaskFinished,
			Resources: resources.MustParse("cpus:0.5;mem:512")},
		{ID: "web.1", Name: "web", FrameworkID: fwWeb, AgentID: agent1, State: protocol.TaskRunning,
			Resources: resources.MustParse("cpus:1;mem:1536;ports:[31000-31001]"),
			Statistics: &protocol.ResourceStatistics{CPUsUserTimeSecs: 1.25, CPUsSystemTimeSecs: 0.5,
				MemRSSBytes: 12 << 20, MemLimitBytes: 1536 << 20}},
		{ID: "run-1", Name: "echo", FrameworkID: fwWeb, AgentID: agent1, State: protocol.TaskRunning,
			Resources: resources.MustParse("cpus:0.5;mem:512")},
		{ID: "other", FrameworkID: fwWeb, AgentID: agent2, State: protocol.TaskRunning},
	}
}

func describeMaster(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/agents", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(describeAgents())
	})
	mux.HandleFunc("GET /v1/tasks", func(w http.ResponseWriter, r *http.Request) {
		var out []protocol.Task
		for _, tk := range describeTasks() {
			if string(tk.AgentID) == r.URL.Query().Get("agent_id") {
				out = append(out, tk)
			}
		}
		_ = json.NewEncoder(w).Encode(out) // null when none
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func describe(t *testing.T, url string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	f := cmdutil.NewFactory(cmdutil.IOStreams{Out: &out, ErrOut: &bytes.Buffer{}}, func(k string) string {
		if k == cmdutil.EnvURL {
			return url
		}
		return ""
	})
	cmd := NewCmdDescribe(f, func(ctx context.Context, o *DescribeOptions) error {
		o.Now = func() time.Time { return registered.Add(3*time.Hour + 5*time.Minute) }
		return describeRun(ctx, o)
	})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetFlagErrorFunc(cmdutil.FlagErrorFunc)
	err := cmd.Execute()
	return out.String(), err
}

func TestDescribeTable(t *testing.T) {
	srv := describeMaster(t)
	loc := registered.UTC().Format(time.RFC3339)
	want := "" +
		"ID:           01JB8X5Q2M3N4P5R6S7T8V9W0A\n" +
		"Hostname:     agent-1\n" +
		"Address:      10.0.0.1\n" +
		"Status:       ACTIVE\n" +
		"Registered:   " + loc + " (3h ago)\n" +
		"URL:          http://10.0.0.1:5051\n" +
		"Version:      0.1.0\n" +
		"Attributes:   rack:r1;zone:a\n" +
		"Tasks:        2 active, 1 ended\n" +
		"\n" +
		"RESOURCE   USED            OFFERED   TOTAL\n" +
		"cpus       1.5             0.5       4\n" +
		"mem        2 GiB           512 MiB   8 GiB\n" +
		"disk       0 MiB           0 MiB     10 GiB\n" +
		"ports      [31000-31001]   -         [31000-31999]\n" +
		"\n" +
		"TASK    NAME   FRAMEWORK                    STATE           CPUS   MEM       CPU TIME   MEM USED\n" +
		"run-1   echo   01JB8X5Q2M3N4P5R6S7T8V9W0F   TASK_RUNNING    0.5    512 MiB   -          -\n" +
		"web.1   web    01JB8X5Q2M3N4P5R6S7T8V9W0F   TASK_RUNNING    1      1.5 GiB   1.75s      12 MiB/1.5 GiB\n" +
		"web.2   web    01JB8X5Q2M3N4P5R6S7T8V9W0F   TASK_FINISHED   0.5    512 MiB   -          -\n"
	for _, q := range []string{string(agent1), "agent-1", "01jb8x5q2m3n4p5r6s7t8v9w0a"} {
		out, err := describe(t, srv.URL, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if out != want {
			t.Errorf("%s:\n%s\nwant:\n%s", q, out, want)
		}
	}
	out, err := describe(t, srv.URL, "agent-2")
	if err != nil || !strings.Contains(out, "Unreachable since:") || !strings.Contains(out, "(2h ago)") || !strings.Contains(out, "Address:             -") {
		t.Errorf("agent-2:\n%s%v", out, err)
	}
	out, err = describe(t, srv.URL, "01jc00") // a prefix
	if err != nil || !strings.HasPrefix(out, "ID:           01JC000000000000000000000C\n") {
		t.Errorf("prefix:\n%s%v", out, err)
	}
	out, err = describe(t, srv.URL, "agent-3")
	if err != nil || !strings.HasSuffix(out, "\nNo tasks on this agent.\n") || !strings.Contains(out, "Registered:   -\n") {
		t.Errorf("agent-3:\n%s%v", out, err)
	}
}

func TestDescribeJSON(t *testing.T) {
	srv := describeMaster(t)
	out, err := describe(t, srv.URL, "agent-1", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Agent protocol.Agent  `json:"agent"`
		Tasks []protocol.Task `json:"tasks"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.Agent.ID != agent1 || len(got.Tasks) != 3 || got.Tasks[0].ID != "run-1" || got.Tasks[2].ID != "web.2" || got.Tasks[1].Statistics == nil {
		t.Errorf("json %+v", got)
	}
	// No tasks: an empty array, not null.
	out, err = describe(t, srv.URL, "agent-3", "--json")
	if err != nil || !strings.Contains(out, `"tasks": []`) {
		t.Errorf("agent-3 json: %v\n%s", err, out)
	}
}

func TestDescribeErrors(t *testing.T) {
	srv := describeMaster(t)
	for _, tc := range []struct {
		args  []string
		want  string
		usage bool
	}{
		{[]string{"01JB8X"}, `"01JB8X" matches 2 agents: 01JB8X5Q2M3N4P5R6S7T8V9W0A (agent-1), 01JB8X5Q2M3N4P5R6S7T8V9W0B (agent-2); give a full agent ID`, false},
		{[]string{"01JB8"}, `no agent has the ID or hostname "01JB8" (an ID prefix needs at least 6 characters; see cairn agent list)`, false},
		{[]string{"nothing-here"}, `no agent has the ID, ID prefix or hostname "nothing-here" (see cairn agent list)`, false},
		{[]string{}, "accepts 1 arg", true},
		{[]string{"a", "b"}, "accepts 1 arg", true},
		{[]string{" "}, "give an agent ID", true},
	} {
		_, err := describe(t, srv.URL, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || cmdutil.IsUsageError(err) != tc.usage {
			t.Errorf("%v: %v, want %q (usage %v)", tc.args, err, tc.want, tc.usage)
		}
	}
	// The master unreachable: one clear line.
	opts := &DescribeOptions{IO: cmdutil.IOStreams{Out: &bytes.Buffer{}}, Agent: "agent-1",
		APIClient: func() (*apiclient.Client, error) { return apiclient.New("http://127.0.0.1:1", "", nil) }}
	if err := describeRun(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "listing agents: cannot reach the Cairn master") {
		t.Errorf("unreachable: %v", err)
	}
}

func TestMatchAgentPrefersLiveHostname(t *testing.T) {
	agents := []protocol.Agent{
		{ID: "A1", Hostname: "h", Status: protocol.AgentRemoved},
		{ID: "A2", Hostname: "h", Status: protocol.AgentActive},
	}
	if a, err := apiclient.MatchAgent(agents, "h", "cairn agent list"); err != nil || a.ID != "A2" {
		t.Errorf("%v %v", a.ID, err)
	}
}

func TestFormatting(t *testing.T) {
	for in, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1 KiB", 12 << 20: "12 MiB", 1536 << 20: "1.5 GiB"} {
		if got := bytesIEC(in); got != want {
			t.Errorf("bytesIEC(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[float64]string{0: "0s", 1.234: "1.23s", 59.5: "59.5s", 3723: "1h2m3s"} {
		if got := cpuSeconds(in); got != want {
			t.Errorf("cpuSeconds(%v) = %q, want %q", in, got, want)
		}
	}
}
