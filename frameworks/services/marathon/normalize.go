package marathon

// Marathon's defaults (see README.md for each one's source).
const (
	defaultInstances             = 1
	defaultCPUs                  = 1.0
	defaultMem                   = 128.0
	defaultDisk                  = 0.0
	defaultGPUs                  = 0
	defaultBackoffSeconds        = 1.0
	defaultBackoffFactor         = 1.15
	defaultMaxLaunchDelaySeconds = 3600.0
	defaultMinimumHealthCapacity = 1.0
	defaultMaximumOverCapacity   = 1.0
	// The whole-object default since Marathon 1.4.6/1.5.1 (MARATHON-7576):
	// replace an unreachable instance at once, expunge it at once.
	defaultInactiveAfterSeconds = 0.0
	defaultExpungeAfterSeconds  = 0.0
	// Per-field defaults inside a given unreachableStrategy object (RAML).
	defaultFieldInactiveAfterSeconds = 300.0
	defaultFieldExpungeAfterSeconds  = 600.0

	defaultHealthProtocol         = ProtocolHTTP
	defaultHealthGracePeriod      = 300.0
	defaultHealthInterval         = 60.0
	defaultHealthTimeout          = 20.0
	defaultHealthMaxFailures      = 3
	defaultHealthDelay            = 15.0
	defaultHealthIPProtocol       = "IPv4"
	defaultReadinessName          = "readinessCheck"
	defaultReadinessProtocol      = "HTTP"
	defaultReadinessPath          = "/"
	defaultReadinessPortName      = "http-api"
	defaultReadinessInterval      = 30.0
	defaultReadinessTimeout       = 10.0
	defaultReadinessStatusCode    = 200
	defaultPortProtocol           = "tcp"
	defaultContainerType          = ContainerDocker
	defaultNetworkMode            = NetworkContainer
	defaultNetworks               = NetworkHost
	defaultKillSelection          = KillYoungestFirst
	defaultRequirePorts           = false
	defaultIgnoreHTTP1xx          = false
	defaultFetchExtract           = true
	defaultSingleInstanceLabel    = "MARATHON_SINGLE_INSTANCE_APP"
	defaultSingleInstanceLabelVal = "true"
)

// Enumerations.
const (
	KillYoungestFirst = "YOUNGEST_FIRST"
	KillOldestFirst   = "OLDEST_FIRST"

	ProtocolHTTP       = "HTTP"
	ProtocolHTTPS      = "HTTPS"
	ProtocolTCP        = "TCP"
	ProtocolCommand    = "COMMAND"
	ProtocolMesosHTTP  = "MESOS_HTTP"
	ProtocolMesosHTTPS = "MESOS_HTTPS"
	ProtocolMesosTCP   = "MESOS_TCP"

	ContainerDocker = "DOCKER"
	ContainerMesos  = "MESOS"

	NetworkHost      = "host"
	NetworkContainer = "container"
	NetworkBridge    = "container/bridge"
)

func ptr[T any](v T) *T { return &v }

// Normalize makes the id canonical ("web" → "/web", relative ids against
// the root group; an id that cannot be made valid is left for Validate),
// resolves dependencies against the app's group, and fills Marathon's
// defaults: instances 1, cpus 1, mem 128, disk 0, gpus 0,
// portDefinitions [{port: 0, protocol: tcp}] when not given,
// requirePorts false, upgradeStrategy {1, 1}, backoff 1 s / 1.15 /
// 3600 s, taskKillGracePeriodSeconds unset (the agent's default),
// killSelection YOUNGEST_FIRST, unreachableStrategy {0, 0}, networks
// [{mode: host}], container type DOCKER, fetch extract true, and the
// health and readiness check defaults. Empty optional collections become
// nil (labels: an empty map), so that a normalised app survives a JSON
// round trip unchanged. Normalize is idempotent.
func (a *App) Normalize() {
	if a.ID != "" {
		a.ID = resolve("/", a.ID)
	}
	setDefault(&a.Instances, defaultInstances)
	setDefault(&a.CPUs, defaultCPUs)
	setDefault(&a.Mem, defaultMem)
	setDefault(&a.Disk, defaultDisk)
	setDefault(&a.GPUs, defaultGPUs)
	setDefault(&a.RequirePorts, defaultRequirePorts)
	setDefault(&a.BackoffSeconds, defaultBackoffSeconds)
	setDefault(&a.BackoffFactor, defaultBackoffFactor)
	setDefault(&a.MaxLaunchDelaySeconds, defaultMaxLaunchDelaySeconds)
	if a.KillSelection == "" {
		a.KillSelection = defaultKillSelection
	}
	if len(a.Args) == 0 {
		a.Args = nil
	}
	if len(a.Env) == 0 {
		a.Env = nil
	}
	if len(a.EnvSecrets) == 0 {
		a.EnvSecrets = nil
	}
	if a.Labels == nil {
		a.Labels = map[string]string{}
	}
	if len(a.Constraints) == 0 {
		a.Constraints = nil
	}

	if a.PortDefinitions == nil {
		a.PortDefinitions = []PortDefinition{{Port: 0, Protocol: defaultPortProtocol}}
	}
	for i := range a.PortDefinitions {
		pd := &a.PortDefinitions[i]
		if pd.Protocol == "" {
			pd.Protocol = defaultPortProtocol
		}
		if len(pd.Labels) == 0 {
			pd.Labels = nil
		}
	}

	if len(a.HealthChecks) == 0 {
		a.HealthChecks = nil
	}
	for i := range a.HealthChecks {
		a.HealthChecks[i].normalize(len(a.PortDefinitions))
	}
	if len(a.ReadinessChecks) == 0 {
		a.ReadinessChecks = nil
	}
	for i := range a.ReadinessChecks {
		a.ReadinessChecks[i].normalize()
	}

	if a.UpgradeStrategy == nil {
		a.UpgradeStrategy = &UpgradeStrategy{}
	}
	setDefault(&a.UpgradeStrategy.MinimumHealthCapacity, defaultMinimumHealthCapacity)
	setDefault(&a.UpgradeStrategy.MaximumOverCapacity, defaultMaximumOverCapacity)

	switch us := a.UnreachableStrategy; {
	case us == nil:
		a.UnreachableStrategy = &UnreachableStrategy{
			InactiveAfterSeconds: ptr(defaultInactiveAfterSeconds),
			ExpungeAfterSeconds:  ptr(defaultExpungeAfterSeconds),
		}
	case us.Disabled:
		a.UnreachableStrategy = &UnreachableStrategy{Disabled: true}
	default:
		setDefault(&us.InactiveAfterSeconds, defaultFieldInactiveAfterSeconds)
		setDefault(&us.ExpungeAfterSeconds, defaultFieldExpungeAfterSeconds)
	}

	if len(a.Fetch) == 0 {
		a.Fetch = nil
	}
	for i := range a.Fetch {
		setDefault(&a.Fetch[i].Extract, defaultFetchExtract)
	}

	if len(a.Dependencies) == 0 {
		a.Dependencies = nil
	}
	base := parentOf(a.ID)
	for i, dep := range a.Dependencies {
		if dep != "" {
			a.Dependencies[i] = resolve(base, dep)
		}
	}

	if c := a.Container; c != nil {
		if c.Type == "" {
			c.Type = defaultContainerType
		}
		if len(c.Volumes) == 0 {
			c.Volumes = nil
		}
		if len(c.Extra) == 0 {
			c.Extra = nil
		}
		if c.Docker != nil && len(c.Docker.Extra) == 0 {
			c.Docker.Extra = nil
		}
	}

	if len(a.Networks) == 0 {
		a.Networks = []Network{{Mode: defaultNetworks}}
	}
	for i := range a.Networks {
		if a.Networks[i].Mode == "" {
			a.Networks[i].Mode = defaultNetworkMode
		}
		if len(a.Networks[i].Labels) == 0 {
			a.Networks[i].Labels = nil
		}
	}

	if len(a.StoreURLs) == 0 {
		a.StoreURLs = nil
	}
	if len(a.AcceptedResourceRoles) == 0 {
		a.AcceptedResourceRoles = nil
	}
	if len(a.Secrets) == 0 {
		a.Secrets = nil
	}
}

func setDefault[T any](p **T, v T) {
	if *p == nil {
		*p = &v
	}
}

// normalize fills a health check's defaults. Checks that probe a port and
// name neither port nor portIndex get portIndex 0 when the app has ports
// (Marathon's AppNormalization).
func (h *HealthCheck) normalize(ports int) {
	if h.Protocol == "" {
		h.Protocol = defaultHealthProtocol
	}
	setDefault(&h.GracePeriodSeconds, defaultHealthGracePeriod)
	setDefault(&h.IntervalSeconds, defaultHealthInterval)
	setDefault(&h.TimeoutSeconds, defaultHealthTimeout)
	setDefault(&h.MaxConsecutiveFailures, defaultHealthMaxFailures)
	setDefault(&h.DelaySeconds, defaultHealthDelay)
	setDefault(&h.IgnoreHTTP1xx, defaultIgnoreHTTP1xx)
	if h.IPProtocol == "" {
		h.IPProtocol = defaultHealthIPProtocol
	}
	if h.Protocol != ProtocolCommand && h.Port == nil && h.PortIndex == nil && ports > 0 {
		h.PortIndex = ptr(0)
	}
}

func (r *ReadinessCheck) normalize() {
	if r.Name == "" {
		r.Name = defaultReadinessName
	}
	if r.Protocol == "" {
		r.Protocol = defaultReadinessProtocol
	}
	if r.Path == "" {
		r.Path = defaultReadinessPath
	}
	if r.PortName == "" {
		r.PortName = defaultReadinessPortName
	}
	setDefault(&r.IntervalSeconds, defaultReadinessInterval)
	setDefault(&r.TimeoutSeconds, defaultReadinessTimeout)
	if len(r.HTTPStatusCodesForReady) == 0 {
		r.HTTPStatusCodesForReady = []int{defaultReadinessStatusCode}
	}
}
