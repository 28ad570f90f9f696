package marathon

import (
	"encoding/json"
	"strings"
	"testing"
)

// check parses, normalises and validates an app made of base's fields
// overridden by patch's (a JSON object), returning the pipeline's error.
func check(t *testing.T, patch string) error {
	t.Helper()
	var base, p map[string]any
	_ = json.Unmarshal([]byte(`{"id": "/a", "cmd": "sleep 1"}`), &base)
	if err := json.Unmarshal([]byte(patch), &p); err != nil {
		t.Fatalf("bad test patch %s: %v", patch, err)
	}
	for k, v := range p {
		if v == nil {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	data, _ := json.Marshal(base)
	a, _, err := ParseApp(data)
	if err != nil {
		return err
	}
	a.Normalize()
	if verr := a.Validate(); verr != nil {
		return verr
	}
	return nil
}

func TestValidateMalformed(t *testing.T) {
	cases := []struct{ name, patch, path, msg string }{
		// ids
		{"missing id", `{"id": null}`, "/id", "must not be empty"},
		{"uppercase id", `{"id": "/Prod/web"}`, "/id", "uppercase"},
		{"id with underscore", `{"id": "/prod/my_app"}`, "/id", `character '_'`},
		{"id segment starting with -", `{"id": "/prod/-web"}`, "/id", "starts or ends with '-'"},
		{"id with a space", `{"id": "/prod/web app"}`, "/id", `character ' '`},
		{"id with empty label", `{"id": "/prod/web..v2"}`, "/id", "empty part between dots"},
		{"root id", `{"id": "/"}`, "/id", "root group"},
		{"reserved id", `{"id": "/prod/tasks"}`, "/id", "reserved"},
		{"too long id", `{"id": "/` + strings.Repeat("a", MaxIDLength) + `"}`, "/id", "limits app ids"},
		// command
		{"cmd and args", `{"args": ["sleep", "1"]}`, "/cmd", "cannot both be given"},
		{"neither cmd nor args", `{"cmd": null}`, "/cmd", "missing"},
		{"empty cmd", `{"cmd": "  "}`, "/cmd", "must not be empty"},
		{"empty program", `{"cmd": null, "args": [""]}`, "/args(0)", "must not be empty"},
		// resources
		{"negative instances", `{"instances": -1}`, "/instances", "must be at least 0"},
		{"zero cpus", `{"cpus": 0}`, "/cpus", "at least 0.001"},
		{"negative mem", `{"mem": -128}`, "/mem", "at least 0"},
		{"negative disk", `{"disk": -1}`, "/disk", "at least 0"},
		{"negative gpus", `{"gpus": -1}`, "/gpus", "at least 0"},
		// env and labels
		{"env name with =", `{"env": {"A=B": "c"}}`, "/env/A=B", "not a valid variable name"},
		{"empty env name", `{"env": {"": "c"}}`, "/env", "must not be empty"},
		{"empty label name", `{"labels": {"": "c"}}`, "/labels", "must not be empty"},
		{"single-instance app with 2 instances", `{"instances": 2, "labels": {"MARATHON_SINGLE_INSTANCE_APP": "true"}, "upgradeStrategy": {"minimumHealthCapacity": 0, "maximumOverCapacity": 0}}`, "/instances", "single-instance"},
		{"single-instance app with default upgrade", `{"labels": {"MARATHON_SINGLE_INSTANCE_APP": "true"}}`, "/upgradeStrategy", "single-instance"},
		// constraints
		{"unknown constraint operator", `{"constraints": [["hostname", "NEAR"]]}`, "/constraints(0)", `unknown constraint operator "NEAR"`},
		{"lowercase operator", `{"constraints": [["hostname", "unique"]]}`, "/constraints(0)", "unknown constraint operator"},
		{"constraint of one field", `{"constraints": [["hostname"]]}`, "/constraints(0)", "2 or 3 fields"},
		{"constraint of four fields", `{"constraints": [["a", "IS", "b", "c"]]}`, "/constraints(0)", "2 or 3 fields"},
		{"empty constraint field", `{"constraints": [["", "UNIQUE"]]}`, "/constraints(0)", "field must not be empty"},
		{"UNIQUE with a value", `{"constraints": [["hostname", "UNIQUE", ""]]}`, "/constraints(0)", "UNIQUE takes no value"},
		{"bad regexp in LIKE", `{"constraints": [["hostname", "UNIQUE"], ["rack", "LIKE", "rack-[1-"]]}`, "/constraints(1)", "not a valid regular expression"},
		{"UNLIKE without value", `{"constraints": [["rack", "UNLIKE"]]}`, "/constraints(0)", "regular expression value"},
		{"MAX_PER not a number", `{"constraints": [["rack", "MAX_PER", "two"]]}`, "/constraints(0)", "MAX_PER must have an integer value"},
		{"MAX_PER without value", `{"constraints": [["rack", "MAX_PER"]]}`, "/constraints(0)", "MAX_PER must have an integer value"},
		{"GROUP_BY not a number", `{"constraints": [["rack", "GROUP_BY", "x"]]}`, "/constraints(0)", "integer value"},
		{"IS without value", `{"constraints": [["rack", "IS"]]}`, "/constraints(0)", "IS needs the value"},
		// ports
		{"port out of range", `{"portDefinitions": [{"port": 70000}]}`, "/portDefinitions(0)/port", "between 0 and 65535"},
		{"negative port", `{"portDefinitions": [{"port": -1}]}`, "/portDefinitions(0)/port", "between 0 and 65535"},
		{"duplicate port names", `{"portDefinitions": [{"name": "http"}, {"name": "http"}]}`, "/portDefinitions", "port names must be unique"},
		{"duplicate fixed ports", `{"portDefinitions": [{"port": 8080}, {"port": 8080}]}`, "/portDefinitions", "ports must be unique"},
		{"bad port name", `{"portDefinitions": [{"name": "HTTP_1"}]}`, "/portDefinitions(0)/name", "not a valid port name"},
		{"bad port protocol", `{"portDefinitions": [{"protocol": "sctp"}]}`, "/portDefinitions(0)/protocol", "unknown protocol"},
		// health checks
		{"portIndex out of range", `{"healthChecks": [{"protocol": "HTTP", "portIndex": 1}]}`, "/healthChecks(0)/portIndex", "1 is out of range"},
		{"health check without ports", `{"portDefinitions": [], "healthChecks": [{"protocol": "TCP"}]}`, "/healthChecks(0)/portIndex", "no ports"},
		{"unknown health protocol", `{"healthChecks": [{"protocol": "UDP"}]}`, "/healthChecks(0)/protocol", "unknown protocol"},
		{"COMMAND without command", `{"healthChecks": [{"protocol": "COMMAND"}]}`, "/healthChecks(0)/command", "needs command.value"},
		{"command on HTTP check", `{"healthChecks": [{"protocol": "HTTP", "command": {"value": "true"}}]}`, "/healthChecks(0)/command", "only to COMMAND"},
		{"path on TCP check", `{"healthChecks": [{"protocol": "TCP", "path": "/x"}]}`, "/healthChecks(0)/path", "only to HTTP"},
		{"port and portIndex", `{"healthChecks": [{"port": 80, "portIndex": 0}]}`, "/healthChecks(0)/port", "either port or portIndex"},
		{"zero interval", `{"healthChecks": [{"intervalSeconds": 0}]}`, "/healthChecks(0)/intervalSeconds", "greater than 0"},
		{"negative grace", `{"healthChecks": [{"gracePeriodSeconds": -1}]}`, "/healthChecks(0)/gracePeriodSeconds", "at least 0"},
		{"negative failures", `{"healthChecks": [{"maxConsecutiveFailures": -1}]}`, "/healthChecks(0)/maxConsecutiveFailures", "at least 0"},
		{"IPv6 health check", `{"healthChecks": [{"ipProtocol": "IPv6"}]}`, "/healthChecks(0)/ipProtocol", "not supported"},
		{"two health checks", `{"healthChecks": [{}, {"protocol": "TCP"}]}`, "/healthChecks", "one health check per task"},
		// readiness
		{"readiness portName unknown", `{"portDefinitions": [{"name": "web"}], "readinessChecks": [{"portName": "http"}]}`, "/readinessChecks(0)/portName", `"http" names no port`},
		{"readiness default portName", `{"readinessChecks": [{}]}`, "/readinessChecks(0)/portName", `"http-api" names no port`},
		{"readiness timeout >= interval", `{"portDefinitions": [{"name": "http-api"}], "readinessChecks": [{"intervalSeconds": 5, "timeoutSeconds": 5}]}`, "/readinessChecks(0)/timeoutSeconds", "less than intervalSeconds"},
		{"readiness bad status", `{"portDefinitions": [{"name": "http-api"}], "readinessChecks": [{"httpStatusCodesForReady": [42]}]}`, "/readinessChecks(0)/httpStatusCodesForReady(0)", "not an HTTP status"},
		{"two readiness checks", `{"portDefinitions": [{"name": "http-api"}], "readinessChecks": [{}, {}]}`, "/readinessChecks", "at most one"},
		// strategies
		{"minimumHealthCapacity 1.5", `{"upgradeStrategy": {"minimumHealthCapacity": 1.5}}`, "/upgradeStrategy/minimumHealthCapacity", "between 0 and 1"},
		{"negative maximumOverCapacity", `{"upgradeStrategy": {"maximumOverCapacity": -0.1}}`, "/upgradeStrategy/maximumOverCapacity", "between 0 and 1"},
		{"backoffFactor below 1", `{"backoffFactor": 0.5}`, "/backoffFactor", "at least 1"},
		{"negative backoff", `{"backoffSeconds": -1}`, "/backoffSeconds", "at least 0"},
		{"negative maxLaunchDelay", `{"maxLaunchDelaySeconds": -1}`, "/maxLaunchDelaySeconds", "at least 0"},
		{"negative kill grace", `{"taskKillGracePeriodSeconds": -1}`, "/taskKillGracePeriodSeconds", "at least 0"},
		{"unknown killSelection", `{"killSelection": "RANDOM"}`, "/killSelection", "YOUNGEST_FIRST or OLDEST_FIRST"},
		{"expunge before inactive", `{"unreachableStrategy": {"inactiveAfterSeconds": 900}}`, "/unreachableStrategy/inactiveAfterSeconds", "less or equal to expungeAfterSeconds, which is 600"},
		{"negative inactive", `{"unreachableStrategy": {"inactiveAfterSeconds": -1, "expungeAfterSeconds": 0}}`, "/unreachableStrategy/inactiveAfterSeconds", "at least 0"},
		// fetch and dependencies
		{"empty fetch uri", `{"fetch": [{"uri": ""}]}`, "/fetch(0)/uri", "must not be empty"},
		{"bad fetch uri", `{"fetch": [{"uri": "http://[::1"}]}`, "/fetch(0)/uri", "not a valid URI"},
		{"bad dependency", `{"dependencies": ["/Prod/DB"]}`, "/dependencies(0)", "uppercase"},
		{"self dependency", `{"id": "/prod/web", "dependencies": ["web"]}`, "/dependencies(0)", "itself"},
		{"duplicate dependency", `{"id": "/prod/web", "dependencies": ["db", "/prod/db"]}`, "/dependencies", "unique"},
		// container
		{"unknown container type", `{"container": {"type": "RKT"}}`, "/container/type", "unknown container type"},
		{"volume without hostPath", `{"container": {"type": "MESOS", "volumes": [{"containerPath": "/data", "mode": "RW"}]}}`, "/container/volumes(0)/hostPath", "must not be empty"},
		{"volume without containerPath", `{"container": {"type": "MESOS", "volumes": [{"hostPath": "/data", "mode": "RW"}]}}`, "/container/volumes(0)/containerPath", "must not be empty"},
		{"volume bad mode", `{"container": {"type": "MESOS", "volumes": [{"containerPath": "d", "hostPath": "/d", "mode": "rw"}]}}`, "/container/volumes(0)/mode", "RW or RO"},
		{"volume without mode", `{"container": {"type": "MESOS", "volumes": [{"containerPath": "d", "hostPath": "/d"}]}}`, "/container/volumes(0)/mode", "RW or RO"},
		{"volume mounted twice", `{"container": {"type": "MESOS", "volumes": [{"containerPath": "d", "hostPath": "/d", "mode": "RO"}, {"containerPath": "d", "hostPath": "/e", "mode": "RO"}]}}`, "/container/volumes(1)/containerPath", "mounted twice"},
		{"bad role", `{"role": "a b"}`, "/role", "whitespace"},
	}
	if len(cases) < 25 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := check(t, c.patch)
			ve, _ := err.(*ValidationError)
			if ve == nil || ve.Message != MessageInvalidObject {
				t.Fatalf("want a 422 (%s), got %v", MessageInvalidObject, err)
			}
			wantPath(t, err, c.path, c.msg)
		})
	}
}

// Known Marathon features Cairn cannot honour yet: accepted by ParseApp,
// reported clearly by Validate.
func TestValidateUnsupported(t *testing.T) {
	cases := []struct{ name, patch, path, msg string }{
		{"docker image", `{"container": {"type": "DOCKER", "docker": {"image": "ubuntu:24.04"}}}`, "/container/docker/image", "container images are not supported yet: run a cmd instead"},
		{"mesos image", `{"container": {"type": "MESOS", "docker": {"image": "ubuntu"}}}`, "/container/docker/image", "not supported yet"},
		{"image without cmd", `{"cmd": null, "container": {"type": "DOCKER", "docker": {"image": "nginx"}}}`, "/container/docker/image", "not supported yet"},
		{"docker without image", `{"container": {"type": "DOCKER", "docker": {}}}`, "/container/docker/image", "must not be empty"},
		{"container without type is DOCKER", `{"container": {"volumes": [{"containerPath": "d", "hostPath": "/d", "mode": "RO"}]}}`, "/container/docker", `use "type": "MESOS"`},
		{"appc image", `{"container": {"type": "MESOS", "appc": {"image": "x"}}}`, "/container/appc", "not supported yet"},
		{"port mappings", `{"container": {"type": "MESOS", "portMappings": [{"containerPort": 80}]}}`, "/container/portMappings", "container networking"},
		{"persistent volume", `{"container": {"type": "MESOS", "volumes": [{"containerPath": "data", "mode": "RW", "persistent": {"size": 100}}]}}`, "/container/volumes(0)/persistent", "not supported yet"},
		{"external volume", `{"container": {"type": "MESOS", "volumes": [{"containerPath": "data", "mode": "RW", "external": {"name": "v"}}]}}`, "/container/volumes(0)/external", "not supported yet"},
		{"secret volume", `{"container": {"type": "MESOS", "volumes": [{"containerPath": "s", "secret": "pw"}]}}`, "/container/volumes(0)/secret", "not supported yet"},
		{"secret env", `{"env": {"PW": {"secret": "pw"}}, "secrets": {"pw": {"source": "/db/pw"}}}`, "/env/PW", "secret references are not supported yet"},
		{"secrets", `{"secrets": {"pw": {"source": "/db/pw"}}}`, "/secrets", "not supported yet"},
		{"gpus", `{"gpus": 1}`, "/gpus", "GPUs are not supported yet"},
		{"container network", `{"networks": [{"mode": "container", "name": "dcos"}]}`, "/networks(0)/mode", "container networking is not supported yet"},
		{"bridge network", `{"networks": [{"mode": "container/bridge"}]}`, "/networks(0)/mode", "not supported yet"},
		{"network without mode", `{"networks": [{"name": "x"}]}`, "/networks(0)/mode", "not supported yet"},
		{"residency", `{"residency": {"taskLostBehavior": "WAIT_FOREVER"}}`, "/residency", "not supported yet"},
		{"ipAddress", `{"ipAddress": {"networkName": "dcos"}}`, "/ipAddress", "IP-per-task is not supported yet"},
		{"executor", `{"executor": "/opt/my-executor"}`, "/executor", "custom executors are not supported"},
		{"storeUrls", `{"storeUrls": ["http://x"]}`, "/storeUrls", "not supported"},
		{"acceptedResourceRoles", `{"acceptedResourceRoles": ["slave_public"]}`, "/acceptedResourceRoles", "not supported yet"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := check(t, c.patch)
			wantPath(t, err, c.path, c.msg)
		})
	}
	// And what is fine.
	for _, ok := range []string{
		`{"executor": "//cmd"}`,
		`{"acceptedResourceRoles": ["*"]}`,
		`{"gpus": 0}`,
		`{"networks": [{"mode": "host"}]}`,
		`{"container": {"type": "MESOS"}}`,
		`{"container": {"type": "MESOS", "portMappings": []}}`,
		`{"healthChecks": [{"protocol": "HTTPS"}]}`,
		`{"healthChecks": [{"protocol": "MESOS_HTTPS", "port": 8443}]}`,
		`{"constraints": [["hostname", "CLUSTER"], ["rack", "CLUSTER", "r1"], ["rack", "GROUP_BY"]]}`,
		`{"unreachableStrategy": {"expungeAfterSeconds": 900}}`,
		`{"secrets": {}}`,
	} {
		if err := check(t, ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// Validate lists every problem, not just the first.
func TestValidateAllProblems(t *testing.T) {
	err := check(t, `{"id": "/Bad", "instances": -1, "cpus": 0, "args": ["x"],
		"constraints": [["hostname", "NEAR"]],
		"container": {"type": "DOCKER", "docker": {"image": "nginx"}}}`)
	ve := err.(*ValidationError)
	paths := map[string]bool{}
	for _, d := range ve.Details {
		paths[d.Path] = true
	}
	for _, p := range []string{"/id", "/instances", "/cpus", "/cmd", "/constraints(0)", "/container/docker/image"} {
		if !paths[p] {
			t.Errorf("missing %s in %v", p, ve)
		}
	}
}

// The docker example of Marathon's API docs: parsed fine (warnings only
// for nothing: every field is known), rejected with one detail per
// unsupported feature.
func TestMarathonDocsDockerExample(t *testing.T) {
	a, warnings, err := ParseApp(readTestdata(t, "docker_example.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warnings)
	}
	if a.EnvSecrets["DB_PASSWORD"] != "db-pass" || a.Env["XPS1"] != "Test" {
		t.Errorf("env: %v %v", a.Env, a.EnvSecrets)
	}
	if a.Container.Docker.Extra["privileged"] != false || a.Container.Docker.Extra["network"] != "BRIDGE" {
		t.Errorf("docker extras: %v", a.Container.Docker.Extra)
	}
	a.Normalize()
	ve := a.Validate()
	for _, p := range []string{"/container/docker/image", "/container/docker/portMappings", "/env/DB_PASSWORD", "/secrets", "/ipAddress", "/acceptedResourceRoles"} {
		if len(ve.Errors(p)) == 0 {
			t.Errorf("no error at %s: %v", p, ve)
		}
	}
	// The container keeps every field it came with.
	out, _ := json.Marshal(a.Container)
	for _, s := range []string{`"forcePullImage":false`, `"parameters":[{"key":"name","value":"kdc"}]`, `"servicePort":10019`} {
		if !strings.Contains(string(out), s) {
			t.Errorf("container JSON lacks %s: %s", s, out)
		}
	}
}

func TestValidateUnnormalisedApp(t *testing.T) {
	// Validate must not panic on nil pointers, and treats them as defaults.
	a := App{ID: "/x", Cmd: ptr("true"), HealthChecks: []HealthCheck{{}}, ReadinessChecks: []ReadinessCheck{{PortName: "p"}},
		UpgradeStrategy: &UpgradeStrategy{}, UnreachableStrategy: &UnreachableStrategy{}, Container: &Container{Type: "MESOS"}}
	if ve := a.Validate(); len(ve.Details) != 1 || len(ve.Errors("/readinessChecks(0)/portName")) != 1 {
		t.Errorf("%v", ve)
	}
}
