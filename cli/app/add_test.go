package app

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/deployment/deploymenttest"
)

const webJSON = `{"id": "web", "cmd": "python3 -m http.server $PORT0", "cpus": 0.1, "mem": 64, "instances": 2}`

func TestAdd(t *testing.T) {
	m := deploymenttest.New(t)
	m.Configure(deploymenttest.Settings{Outcome: deploymenttest.Stick})
	out, errOut, err := run(t, m, "", "add", writeFile(t, "web.json", webJSON))
	if err != nil || errOut != "" {
		t.Fatalf("%v (stderr %q)", err, errOut)
	}
	if out != "Created app /web: deployment dep-1\n" {
		t.Errorf("out %q", out)
	}
	if a, ok := m.App("/web"); !ok || *a.Instances != 2 || *a.Cmd != "python3 -m http.server $PORT0" {
		t.Errorf("app %+v", a)
	}
	// Again: it exists.
	_, _, err = run(t, m, "", "add", writeFile(t, "web.json", webJSON))
	if err == nil || err.Error() != "app /web already exists: change it with cairn app update /web FILE, or remove it first" {
		t.Errorf("add twice: %v", err)
	}
}

func TestAddStdinWarnings(t *testing.T) {
	m := deploymenttest.New(t)
	m.Configure(deploymenttest.Settings{Outcome: deploymenttest.Stick})
	out, errOut, err := run(t, m, `{"id": "/api", "cmd": "sleep 1000", "bogus": 1, "tasksRunning": 3}`, "add", "-")
	if err != nil {
		t.Fatal(err)
	}
	if out != "Created app /api: deployment dep-1\n" {
		t.Errorf("out %q", out)
	}
	for _, w := range []string{`Warning: unknown field "/bogus": ignored by Cairn`, `Warning: `} {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr %q: want %q", errOut, w)
		}
	}
	if strings.Count(errOut, "Warning: ") != 2 {
		t.Errorf("stderr %q: want a warning per ignored field", errOut)
	}
}

func TestAddJSON(t *testing.T) {
	m := deploymenttest.New(t)
	m.Configure(deploymenttest.Settings{Outcome: deploymenttest.Stick})
	out, _, err := run(t, m, webJSON, "add", "-", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got["id"] != "/web" || got["deployments"].([]any)[0].(map[string]any)["id"] != "dep-1" || got["instances"] != 2.0 {
		t.Errorf("json %v", got)
	}
}

func TestAddInvalid(t *testing.T) {
	m := deploymenttest.New(t)
	_, _, err := run(t, m, `{"id": "web", "instances": -1, "cmd": "", "cpus": 0}`, "add", "-")
	want := "invalid app: /cmd: must not be empty: give the shell command to run; /instances: must be at least 0, got -1; /cpus: must be at least 0.001, got 0"
	if err == nil || cmdutil.IsUsageError(err) {
		t.Fatalf("422: %v", err)
	}
	// Every detail, in the framework's order.
	for _, part := range []string{"invalid app: ", "/instances: must be at least 0, got -1", "/cmd: ", "/cpus: "} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("422: %q lacks %q (want something like %q)", err, part, want)
		}
	}
	if strings.Count(err.Error(), "; ") != 2 {
		t.Errorf("422: %q: want the 3 details separated by '; '", err)
	}
	// Broken JSON is caught before any request, with where it breaks.
	n := len(m.Requests())
	_, _, err = run(t, m, "{\"id\": \"web\",\n \"cmd\": \"x\",\n}", "add", "-")
	if err == nil || err.Error() != `invalid app in the standard input: /: invalid JSON at line 3, column 1: invalid character '}' looking for beginning of object key string` {
		t.Errorf("bad JSON: %v", err)
	}
	for _, in := range []string{"", "[1]", "null"} {
		if _, _, err := run(t, m, in, "add", "-"); err == nil || !strings.Contains(err.Error(), "invalid app in the standard input") &&
			!strings.Contains(err.Error(), "not a JSON object") {
			t.Errorf("%q: %v", in, err)
		}
	}
	if len(m.Requests()) != n {
		t.Errorf("requests for bad JSON: %q", m.Requests()[n:])
	}
	_, _, err = run(t, m, "", "add", "/no/such/file.json")
	if err == nil || !strings.Contains(err.Error(), "reading the app definition: open /no/such/file.json: no such file or directory") {
		t.Errorf("missing file: %v", err)
	}
}

func TestAddWait(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings deploymenttest.Settings
		want     string
		wantErr  string
	}{
		{name: "success", settings: deploymenttest.Settings{Outcome: deploymenttest.Succeed},
			want: "Deployment dep-1 succeeded: app /web has 2/2 tasks running"},
		{name: "success, polling", settings: deploymenttest.Settings{Outcome: deploymenttest.Succeed, NoEvents: true},
			want: "Deployment dep-1 succeeded: app /web has 2/2 tasks running"},
		{name: "failure", settings: deploymenttest.Settings{Outcome: deploymenttest.Fail, FailReason: "rolled back"},
			wantErr: "deployment dep-1 of app /web failed: rolled back"},
		{name: "failure, polling", settings: deploymenttest.Settings{Outcome: deploymenttest.Fail, NoEvents: true},
			wantErr: "deployment dep-1 ended and app /web no longer exists (removed, or its creation rolled back)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := deploymenttest.New(t)
			m.Configure(tc.settings)
			out, errOut, err := run(t, m, webJSON, "add", "-", "--wait")
			if errOut != "" {
				t.Errorf("stderr %q: no progress when it is not a terminal", errOut)
			}
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr || cmdutil.IsUsageError(err) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				if out != "Created app /web: deployment dep-1\n" {
					t.Errorf("out %q", out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out != "Created app /web: deployment dep-1\n"+tc.want+"\n" {
				t.Errorf("out %q", out)
			}
			// The event stream was opened before the app was posted.
			reqs := m.Requests()
			events := slices.IndexFunc(reqs, func(r string) bool { return strings.HasPrefix(r, "GET /service/services/v2/events?") })
			post := slices.Index(reqs, "POST /service/services/v2/apps")
			if post < 0 || events < 0 || events > post {
				t.Errorf("requests %q: want the events before the POST", reqs)
			}
		})
	}
}

func TestAddWaitJSON(t *testing.T) {
	m := deploymenttest.New(t)
	out, _, err := run(t, m, webJSON, "add", "-", "--wait", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil || got["id"] != "/web" {
		t.Errorf("--wait --json: stdout is only the JSON: %q (%v)", out, err)
	}
}
