package marathon

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

func TestHealthCheckToMesos(t *testing.T) {
	ports := []uint64{31000, 31001}
	normalized := func(h HealthCheck) HealthCheck { h.normalize(len(ports)); return h }
	timings := func(hc protocol.HealthCheck) protocol.HealthCheck {
		hc.DelaySeconds, hc.IntervalSeconds, hc.TimeoutSeconds, hc.ConsecutiveFailures, hc.GracePeriodSeconds = 15, 60, 20, 3, 300
		return hc
	}
	cases := []struct {
		name string
		in   HealthCheck
		want protocol.HealthCheck
	}{
		{"HTTP default port index", normalized(HealthCheck{Path: "/health"}),
			timings(protocol.HealthCheck{Type: protocol.HealthHTTP, HTTP: &protocol.HTTPCheck{Scheme: "http", Port: 31000, Path: "/health"}})},
		{"MESOS_HTTP portIndex 1", normalized(HealthCheck{Protocol: "MESOS_HTTP", PortIndex: ptr(1)}),
			timings(protocol.HealthCheck{Type: protocol.HealthHTTP, HTTP: &protocol.HTTPCheck{Scheme: "http", Port: 31001}})},
		{"HTTPS fixed port", normalized(HealthCheck{Protocol: "HTTPS", Port: ptr(8443), Path: "/"}),
			timings(protocol.HealthCheck{Type: protocol.HealthHTTP, HTTP: &protocol.HTTPCheck{Scheme: "https", Port: 8443, Path: "/"}})},
		{"MESOS_HTTPS", normalized(HealthCheck{Protocol: "MESOS_HTTPS"}),
			timings(protocol.HealthCheck{Type: protocol.HealthHTTP, HTTP: &protocol.HTTPCheck{Scheme: "https", Port: 31000}})},
		{"TCP", normalized(HealthCheck{Protocol: "TCP", PortIndex: ptr(1)}),
			timings(protocol.HealthCheck{Type: protocol.HealthTCP, TCP: &protocol.TCPCheck{Port: 31001}})},
		{"MESOS_TCP fixed port", normalized(HealthCheck{Protocol: "MESOS_TCP", Port: ptr(6379)}),
			timings(protocol.HealthCheck{Type: protocol.HealthTCP, TCP: &protocol.TCPCheck{Port: 6379}})},
		{"COMMAND", normalized(HealthCheck{Protocol: "COMMAND", Command: &CommandCheck{Value: "curl -f localhost:$PORT0"}}),
			timings(protocol.HealthCheck{Type: protocol.HealthCommand, Command: &protocol.CommandInfo{Value: "curl -f localhost:$PORT0"}})},
		{"timings carried", HealthCheck{Protocol: "TCP", PortIndex: ptr(0), DelaySeconds: ptr(1.5), IntervalSeconds: ptr(2.0),
			TimeoutSeconds: ptr(0.5), MaxConsecutiveFailures: ptr(7), GracePeriodSeconds: ptr(30.0)},
			protocol.HealthCheck{Type: protocol.HealthTCP, TCP: &protocol.TCPCheck{Port: 31000},
				DelaySeconds: 1.5, IntervalSeconds: 2, TimeoutSeconds: 0.5, ConsecutiveFailures: 7, GracePeriodSeconds: 30}},
		{"zeros mean zero, and 0 failures never kill", HealthCheck{Protocol: "TCP", DelaySeconds: ptr(0.0), GracePeriodSeconds: ptr(0.0), MaxConsecutiveFailures: ptr(0)},
			protocol.HealthCheck{Type: protocol.HealthTCP, TCP: &protocol.TCPCheck{Port: 31000},
				DelaySeconds: zeroSeconds, IntervalSeconds: 60, TimeoutSeconds: 20, ConsecutiveFailures: math.MaxInt32, GracePeriodSeconds: zeroSeconds}},
	}
	for _, c := range cases {
		got, err := c.in.ToMesos(ports)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !reflect.DeepEqual(*got, c.want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", c.name, *got, c.want)
		}
		// What the agent receives is valid for it.
		ti := protocol.TaskInfo{Name: "t", TaskID: "a.01HZZZZZZZZZZZZZZZZZZZZZZZ", Resources: resources.MustParse("cpus:0.1;mem:32"),
			Command: &protocol.CommandInfo{Value: "x"}, HealthCheck: got}
		if err := ti.Validate("task"); err != nil {
			t.Errorf("%s: the agent would reject it: %v", c.name, err)
		}
	}
}

func TestHealthCheckToMesosErrors(t *testing.T) {
	for _, c := range []struct {
		in    HealthCheck
		ports []uint64
		msg   string
	}{
		{HealthCheck{Protocol: "HTTP", PortIndex: ptr(2)}, []uint64{31000, 31001}, "portIndex 2 is out of range: the task has 2 host port(s)"},
		{HealthCheck{Protocol: "TCP"}, nil, "portIndex 0 is out of range: the task has 0"},
		{HealthCheck{Protocol: "TCP", PortIndex: ptr(-1)}, []uint64{1}, "out of range"},
		{HealthCheck{Protocol: "TCP", Port: ptr(0)}, nil, "port 0 is out of range"},
		{HealthCheck{Protocol: "HTTP"}, []uint64{70000}, "host port 70000"},
		{HealthCheck{Protocol: "COMMAND"}, nil, "needs command.value"},
		{HealthCheck{Protocol: "UDP"}, nil, "unknown protocol"},
		{HealthCheck{Protocol: "TCP", MaxConsecutiveFailures: ptr(-1)}, []uint64{1}, "negative"},
	} {
		_, err := c.in.ToMesos(c.ports)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v: %v, want %q", c.in, err, c.msg)
		}
	}
}
