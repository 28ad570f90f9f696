package packages

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui/internal/pagetest"
	"github.com/cairn-dc/cairn/tui/view"
)

const listJSON = `{"packages":[
 {"appId":"/hello","packageName":"hello","packageVersion":"1.0.0","source":"oci://127.0.0.1:5000/cairn","digest":"sha256:aa","instances":2,"tasksRunning":1,"tasksHealthy":1,"kind":"service","description":"A tiny web server that says hello."},
 {"appId":"/cron","packageName":"cron","packageVersion":"1.0.0","source":"oci://127.0.0.1:5000/cairn","digest":"sha256:bb","instances":1,"tasksRunning":1,"tasksHealthy":0,"kind":"framework","description":"Jobs on cron schedules (Metronome's API)."},
 {"appId":"","packageName":"dns","packageVersion":"0.3.0","source":"oci://127.0.0.1:5000/cairn","digest":"sha256:cc","instances":0,"tasksRunning":0,"tasksHealthy":0,"kind":"module","description":"DNS names for tasks.","module":"dns","moduleState":"running"}
]}`

const searchJSON = `{"packages":[
 {"name":"hello","currentVersion":"1.1.0","versions":["1.1.0","1.0.0"],"description":"A tiny web server that says hello.","kind":"service","repository":"builtin","installed":1},
 {"name":"helloworld-batch","currentVersion":"0.1.0","versions":["0.1.0"],"description":"Says hello, in batches.","kind":"service","repository":"community","installed":0}
]}`

const describeJSON = `{"package":{"name":"hello","version":"1.1.0","release":0,"description":"A tiny web server that says hello.","maintainer":"Cairn <dev@cairn.invalid>",
 "tags":["demo","web"],"kind":"service","preInstallNotes":"hello listens on a dynamic port.",
 "repository":"builtin","source":"oci://127.0.0.1:5000/cairn","artifact":"oci://127.0.0.1:5000/cairn/hello@sha256:dd","digest":"sha256:dd",
 "config":{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","additionalProperties":false,"required":["message"],"properties":{
   "instances":{"type":"integer","minimum":0,"maximum":1000,"default":1,"description":"Number of instances."},
   "cpus":{"type":"number","exclusiveMinimum":0,"default":0.1,"description":"CPU shares of each instance."},
   "message":{"type":"string","maxLength":1024,"default":"Hello from Cairn!","description":"What / answers."},
   "debug":{"type":"boolean","default":false,"description":"Log every request."}}}}}`

func newCluster(t *testing.T) *pagetest.Master {
	m := pagetest.NewMaster(t)
	m.Set("POST", "/package/list", 200, listJSON)
	m.Set("POST", "/package/search", 200, searchJSON)
	m.Set("POST", "/package/describe", 200, describeJSON)
	m.Set("POST", "/package/list-versions", 200, `{"versions":["1.1.0","1.0.0"]}`)
	m.Set("POST", "/package/install", 200, `{"packageName":"hello","packageVersion":"1.1.0","appId":"/hello2","digest":"sha256:dd","source":"s","deploymentId":"d-1","postInstallNotes":"open /service/hello2/"}`)
	m.Set("POST", "/package/uninstall", 200, `{"results":[{"packageName":"hello","packageVersion":"1.0.0","appId":"/hello","postUninstallNotes":"bye"}]}`)
	return m
}

func started(t *testing.T, m *pagetest.Master) *pagetest.Driver[*page] {
	d := newDriver(t, m)
	d.Run(d.P.Init())
	if !d.P.loaded || len(d.P.installed) != 3 {
		t.Fatalf("packages not loaded: err %v, %d installed", d.P.err, len(d.P.installed))
	}
	m.Took()
	return d
}

func TestInstalledGolden(t *testing.T) {
	d := started(t, newCluster(t))
	d.Keys("down")
	pagetest.RenderGolden(t, d.P)
}

func TestSearch(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.Keys("/")
	if !d.P.Capturing() {
		t.Fatal("the search input does not capture keys")
	}
	d.TypeText("hello")
	d.Keys("enter")
	if got := m.Took(); !slices.Contains(got, `POST /package/search {"query":"hello"}`) {
		t.Fatalf("search sent %q", got)
	}
	if d.P.Capturing() || d.P.mode != modeResults || len(d.P.results) != 2 {
		t.Fatalf("after the search: capturing %v, mode %v, %d results", d.P.Capturing(), d.P.mode, len(d.P.results))
	}
	pagetest.RenderGolden(t, d.P)
}

func TestDescribeGolden(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.Keys("/")
	d.TypeText("hello")
	d.Keys("enter", "enter")
	if got := m.Took(); !slices.Contains(got, `POST /package/describe {"packageName":"hello"}`) {
		t.Fatalf("describe sent %q", got)
	}
	pagetest.RenderGolden(t, d.P)
}

// openForm opens the install form of hello from a search.
func openForm(t *testing.T, d *pagetest.Driver[*page]) {
	t.Helper()
	d.Keys("/")
	d.TypeText("hello")
	d.Keys("enter", "i")
	if d.P.mode != modeForm || !d.P.Capturing() {
		t.Fatalf("i did not open a capturing form (mode %v)", d.P.mode)
	}
}

func TestInstallFormSendsOptions(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	openForm(t, d)
	got := []string{}
	for _, in := range d.P.form.inputs {
		got = append(got, in.Value())
	}
	if want := []string{"", "1", "0.1", "Hello from Cairn!", "false"}; !slices.Equal(got, want) {
		t.Fatalf("form prefilled with %q, want the defaults %q", got, want)
	}
	m.Took()
	d.TypeText("/hello2")
	d.Keys("tab", "backspace")
	d.TypeText("3")
	d.Keys("tab", "tab", "tab", "backspace", "backspace", "backspace", "backspace", "backspace")
	d.TypeText("true")
	d.Keys("enter") // the last field: installs
	reqs := m.Took()
	i := slices.IndexFunc(reqs, func(r string) bool { return strings.HasPrefix(r, "POST /package/install ") })
	if i < 0 {
		t.Fatalf("no install in %q", reqs)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(reqs[i], "POST /package/install ")), &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"packageName": "hello", "packageVersion": "1.1.0", "appId": "/hello2",
		"options": map[string]any{"instances": float64(3), "debug": true}}
	if b, w := mustJSON(body), mustJSON(want); b != w {
		t.Errorf("install sent %s, want %s (defaults left out)", b, w)
	}
	if d.P.mode != modeInstalled || d.P.Capturing() {
		t.Errorf("after the install: mode %v, capturing %v", d.P.mode, d.P.Capturing())
	}
	if len(d.Flashes) != 1 || d.Flashes[0].Text != "installed hello 1.1.0 as app /hello2 (deployment d-1): open /service/hello2/" {
		t.Errorf("flashes %+v", d.Flashes)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestInstallFormChecksTypes(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	openForm(t, d)
	d.Keys("tab", "backspace")
	d.TypeText("three")
	d.Keys("ctrl+s")
	if n := m.Count("POST /package/install"); n != 0 {
		t.Fatalf("a wrong field was sent (%d installs)", n)
	}
	if e := d.P.form.errs[1]; e != `"three" is not a whole number` || d.P.form.focus != 1 {
		t.Errorf("instances error %q, focus %d", e, d.P.form.focus)
	}
}

func TestInstallSchemaErrorNextToField(t *testing.T) {
	m := newCluster(t)
	m.Set("POST", "/package/install", 400, `{"type":"JsonSchemaMismatch","message":"invalid options (fix them in your options file)","errors":["/cpus: must be > 0 but found -1","/zone: unknown option (not allowed by the schema)"]}`)
	d := started(t, m)
	openForm(t, d)
	d.Keys("tab", "tab", "backspace", "backspace", "backspace")
	d.TypeText("-1")
	d.Keys("ctrl+s")
	f := d.P.form
	if d.P.mode != modeForm || f == nil {
		t.Fatalf("a refused install closed the form (mode %v)", d.P.mode)
	}
	if f.errs[2] != "must be > 0 but found -1" || f.focus != 2 {
		t.Errorf("cpus error %q, focus %d", f.errs[2], f.focus)
	}
	if !strings.Contains(f.err, "/zone: unknown option") {
		t.Errorf("the form's own error %q does not name /zone", f.err)
	}
	pagetest.RenderGolden(t, d.P)
}

func TestUninstallOnlyAfterConfirm(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.Keys("down", "down", "x") // hello, sorted after cron and dns
	if n := m.Count("POST /package/uninstall"); n != 0 {
		t.Fatalf("x uninstalled before the confirmation")
	}
	if len(d.Confirms) != 1 || !strings.Contains(d.Confirms[0].Prompt, "Uninstall hello 1.0.0 (app /hello") {
		t.Fatalf("confirms %+v", d.Confirms)
	}
	d.Run(d.Confirms[0].Yes)
	if got := m.Took(); !slices.Contains(got, `POST /package/uninstall {"packageName":"hello","appId":"/hello"}`) {
		t.Errorf("yes sent %q", got)
	}
	if len(d.Flashes) != 1 || d.Flashes[0].Text != "uninstalled hello from /hello: bye" {
		t.Errorf("flashes %+v", d.Flashes)
	}
}

func TestUninstallModule(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.Keys("down", "x")
	if len(d.Confirms) != 1 || !strings.Contains(d.Confirms[0].Prompt, "module dns is stopped") {
		t.Fatalf("confirms %+v", d.Confirms)
	}
	d.Run(d.Confirms[0].Yes)
	if got := m.Took(); !slices.Contains(got, `POST /package/uninstall {"packageName":"dns","appId":"dns"}`) {
		t.Errorf("yes sent %q", got)
	}
}

func TestServicesEventsRefetch(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.Send(view.EventMsg{Event: protocol.ClusterEvent{Type: protocol.EvSubscribed, State: &protocol.State{
		Frameworks: []protocol.Framework{{ID: pagetest.ServicesID, Name: "services", Connected: true}}}}})
	d.Fire()
	m.Took()
	d.Send(view.EventMsg{Event: protocol.ClusterEvent{Type: protocol.EvTaskUpdated, Task: &protocol.Task{ID: "hello.1", FrameworkID: pagetest.ServicesID}}})
	d.Send(view.EventMsg{Event: protocol.ClusterEvent{Type: protocol.EvTaskUpdated, Task: &protocol.Task{ID: "hello.2", FrameworkID: pagetest.ServicesID}}})
	d.Fire()
	if n := m.Count("POST /package/list"); n != 1 {
		t.Errorf("%d list requests after 2 events, want 1", n)
	}
}

func TestNoPackageAPI(t *testing.T) {
	m := pagetest.NewMaster(t) // answers 404 everywhere
	d := newDriver(t, m)
	d.Run(d.P.Init())
	if out := d.P.Render(80, 24); !strings.Contains(out, "the master does not serve the package API") {
		t.Errorf("shows %q", out)
	}
	pagetest.RenderGolden(t, d.P)
}

// newDriver drives the page against m, its timers kept for the test to
// fire.
func newDriver(t *testing.T, m *pagetest.Master) *pagetest.Driver[*page] {
	p := New(pagetest.Env(t, m)).(*page)
	p.after = pagetest.After
	return pagetest.NewDriver(t, p)
}
