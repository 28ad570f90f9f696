package marathon

import (
	"encoding/json"
	"reflect"
	"testing"
)

func mustUpdate(t *testing.T, data string) (AppUpdate, []string) {
	t.Helper()
	u, w, err := ParseAppUpdate([]byte(data))
	if err != nil {
		t.Fatalf("ParseAppUpdate(%s): %v", data, err)
	}
	return u, w
}

// apply parses the update, applies it to base, normalises and validates.
func apply(t *testing.T, base App, data string) App {
	t.Helper()
	u, _ := mustUpdate(t, data)
	if ve := u.ValidateFor(base.ID); ve != nil {
		t.Fatalf("ValidateFor: %v", ve)
	}
	next := u.Apply(base)
	next.Normalize()
	if ve := next.Validate(); ve != nil {
		t.Fatalf("Validate after %s: %v", data, ve)
	}
	return next
}

func TestPartialUpdateReplacesOnlyGivenFields(t *testing.T) {
	base, _ := mustApp(t, readTestdata(t, "web.json"))
	orig := base.Clone()

	next := apply(t, base, `{"instances": 5}`)
	want := base.Clone()
	want.Instances = ptr(5)
	if !reflect.DeepEqual(next, want) {
		t.Errorf("scale changed more than instances:\n%#v\n%#v", next, want)
	}

	next = apply(t, base, `{"env": {}, "labels": {"team": "x"}}`)
	if next.Env != nil || !reflect.DeepEqual(next.Labels, map[string]string{"team": "x"}) {
		t.Errorf("env cleared and labels replaced: %v %v", next.Env, next.Labels)
	}
	if !reflect.DeepEqual(next.HealthChecks, base.HealthChecks) || !reflect.DeepEqual(next.Constraints, base.Constraints) {
		t.Errorf("untouched fields changed")
	}

	// null is "not given", as in Marathon.
	next = apply(t, base, `{"cmd": null, "instances": null, "cpus": 2}`)
	if *next.Cmd != *base.Cmd || *next.Instances != 3 || *next.CPUs != 2 {
		t.Errorf("nulls: %v %v %v", *next.Cmd, *next.Instances, *next.CPUs)
	}

	// Nested objects are replaced whole; Normalize fills their defaults.
	next = apply(t, base, `{"upgradeStrategy": {"minimumHealthCapacity": 0.9}}`)
	if *next.UpgradeStrategy.MinimumHealthCapacity != 0.9 || *next.UpgradeStrategy.MaximumOverCapacity != 1 {
		t.Errorf("upgradeStrategy: %+v", next.UpgradeStrategy)
	}
	next = apply(t, base, `{"healthChecks": [{"protocol": "TCP"}]}`)
	if hc := next.HealthChecks[0]; hc.Protocol != "TCP" || *hc.IntervalSeconds != 60 || *hc.PortIndex != 0 {
		t.Errorf("health check defaults after update: %+v", hc)
	}
	next = apply(t, base, `{"healthChecks": [], "readinessChecks": [], "constraints": [], "fetch": [], "dependencies": []}`)
	if next.HealthChecks != nil || next.ReadinessChecks != nil || next.Constraints != nil || next.Fetch != nil || next.Dependencies != nil {
		t.Errorf("empty arrays clear: %+v", next)
	}
	next = apply(t, base, `{"unreachableStrategy": "disabled", "container": null, "portDefinitions": [{"port": 0, "name": "http"}]}`)
	if !next.UnreachableStrategy.Disabled || next.Container == nil || len(next.PortDefinitions) != 1 {
		t.Errorf("%+v %+v %+v", next.UnreachableStrategy, next.Container, next.PortDefinitions)
	}

	if !reflect.DeepEqual(base, orig) {
		t.Errorf("Apply modified its base")
	}
}

func TestUpdateSwitchesBetweenCmdAndArgs(t *testing.T) {
	base, _ := mustApp(t, readTestdata(t, "ubuntu.json"))
	next := apply(t, base, `{"args": ["/bin/sleep", "100"]}`)
	if next.Cmd != nil || len(next.Args) != 2 {
		t.Errorf("args replaces cmd: %v %v", next.Cmd, next.Args)
	}
	back := apply(t, next, `{"cmd": "sleep 5"}`)
	if back.Args != nil || *back.Cmd != "sleep 5" {
		t.Errorf("cmd replaces args: %v %v", back.Cmd, back.Args)
	}
	// Both at once is still an error.
	u, _ := mustUpdate(t, `{"cmd": "a", "args": ["b"]}`)
	bad := u.Apply(base)
	bad.Normalize()
	wantPath(t, bad.Validate(), "/cmd", "cannot both be given")
}

func TestUpdateMayNotRename(t *testing.T) {
	for _, c := range []struct {
		update string
		ok     bool
	}{
		{`{"id": "/ubuntu", "instances": 2}`, true},
		{`{"id": "ubuntu"}`, true},
		{`{"id": "/other"}`, false},
		{`{"id": "/Bad"}`, false},
		{`{"version": "2015-09-25T15:13:48.343Z"}`, true},
		{`{"id": "/ubuntu", "version": "2015-09-25T15:13:48.343Z"}`, true},
		{`{"version": "2015-09-25T15:13:48.343Z", "instances": 3}`, false},
	} {
		u, _ := mustUpdate(t, c.update)
		ve := u.ValidateFor("/ubuntu")
		if (ve == nil) != c.ok {
			t.Errorf("%s: ok=%v, got %v", c.update, c.ok, ve)
		}
	}
	u, _ := mustUpdate(t, `{"id": "/other"}`)
	wantPath(t, u.ValidateFor("/ubuntu"), "/id", "cannot rename")
	u, _ = mustUpdate(t, `{"version": "v", "cpus": 1}`)
	wantPath(t, u.ValidateFor("/ubuntu"), "/version", "may only be combined with id")
	// Apply never renames, whatever the update says.
	base, _ := mustApp(t, readTestdata(t, "ubuntu.json"))
	if got := (AppUpdate{ID: ptr("/other")}).Apply(base).ID; got != "/ubuntu" {
		t.Errorf("renamed to %s", got)
	}
}

func TestParseAppUpdateFields(t *testing.T) {
	u, w := mustUpdate(t, `{"instances": 4, "labels": {}, "ports": [0, 0], "bogus": 1, "tasksRunning": 3}`)
	if *u.Instances != 4 || u.Labels == nil || len(u.Labels) != 0 || len(u.PortDefinitions) != 2 {
		t.Errorf("%+v", u)
	}
	if u.Cmd != nil || u.Env != nil || u.Args != nil || u.HealthChecks != nil || u.Container != nil || u.Version != nil {
		t.Errorf("absent fields must be nil: %+v", u)
	}
	if len(w) != 3 {
		t.Errorf("warnings: %q", w)
	}
	_, _, err := ParseAppUpdate([]byte(`{"instances": "many"}`))
	wantPath(t, err, "/instances", "expected a number")
	_, _, err = ParseAppUpdate([]byte(`{"instances": 1`))
	wantPath(t, err, "/", "unexpected end of input")

	u, _ = mustUpdate(t, `{"env": {"A": "1", "S": {"secret": "s"}}}`)
	base, _ := mustApp(t, readTestdata(t, "ubuntu.json"))
	next := u.Apply(base)
	if next.Env["A"] != "1" || next.EnvSecrets["S"] != "s" {
		t.Errorf("env with secrets: %v %v", next.Env, next.EnvSecrets)
	}
	next.Normalize()
	wantPath(t, next.Validate(), "/env/S", "not supported yet")
}

// A PUT to an app that does not exist creates it (Marathon's behaviour):
// the update applied to an empty app with the URL's id.
func TestUpdateCreates(t *testing.T) {
	u, _ := mustUpdate(t, `{"cmd": "sleep 1", "instances": 2}`)
	a := u.Apply(App{ID: "/new"})
	a.Normalize()
	if ve := a.Validate(); ve != nil || *a.Mem != 128 || a.ID != "/new" {
		t.Fatalf("%v %+v", ve, a)
	}
}

func TestApplySharesNothing(t *testing.T) {
	base, _ := mustApp(t, readTestdata(t, "web.json"))
	before, _ := json.Marshal(base)
	u, _ := mustUpdate(t, `{"healthChecks": [{"protocol": "TCP"}], "labels": {"a": "b"}, "container": {"type": "MESOS"}}`)
	next := u.Apply(base)
	next.Normalize()
	*next.Instances = 99
	next.Labels["a"] = "c"
	*next.UpgradeStrategy.MinimumHealthCapacity = 0
	next.PortDefinitions[0].Labels["x"] = "y"
	next.Container.Type = "DOCKER"
	after, _ := json.Marshal(base)
	if string(before) != string(after) {
		t.Errorf("base changed through the result")
	}
	if u.Labels["a"] != "b" || u.Container.Type != "MESOS" || u.HealthChecks[0].IntervalSeconds != nil {
		t.Errorf("update changed through the result: %+v", u)
	}
}
