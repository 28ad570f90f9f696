// Package health runs a task's health check as Mesos does (COMMAND, HTTP,
// TCP; delay, interval, timeout, grace period, consecutive failures) and
// reports transitions: the agent turns them into status updates with
// healthy=true|false, and kills a task that failed too many times in a row.
//
// See README.md for the exact semantics.
package health

import (
	"context"
	"crypto/tls"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// Defaults, as Mesos, taken by the fields of a check that are zero.
const (
	DefaultDelay               = 15 * time.Second
	DefaultInterval            = 10 * time.Second
	DefaultTimeout             = 20 * time.Second
	DefaultConsecutiveFailures = 3
	DefaultGracePeriod         = 10 * time.Second
	// DefaultHost is where HTTP and TCP checks connect when Target.Host is empty.
	DefaultHost = "127.0.0.1"
)

// Target says where the task runs, for the checks.
type Target struct {
	Host string   // address checks connect to (127.0.0.1 for tasks on the agent's host network; empty: 127.0.0.1)
	Env  []string // the task's environment (COMMAND checks run with it; nil: the agent's, as os/exec)
	Dir  string   // the task's sandbox (COMMAND checks run there; empty: the agent's working directory)
	// RunCommand runs a COMMAND check; nil runs it with os/exec (/bin/sh -c
	// for shell commands) in Dir with Env, killing its process group on
	// timeout. The agent may pass its own (e.g. to run inside the task's
	// cgroup/namespaces). env is Target.Env followed by the check's own
	// variables (later entries win); ctx carries the check's timeout: the
	// function must return promptly when it ends.
	RunCommand func(ctx context.Context, cmd *protocol.CommandInfo, env []string, dir string) (exitCode int, output string, err error)
}

// Result is one check's outcome.
type Result struct {
	Healthy bool
	Message string    // e.g. "HTTP GET http://127.0.0.1:31000/health: 503 Service Unavailable"
	At      time.Time // when the check finished (by the Checker's clock)
}

// Event is a change the agent must act on.
type Event struct {
	// Healthy is the new health (a transition: first success, or first
	// failure after success/unknown outside the grace period).
	Healthy bool
	// Kill: consecutive failures reached the limit; the agent kills the task.
	// A Kill event is also a health event (Healthy is false): when the
	// failure that reaches the limit is also the first one reported (a limit
	// of 1), only the Kill event is sent.
	Kill    bool
	Message string
}

// Settings are a check's effective timings, defaults applied.
type Settings struct {
	Delay               time.Duration // before the first check
	Interval            time.Duration // between the end of a check and the start of the next
	Timeout             time.Duration // bound of one check
	ConsecutiveFailures int           // failures in a row (outside the grace period) that kill the task
	GracePeriod         time.Duration // from the start of Run; ends early at the first success
}

// Clock is the time source of a Checker: it drives the delay, the interval,
// the grace period and results' timestamps. (A check's timeout is a
// context deadline, in real time.)
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Option configures a Checker.
type Option func(*Checker)

// WithClock makes the Checker use clk instead of the real clock (tests).
func WithClock(clk Clock) Option {
	return func(c *Checker) {
		if clk != nil {
			c.clock = clk
		}
	}
}

// Checker runs one task's health check. Its methods are safe for concurrent
// use (CheckOnce may run while Run does).
type Checker struct {
	check    protocol.HealthCheck
	target   Target
	settings Settings
	clock    Clock

	url    string       // HTTP checks
	client *http.Client // HTTP checks
	addr   string       // TCP checks

	mu   sync.Mutex
	last Result
}

// New validates check and returns its Checker. Zero fields take the
// defaults, as Mesos: delay 15s, interval 10s, timeout 20s, consecutive
// failures 3, grace period 10s. An invalid check is an error naming the
// field (health_check.<field>: ...).
func New(check protocol.HealthCheck, target Target, opts ...Option) (*Checker, error) {
	if err := validate(&check); err != nil {
		return nil, err
	}
	c := &Checker{check: check, target: target, clock: realClock{}}
	for _, o := range opts {
		o(c)
	}
	c.settings = Settings{
		Delay:               seconds(check.DelaySeconds, DefaultDelay),
		Interval:            seconds(check.IntervalSeconds, DefaultInterval),
		Timeout:             seconds(check.TimeoutSeconds, DefaultTimeout),
		ConsecutiveFailures: check.ConsecutiveFailures,
		GracePeriod:         seconds(check.GracePeriodSeconds, DefaultGracePeriod),
	}
	if c.settings.ConsecutiveFailures == 0 {
		c.settings.ConsecutiveFailures = DefaultConsecutiveFailures
	}
	host := target.Host
	if host == "" {
		host = DefaultHost
	}
	switch check.Type {
	case protocol.HealthHTTP:
		h := check.HTTP
		scheme := strings.ToLower(h.Scheme)
		if scheme == "" {
			scheme = "http"
		}
		path := h.Path
		if path == "" {
			path = "/"
		} else if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		c.url = scheme + "://" + net.JoinHostPort(host, strconv.Itoa(int(h.Port))) + path
		if _, err := url.Parse(c.url); err != nil {
			return nil, fmt.Errorf("health_check.http.path: %q does not make a valid URL: %w", h.Path, err)
		}
		c.client = &http.Client{
			Transport: &http.Transport{
				Proxy:             nil, // never through the agent's HTTP_PROXY: the task is local
				DisableKeepAlives: true,
				// Tasks serve self-signed certificates: the check is about
				// liveness, not identity.
				TLSClientConfig:    &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // see above
				DisableCompression: true,
			},
			// A 3xx is an answer (healthy by default), as Mesos (curl without -L).
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	case protocol.HealthTCP:
		c.addr = net.JoinHostPort(host, strconv.Itoa(int(check.TCP.Port)))
	}
	return c, nil
}

func seconds(v float64, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return time.Duration(v * float64(time.Second))
}

// maxSeconds keeps durations within time.Duration.
const maxSeconds = float64(math.MaxInt64/int64(time.Second)) - 1

func validate(hc *protocol.HealthCheck) error {
	const f = "health_check"
	switch hc.Type {
	case protocol.HealthCommand:
		if hc.Command == nil {
			return fmt.Errorf("%s.command: missing: a COMMAND check needs a command", f)
		}
		if hc.Command.IsShell() && hc.Command.Value == "" {
			return fmt.Errorf("%s.command.value: empty: give the shell command to run", f)
		}
		if !hc.Command.IsShell() && hc.Command.Value == "" && len(hc.Command.Arguments) == 0 {
			return fmt.Errorf("%s.command.value: empty: give the executable to run", f)
		}
		if env := hc.Command.Environment; env != nil {
			for i, v := range env.Variables {
				if v.Name == "" || strings.ContainsAny(v.Name, "=\x00") {
					return fmt.Errorf("%s.command.environment.variables[%d].name: %q is not a variable name", f, i, v.Name)
				}
			}
		}
	case protocol.HealthHTTP:
		h := hc.HTTP
		if h == nil {
			return fmt.Errorf("%s.http: missing: an HTTP check needs http.port", f)
		}
		if h.Port == 0 || h.Port > 65535 {
			return fmt.Errorf("%s.http.port: %d: give the task's port (1-65535)", f, h.Port)
		}
		switch strings.ToLower(h.Scheme) {
		case "", "http", "https":
		default:
			return fmt.Errorf("%s.http.scheme: unknown scheme %q: use http or https", f, h.Scheme)
		}
		for i, s := range h.Statuses {
			if s < 100 || s > 599 {
				return fmt.Errorf("%s.http.statuses[%d]: %d is not an HTTP status (100-599)", f, i, s)
			}
		}
	case protocol.HealthTCP:
		if hc.TCP == nil {
			return fmt.Errorf("%s.tcp: missing: a TCP check needs tcp.port", f)
		}
		if hc.TCP.Port == 0 || hc.TCP.Port > 65535 {
			return fmt.Errorf("%s.tcp.port: %d: give the task's port (1-65535)", f, hc.TCP.Port)
		}
	case "":
		return fmt.Errorf("%s.type: missing: use COMMAND, HTTP or TCP", f)
	default:
		return fmt.Errorf("%s.type: unknown health check type %q: use COMMAND, HTTP or TCP", f, hc.Type)
	}
	for _, d := range []struct {
		name string
		v    float64
	}{
		{"delay_seconds", hc.DelaySeconds},
		{"interval_seconds", hc.IntervalSeconds},
		{"timeout_seconds", hc.TimeoutSeconds},
		{"grace_period_seconds", hc.GracePeriodSeconds},
	} {
		if !(d.v >= 0) || d.v > maxSeconds { // also NaN
			return fmt.Errorf("%s.%s: %v: must be a non-negative number of seconds (0: the default)", f, d.name, d.v)
		}
	}
	if hc.ConsecutiveFailures < 0 {
		return fmt.Errorf("%s.consecutive_failures: %d: must not be negative (0: the default, 3)", f, hc.ConsecutiveFailures)
	}
	return nil
}

// Settings returns the effective timings (defaults applied).
func (c *Checker) Settings() Settings { return c.settings }

// Last returns the latest result (zero before the first check).
func (c *Checker) Last() Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// CheckOnce runs the check once, bounded by the check's timeout (for tests
// and the agent API), and records it as Last. A check cut short because ctx
// ended is unhealthy and not recorded.
func (c *Checker) CheckOnce(ctx context.Context) Result {
	cctx, cancel := context.WithTimeout(ctx, c.settings.Timeout)
	defer cancel()
	var healthy bool
	var msg string
	switch c.check.Type {
	case protocol.HealthHTTP:
		healthy, msg = c.checkHTTP(cctx)
	case protocol.HealthTCP:
		healthy, msg = c.checkTCP(cctx)
	default:
		healthy, msg = c.checkCommand(cctx)
	}
	r := Result{Healthy: healthy, Message: msg, At: c.clock.Now()}
	if err := ctx.Err(); err != nil {
		return Result{Message: "check canceled: " + err.Error(), At: r.At}
	}
	c.mu.Lock()
	c.last = r
	c.mu.Unlock()
	return r
}

// timedOut reports whether the check's own timeout (not its parent) ended ctx.
func timedOut(ctx context.Context) bool {
	return ctx.Err() == context.DeadlineExceeded
}

func (c *Checker) timeoutMsg() string {
	return "timed out after " + c.settings.Timeout.String()
}
