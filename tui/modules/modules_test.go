package modules

import (
	"slices"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/tui/internal/pagetest"
	"github.com/cairn-dc/cairn/tui/view"
)

// The tests' clock is 2026-03-01T12:00:00Z.
const modulesJSON = `[
 {"name":"dns","kind":"watcher","path":"/usr/lib/cairn/modules/dns","sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","source":"config","state":"running","pid":4242,"restarts":0,"started_at":"2026-03-01T09:00:00Z","sdk_version":"v1"},
 {"name":"audit","kind":"watcher","path":"/opt/audit/audit-module","sha256":"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae","source":"api","state":"backoff","restarts":4,
  "last_error":"exited with status 2: cannot open /var/log/audit.jsonl: permission denied (run the master as a user who may write it)","next_start":"2026-03-01T12:00:30Z"},
 {"name":"quota","kind":"hook","path":"/opt/quota/quota","sha256":"fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9","source":"package","package":{"name":"quota","version":"1.2.0","source":"oci://127.0.0.1:5000/cairn","digest":"sha256:ee"},"state":"running","pid":4250,"restarts":1,"started_at":"2026-03-01T11:30:00Z"}
]`

func newMaster(t *testing.T) *pagetest.Master {
	m := pagetest.NewMaster(t)
	m.Set("GET", "/v1/modules", 200, modulesJSON)
	m.Set("DELETE", "/v1/modules/audit", 200, `{"name":"audit","kind":"watcher","state":"stopped","restarts":4}`)
	return m
}

func started(t *testing.T, m *pagetest.Master) *pagetest.Driver[*page] {
	d := newDriver(t, m)
	d.Run(d.P.Init())
	if !d.P.loaded || len(d.P.mods) != 3 {
		t.Fatalf("modules not loaded: err %v, %d modules", d.P.err, len(d.P.mods))
	}
	m.Took()
	return d
}

func TestListGolden(t *testing.T) {
	pagetest.RenderGolden(t, started(t, newMaster(t)).P)
}

func TestDescribeGolden(t *testing.T) {
	d := started(t, newMaster(t))
	d.Keys("enter") // audit: sorted first
	if d.P.detail != "audit" {
		t.Fatalf("enter described %q", d.P.detail)
	}
	pagetest.RenderGolden(t, d.P)
}

func TestRemoveOnlyAfterConfirm(t *testing.T) {
	m := newMaster(t)
	d := started(t, m)
	d.Keys("x")
	if n := m.Count("DELETE"); n != 0 {
		t.Fatal("x removed before the confirmation")
	}
	if len(d.Confirms) != 1 || !strings.Contains(d.Confirms[0].Prompt, "Remove module audit") {
		t.Fatalf("confirms %+v", d.Confirms)
	}
	d.Run(d.Confirms[0].Yes)
	got := m.Took()
	if !slices.Contains(got, "DELETE /v1/modules/audit") {
		t.Errorf("yes sent %q", got)
	}
	if !slices.Contains(got, "GET /v1/modules") {
		t.Errorf("no refetch after the removal: %q", got)
	}
	if len(d.Flashes) != 1 || d.Flashes[0].Text != "removed module audit" {
		t.Errorf("flashes %+v", d.Flashes)
	}
}

func TestRemoveElsewhere(t *testing.T) {
	m := newMaster(t)
	d := started(t, m)
	d.Keys("down", "x", "down", "x") // dns (config), quota (package)
	if len(d.Confirms) != 0 || len(d.Flashes) != 2 {
		t.Fatalf("confirms %+v, flashes %+v", d.Confirms, d.Flashes)
	}
	if !strings.Contains(d.Flashes[0].Err.Error(), "--modules-config") || !strings.Contains(d.Flashes[1].Err.Error(), "cairn package uninstall quota") {
		t.Errorf("flashes %v; %v", d.Flashes[0].Err, d.Flashes[1].Err)
	}
	if n := m.Count("DELETE"); n != 0 {
		t.Errorf("%d DELETEs", n)
	}
}

func TestPollOnlyWhileModulesMove(t *testing.T) {
	m := newMaster(t)
	d := started(t, m)
	if len(d.Timers) != 1 || d.Timers[0].D < 10e9 {
		t.Fatalf("timers %+v, want one slow poll while audit backs off", d.Timers)
	}
	m.Set("GET", "/v1/modules", 200, `[{"name":"dns","kind":"watcher","source":"config","state":"running","restarts":0}]`)
	d.Fire()
	if n := m.Count("GET /v1/modules"); n != 1 {
		t.Errorf("the poll fetched %d times", n)
	}
	if len(d.Timers) != 0 {
		t.Errorf("still polling with every module running: %+v", d.Timers)
	}
}

func TestNoModuleAPI(t *testing.T) {
	m := pagetest.NewMaster(t)
	d := newDriver(t, m)
	d.Run(d.P.Init())
	if out := d.P.Render(80, 24); !strings.Contains(out, "this master serves no module API") {
		t.Errorf("shows %q", out)
	}
	pagetest.RenderGolden(t, d.P)
}

func TestReconnectRefetches(t *testing.T) {
	m := newMaster(t)
	d := started(t, m)
	d.Timers = nil
	d.Send(view.StreamMsg{Connected: true})
	if n := m.Count("GET /v1/modules"); n != 1 {
		t.Errorf("%d fetches after the stream came back", n)
	}
}

// newDriver drives the page against m, its timers kept for the test to
// fire.
func newDriver(t *testing.T, m *pagetest.Master) *pagetest.Driver[*page] {
	p := New(pagetest.Env(t, m)).(*page)
	p.after = pagetest.After
	return pagetest.NewDriver(t, p)
}
