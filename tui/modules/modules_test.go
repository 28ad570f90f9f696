package modules

import (
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/cairn-dc/cairn/tui/view"
)

// The tests' clock is 2026-03-01T12:00:00Z.
const modulesJSON = `[
 {"name":"dns","kind":"watcher","path":"/usr/lib/cairn/modules/dns","sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","source":"config","state":"running","pid":4242,"restarts":0,"started_at":"2026-03-01T09:00:00Z","sdk_version":"v1"},
 {"name":"audit","kind":"watcher","path":"/opt/audit/audit-module","sha256":"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae","source":"api","state":"backoff","restarts":4,
  "last_error":"exited with status 2: cannot open /var/log/audit.jsonl: permission denied (run the master as a user who may write it)","next_start":"2026-03-01T12:00:30Z"},
 {"name":"quota","kind":"hook","path":"/opt/quota/quota","sha256":"fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9","source":"package","package":{"name":"quota","version":"1.2.0","source":"oci://127.0.0.1:5000/cairn","digest":"sha256:ee"},"state":"running","pid":4250,"restarts":1,"started_at":"2026-03-01T11:30:00Z"}
]`

func newMaster(t *testing.T) *fakeMaster {
	m := newFakeMaster(t)
	m.set("GET", "/v1/modules", 200, modulesJSON)
	m.set("DELETE", "/v1/modules/audit", 200, `{"name":"audit","kind":"watcher","state":"stopped","restarts":4}`)
	return m
}

func started(t *testing.T, m *fakeMaster) *driver {
	d := newDriver(t, m)
	d.run(d.p.Init())
	if !d.p.loaded || len(d.p.mods) != 3 {
		t.Fatalf("modules not loaded: err %v, %d modules", d.p.err, len(d.p.mods))
	}
	m.took()
	return d
}

func renderGolden(t *testing.T, d *driver) {
	t.Helper()
	for _, size := range []struct {
		name          string
		width, height int
	}{{"80x24", 80, 24}, {"160x48", 160, 48}} {
		t.Run(size.name, func(t *testing.T) {
			out := d.p.Render(size.width, size.height)
			checkSize(t, out, size.width, size.height)
			golden.RequireEqual(t, out)
		})
	}
}

func TestListGolden(t *testing.T) {
	renderGolden(t, started(t, newMaster(t)))
}

func TestDescribeGolden(t *testing.T) {
	d := started(t, newMaster(t))
	d.keys("enter") // audit: sorted first
	if d.p.detail != "audit" {
		t.Fatalf("enter described %q", d.p.detail)
	}
	renderGolden(t, d)
}

func TestRemoveOnlyAfterConfirm(t *testing.T) {
	m := newMaster(t)
	d := started(t, m)
	d.keys("x")
	if n := m.count("DELETE"); n != 0 {
		t.Fatal("x removed before the confirmation")
	}
	if len(d.confirms) != 1 || !strings.Contains(d.confirms[0].Prompt, "Remove module audit") {
		t.Fatalf("confirms %+v", d.confirms)
	}
	d.run(d.confirms[0].Yes)
	got := m.took()
	if !slices.Contains(got, "DELETE /v1/modules/audit") {
		t.Errorf("yes sent %q", got)
	}
	if !slices.Contains(got, "GET /v1/modules") {
		t.Errorf("no refetch after the removal: %q", got)
	}
	if len(d.flashes) != 1 || d.flashes[0].Text != "removed module audit" {
		t.Errorf("flashes %+v", d.flashes)
	}
}

func TestRemoveElsewhere(t *testing.T) {
	m := newMaster(t)
	d := started(t, m)
	d.keys("down", "x", "down", "x") // dns (config), quota (package)
	if len(d.confirms) != 0 || len(d.flashes) != 2 {
		t.Fatalf("confirms %+v, flashes %+v", d.confirms, d.flashes)
	}
	if !strings.Contains(d.flashes[0].Err.Error(), "--modules-config") || !strings.Contains(d.flashes[1].Err.Error(), "cairn package uninstall quota") {
		t.Errorf("flashes %v; %v", d.flashes[0].Err, d.flashes[1].Err)
	}
	if n := m.count("DELETE"); n != 0 {
		t.Errorf("%d DELETEs", n)
	}
}

func TestPollOnlyWhileModulesMove(t *testing.T) {
	m := newMaster(t)
	d := started(t, m)
	if len(d.timers) != 1 || d.timers[0].d < 10e9 {
		t.Fatalf("timers %+v, want one slow poll while audit backs off", d.timers)
	}
	m.set("GET", "/v1/modules", 200, `[{"name":"dns","kind":"watcher","source":"config","state":"running","restarts":0}]`)
	d.fire()
	if n := m.count("GET /v1/modules"); n != 1 {
		t.Errorf("the poll fetched %d times", n)
	}
	if len(d.timers) != 0 {
		t.Errorf("still polling with every module running: %+v", d.timers)
	}
}

func TestNoModuleAPI(t *testing.T) {
	m := newFakeMaster(t)
	d := newDriver(t, m)
	d.run(d.p.Init())
	if out := d.p.Render(80, 24); !strings.Contains(out, "this master serves no module API") {
		t.Errorf("shows %q", out)
	}
	renderGolden(t, d)
}

func TestReconnectRefetches(t *testing.T) {
	m := newMaster(t)
	d := started(t, m)
	d.timers = nil
	d.send(view.StreamMsg{Connected: true})
	if n := m.count("GET /v1/modules"); n != 1 {
		t.Errorf("%d fetches after the stream came back", n)
	}
}
