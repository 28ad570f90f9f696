package job

import (
	"encoding/json"
	"testing"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

func TestHistory(t *testing.T) {
	m := newFakeCron(t)
	m.put(reportJob(), reportHistory(), activeRun())
	r := run(t, m.URL, "", false, "history", "prod.reports.daily")
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := "" +
		"ID                         TRIGGER            STATUS    STARTED   DURATION   EXIT\n" +
		"manual-9                   manual             ACTIVE    3m ago    -          -\n" +
		"20260301T010000Z-nightly   schedule:nightly   SUCCESS   11h ago   1h5m       0\n" +
		"manual-0                   manual             FAILED    34h ago   1m30s      2\n" +
		"20260228T010000Z-nightly   schedule:nightly   SUCCESS   35h ago   1m2s       0\n" +
		"\n" +
		"Skipped:\n" +
		"SCHEDULE   DUE      REASON\n" +
		"nightly    2d ago   the starting deadline passed while the framework was down\n" +
		"\n" +
		"12 succeeded, 1 failed, 1 skipped; last success 9h ago, last failure 33h ago; 1 run active.\n"
	if r.out != want {
		t.Errorf("history:\n%s\nwant:\n%s", r.out, want)
	}
	if reqs := m.Requests(); len(reqs) != 1 || reqs[0] != "GET /v1/jobs/prod.reports.daily?embed=history%2CactiveRuns" {
		t.Errorf("requests %q", reqs)
	}

	r = run(t, m.URL, "", false, "history", "prod.reports.daily", "--limit", "2")
	want = "" +
		"ID                         TRIGGER            STATUS    STARTED   DURATION   EXIT\n" +
		"manual-9                   manual             ACTIVE    3m ago    -          -\n" +
		"20260301T010000Z-nightly   schedule:nightly   SUCCESS   11h ago   1h5m       0\n" +
		"\n" +
		"Skipped:\n" +
		"SCHEDULE   DUE      REASON\n" +
		"nightly    2d ago   the starting deadline passed while the framework was down\n" +
		"\n" +
		"12 succeeded, 1 failed, 1 skipped; last success 9h ago, last failure 33h ago; 1 run active.\n" +
		"Showing the 2 newest (see more with --limit N, all with --limit 0).\n"
	if r.err != nil || r.out != want {
		t.Errorf("--limit 2: %v\n%s\nwant:\n%s", r.err, r.out, want)
	}
}

func TestHistoryJSON(t *testing.T) {
	m := newFakeCron(t)
	m.put(reportJob(), reportHistory(), activeRun())
	r := run(t, m.URL, "", false, "history", "prod.reports.daily", "--json")
	var got map[string]any
	if err := json.Unmarshal([]byte(r.out), &got); err != nil {
		t.Fatalf("%v: %q", err, r.out)
	}
	for _, k := range []string{"successCount", "failureCount", "skippedCount", "lastSuccessAt", "lastFailureAt",
		"successfulFinishedRuns", "failedFinishedRuns", "skippedRuns", "activeRuns"} {
		if _, ok := got[k]; !ok {
			t.Errorf("--json lacks %q: %v", k, got)
		}
	}
	if got["successCount"] != 12.0 || len(got["successfulFinishedRuns"].([]any)) != 2 || len(got["activeRuns"].([]any)) != 1 {
		t.Errorf("--json %v", got)
	}
	r = run(t, m.URL, "", false, "history", "prod.reports.daily", "--json", "--limit", "1")
	var h historyJSON
	if err := json.Unmarshal([]byte(r.out), &h); err != nil || len(h.SuccessfulFinishedRuns) != 1 || h.SuccessfulFinishedRuns[0].ID != "20260301T010000Z-nightly" ||
		h.SuccessCount != 12 {
		t.Errorf("--json --limit 1: %v %+v", err, h)
	}
}

func TestHistoryEmpty(t *testing.T) {
	m := newFakeCron(t)
	m.put(cronapi.Job{ID: "adhoc", Run: cronapi.JobRun{Cmd: "x"}}, cronapi.History{})
	r := run(t, m.URL, "", false, "history", "adhoc")
	if r.err != nil || r.out != "Job adhoc has not run yet (run it now with cairn job run adhoc).\n\n0 succeeded, 0 failed, 0 skipped.\n" {
		t.Errorf("empty: %v %q", r.err, r.out)
	}
	r = run(t, m.URL, "", false, "history", "adhoc", "--json")
	if r.err != nil || r.out != `{
  "successCount": 0,
  "failureCount": 0,
  "skippedCount": 0,
  "successfulFinishedRuns": [],
  "failedFinishedRuns": [],
  "skippedRuns": [],
  "activeRuns": []
}
` {
		t.Errorf("empty --json: %v %s", r.err, r.out)
	}
	r = run(t, m.URL, "", false, "history", "nope")
	if r.err == nil || r.err.Error() != "job nope does not exist (see cairn job list)" {
		t.Errorf("unknown: %v", r.err)
	}
	for _, args := range [][]string{{"history"}, {"history", "a", "--limit", "-1"}, {"history", "a", "--limit", "x"}} {
		if r := run(t, m.URL, "", false, args...); !cmdutil.IsUsageError(r.err) {
			t.Errorf("%q: %v, want a usage error", args, r.err)
		}
	}
}
