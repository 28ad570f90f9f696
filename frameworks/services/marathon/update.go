package marathon

import (
	"maps"
	"slices"
)

// AppUpdate is a partial app (PUT /v2/apps/{id}, partial by default):
// only the fields present in the JSON change. A pointer field is given
// when non-nil; a slice or map field when non-nil (an empty, non-nil one
// clears the field: "labels": {} removes every label). Nested objects
// (upgradeStrategy, container, unreachableStrategy, each health check ...)
// are replaced whole, as Marathon does; Normalize then fills their
// defaults.
type AppUpdate struct {
	ID                         *string
	Cmd                        *string
	Args                       []string
	User                       *string
	Instances                  *int
	CPUs                       *float64
	Mem                        *float64
	Disk                       *float64
	GPUs                       *int
	Env                        map[string]string
	EnvSecrets                 map[string]string // with Env: env values given as {"secret": ...}
	Labels                     map[string]string
	Constraints                [][]string
	PortDefinitions            []PortDefinition
	RequirePorts               *bool
	HealthChecks               []HealthCheck
	ReadinessChecks            []ReadinessCheck
	UpgradeStrategy            *UpgradeStrategy
	BackoffSeconds             *float64
	BackoffFactor              *float64
	MaxLaunchDelaySeconds      *float64
	TaskKillGracePeriodSeconds *float64
	KillSelection              *string
	UnreachableStrategy        *UnreachableStrategy
	Fetch                      []Fetch
	Dependencies               []string
	Container                  *Container
	Networks                   []Network
	Role                       *string
	Executor                   *string
	StoreURLs                  []string
	IPAddress                  map[string]any
	Residency                  map[string]any
	Secrets                    map[string]any
	AcceptedResourceRoles      []string
	// Version, when given, asks to revert the app to that stored version
	// (Marathon's rollback); it may only be combined with ID. Apply ignores
	// it: the caller looks the version up.
	Version *string
}

// ParseAppUpdate decodes a partial update (warnings as ParseApp; "ports"
// and "uris" converted the same way). JSON null counts as "not given", as
// in Marathon.
func ParseAppUpdate(data []byte) (AppUpdate, []string, error) {
	d := &decoder{}
	root, err := parseTree(data)
	if err != nil {
		return AppUpdate{}, nil, err
	}
	o := d.object("", root)
	if o == nil {
		return AppUpdate{}, nil, d.errs.err(MessageInvalidJSON)
	}
	a, present := d.app(o)
	if e := d.errs.err(MessageInvalidJSON); e != nil {
		return AppUpdate{}, d.warnings, e
	}
	if present["versionInfo"] {
		d.warnf("read-only field %q: ignored (the service keeps version information)", "/versionInfo")
	}
	return updateFrom(a, present), d.warnings, nil
}

// updateFrom takes the present fields of a decoded app.
func updateFrom(a App, present map[string]bool) AppUpdate {
	var u AppUpdate
	given := func(k string) bool { return present[k] }
	if given("id") {
		u.ID = &a.ID
	}
	if given("cmd") {
		u.Cmd = a.Cmd
	}
	if given("args") {
		u.Args = nonNil(a.Args)
	}
	if given("user") {
		u.User = &a.User
	}
	u.Instances, u.CPUs, u.Mem, u.Disk, u.GPUs = a.Instances, a.CPUs, a.Mem, a.Disk, a.GPUs
	if given("env") {
		u.Env = nonNilMap(a.Env)
		u.EnvSecrets = a.EnvSecrets
	}
	if given("labels") {
		u.Labels = nonNilMap(a.Labels)
	}
	if given("constraints") {
		u.Constraints = nonNil(a.Constraints)
	}
	if given("portDefinitions") {
		u.PortDefinitions = nonNil(a.PortDefinitions)
	}
	u.RequirePorts = a.RequirePorts
	if given("healthChecks") {
		u.HealthChecks = nonNil(a.HealthChecks)
	}
	if given("readinessChecks") {
		u.ReadinessChecks = nonNil(a.ReadinessChecks)
	}
	u.UpgradeStrategy = a.UpgradeStrategy
	u.BackoffSeconds, u.BackoffFactor, u.MaxLaunchDelaySeconds = a.BackoffSeconds, a.BackoffFactor, a.MaxLaunchDelaySeconds
	u.TaskKillGracePeriodSeconds = a.TaskKillGracePeriodSeconds
	if given("killSelection") {
		u.KillSelection = &a.KillSelection
	}
	u.UnreachableStrategy = a.UnreachableStrategy
	if given("fetch") {
		u.Fetch = nonNil(a.Fetch)
	}
	if given("dependencies") {
		u.Dependencies = nonNil(a.Dependencies)
	}
	u.Container = a.Container
	if given("networks") {
		u.Networks = nonNil(a.Networks)
	}
	if given("role") {
		u.Role = &a.Role
	}
	if given("executor") {
		u.Executor = &a.Executor
	}
	if given("storeUrls") {
		u.StoreURLs = nonNil(a.StoreURLs)
	}
	u.IPAddress, u.Residency = a.IPAddress, a.Residency
	if given("secrets") {
		u.Secrets = nonNilMap(a.Secrets)
	}
	if given("acceptedResourceRoles") {
		u.AcceptedResourceRoles = nonNil(a.AcceptedResourceRoles)
	}
	if given("version") {
		u.Version = &a.Version
	}
	return u
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}

// ValidateFor checks the update against the app it is sent to (the id in
// the URL): the update must not change the id, and a version (a
// rollback) may only be combined with the id, as in Marathon. It returns
// nil when the update may be applied.
func (u AppUpdate) ValidateFor(appID string) *ValidationError {
	var p problems
	if u.ID != nil && *u.ID != "" {
		want, werr := CanonicalID(appID)
		got, gerr := CanonicalID(*u.ID)
		switch {
		case gerr != nil:
			p.add("/id", "%v", gerr)
		case werr == nil && got != want:
			p.add("/id", "the update's id %q differs from the app's %q: an update cannot rename an app (create the new app, then remove the old one)", got, want)
		}
	}
	if u.Version != nil {
		only := u
		only.ID, only.Version = nil, nil
		if !only.empty() {
			p.add("/version", "may only be combined with id: a version reverts the app to that stored version, with nothing else changed")
		}
	}
	return p.err(MessageInvalidObject)
}

func (u AppUpdate) empty() bool {
	return u.ID == nil && u.Cmd == nil && u.Args == nil && u.User == nil && u.Instances == nil &&
		u.CPUs == nil && u.Mem == nil && u.Disk == nil && u.GPUs == nil && u.Env == nil && u.EnvSecrets == nil &&
		u.Labels == nil && u.Constraints == nil && u.PortDefinitions == nil && u.RequirePorts == nil &&
		u.HealthChecks == nil && u.ReadinessChecks == nil && u.UpgradeStrategy == nil &&
		u.BackoffSeconds == nil && u.BackoffFactor == nil && u.MaxLaunchDelaySeconds == nil &&
		u.TaskKillGracePeriodSeconds == nil && u.KillSelection == nil && u.UnreachableStrategy == nil &&
		u.Fetch == nil && u.Dependencies == nil && u.Container == nil && u.Networks == nil && u.Role == nil &&
		u.Executor == nil && u.StoreURLs == nil && u.IPAddress == nil && u.Residency == nil &&
		u.Secrets == nil && u.AcceptedResourceRoles == nil && u.Version == nil
}

// Apply returns base with the update's fields replaced (base is not
// modified; the result shares nothing with base or the update). The id
// never changes (see ValidateFor). Apply does not Normalize: do that, then
// Validate, on the result.
//
// One deliberate difference from Marathon: giving cmd without args clears
// args, and giving args without cmd clears cmd, so that switching between
// the two works in a partial update (Marathon would keep both and reject
// the result).
func (u AppUpdate) Apply(base App) App {
	a := base.Clone()
	if u.Cmd != nil {
		a.Cmd = ptr(*u.Cmd)
		if u.Args == nil {
			a.Args = nil
		}
	}
	if u.Args != nil {
		a.Args = slices.Clone(u.Args)
		if u.Cmd == nil {
			a.Cmd = nil
		}
	}
	if u.User != nil {
		a.User = *u.User
	}
	setIf(&a.Instances, u.Instances)
	setIf(&a.CPUs, u.CPUs)
	setIf(&a.Mem, u.Mem)
	setIf(&a.Disk, u.Disk)
	setIf(&a.GPUs, u.GPUs)
	if u.Env != nil || u.EnvSecrets != nil {
		a.Env = maps.Clone(u.Env)
		a.EnvSecrets = maps.Clone(u.EnvSecrets)
	}
	if u.Labels != nil {
		a.Labels = maps.Clone(u.Labels)
	}
	if u.Constraints != nil {
		a.Constraints = cloneConstraints(u.Constraints)
	}
	if u.PortDefinitions != nil {
		a.PortDefinitions = clonePortDefinitions(u.PortDefinitions)
	}
	setIf(&a.RequirePorts, u.RequirePorts)
	if u.HealthChecks != nil {
		a.HealthChecks = cloneHealthChecks(u.HealthChecks)
	}
	if u.ReadinessChecks != nil {
		a.ReadinessChecks = cloneReadinessChecks(u.ReadinessChecks)
	}
	if u.UpgradeStrategy != nil {
		a.UpgradeStrategy = u.UpgradeStrategy.clone()
	}
	setIf(&a.BackoffSeconds, u.BackoffSeconds)
	setIf(&a.BackoffFactor, u.BackoffFactor)
	setIf(&a.MaxLaunchDelaySeconds, u.MaxLaunchDelaySeconds)
	setIf(&a.TaskKillGracePeriodSeconds, u.TaskKillGracePeriodSeconds)
	if u.KillSelection != nil {
		a.KillSelection = *u.KillSelection
	}
	if u.UnreachableStrategy != nil {
		a.UnreachableStrategy = u.UnreachableStrategy.clone()
	}
	if u.Fetch != nil {
		a.Fetch = cloneFetch(u.Fetch)
	}
	if u.Dependencies != nil {
		a.Dependencies = slices.Clone(u.Dependencies)
	}
	if u.Container != nil {
		a.Container = u.Container.clone()
	}
	if u.Networks != nil {
		a.Networks = cloneNetworks(u.Networks)
	}
	if u.Role != nil {
		a.Role = *u.Role
	}
	if u.Executor != nil {
		a.Executor = *u.Executor
	}
	if u.StoreURLs != nil {
		a.StoreURLs = slices.Clone(u.StoreURLs)
	}
	if u.IPAddress != nil {
		a.IPAddress = cloneAny(u.IPAddress)
	}
	if u.Residency != nil {
		a.Residency = cloneAny(u.Residency)
	}
	if u.Secrets != nil {
		a.Secrets = cloneAny(u.Secrets)
	}
	if u.AcceptedResourceRoles != nil {
		a.AcceptedResourceRoles = slices.Clone(u.AcceptedResourceRoles)
	}
	return a
}

func setIf[T any](dst **T, v *T) {
	if v != nil {
		*dst = ptr(*v)
	}
}

// Clone returns a deep copy of the app.
func (a App) Clone() App {
	c := a
	c.Cmd = clonePtr(a.Cmd)
	c.Args = slices.Clone(a.Args)
	c.Instances = clonePtr(a.Instances)
	c.CPUs = clonePtr(a.CPUs)
	c.Mem = clonePtr(a.Mem)
	c.Disk = clonePtr(a.Disk)
	c.GPUs = clonePtr(a.GPUs)
	c.Env = maps.Clone(a.Env)
	c.Labels = maps.Clone(a.Labels)
	c.Constraints = cloneConstraints(a.Constraints)
	c.PortDefinitions = clonePortDefinitions(a.PortDefinitions)
	c.RequirePorts = clonePtr(a.RequirePorts)
	c.HealthChecks = cloneHealthChecks(a.HealthChecks)
	c.ReadinessChecks = cloneReadinessChecks(a.ReadinessChecks)
	c.UpgradeStrategy = a.UpgradeStrategy.clone()
	c.BackoffSeconds = clonePtr(a.BackoffSeconds)
	c.BackoffFactor = clonePtr(a.BackoffFactor)
	c.MaxLaunchDelaySeconds = clonePtr(a.MaxLaunchDelaySeconds)
	c.TaskKillGracePeriodSeconds = clonePtr(a.TaskKillGracePeriodSeconds)
	c.UnreachableStrategy = a.UnreachableStrategy.clone()
	c.Fetch = cloneFetch(a.Fetch)
	c.Dependencies = slices.Clone(a.Dependencies)
	c.Container = a.Container.clone()
	c.Networks = cloneNetworks(a.Networks)
	c.StoreURLs = slices.Clone(a.StoreURLs)
	c.IPAddress = cloneAny(a.IPAddress)
	c.Residency = cloneAny(a.Residency)
	c.Secrets = cloneAny(a.Secrets)
	c.AcceptedResourceRoles = slices.Clone(a.AcceptedResourceRoles)
	c.EnvSecrets = maps.Clone(a.EnvSecrets)
	if a.VersionInfo != nil {
		vi := *a.VersionInfo
		c.VersionInfo = &vi
	}
	return c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	return ptr(*p)
}

func cloneConstraints(cs [][]string) [][]string {
	if cs == nil {
		return nil
	}
	out := make([][]string, len(cs))
	for i, c := range cs {
		out[i] = slices.Clone(c)
	}
	return out
}

func clonePortDefinitions(pds []PortDefinition) []PortDefinition {
	if pds == nil {
		return nil
	}
	out := slices.Clone(pds)
	for i := range out {
		out[i].Labels = maps.Clone(out[i].Labels)
	}
	return out
}

func cloneHealthChecks(hcs []HealthCheck) []HealthCheck {
	if hcs == nil {
		return nil
	}
	out := slices.Clone(hcs)
	for i, h := range out {
		out[i].PortIndex = clonePtr(h.PortIndex)
		out[i].Port = clonePtr(h.Port)
		out[i].Command = clonePtr(h.Command)
		out[i].GracePeriodSeconds = clonePtr(h.GracePeriodSeconds)
		out[i].IntervalSeconds = clonePtr(h.IntervalSeconds)
		out[i].TimeoutSeconds = clonePtr(h.TimeoutSeconds)
		out[i].MaxConsecutiveFailures = clonePtr(h.MaxConsecutiveFailures)
		out[i].DelaySeconds = clonePtr(h.DelaySeconds)
		out[i].IgnoreHTTP1xx = clonePtr(h.IgnoreHTTP1xx)
	}
	return out
}

func cloneReadinessChecks(rcs []ReadinessCheck) []ReadinessCheck {
	if rcs == nil {
		return nil
	}
	out := slices.Clone(rcs)
	for i, r := range out {
		out[i].IntervalSeconds = clonePtr(r.IntervalSeconds)
		out[i].TimeoutSeconds = clonePtr(r.TimeoutSeconds)
		out[i].HTTPStatusCodesForReady = slices.Clone(r.HTTPStatusCodesForReady)
	}
	return out
}

func (us *UpgradeStrategy) clone() *UpgradeStrategy {
	if us == nil {
		return nil
	}
	return &UpgradeStrategy{MinimumHealthCapacity: clonePtr(us.MinimumHealthCapacity), MaximumOverCapacity: clonePtr(us.MaximumOverCapacity)}
}

func (us *UnreachableStrategy) clone() *UnreachableStrategy {
	if us == nil {
		return nil
	}
	return &UnreachableStrategy{InactiveAfterSeconds: clonePtr(us.InactiveAfterSeconds), ExpungeAfterSeconds: clonePtr(us.ExpungeAfterSeconds), Disabled: us.Disabled}
}

func cloneFetch(fs []Fetch) []Fetch {
	if fs == nil {
		return nil
	}
	out := slices.Clone(fs)
	for i := range out {
		out[i].Extract = clonePtr(out[i].Extract)
	}
	return out
}

func (c *Container) clone() *Container {
	if c == nil {
		return nil
	}
	out := *c
	if c.Docker != nil {
		d := *c.Docker
		d.Extra = cloneAny(d.Extra)
		out.Docker = &d
	}
	out.Volumes = slices.Clone(c.Volumes)
	for i := range out.Volumes {
		out.Volumes[i].Persistent = cloneAny(out.Volumes[i].Persistent)
		out.Volumes[i].External = cloneAny(out.Volumes[i].External)
	}
	out.Extra = cloneAny(c.Extra)
	return &out
}

func cloneNetworks(ns []Network) []Network {
	if ns == nil {
		return nil
	}
	out := slices.Clone(ns)
	for i := range out {
		out[i].Labels = maps.Clone(out[i].Labels)
	}
	return out
}

// cloneAny deep-copies decoded JSON.
func cloneAny(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneAny(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}
