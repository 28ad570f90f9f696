package packages

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/cairn-dc/cairn/kernel/protocol"
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

func newCluster(t *testing.T) *fakeMaster {
	m := newFakeMaster(t)
	m.set("POST", "/package/list", 200, listJSON)
	m.set("POST", "/package/search", 200, searchJSON)
	m.set("POST", "/package/describe", 200, describeJSON)
	m.set("POST", "/package/list-versions", 200, `{"versions":["1.1.0","1.0.0"]}`)
	m.set("POST", "/package/install", 200, `{"packageName":"hello","packageVersion":"1.1.0","appId":"/hello2","digest":"sha256:dd","source":"s","deploymentId":"d-1","postInstallNotes":"open /service/hello2/"}`)
	m.set("POST", "/package/uninstall", 200, `{"results":[{"packageName":"hello","packageVersion":"1.0.0","appId":"/hello","postUninstallNotes":"bye"}]}`)
	return m
}

func started(t *testing.T, m *fakeMaster) *driver {
	d := newDriver(t, m)
	d.run(d.p.Init())
	if !d.p.loaded || len(d.p.installed) != 3 {
		t.Fatalf("packages not loaded: err %v, %d installed", d.p.err, len(d.p.installed))
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

func TestInstalledGolden(t *testing.T) {
	d := started(t, newCluster(t))
	d.keys("down")
	renderGolden(t, d)
}

func TestSearch(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.keys("/")
	if !d.p.Capturing() {
		t.Fatal("the search input does not capture keys")
	}
	d.typeText("hello")
	d.keys("enter")
	if got := m.took(); !slices.Contains(got, `POST /package/search {"query":"hello"}`) {
		t.Fatalf("search sent %q", got)
	}
	if d.p.Capturing() || d.p.mode != modeResults || len(d.p.results) != 2 {
		t.Fatalf("after the search: capturing %v, mode %v, %d results", d.p.Capturing(), d.p.mode, len(d.p.results))
	}
	renderGolden(t, d)
}

func TestDescribeGolden(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.keys("/")
	d.typeText("hello")
	d.keys("enter", "enter")
	if got := m.took(); !slices.Contains(got, `POST /package/describe {"packageName":"hello"}`) {
		t.Fatalf("describe sent %q", got)
	}
	renderGolden(t, d)
}

// openForm opens the install form of hello from a search.
func openForm(t *testing.T, d *driver) {
	t.Helper()
	d.keys("/")
	d.typeText("hello")
	d.keys("enter", "i")
	if d.p.mode != modeForm || !d.p.Capturing() {
		t.Fatalf("i did not open a capturing form (mode %v)", d.p.mode)
	}
}

func TestInstallFormSendsOptions(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	openForm(t, d)
	got := []string{}
	for _, in := range d.p.form.inputs {
		got = append(got, in.Value())
	}
	if want := []string{"", "1", "0.1", "Hello from Cairn!", "false"}; !slices.Equal(got, want) {
		t.Fatalf("form prefilled with %q, want the defaults %q", got, want)
	}
	m.took()
	d.typeText("/hello2")
	d.keys("tab", "backspace")
	d.typeText("3")
	d.keys("tab", "tab", "tab", "backspace", "backspace", "backspace", "backspace", "backspace")
	d.typeText("true")
	d.keys("enter") // the last field: installs
	reqs := m.took()
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
	if d.p.mode != modeInstalled || d.p.Capturing() {
		t.Errorf("after the install: mode %v, capturing %v", d.p.mode, d.p.Capturing())
	}
	if len(d.flashes) != 1 || d.flashes[0].Text != "installed hello 1.1.0 as app /hello2 (deployment d-1): open /service/hello2/" {
		t.Errorf("flashes %+v", d.flashes)
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
	d.keys("tab", "backspace")
	d.typeText("three")
	d.keys("ctrl+s")
	if n := m.count("POST /package/install"); n != 0 {
		t.Fatalf("a wrong field was sent (%d installs)", n)
	}
	if e := d.p.form.errs[1]; e != `"three" is not a whole number` || d.p.form.focus != 1 {
		t.Errorf("instances error %q, focus %d", e, d.p.form.focus)
	}
}

func TestInstallSchemaErrorNextToField(t *testing.T) {
	m := newCluster(t)
	m.set("POST", "/package/install", 400, `{"type":"JsonSchemaMismatch","message":"invalid options (fix them in your options file)","errors":["/cpus: must be > 0 but found -1","/zone: unknown option (not allowed by the schema)"]}`)
	d := started(t, m)
	openForm(t, d)
	d.keys("tab", "tab", "backspace", "backspace", "backspace")
	d.typeText("-1")
	d.keys("ctrl+s")
	f := d.p.form
	if d.p.mode != modeForm || f == nil {
		t.Fatalf("a refused install closed the form (mode %v)", d.p.mode)
	}
	if f.errs[2] != "must be > 0 but found -1" || f.focus != 2 {
		t.Errorf("cpus error %q, focus %d", f.errs[2], f.focus)
	}
	if !strings.Contains(f.err, "/zone: unknown option") {
		t.Errorf("the form's own error %q does not name /zone", f.err)
	}
	renderGolden(t, d)
}

func TestUninstallOnlyAfterConfirm(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.keys("down", "down", "x") // hello, sorted after cron and dns
	if n := m.count("POST /package/uninstall"); n != 0 {
		t.Fatalf("x uninstalled before the confirmation")
	}
	if len(d.confirms) != 1 || !strings.Contains(d.confirms[0].Prompt, "Uninstall hello 1.0.0 (app /hello") {
		t.Fatalf("confirms %+v", d.confirms)
	}
	d.run(d.confirms[0].Yes)
	if got := m.took(); !slices.Contains(got, `POST /package/uninstall {"packageName":"hello","appId":"/hello"}`) {
		t.Errorf("yes sent %q", got)
	}
	if len(d.flashes) != 1 || d.flashes[0].Text != "uninstalled hello from /hello: bye" {
		t.Errorf("flashes %+v", d.flashes)
	}
}

func TestUninstallModule(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.keys("down", "x")
	if len(d.confirms) != 1 || !strings.Contains(d.confirms[0].Prompt, "module dns is stopped") {
		t.Fatalf("confirms %+v", d.confirms)
	}
	d.run(d.confirms[0].Yes)
	if got := m.took(); !slices.Contains(got, `POST /package/uninstall {"packageName":"dns","appId":"dns"}`) {
		t.Errorf("yes sent %q", got)
	}
}

func TestServicesEventsRefetch(t *testing.T) {
	m := newCluster(t)
	d := started(t, m)
	d.send(view.EventMsg{Event: protocol.ClusterEvent{Type: protocol.EvSubscribed, State: &protocol.State{
		Frameworks: []protocol.Framework{{ID: servicesID, Name: "services", Connected: true}}}}})
	d.fire()
	m.took()
	d.send(view.EventMsg{Event: protocol.ClusterEvent{Type: protocol.EvTaskUpdated, Task: &protocol.Task{ID: "hello.1", FrameworkID: servicesID}}})
	d.send(view.EventMsg{Event: protocol.ClusterEvent{Type: protocol.EvTaskUpdated, Task: &protocol.Task{ID: "hello.2", FrameworkID: servicesID}}})
	d.fire()
	if n := m.count("POST /package/list"); n != 1 {
		t.Errorf("%d list requests after 2 events, want 1", n)
	}
}

func TestNoPackageAPI(t *testing.T) {
	m := newFakeMaster(t) // answers 404 everywhere
	d := newDriver(t, m)
	d.run(d.p.Init())
	if out := d.p.Render(80, 24); !strings.Contains(out, "the master does not serve the package API") {
		t.Errorf("shows %q", out)
	}
	renderGolden(t, d)
}
