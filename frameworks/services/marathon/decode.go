package marathon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The decoder reads JSON into a generic tree first (numbers kept exact),
// then walks it field by field: every type mismatch is reported with its
// path, every key it does not know becomes a warning, and nothing stops at
// the first problem.

// ParseApp decodes an app definition. Unknown fields are not errors: they
// come back as warnings (`unknown field "/foo": ignored by Cairn`). Bad
// JSON or wrong types are a *ValidationError naming every failing path.
// Marathon's deprecated fields are converted as Marathon does ("ports" to
// "portDefinitions", "uris" to "fetch"), with a warning. It does not
// Normalize or Validate.
func ParseApp(data []byte) (App, []string, error) {
	d := &decoder{}
	root, err := parseTree(data)
	if err != nil {
		return App{}, nil, err
	}
	o := d.object("", root)
	if o == nil {
		return App{}, nil, d.errs.err(MessageInvalidJSON)
	}
	a, _ := d.app(o)
	if e := d.errs.err(MessageInvalidJSON); e != nil {
		return App{}, d.warnings, e
	}
	return a, d.warnings, nil
}

// parseTree decodes one JSON value, with numbers as json.Number.
func parseTree(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, syntaxError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		var p problems
		p.add("/", "invalid JSON: unexpected data after the top-level value at byte %d", dec.InputOffset())
		return nil, p.err(MessageInvalidJSON)
	}
	return v, nil
}

func syntaxError(data []byte, err error) error {
	var p problems
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		p.add("/", "invalid JSON: the body is empty: send an app definition object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		p.add("/", "invalid JSON: unexpected end of input (%d bytes): is the object complete?", len(data))
	case errors.As(err, &se):
		line, col := position(data, se.Offset)
		p.add("/", "invalid JSON at line %d, column %d: %s", line, col, se.Error())
	default:
		p.add("/", "invalid JSON: %v", err)
	}
	return p.err(MessageInvalidJSON)
}

// position is the line and column of the byte that made the decoder fail
// (a SyntaxError's Offset counts the bytes read, that one included).
func position(data []byte, offset int64) (line, col int) {
	if offset > 0 {
		offset--
	}
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	line, col = 1, 1
	for _, c := range data[:offset] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

type decoder struct {
	errs     problems
	warnings []string
}

func (d *decoder) fail(path, format string, args ...any) { d.errs.add(path, format, args...) }

func (d *decoder) warnf(format string, args ...any) {
	d.warnings = append(d.warnings, fmt.Sprintf(format, args...))
}

func typeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number " + v.String()
	case string:
		if len(v) > 40 {
			v = v[:37] + "..."
		}
		return fmt.Sprintf("string %q", v)
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func (d *decoder) mismatch(path, want string, v any) {
	d.fail(path, "expected %s, got %s", want, typeName(v))
}

// object is a JSON object being read: fields it reads are marked seen, and
// done() warns about the others.
type object struct {
	d    *decoder
	path string
	m    map[string]any
	seen map[string]bool
}

func (d *decoder) object(path string, v any) *object {
	m, ok := v.(map[string]any)
	if !ok {
		d.mismatch(orRoot(path), "an object", v)
		return nil
	}
	return &object{d: d, path: path, m: m, seen: map[string]bool{}}
}

func orRoot(path string) string {
	if path == "" {
		return "/"
	}
	return path
}

// get returns a field's value and path; ok is false when it is absent or
// null (Marathon reads null as "not given").
func (o *object) get(key string) (any, string, bool) {
	o.seen[key] = true
	v, ok := o.m[key]
	if !ok || v == nil {
		return nil, "", false
	}
	return v, at(o.path, key), true
}

// has reports whether key is given (not null).
func (o *object) has(key string) bool {
	v, ok := o.m[key]
	return ok && v != nil
}

// done warns about the keys nobody read; readOnly keys get their own warning.
func (o *object) done(readOnly map[string]bool) {
	var unknown []string
	for k := range o.m {
		if !o.seen[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		if readOnly[k] {
			o.d.warnf("read-only field %q: ignored (Marathon returns it in responses; it is not part of an app definition)", at(o.path, k))
			continue
		}
		o.d.warnf("unknown field %q: ignored by Cairn", at(o.path, k))
	}
}

// Scalars.

func (d *decoder) str(path string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		d.mismatch(path, "a string", v)
	}
	return s, ok
}

func (d *decoder) boolean(path string, v any) (bool, bool) {
	b, ok := v.(bool)
	if !ok {
		d.mismatch(path, "a boolean (true or false)", v)
	}
	return b, ok
}

func (d *decoder) number(path string, v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		d.mismatch(path, "a number", v)
		return 0, false
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		d.fail(path, "the number %s is out of range", n)
		return 0, false
	}
	return f, true
}

// integer reads a whole number that fits Marathon's int32 (2.0 and 1e3
// are whole numbers; 1.5 is not).
func (d *decoder) integer(path string, v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		d.mismatch(path, "a number", v)
		return 0, false
	}
	if i, err := strconv.ParseInt(n.String(), 10, 32); err == nil {
		return int(i), true
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err == nil && f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32 {
		return int(f), true
	}
	if err == nil && f == math.Trunc(f) {
		d.fail(path, "the number %s is out of range", n)
		return 0, false
	}
	d.fail(path, "expected an integer, got %s", n)
	return 0, false
}

func (o *object) str(key string, dst *string) {
	if v, p, ok := o.get(key); ok {
		if s, ok := o.d.str(p, v); ok {
			*dst = s
		}
	}
}

func (o *object) strPtr(key string, dst **string) {
	if v, p, ok := o.get(key); ok {
		if s, ok := o.d.str(p, v); ok {
			*dst = &s
		}
	}
}

func (o *object) boolVal(key string, dst *bool) {
	if v, p, ok := o.get(key); ok {
		if b, ok := o.d.boolean(p, v); ok {
			*dst = b
		}
	}
}

func (o *object) boolPtr(key string, dst **bool) {
	if v, p, ok := o.get(key); ok {
		if b, ok := o.d.boolean(p, v); ok {
			*dst = &b
		}
	}
}

func (o *object) float(key string, dst **float64) {
	if v, p, ok := o.get(key); ok {
		if f, ok := o.d.number(p, v); ok {
			*dst = &f
		}
	}
}

func (o *object) intPtr(key string, dst **int) {
	if v, p, ok := o.get(key); ok {
		if i, ok := o.d.integer(p, v); ok {
			*dst = &i
		}
	}
}

func (o *object) intVal(key string, dst *int) {
	if v, p, ok := o.get(key); ok {
		if i, ok := o.d.integer(p, v); ok {
			*dst = i
		}
	}
}

// Collections. A given collection is never nil, even when empty: [] and
// {} are different from "not given" in partial updates.

func (d *decoder) array(path string, v any) ([]any, bool) {
	a, ok := v.([]any)
	if !ok {
		d.mismatch(path, "an array", v)
	}
	return a, ok
}

func (d *decoder) strings(path string, v any) ([]string, bool) {
	a, ok := d.array(path, v)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(a))
	good := true
	for i, e := range a {
		s, ok := d.str(idx(path, i), e)
		good = good && ok
		out = append(out, s)
	}
	return out, good
}

func (o *object) strs(key string, dst *[]string) {
	if v, p, ok := o.get(key); ok {
		if s, ok := o.d.strings(p, v); ok {
			*dst = s
		}
	}
}

func (d *decoder) strMap(path string, v any) (map[string]string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		d.mismatch(path, "an object of strings", v)
		return nil, false
	}
	out := make(map[string]string, len(m))
	good := true
	for _, k := range sortedKeys(m) {
		s, ok := d.str(at(path, k), m[k])
		good = good && ok
		out[k] = s
	}
	return out, good
}

func (o *object) strMap(key string, dst *map[string]string) {
	if v, p, ok := o.get(key); ok {
		if m, ok := o.d.strMap(p, v); ok {
			*dst = m
		}
	}
}

// raw keeps an object as decoded (for known fields Cairn reports as
// unsupported).
func (o *object) raw(key string, dst *map[string]any) {
	if v, p, ok := o.get(key); ok {
		m, ok := v.(map[string]any)
		if !ok {
			o.d.mismatch(p, "an object", v)
			return
		}
		*dst = m
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// The app.

// readOnlyFields are in Marathon's app responses: scripts that GET an app
// and POST/PUT it back send them; they are ignored with a warning.
var readOnlyFields = map[string]bool{
	"tasksStaged": true, "tasksRunning": true, "tasksHealthy": true, "tasksUnhealthy": true,
	"deployments": true, "tasks": true, "lastTaskFailure": true, "taskStats": true,
	"readinessCheckResults": true,
}

// app reads an app object. present is the set of top-level fields given
// (after deprecated fields are converted: "ports" counts as
// "portDefinitions", "uris" as "fetch").
func (d *decoder) app(o *object) (App, map[string]bool) {
	var a App
	o.str("id", &a.ID)
	o.strPtr("cmd", &a.Cmd)
	o.strs("args", &a.Args)
	o.str("user", &a.User)
	o.intPtr("instances", &a.Instances)
	o.float("cpus", &a.CPUs)
	o.float("mem", &a.Mem)
	o.float("disk", &a.Disk)
	o.intPtr("gpus", &a.GPUs)
	d.env(o, &a)
	o.strMap("labels", &a.Labels)
	if v, p, ok := o.get("constraints"); ok {
		if arr, ok := d.array(p, v); ok {
			a.Constraints = make([][]string, 0, len(arr))
			for i, e := range arr {
				s, _ := d.strings(idx(p, i), e)
				a.Constraints = append(a.Constraints, s)
			}
		}
	}
	if v, p, ok := o.get("portDefinitions"); ok {
		if arr, ok := d.array(p, v); ok {
			a.PortDefinitions = make([]PortDefinition, 0, len(arr))
			for i, e := range arr {
				a.PortDefinitions = append(a.PortDefinitions, d.portDefinition(idx(p, i), e))
			}
		}
	}
	o.boolPtr("requirePorts", &a.RequirePorts)
	if v, p, ok := o.get("healthChecks"); ok {
		if arr, ok := d.array(p, v); ok {
			a.HealthChecks = make([]HealthCheck, 0, len(arr))
			for i, e := range arr {
				a.HealthChecks = append(a.HealthChecks, d.healthCheck(idx(p, i), e))
			}
		}
	}
	if v, p, ok := o.get("readinessChecks"); ok {
		if arr, ok := d.array(p, v); ok {
			a.ReadinessChecks = make([]ReadinessCheck, 0, len(arr))
			for i, e := range arr {
				a.ReadinessChecks = append(a.ReadinessChecks, d.readinessCheck(idx(p, i), e))
			}
		}
	}
	if v, p, ok := o.get("upgradeStrategy"); ok {
		if uo := d.object(p, v); uo != nil {
			var us UpgradeStrategy
			uo.float("minimumHealthCapacity", &us.MinimumHealthCapacity)
			uo.float("maximumOverCapacity", &us.MaximumOverCapacity)
			uo.done(nil)
			a.UpgradeStrategy = &us
		}
	}
	o.float("backoffSeconds", &a.BackoffSeconds)
	o.float("backoffFactor", &a.BackoffFactor)
	o.float("maxLaunchDelaySeconds", &a.MaxLaunchDelaySeconds)
	o.float("taskKillGracePeriodSeconds", &a.TaskKillGracePeriodSeconds)
	o.str("killSelection", &a.KillSelection)
	if v, p, ok := o.get("unreachableStrategy"); ok {
		a.UnreachableStrategy = d.unreachable(p, v)
	}
	if v, p, ok := o.get("fetch"); ok {
		if arr, ok := d.array(p, v); ok {
			a.Fetch = make([]Fetch, 0, len(arr))
			for i, e := range arr {
				a.Fetch = append(a.Fetch, d.fetch(idx(p, i), e))
			}
		}
	}
	o.strs("dependencies", &a.Dependencies)
	if v, p, ok := o.get("container"); ok {
		a.Container = d.container(p, v)
	}
	if v, p, ok := o.get("networks"); ok {
		if arr, ok := d.array(p, v); ok {
			a.Networks = make([]Network, 0, len(arr))
			for i, e := range arr {
				a.Networks = append(a.Networks, d.network(idx(p, i), e))
			}
		}
	}
	o.str("role", &a.Role)
	o.str("executor", &a.Executor)
	o.strs("storeUrls", &a.StoreURLs)
	o.raw("ipAddress", &a.IPAddress)
	o.raw("residency", &a.Residency)
	o.raw("secrets", &a.Secrets)
	o.strs("acceptedResourceRoles", &a.AcceptedResourceRoles)
	o.str("version", &a.Version)
	if v, p, ok := o.get("versionInfo"); ok {
		if vo := d.object(p, v); vo != nil {
			var vi VersionInfo
			vo.str("lastScalingAt", &vi.LastScalingAt)
			vo.str("lastConfigChangeAt", &vi.LastConfigChangeAt)
			vo.done(nil)
			a.VersionInfo = &vi
		}
	}

	present := map[string]bool{}
	for k, v := range o.m {
		if v != nil {
			present[k] = true
		}
	}
	d.deprecatedPorts(o, &a, present)
	d.deprecatedURIs(o, &a, present)
	o.done(readOnlyFields)
	return a, present
}

// env reads env: string values, or Marathon's secret references
// {"secret": "name"} (kept in EnvSecrets; Validate reports them).
func (d *decoder) env(o *object, a *App) {
	v, p, ok := o.get("env")
	if !ok {
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		d.mismatch(p, "an object of strings", v)
		return
	}
	a.Env = make(map[string]string, len(m))
	for _, k := range sortedKeys(m) {
		ep := at(p, k)
		switch val := m[k].(type) {
		case string:
			a.Env[k] = val
		case map[string]any:
			so := d.object(ep, val)
			var name string
			if sv, sp, ok := so.get("secret"); ok {
				name, _ = d.str(sp, sv)
			} else {
				d.fail(ep, `expected a string or a secret reference {"secret": "<name>"}, got an object without "secret"`)
			}
			so.done(nil)
			if a.EnvSecrets == nil {
				a.EnvSecrets = map[string]string{}
			}
			a.EnvSecrets[k] = name
		default:
			d.fail(ep, `expected a string (or a secret reference {"secret": "<name>"}), got %s`, typeName(val))
		}
	}
}

func (d *decoder) portDefinition(path string, v any) PortDefinition {
	var pd PortDefinition
	o := d.object(path, v)
	if o == nil {
		return pd
	}
	o.intVal("port", &pd.Port)
	o.str("protocol", &pd.Protocol)
	o.str("name", &pd.Name)
	o.strMap("labels", &pd.Labels)
	o.done(nil)
	return pd
}

func (d *decoder) healthCheck(path string, v any) HealthCheck {
	var hc HealthCheck
	o := d.object(path, v)
	if o == nil {
		return hc
	}
	o.str("protocol", &hc.Protocol)
	o.str("path", &hc.Path)
	o.intPtr("portIndex", &hc.PortIndex)
	o.intPtr("port", &hc.Port)
	if cv, cp, ok := o.get("command"); ok {
		if co := d.object(cp, cv); co != nil {
			var c CommandCheck
			co.str("value", &c.Value)
			co.done(nil)
			hc.Command = &c
		}
	}
	o.float("gracePeriodSeconds", &hc.GracePeriodSeconds)
	o.float("intervalSeconds", &hc.IntervalSeconds)
	o.float("timeoutSeconds", &hc.TimeoutSeconds)
	o.intPtr("maxConsecutiveFailures", &hc.MaxConsecutiveFailures)
	o.float("delaySeconds", &hc.DelaySeconds)
	o.boolPtr("ignoreHttp1xx", &hc.IgnoreHTTP1xx)
	o.str("ipProtocol", &hc.IPProtocol)
	o.done(nil)
	return hc
}

func (d *decoder) readinessCheck(path string, v any) ReadinessCheck {
	var rc ReadinessCheck
	o := d.object(path, v)
	if o == nil {
		return rc
	}
	o.str("name", &rc.Name)
	o.str("protocol", &rc.Protocol)
	o.str("path", &rc.Path)
	o.str("portName", &rc.PortName)
	o.float("intervalSeconds", &rc.IntervalSeconds)
	o.float("timeoutSeconds", &rc.TimeoutSeconds)
	if sv, sp, ok := o.get("httpStatusCodesForReady"); ok {
		if arr, ok := d.array(sp, sv); ok {
			rc.HTTPStatusCodesForReady = make([]int, 0, len(arr))
			for i, e := range arr {
				c, _ := d.integer(idx(sp, i), e)
				rc.HTTPStatusCodesForReady = append(rc.HTTPStatusCodesForReady, c)
			}
		}
	}
	o.boolVal("preserveLastResponse", &rc.PreserveLastResponse)
	o.done(nil)
	return rc
}

func (d *decoder) unreachable(path string, v any) *UnreachableStrategy {
	if s, ok := v.(string); ok {
		if s != "disabled" {
			d.fail(path, `expected "disabled" or an object {"inactiveAfterSeconds": ..., "expungeAfterSeconds": ...}, got %s`, typeName(v))
			return nil
		}
		return &UnreachableStrategy{Disabled: true}
	}
	if _, ok := v.(map[string]any); !ok {
		d.mismatch(path, `"disabled" or an object`, v)
		return nil
	}
	o := d.object(path, v)
	var us UnreachableStrategy
	o.float("inactiveAfterSeconds", &us.InactiveAfterSeconds)
	o.float("expungeAfterSeconds", &us.ExpungeAfterSeconds)
	o.done(nil)
	return &us
}

func (d *decoder) fetch(path string, v any) Fetch {
	var f Fetch
	o := d.object(path, v)
	if o == nil {
		return f
	}
	o.str("uri", &f.URI)
	o.boolVal("executable", &f.Executable)
	o.boolPtr("extract", &f.Extract)
	o.boolVal("cache", &f.Cache)
	o.str("destPath", &f.DestPath)
	o.done(nil)
	return f
}

// Marathon container fields Cairn keeps in Container.Extra /
// Docker.Extra (reported by Validate where they matter).
var (
	containerExtras = []string{"appc", "portMappings"}
	dockerExtras    = []string{"credential", "forcePullImage", "network", "parameters", "portMappings", "privileged", "pullConfig"}
)

func (d *decoder) container(path string, v any) *Container {
	o := d.object(path, v)
	if o == nil {
		return nil
	}
	var c Container
	o.str("type", &c.Type)
	if dv, dp, ok := o.get("docker"); ok {
		if do := d.object(dp, dv); do != nil {
			var dk Docker
			do.str("image", &dk.Image)
			dk.Extra = do.extras(dockerExtras)
			do.done(nil)
			c.Docker = &dk
		}
	}
	if vv, vp, ok := o.get("volumes"); ok {
		if arr, ok := d.array(vp, vv); ok {
			c.Volumes = make([]Volume, 0, len(arr))
			for i, e := range arr {
				c.Volumes = append(c.Volumes, d.volume(idx(vp, i), e))
			}
		}
	}
	c.Extra = o.extras(containerExtras)
	o.done(nil)
	return &c
}

// extras takes the given keys as they are (nil when none is given).
func (o *object) extras(keys []string) map[string]any {
	var out map[string]any
	for _, k := range keys {
		if v, _, ok := o.get(k); ok {
			if out == nil {
				out = map[string]any{}
			}
			out[k] = v
		}
	}
	return out
}

func (d *decoder) volume(path string, v any) Volume {
	var vol Volume
	o := d.object(path, v)
	if o == nil {
		return vol
	}
	o.str("containerPath", &vol.ContainerPath)
	o.str("hostPath", &vol.HostPath)
	o.str("mode", &vol.Mode)
	o.raw("persistent", &vol.Persistent)
	o.raw("external", &vol.External)
	o.str("secret", &vol.Secret)
	o.done(nil)
	return vol
}

func (d *decoder) network(path string, v any) Network {
	var n Network
	o := d.object(path, v)
	if o == nil {
		return n
	}
	o.str("mode", &n.Mode)
	o.str("name", &n.Name)
	o.strMap("labels", &n.Labels)
	o.done(nil)
	return n
}

// deprecatedPorts converts Marathon's "ports" (a list of port numbers) to
// portDefinitions as Marathon does: each port becomes {"port": n,
// "protocol": "tcp"}. Both given and different is an error.
func (d *decoder) deprecatedPorts(o *object, a *App, present map[string]bool) {
	v, p, ok := o.get("ports")
	if !ok {
		return
	}
	arr, ok := d.array(p, v)
	if !ok {
		return
	}
	ports := make([]int, 0, len(arr))
	for i, e := range arr {
		n, _ := d.integer(idx(p, i), e)
		ports = append(ports, n)
	}
	delete(present, "ports")
	if present["portDefinitions"] {
		same := len(a.PortDefinitions) == len(ports)
		for i := 0; same && i < len(ports); i++ {
			same = a.PortDefinitions[i].Port == ports[i]
		}
		if !same {
			d.fail(p, "cannot specify both ports and portDefinitions: ports is deprecated, use portDefinitions only")
			return
		}
		d.warnf("deprecated field %q: ignored, portDefinitions gives the same ports", p)
		return
	}
	a.PortDefinitions = make([]PortDefinition, 0, len(ports))
	for _, n := range ports {
		a.PortDefinitions = append(a.PortDefinitions, PortDefinition{Port: n, Protocol: "tcp"})
	}
	present["portDefinitions"] = true
	d.warnf("deprecated field %q: converted to \"/portDefinitions\"", p)
}

// deprecatedURIs converts Marathon's "uris" to fetch as Marathon does:
// each URI becomes {"uri": u, "extract": <whether u is an archive>}.
// Both non-empty is an error.
func (d *decoder) deprecatedURIs(o *object, a *App, present map[string]bool) {
	v, p, ok := o.get("uris")
	if !ok {
		return
	}
	uris, ok := d.strings(p, v)
	if !ok {
		return
	}
	delete(present, "uris")
	if len(uris) == 0 {
		return
	}
	if len(a.Fetch) > 0 {
		d.fail(p, "cannot specify both uris and fetch: uris is deprecated, use fetch only")
		return
	}
	a.Fetch = make([]Fetch, 0, len(uris))
	for _, u := range uris {
		x := isArchive(u)
		a.Fetch = append(a.Fetch, Fetch{URI: u, Extract: &x})
	}
	present["fetch"] = true
	d.warnf("deprecated field %q: converted to \"/fetch\"", p)
}

// isArchive is Marathon's FetchUri.isExtract.
func isArchive(uri string) bool {
	for _, ext := range []string{".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz", ".zip"} {
		if strings.HasSuffix(uri, ext) {
			return true
		}
	}
	return false
}
