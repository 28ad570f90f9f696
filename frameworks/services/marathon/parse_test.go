package marathon

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustApp parses, normalises and validates, failing the test on any error.
func mustApp(t *testing.T, data []byte) (App, []string) {
	t.Helper()
	a, warnings, err := ParseApp(data)
	if err != nil {
		t.Fatalf("ParseApp: %v", err)
	}
	a.Normalize()
	if verr := a.Validate(); verr != nil {
		t.Fatalf("Validate: %v", verr)
	}
	return a, warnings
}

// roundTrip checks that a normalised, valid app survives a JSON round
// trip unchanged, through ParseApp (no warnings) and through plain
// encoding/json, and that its encoding is stable.
func roundTrip(t *testing.T, a App) []byte {
	t.Helper()
	out, err := json.Marshal(a)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	b, warnings, err := ParseApp(out)
	if err != nil {
		t.Fatalf("ParseApp(Marshal(app)): %v\n%s", err, out)
	}
	if len(warnings) > 0 {
		t.Errorf("ParseApp(Marshal(app)) warned: %q\n%s", warnings, out)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("ParseApp round trip changed the app:\nbefore %#v\nafter  %#v\njson %s", a, b, out)
	}
	b.Normalize()
	if !reflect.DeepEqual(a, b) {
		t.Errorf("Normalize is not idempotent on a round-tripped app")
	}
	var c App
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("json.Unmarshal(Marshal(app)): %v", err)
	}
	want := a.Clone()
	want.EnvSecrets = nil
	if !reflect.DeepEqual(want, c) {
		t.Errorf("encoding/json round trip changed the app:\nbefore %#v\nafter  %#v", want, c)
	}
	again, _ := json.Marshal(b)
	if !bytes.Equal(out, again) {
		t.Errorf("encoding not stable:\n%s\n%s", out, again)
	}
	return out
}

func TestParseRealisticApps(t *testing.T) {
	for _, name := range []string{"ubuntu.json", "web.json", "worker.json"} {
		t.Run(name, func(t *testing.T) {
			a, warnings := mustApp(t, readTestdata(t, name))
			if len(warnings) > 0 {
				t.Errorf("warnings: %q", warnings)
			}
			roundTrip(t, a)
		})
	}
}

func TestParseWebApp(t *testing.T) {
	a, _ := mustApp(t, readTestdata(t, "web.json"))
	if a.ID != "/prod/shop/web" || *a.Instances != 3 || *a.CPUs != 0.25 || *a.Mem != 64 || *a.Disk != 10 {
		t.Errorf("scalars: %+v", a)
	}
	if got := a.Dependencies; !reflect.DeepEqual(got, []string{"/prod/db", "/prod/cache"}) {
		t.Errorf("dependencies resolved against /prod/shop: %q", got)
	}
	if len(a.Constraints) != 5 || a.Constraints[3][1] != "IS" {
		t.Errorf("constraints: %q", a.Constraints)
	}
	pd := a.PortDefinitions
	if len(pd) != 2 || pd[0].Name != "http" || pd[1].Protocol != "tcp" || pd[0].Labels["VIP_0"] != "/shop-web:80" {
		t.Errorf("portDefinitions: %+v", pd)
	}
	hc := a.HealthChecks[0]
	if hc.Protocol != "MESOS_HTTP" || *hc.PortIndex != 0 || *hc.GracePeriodSeconds != 120 || *hc.DelaySeconds != 5 || hc.IPProtocol != "IPv4" {
		t.Errorf("health check: %+v", hc)
	}
	rc := a.ReadinessChecks[0]
	if rc.PortName != "http" || !reflect.DeepEqual(rc.HTTPStatusCodesForReady, []int{200, 204}) || !rc.PreserveLastResponse {
		t.Errorf("readiness: %+v", rc)
	}
	if *a.UnreachableStrategy.InactiveAfterSeconds != 60 || *a.UnreachableStrategy.ExpungeAfterSeconds != 120 {
		t.Errorf("unreachable: %+v", a.UnreachableStrategy)
	}
	if !*a.Fetch[0].Extract || *a.Fetch[1].Extract || !a.Fetch[1].Executable || a.Fetch[1].DestPath != "bin/run.sh" {
		t.Errorf("fetch: %+v", a.Fetch)
	}
	if c := a.Container; c.Type != "MESOS" || len(c.Volumes) != 2 || c.Volumes[1].Mode != "RO" {
		t.Errorf("container: %+v", c)
	}
}

func TestParseWorkerApp(t *testing.T) {
	a, _ := mustApp(t, readTestdata(t, "worker.json"))
	if a.Cmd != nil || len(a.Args) != 4 || *a.Instances != 0 {
		t.Errorf("%+v", a)
	}
	if a.PortDefinitions == nil || len(a.PortDefinitions) != 0 {
		t.Errorf("portDefinitions [] must stay empty (no ports), got %+v", a.PortDefinitions)
	}
	if !a.UnreachableStrategy.Disabled || a.UnreachableStrategy.InactiveAfterSeconds != nil {
		t.Errorf("unreachable: %+v", a.UnreachableStrategy)
	}
	if hc := a.HealthChecks[0]; hc.PortIndex != nil || hc.Command.Value != "test -f /tmp/alive" || *hc.MaxConsecutiveFailures != 0 {
		t.Errorf("COMMAND check gets no portIndex: %+v", hc)
	}
	out, _ := json.Marshal(a)
	if !bytes.Contains(out, []byte(`"unreachableStrategy":"disabled"`)) || !bytes.Contains(out, []byte(`"portDefinitions":[]`)) {
		t.Errorf("json: %s", out)
	}
}

// A script that GETs an app and POSTs it back (Marathon 1.x output with
// its deprecated fields) works: status fields are ignored with a warning,
// ports and uris are converted.
func TestParseGetResponseBack(t *testing.T) {
	a, warnings := mustApp(t, readTestdata(t, "get_response.json"))
	wantWarnings := []string{
		`deprecated field "/ports": converted to "/portDefinitions"`,
		`deprecated field "/uris": converted to "/fetch"`,
		`read-only field "/deployments": ignored`,
		`read-only field "/tasksHealthy": ignored`,
		`read-only field "/tasksRunning": ignored`,
		`read-only field "/tasksStaged": ignored`,
		`read-only field "/tasksUnhealthy": ignored`,
	}
	if len(warnings) != len(wantWarnings) {
		t.Fatalf("warnings: %q", warnings)
	}
	for i, w := range wantWarnings {
		if !strings.HasPrefix(warnings[i], w) {
			t.Errorf("warning %d: %q, want prefix %q", i, warnings[i], w)
		}
	}
	if len(a.PortDefinitions) != 2 || a.PortDefinitions[0].Port != 10013 || a.PortDefinitions[1].Protocol != "tcp" {
		t.Errorf("ports converted: %+v", a.PortDefinitions)
	}
	if len(a.Fetch) != 1 || *a.Fetch[0].Extract {
		t.Errorf("uris converted (a README is not an archive): %+v", a.Fetch)
	}
	if a.Args != nil || a.User != "" || a.Container != nil || a.HealthChecks != nil {
		t.Errorf("nulls are 'not given': %+v", a)
	}
	if a.Version != "2015-09-25T15:13:48.343Z" || a.VersionInfo.LastScalingAt != "2015-09-25T15:13:48.343Z" {
		t.Errorf("version: %q %+v", a.Version, a.VersionInfo)
	}
	roundTrip(t, a)
}

func TestDeprecatedConversions(t *testing.T) {
	a, w, err := ParseApp([]byte(`{"id":"a","cmd":"x","uris":["http://h/x.tgz","http://h/y.txt"]}`))
	if err != nil || len(w) != 1 {
		t.Fatal(err, w)
	}
	if len(a.Fetch) != 2 || !*a.Fetch[0].Extract || *a.Fetch[1].Extract {
		t.Errorf("extract per archive suffix: %+v", a.Fetch)
	}
	// Same ports in both: fine, the deprecated one is ignored.
	a, w, err = ParseApp([]byte(`{"id":"a","cmd":"x","ports":[80],"portDefinitions":[{"port":80,"name":"web"}]}`))
	if err != nil || len(w) != 1 || a.PortDefinitions[0].Name != "web" {
		t.Fatal(err, w, a.PortDefinitions)
	}
	// Different ports in both: an error, as in Marathon.
	_, _, err = ParseApp([]byte(`{"id":"a","cmd":"x","ports":[80],"portDefinitions":[{"port":81}]}`))
	wantPath(t, err, "/ports", "cannot specify both ports and portDefinitions")
	_, _, err = ParseApp([]byte(`{"id":"a","cmd":"x","uris":["http://a"],"fetch":[{"uri":"http://b"}]}`))
	wantPath(t, err, "/uris", "cannot specify both uris and fetch")
}

func TestUnknownFieldsWarn(t *testing.T) {
	_, warnings, err := ParseApp([]byte(`{
		"id": "a", "cmd": "x", "foo": 1, "tty": true,
		"healthChecks": [{"protocol": "TCP", "portIndex": 0, "bogus": "y", "command": {"value": "v", "shell": true}}],
		"portDefinitions": [{"port": 0, "hostPort": 3}],
		"upgradeStrategy": {"minimumHealthCapacity": 1, "speed": "fast"},
		"unreachableStrategy": {"inactiveAfterSeconds": 1, "expungeAfterSeconds": 2, "x": 0},
		"readinessChecks": [{"portName": "p", "interval": 10000}],
		"fetch": [{"uri": "http://x", "checksum": "abc"}],
		"container": {"type": "MESOS", "linuxInfo": {}, "docker": {"image": "i", "shmSize": 64}, "volumes": [{"containerPath": "a", "hostPath": "/a", "mode": "RW", "size": 1}]},
		"networks": [{"mode": "host", "foo": 1}],
		"env": {"S": {"secret": "s", "key": "k"}},
		"versionInfo": {"lastScalingAt": "x", "lastConfigChangeAt": "y", "z": 1}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`unknown field "/healthChecks(0)/command/shell": ignored by Cairn`,
		`unknown field "/healthChecks(0)/bogus": ignored by Cairn`,
		`unknown field "/readinessChecks(0)/interval": ignored by Cairn`,
		`unknown field "/upgradeStrategy/speed": ignored by Cairn`,
		`unknown field "/unreachableStrategy/x": ignored by Cairn`,
		`unknown field "/fetch(0)/checksum": ignored by Cairn`,
		`unknown field "/container/docker/shmSize": ignored by Cairn`,
		`unknown field "/container/volumes(0)/size": ignored by Cairn`,
		`unknown field "/container/linuxInfo": ignored by Cairn`,
		`unknown field "/networks(0)/foo": ignored by Cairn`,
		`unknown field "/versionInfo/z": ignored by Cairn`,
		`unknown field "/foo": ignored by Cairn`,
		`unknown field "/tty": ignored by Cairn`,
	}
	got := map[string]bool{}
	for _, w := range warnings {
		got[w] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("missing warning %q in %q", w, warnings)
		}
	}
	for _, w := range []string{`"/portDefinitions(0)/hostPort"`, `"/env/S/key"`} {
		found := false
		for _, g := range warnings {
			found = found || strings.Contains(g, w)
		}
		if !found {
			t.Errorf("missing warning about %s in %q", w, warnings)
		}
	}
	if len(warnings) != len(want)+2 {
		t.Errorf("%d warnings, want %d: %q", len(warnings), len(want)+2, warnings)
	}
}

// Type errors: every one is reported, with its path, and nothing is
// returned.
func TestParseTypeErrors(t *testing.T) {
	cases := []struct{ json, path, msg string }{
		{`{"id": 5}`, "/id", "expected a string, got number 5"},
		{`{"instances": "3"}`, "/instances", `expected a number, got string "3"`},
		{`{"instances": 1.5}`, "/instances", "expected an integer, got 1.5"},
		{`{"instances": 1e12}`, "/instances", "out of range"},
		{`{"cpus": true}`, "/cpus", "expected a number, got boolean"},
		{`{"mem": 1e999}`, "/mem", "out of range"},
		{`{"args": "echo hi"}`, "/args", `expected an array, got string "echo hi"`},
		{`{"args": ["a", 2]}`, "/args(1)", "expected a string, got number 2"},
		{`{"env": {"A": 1}}`, "/env/A", "expected a string (or a secret reference"},
		{`{"env": []}`, "/env", "expected an object of strings, got array"},
		{`{"labels": {"a": null}}`, "/labels/a", "expected a string, got null"},
		{`{"constraints": ["hostname", "UNIQUE"]}`, "/constraints(0)", `expected an array, got string "hostname"`},
		{`{"constraints": [["rack", "MAX_PER", 2]]}`, "/constraints(0)(2)", "expected a string, got number 2"},
		{`{"portDefinitions": [{"port": "80"}]}`, "/portDefinitions(0)/port", "expected a number"},
		{`{"portDefinitions": {"port": 80}}`, "/portDefinitions", "expected an array, got object"},
		{`{"healthChecks": [{"portIndex": "0"}]}`, "/healthChecks(0)/portIndex", "expected a number"},
		{`{"healthChecks": [{"command": "curl x"}]}`, "/healthChecks(0)/command", "expected an object"},
		{`{"healthChecks": ["HTTP"]}`, "/healthChecks(0)", "expected an object"},
		{`{"readinessChecks": [{"httpStatusCodesForReady": [200.5]}]}`, "/readinessChecks(0)/httpStatusCodesForReady(0)", "expected an integer"},
		{`{"upgradeStrategy": 1}`, "/upgradeStrategy", "expected an object, got number 1"},
		{`{"upgradeStrategy": {"minimumHealthCapacity": "all"}}`, "/upgradeStrategy/minimumHealthCapacity", "expected a number"},
		{`{"unreachableStrategy": "never"}`, "/unreachableStrategy", `expected "disabled" or an object`},
		{`{"unreachableStrategy": 5}`, "/unreachableStrategy", `expected "disabled" or an object, got number 5`},
		{`{"requirePorts": "yes"}`, "/requirePorts", "expected a boolean"},
		{`{"fetch": [{"uri": "x", "extract": "no"}]}`, "/fetch(0)/extract", "expected a boolean"},
		{`{"container": {"volumes": {}}}`, "/container/volumes", "expected an array"},
		{`{"container": {"docker": "ubuntu"}}`, "/container/docker", "expected an object"},
		{`{"container": []}`, "/container", "expected an object, got array"},
		{`{"networks": [{"mode": 1}]}`, "/networks(0)/mode", "expected a string"},
		{`{"ports": ["80"]}`, "/ports(0)", "expected a number"},
		{`{"uris": "http://x"}`, "/uris", "expected an array"},
		{`{"secrets": []}`, "/secrets", "expected an object"},
		{`{"env": {"P": {"source": "x"}}}`, "/env/P", `without "secret"`},
	}
	for _, c := range cases {
		a, _, err := ParseApp([]byte(c.json))
		wantPath(t, err, c.path, c.msg)
		if !reflect.DeepEqual(a, App{}) {
			t.Errorf("%s: a partial app was returned: %+v", c.json, a)
		}
	}
	// All problems at once.
	_, _, err := ParseApp([]byte(`{"id": 1, "instances": "x", "healthChecks": [{"port": "y"}]}`))
	ve := err.(*ValidationError)
	if len(ve.Details) != 3 || ve.Message != MessageInvalidJSON {
		t.Errorf("want 3 details: %v", err)
	}
}

func TestParseBadJSON(t *testing.T) {
	for _, c := range []struct{ json, msg string }{
		{``, "the body is empty"},
		{`   `, "the body is empty"},
		{`{"id": "a",}`, "invalid JSON at line 1, column 12"},
		{`{"id": "a"`, "unexpected end of input"},
		{"{\n  \"id\": \"a\"\n  \"cmd\": \"x\"\n}", "invalid JSON at line 3"},
		{`{"id": "a"} {"id": "b"}`, "unexpected data after the top-level value"},
		{`{"id": "a"} x`, "unexpected data after the top-level value"},
		{`[{"id": "a"}]`, "expected an object, got array"},
		{`"app"`, `expected an object, got string "app"`},
		{`null`, "expected an object, got null"},
	} {
		_, _, err := ParseApp([]byte(c.json))
		wantPath(t, err, "/", c.msg)
	}
	// Marathon's own docs example (docs/.../examples/app.json) misses commas.
	_, _, err := ParseApp([]byte("{\n \"readinessChecks\": [{\n \"path\": \"/v1/plan\"\n \"portName\": \"http\"\n }]\n}"))
	wantPath(t, err, "/", "line 4")
}

// wantPath checks that err is a *ValidationError with a message under path
// containing msg.
func wantPath(t *testing.T, err error, path, msg string) {
	t.Helper()
	ve, ok := err.(*ValidationError)
	if !ok || ve == nil {
		t.Errorf("want a *ValidationError at %s (%q), got %v", path, msg, err)
		return
	}
	for _, m := range ve.Errors(path) {
		if strings.Contains(m, msg) {
			return
		}
	}
	t.Errorf("want %q at %s, got %v", msg, path, ve)
}

func TestValidationErrorJSON(t *testing.T) {
	_, _, err := ParseApp([]byte(`{"instances": "x"}`))
	b, _ := json.Marshal(err)
	want := `{"message":"Invalid JSON","details":[{"path":"/instances","errors":["expected a number, got string \"x\""]}]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if got := err.Error(); got != `Invalid JSON: /instances: expected a number, got string "x"` {
		t.Errorf("Error(): %s", got)
	}
}

func TestIntegersAcceptWholeFloats(t *testing.T) {
	a, _, err := ParseApp([]byte(`{"id":"a","cmd":"x","instances":2.0,"gpus":0e3,"portDefinitions":[{"port":8.08e3}]}`))
	if err != nil || *a.Instances != 2 || *a.GPUs != 0 || a.PortDefinitions[0].Port != 8080 {
		t.Fatal(err, a)
	}
}
