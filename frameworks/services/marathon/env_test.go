package marathon

import (
	"reflect"
	"strings"
	"testing"
)

func TestTaskEnv(t *testing.T) {
	a, _, err := ParseApp([]byte(`{
		"id": "/prod/web", "cmd": "x", "cpus": 0.5, "mem": 512, "disk": 0,
		"labels": {"owner": "shop", "HAPROXY_0_VHOST": "web.example.com", "a.b-c": "d"},
		"portDefinitions": [{"port": 10000, "name": "http"}, {"port": 0, "name": "admin-api"}, {"port": 0}],
		"env": {"LOG": "debug", "PORT0": "overridden", "MARATHON_APP_ID": "mine"}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	a.Normalize()
	a.Version = "2015-04-02T09:37:00.596Z"
	got := TaskEnv(a, []uint64{31000, 31001, 31002}, "agent-1.example.com")
	want := map[string]string{
		"MARATHON_APP_ID":                    "mine", // the app's env wins
		"MARATHON_APP_VERSION":               "2015-04-02T09:37:00.596Z",
		"MARATHON_APP_RESOURCE_CPUS":         "0.5",
		"MARATHON_APP_RESOURCE_MEM":          "512.0",
		"MARATHON_APP_RESOURCE_DISK":         "0.0",
		"MARATHON_APP_RESOURCE_GPUS":         "0",
		"MARATHON_APP_LABELS":                "A_B_C HAPROXY_0_VHOST OWNER",
		"MARATHON_APP_LABEL_OWNER":           "shop",
		"MARATHON_APP_LABEL_HAPROXY_0_VHOST": "web.example.com",
		"MARATHON_APP_LABEL_A_B_C":           "d",
		"PORT0":                              "overridden",
		"PORT1":                              "31001",
		"PORT2":                              "31002",
		"PORT":                               "31000",
		"PORTS":                              "31000,31001,31002",
		"PORT_10000":                         "31000", // declared (service) port
		"PORT_31001":                         "31001", // dynamic: its host port
		"PORT_31002":                         "31002",
		"PORT_HTTP":                          "31000",
		"PORT_ADMIN-API":                     "31001",
		"HOST":                               "agent-1.example.com",
		"LOG":                                "debug",
	}
	if !reflect.DeepEqual(got, want) {
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %q, want %q", k, got[k], v)
			}
		}
		for k, v := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected %s=%q", k, v)
			}
		}
	}
	if _, ok := got["MARATHON_APP_DOCKER_IMAGE"]; ok {
		t.Error("MARATHON_APP_DOCKER_IMAGE is set only for apps with an image")
	}
}

func TestTaskEnvMinimal(t *testing.T) {
	a := App{ID: "/app"}
	a.Normalize()
	got := TaskEnv(a, nil, "")
	want := map[string]string{
		"MARATHON_APP_ID": "/app", "MARATHON_APP_VERSION": "", "MARATHON_APP_RESOURCE_CPUS": "1.0",
		"MARATHON_APP_RESOURCE_MEM": "128.0", "MARATHON_APP_RESOURCE_DISK": "0.0", "MARATHON_APP_RESOURCE_GPUS": "0",
		"MARATHON_APP_LABELS": "",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	// Long labels are left out, as Marathon.
	a.Labels = map[string]string{strings.Repeat("k", 600): "v", "v": strings.Repeat("x", 512), "ok": "y"}
	if got := TaskEnv(a, nil, ""); got["MARATHON_APP_LABELS"] != "OK" || len(got) != 8 {
		t.Errorf("long labels: %v", got)
	}
}

func TestJavaDouble(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0.0", 1: "1.0", 0.5: "0.5", 128: "128.0", 1024.5: "1024.5", 0.001: "0.001", 0.0001: "1.0E-4",
		1e7: "1.0E7", 12345678.9: "1.23456789E7", 9999999: "9999999.0", -2.5: "-2.5",
	} {
		if got := javaDouble(f); got != want {
			t.Errorf("javaDouble(%v) = %q, want %q", f, got, want)
		}
	}
}
