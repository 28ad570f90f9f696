package marathon

import (
	"fmt"
	"math"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// zeroSeconds stands for an explicit 0 s on the wire: the agent reads 0 as
// "use the default", so a Marathon value of 0 (no grace period, no delay)
// is sent as one nanosecond.
const zeroSeconds = 1e-9

// neverKill is the agent's consecutive-failure limit for Marathon's
// maxConsecutiveFailures 0 ("never kill the task for failing this check").
const neverKill = math.MaxInt32

// ToMesos converts a Marathon health check to the agent's (HTTP, TCP and
// COMMAND kinds, and their MESOS_ variants; HTTPS probes over TLS without
// verifying the certificate), resolving portIndex/port against the task's
// host ports (ports[i] is the host port of portDefinitions[i]). Unset
// fields take Marathon's defaults, so the check need not be normalised.
func (h HealthCheck) ToMesos(ports []uint64) (*protocol.HealthCheck, error) {
	hc := &protocol.HealthCheck{
		DelaySeconds:        seconds(h.DelaySeconds, defaultHealthDelay, true),
		IntervalSeconds:     seconds(h.IntervalSeconds, defaultHealthInterval, false),
		TimeoutSeconds:      seconds(h.TimeoutSeconds, defaultHealthTimeout, false),
		GracePeriodSeconds:  seconds(h.GracePeriodSeconds, defaultHealthGracePeriod, true),
		ConsecutiveFailures: defaultHealthMaxFailures,
	}
	if h.MaxConsecutiveFailures != nil {
		switch n := *h.MaxConsecutiveFailures; {
		case n < 0:
			return nil, fmt.Errorf("health check: maxConsecutiveFailures %d is negative", n)
		case n == 0:
			hc.ConsecutiveFailures = neverKill
		default:
			hc.ConsecutiveFailures = n
		}
	}
	proto := h.Protocol
	if proto == "" {
		proto = defaultHealthProtocol
	}
	switch proto {
	case ProtocolCommand:
		if h.Command == nil || h.Command.Value == "" {
			return nil, fmt.Errorf("health check: a COMMAND check needs command.value")
		}
		hc.Type = protocol.HealthCommand
		hc.Command = &protocol.CommandInfo{Value: h.Command.Value}
		return hc, nil
	case ProtocolHTTP, ProtocolMesosHTTP, ProtocolHTTPS, ProtocolMesosHTTPS:
		port, err := h.resolvePort(ports)
		if err != nil {
			return nil, err
		}
		scheme := "http"
		if proto == ProtocolHTTPS || proto == ProtocolMesosHTTPS {
			scheme = "https"
		}
		hc.Type = protocol.HealthHTTP
		hc.HTTP = &protocol.HTTPCheck{Scheme: scheme, Port: port, Path: h.Path}
		return hc, nil
	case ProtocolTCP, ProtocolMesosTCP:
		port, err := h.resolvePort(ports)
		if err != nil {
			return nil, err
		}
		hc.Type = protocol.HealthTCP
		hc.TCP = &protocol.TCPCheck{Port: port}
		return hc, nil
	}
	return nil, fmt.Errorf("health check: unknown protocol %q", h.Protocol)
}

// seconds is v (def when unset). An explicit 0 means 0 for a delay or a
// grace period (sent as zeroSeconds), and the default for an interval or a
// timeout (which Validate requires to be positive).
func seconds(v *float64, def float64, zeroOK bool) float64 {
	s := def
	if v != nil && !math.IsNaN(*v) && !math.IsInf(*v, 0) {
		s = *v
	}
	switch {
	case s > 0:
		return s
	case zeroOK:
		return zeroSeconds
	}
	return def
}

// resolvePort is the check's fixed port, or the task's host port at
// portIndex (0 when neither is given, as Marathon).
func (h HealthCheck) resolvePort(ports []uint64) (uint32, error) {
	if h.Port != nil {
		if *h.Port < 1 || *h.Port > 65535 {
			return 0, fmt.Errorf("health check: port %d is out of range (1-65535)", *h.Port)
		}
		return uint32(*h.Port), nil
	}
	i := 0
	if h.PortIndex != nil {
		i = *h.PortIndex
	}
	if i < 0 || i >= len(ports) {
		return 0, fmt.Errorf("health check: portIndex %d is out of range: the task has %d host port(s)", i, len(ports))
	}
	p := ports[i]
	if p < 1 || p > 65535 {
		return 0, fmt.Errorf("health check: host port %d (portIndex %d) is out of range (1-65535)", p, i)
	}
	return uint32(p), nil
}
