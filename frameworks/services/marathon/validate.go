package marathon

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/cairn-dc/cairn/kernel/resources"
)

// Validate checks a normalised app as Marathon does and returns every
// problem with its path, or nil. Things Cairn does not support yet (a
// container image, secrets, GPUs > 0, container networking, persistent
// volumes ...) are errors saying so. Validate never changes the app and is
// safe on an app that was not normalised (missing values count as their
// defaults).
func (a *App) Validate() *ValidationError {
	v := &validator{app: a}
	v.id()
	v.command()
	v.resources()
	v.envAndLabels()
	v.constraints()
	v.ports()
	v.healthChecks()
	v.readinessChecks()
	v.strategies()
	v.fetch()
	v.dependencies()
	v.container()
	v.networks()
	v.unsupported()
	return v.p.err(MessageInvalidObject)
}

type validator struct {
	app *App
	p   problems
}

func (v *validator) add(path, format string, args ...any) { v.p.add(path, format, args...) }

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// atLeast checks *f >= min (when set).
func (v *validator) atLeast(path string, f *float64, min float64) {
	if f == nil {
		return
	}
	if !finite(*f) {
		v.add(path, "must be a finite number")
	} else if *f < min {
		v.add(path, "must be at least %s, got %s", fmtNum(min), fmtNum(*f))
	}
}

// positive checks *f > 0 (when set).
func (v *validator) positive(path string, f *float64) {
	if f == nil {
		return
	}
	if !finite(*f) || *f <= 0 {
		v.add(path, "must be greater than 0, got %s", fmtNum(*f))
	}
}

// between checks min <= *f <= max (when set).
func (v *validator) between(path string, f *float64, min, max float64) {
	if f == nil {
		return
	}
	if !finite(*f) || *f < min || *f > max {
		v.add(path, "must be between %s and %s, got %s", fmtNum(min), fmtNum(max), fmtNum(*f))
	}
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func (v *validator) id() {
	a := v.app
	if a.ID == "" {
		v.add("/id", "must not be empty: give an id such as \"/prod/web\"")
		return
	}
	if _, err := CanonicalID(a.ID); err != nil {
		v.add("/id", "%v", err)
	}
}

func (a *App) hasImage() bool {
	c := a.Container
	if c == nil {
		return false
	}
	_, appc := c.Extra["appc"]
	return appc || c.Docker != nil && c.Docker.Image != ""
}

func (v *validator) command() {
	a := v.app
	switch {
	case a.Cmd != nil && len(a.Args) > 0:
		v.add("/cmd", "cmd and args cannot both be given: use cmd for a shell command, or args for a program and its arguments")
	case a.Cmd != nil && strings.TrimSpace(*a.Cmd) == "":
		v.add("/cmd", "must not be empty: give the shell command to run")
	case a.Cmd == nil && len(a.Args) == 0 && !a.hasImage():
		v.add("/cmd", "missing: give cmd (a shell command, run with /bin/sh -c) or args (a program and its arguments)")
	}
	if a.Cmd == nil && len(a.Args) > 0 && a.Args[0] == "" {
		v.add(idx("/args", 0), "must not be empty: it is the program to run")
	}
}

func (v *validator) resources() {
	a := v.app
	if a.Instances != nil && *a.Instances < 0 {
		v.add("/instances", "must be at least 0, got %d", *a.Instances)
	}
	v.atLeast("/cpus", a.CPUs, 0.001)
	v.atLeast("/mem", a.Mem, 0)
	v.atLeast("/disk", a.Disk, 0)
	if a.GPUs != nil {
		switch {
		case *a.GPUs < 0:
			v.add("/gpus", "must be at least 0, got %d", *a.GPUs)
		case *a.GPUs > 0:
			v.add("/gpus", "GPUs are not supported yet: remove gpus (or set it to 0)")
		}
	}
}

func (v *validator) envAndLabels() {
	a := v.app
	for _, k := range sortedKeys(a.Env) {
		switch {
		case k == "":
			v.add("/env", "variable names must not be empty")
		case strings.ContainsAny(k, "=\x00"):
			v.add(at("/env", k), "is not a valid variable name: it contains '=' or a NUL character")
		}
		if strings.ContainsRune(a.Env[k], 0) {
			v.add(at("/env", k), "the value contains a NUL character")
		}
	}
	for _, k := range sortedKeys(a.EnvSecrets) {
		v.add(at("/env", k), "secret references are not supported yet (Cairn has no secret store): give the value as a string")
	}
	for _, k := range sortedKeys(a.Labels) {
		if k == "" {
			v.add("/labels", "label names must not be empty")
		}
	}
	if a.Labels[defaultSingleInstanceLabel] == defaultSingleInstanceLabelVal {
		if a.Instances != nil && *a.Instances > 1 {
			v.add("/instances", "a single-instance app (label %s) may only have 0 or 1 instance", defaultSingleInstanceLabel)
		}
		if us := a.UpgradeStrategy; us != nil &&
			(us.MinimumHealthCapacity != nil && *us.MinimumHealthCapacity != 0 || us.MaximumOverCapacity != nil && *us.MaximumOverCapacity != 0) {
			v.add("/upgradeStrategy", "a single-instance app (label %s) needs minimumHealthCapacity 0 and maximumOverCapacity 0", defaultSingleInstanceLabel)
		}
	}
}

// Constraint operators, as Marathon 1.x.
var constraintOperators = []string{"UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS"}

func (v *validator) constraints() {
	for i, c := range v.app.Constraints {
		p := idx("/constraints", i)
		if len(c) < 2 || len(c) > 3 {
			v.add(p, `each constraint must have either 2 or 3 fields: ["field", "OPERATOR"] or ["field", "OPERATOR", "value"], got %d`, len(c))
			continue
		}
		field, op := c[0], c[1]
		value, hasValue := "", len(c) == 3
		if hasValue {
			value = c[2]
		}
		if field == "" {
			v.add(p, "the field must not be empty: use hostname or an agent attribute name")
		}
		switch op {
		case "UNIQUE":
			if hasValue {
				v.add(p, "UNIQUE takes no value: use [%q, \"UNIQUE\"]", field)
			}
		case "CLUSTER":
			// The value is optional (Marathon 1.x): without it, all instances
			// go where the first one went.
		case "GROUP_BY":
			if hasValue {
				if _, err := strconv.Atoi(value); err != nil {
					v.add(p, "GROUP_BY may either have no value or an integer value, got %q", value)
				}
			}
		case "MAX_PER":
			if _, err := strconv.Atoi(value); !hasValue || err != nil {
				v.add(p, "MAX_PER must have an integer value, such as \"2\"")
			}
		case "LIKE", "UNLIKE":
			if !hasValue {
				v.add(p, "%s needs a regular expression value (use \".*\" to match any value)", op)
			} else if _, err := regexp.Compile(value); err != nil {
				v.add(p, "%q is not a valid regular expression: %v", value, err)
			}
		case "IS":
			if !hasValue || value == "" {
				v.add(p, "IS needs the value to match exactly")
			}
		default:
			v.add(p, "unknown constraint operator %q: use one of %s", op, strings.Join(constraintOperators, ", "))
		}
	}
}

// Marathon's port name pattern (LegacyName).
var portNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func (v *validator) ports() {
	names := map[string]bool{}
	fixed := map[int]bool{}
	for i, pd := range v.app.PortDefinitions {
		p := idx("/portDefinitions", i)
		if pd.Port < 0 || pd.Port > 65535 {
			v.add(at(p, "port"), "must be between 0 and 65535 (0: any free port), got %d", pd.Port)
		}
		switch pd.Protocol {
		case "", "tcp", "udp", "udp,tcp":
		default:
			v.add(at(p, "protocol"), "unknown protocol %q: use tcp, udp or \"udp,tcp\"", pd.Protocol)
		}
		if pd.Name != "" {
			if !portNameRE.MatchString(pd.Name) {
				v.add(at(p, "name"), "%q is not a valid port name: use lowercase letters, digits and '-', starting and ending with a letter or digit", pd.Name)
			}
			if names[pd.Name] {
				v.add("/portDefinitions", "port names must be unique: %q is used twice", pd.Name)
			}
			names[pd.Name] = true
		}
		if pd.Port != 0 {
			if fixed[pd.Port] {
				v.add("/portDefinitions", "ports must be unique: %d is given twice", pd.Port)
			}
			fixed[pd.Port] = true
		}
		for k := range pd.Labels {
			if k == "" {
				v.add(at(p, "labels"), "label names must not be empty")
				break
			}
		}
	}
}

func knownHealthProtocol(p string) bool {
	switch p {
	case ProtocolHTTP, ProtocolHTTPS, ProtocolTCP, ProtocolCommand, ProtocolMesosHTTP, ProtocolMesosHTTPS, ProtocolMesosTCP:
		return true
	}
	return false
}

func (v *validator) healthChecks() {
	a := v.app
	if len(a.HealthChecks) > 1 {
		v.add("/healthChecks", "Cairn runs one health check per task (the agent runs it): give at most one, got %d", len(a.HealthChecks))
	}
	nports := len(a.PortDefinitions)
	if a.PortDefinitions == nil {
		nports = 1 // Normalize's default
	}
	for i, h := range a.HealthChecks {
		p := idx("/healthChecks", i)
		proto := h.Protocol
		if proto == "" {
			proto = defaultHealthProtocol
		}
		if !knownHealthProtocol(proto) {
			v.add(at(p, "protocol"), "unknown protocol %q: use HTTP, HTTPS, TCP, COMMAND, MESOS_HTTP, MESOS_HTTPS or MESOS_TCP", h.Protocol)
			continue
		}
		if proto == ProtocolCommand {
			if h.Command == nil || strings.TrimSpace(h.Command.Value) == "" {
				v.add(at(p, "command"), "a COMMAND check needs command.value, the shell command to run (exit code 0: healthy)")
			}
			if h.Path != "" {
				v.add(at(p, "path"), "applies only to HTTP checks")
			}
			if h.Port != nil {
				v.add(at(p, "port"), "does not apply to COMMAND checks")
			}
		} else {
			if h.Command != nil {
				v.add(at(p, "command"), "applies only to COMMAND checks")
			}
			if (proto == ProtocolTCP || proto == ProtocolMesosTCP) && h.Path != "" {
				v.add(at(p, "path"), "applies only to HTTP checks")
			}
			switch {
			case h.Port != nil && h.PortIndex != nil:
				v.add(at(p, "port"), "give either port or portIndex, not both")
			case h.Port != nil:
				if *h.Port < 1 || *h.Port > 65535 {
					v.add(at(p, "port"), "must be between 1 and 65535, got %d", *h.Port)
				}
			case h.PortIndex != nil:
				if *h.PortIndex < 0 || *h.PortIndex >= nports {
					v.add(at(p, "portIndex"), "%d is out of range: %s", *h.PortIndex, portCount(nports))
				}
			case nports != 1:
				v.add(at(p, "portIndex"), "missing: %s; give portIndex (or port)", portCount(nports))
			}
		}
		v.atLeast(at(p, "gracePeriodSeconds"), h.GracePeriodSeconds, 0)
		v.positive(at(p, "intervalSeconds"), h.IntervalSeconds)
		v.positive(at(p, "timeoutSeconds"), h.TimeoutSeconds)
		v.atLeast(at(p, "delaySeconds"), h.DelaySeconds, 0)
		if h.MaxConsecutiveFailures != nil && *h.MaxConsecutiveFailures < 0 {
			v.add(at(p, "maxConsecutiveFailures"), "must be at least 0 (0: never kill the task), got %d", *h.MaxConsecutiveFailures)
		}
		switch h.IPProtocol {
		case "", "IPv4":
		case "IPv6":
			v.add(at(p, "ipProtocol"), "IPv6 health checks are not supported yet: use IPv4")
		default:
			v.add(at(p, "ipProtocol"), "unknown IP protocol %q: use IPv4", h.IPProtocol)
		}
	}
}

func portCount(n int) string {
	switch n {
	case 0:
		return "the app has no ports (add a portDefinition, or give port)"
	case 1:
		return "the app has 1 port (portIndex 0)"
	}
	return fmt.Sprintf("the app has %d ports (portIndex 0 to %d)", n, n-1)
}

func (v *validator) readinessChecks() {
	a := v.app
	if len(a.ReadinessChecks) > 1 {
		v.add("/readinessChecks", "give at most one readiness check, got %d", len(a.ReadinessChecks))
	}
	var names []string
	for _, pd := range a.PortDefinitions {
		if pd.Name != "" {
			names = append(names, pd.Name)
		}
	}
	for i, r := range a.ReadinessChecks {
		p := idx("/readinessChecks", i)
		switch r.Protocol {
		case "", "HTTP", "HTTPS":
		default:
			v.add(at(p, "protocol"), "unknown protocol %q: use HTTP or HTTPS", r.Protocol)
		}
		portName := r.PortName
		if portName == "" {
			portName = defaultReadinessPortName
		}
		found := false
		for _, n := range names {
			found = found || n == portName
		}
		if !found {
			if len(names) == 0 {
				v.add(at(p, "portName"), "%q names no port: the app has no named ports; give a portDefinition a name and use it here", portName)
			} else {
				v.add(at(p, "portName"), "%q names no port: use one of the portDefinitions' names (%s)", portName, strings.Join(names, ", "))
			}
		}
		v.atLeast(at(p, "intervalSeconds"), r.IntervalSeconds, 0)
		v.atLeast(at(p, "timeoutSeconds"), r.TimeoutSeconds, 1)
		interval, timeout := defaultReadinessInterval, defaultReadinessTimeout
		if r.IntervalSeconds != nil {
			interval = *r.IntervalSeconds
		}
		if r.TimeoutSeconds != nil {
			timeout = *r.TimeoutSeconds
		}
		if timeout >= interval {
			v.add(at(p, "timeoutSeconds"), "must be less than intervalSeconds (%s), got %s", fmtNum(interval), fmtNum(timeout))
		}
		seen := map[int]bool{}
		for j, c := range r.HTTPStatusCodesForReady {
			if c < 100 || c > 999 {
				v.add(idx(at(p, "httpStatusCodesForReady"), j), "%d is not an HTTP status code (100-999)", c)
			}
			if seen[c] {
				v.add(at(p, "httpStatusCodesForReady"), "status codes must be unique: %d is given twice", c)
			}
			seen[c] = true
		}
	}
}

func (v *validator) strategies() {
	a := v.app
	if us := a.UpgradeStrategy; us != nil {
		v.between("/upgradeStrategy/minimumHealthCapacity", us.MinimumHealthCapacity, 0, 1)
		v.between("/upgradeStrategy/maximumOverCapacity", us.MaximumOverCapacity, 0, 1)
	}
	v.atLeast("/backoffSeconds", a.BackoffSeconds, 0)
	v.atLeast("/backoffFactor", a.BackoffFactor, 1)
	v.atLeast("/maxLaunchDelaySeconds", a.MaxLaunchDelaySeconds, 0)
	v.atLeast("/taskKillGracePeriodSeconds", a.TaskKillGracePeriodSeconds, 0)
	switch a.KillSelection {
	case "", KillYoungestFirst, KillOldestFirst:
	default:
		v.add("/killSelection", "unknown kill selection %q: use YOUNGEST_FIRST or OLDEST_FIRST", a.KillSelection)
	}
	if us := a.UnreachableStrategy; us != nil && !us.Disabled {
		v.atLeast("/unreachableStrategy/inactiveAfterSeconds", us.InactiveAfterSeconds, 0)
		v.atLeast("/unreachableStrategy/expungeAfterSeconds", us.ExpungeAfterSeconds, 0)
		inactive, expunge := defaultFieldInactiveAfterSeconds, defaultFieldExpungeAfterSeconds
		if us.InactiveAfterSeconds != nil {
			inactive = *us.InactiveAfterSeconds
		}
		if us.ExpungeAfterSeconds != nil {
			expunge = *us.ExpungeAfterSeconds
		}
		if inactive > expunge {
			v.add("/unreachableStrategy/inactiveAfterSeconds", "inactiveAfterSeconds (%s) must be less or equal to expungeAfterSeconds, which is %s", fmtNum(inactive), fmtNum(expunge))
		}
	}
}

func (v *validator) fetch() {
	for i, f := range v.app.Fetch {
		p := at(idx("/fetch", i), "uri")
		if strings.TrimSpace(f.URI) == "" {
			v.add(p, "must not be empty: give the URI to fetch")
		} else if _, err := url.Parse(f.URI); err != nil {
			v.add(p, "%q is not a valid URI: %v", f.URI, err)
		}
	}
}

func (v *validator) dependencies() {
	a := v.app
	base := parentOf(resolve("/", a.ID))
	self := resolve("/", a.ID)
	seen := map[string]bool{}
	for i, d := range a.Dependencies {
		p := idx("/dependencies", i)
		c, err := ResolveID(base, d)
		switch {
		case err != nil:
			v.add(p, "%v", err)
		case a.ID != "" && c == self:
			v.add(p, "an app cannot depend on itself")
		case seen[c]:
			v.add("/dependencies", "dependencies must be unique: %s is given twice", c)
		}
		seen[c] = true
	}
}

const noImages = "container images are not supported yet: run a cmd instead (a MESOS container without an image can still mount host volumes)"

func (v *validator) container() {
	c := v.app.Container
	if c == nil {
		return
	}
	typ := c.Type
	if typ == "" {
		typ = defaultContainerType
	}
	switch typ {
	case ContainerDocker:
		switch {
		case c.Docker == nil:
			v.add("/container/docker", "missing: a DOCKER container needs docker.image, and %s; for host volumes use \"type\": \"MESOS\"", noImages)
		case c.Docker.Image == "":
			v.add("/container/docker/image", "must not be empty for a DOCKER container; %s", noImages)
		}
	case ContainerMesos:
		if c.Docker != nil && c.Docker.Image == "" {
			v.add("/container/docker/image", "must not be empty (or remove docker from the MESOS container)")
		}
	default:
		v.add("/container/type", "unknown container type %q: use MESOS (or DOCKER)", c.Type)
	}
	if c.Docker != nil && c.Docker.Image != "" {
		v.add("/container/docker/image", "%s", noImages)
	}
	if _, ok := c.Extra["appc"]; ok {
		v.add("/container/appc", "%s", noImages)
	}
	if pm, ok := c.Extra["portMappings"].([]any); ok && len(pm) > 0 {
		v.add("/container/portMappings", "port mappings need container networking, which is not supported yet: use portDefinitions (host ports)")
	}
	if c.Docker != nil {
		if pm, ok := c.Docker.Extra["portMappings"].([]any); ok && len(pm) > 0 {
			v.add("/container/docker/portMappings", "port mappings need container networking, which is not supported yet: use portDefinitions (host ports)")
		}
	}
	paths := map[string]bool{}
	for i, vol := range c.Volumes {
		p := idx("/container/volumes", i)
		if vol.ContainerPath == "" {
			v.add(at(p, "containerPath"), "must not be empty: give the path in the container")
		} else if paths[vol.ContainerPath] {
			v.add(at(p, "containerPath"), "%q is mounted twice", vol.ContainerPath)
		}
		paths[vol.ContainerPath] = true
		switch {
		case vol.Persistent != nil:
			v.add(at(p, "persistent"), "persistent volumes are not supported yet: mount a host path (hostPath) instead")
		case vol.External != nil:
			v.add(at(p, "external"), "external volumes are not supported yet: mount a host path (hostPath) instead")
		case vol.Secret != "":
			v.add(at(p, "secret"), "secret volumes are not supported yet (Cairn has no secret store)")
		default:
			if vol.HostPath == "" {
				v.add(at(p, "hostPath"), "must not be empty: give the path on the agent to mount")
			}
			if vol.Mode != "RW" && vol.Mode != "RO" {
				v.add(at(p, "mode"), "must be RW or RO, got %q", vol.Mode)
			}
		}
	}
}

func (v *validator) networks() {
	hosts := 0
	for i, n := range v.app.Networks {
		p := idx("/networks", i)
		switch n.Mode {
		case NetworkHost:
			hosts++
			if n.Name != "" {
				v.add(at(p, "name"), "applies only to container networks")
			}
		case "", NetworkContainer, NetworkBridge:
			v.add(at(p, "mode"), "container networking is not supported yet: use [{\"mode\": \"host\"}] (the default) and portDefinitions")
		default:
			v.add(at(p, "mode"), "unknown network mode %q: use host", n.Mode)
		}
	}
	if hosts > 0 && len(v.app.Networks) > 1 {
		v.add("/networks", "host networking admits a single network")
	}
}

func (v *validator) unsupported() {
	a := v.app
	switch a.Executor {
	case "", "//cmd":
	default:
		v.add("/executor", "custom executors are not supported: Cairn runs tasks with its own supervisor (remove executor)")
	}
	if len(a.StoreURLs) > 0 {
		v.add("/storeUrls", "the artifact store is not supported: use fetch")
	}
	if a.IPAddress != nil {
		v.add("/ipAddress", "IP-per-task is not supported yet: use host networking and portDefinitions")
	}
	if a.Residency != nil {
		v.add("/residency", "resident tasks (persistent local volumes) are not supported yet")
	}
	if len(a.Secrets) > 0 {
		v.add("/secrets", "secrets are not supported yet (Cairn has no secret store)")
	}
	for _, r := range a.AcceptedResourceRoles {
		if r != "*" {
			v.add("/acceptedResourceRoles", "accepting resources of other roles is not supported yet: remove acceptedResourceRoles (or use [\"*\"]) and set role")
			break
		}
	}
	if a.Role != "" {
		if err := resources.ValidateRole(a.Role); err != nil {
			v.add("/role", "%v", err)
		}
	}
}
