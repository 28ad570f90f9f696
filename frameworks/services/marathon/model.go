package marathon

// App is a Marathon app definition (GET/POST /v2/apps). Pointer fields are
// optional in input; Normalize fills Marathon's defaults, after which every
// pointer documented with a default is non-nil.
//
// Decode user input with ParseApp (typed errors with paths, warnings for
// unknown fields, deprecated fields converted). Plain encoding/json works
// for apps Cairn stored itself (what it wrote, it can read back).
type App struct {
	ID                         string               `json:"id"`
	Cmd                        *string              `json:"cmd,omitempty"`
	Args                       []string             `json:"args,omitempty"`
	User                       string               `json:"user,omitempty"`
	Instances                  *int                 `json:"instances,omitempty"`
	CPUs                       *float64             `json:"cpus,omitempty"`
	Mem                        *float64             `json:"mem,omitempty"`
	Disk                       *float64             `json:"disk,omitempty"`
	GPUs                       *int                 `json:"gpus,omitempty"`
	Env                        map[string]string    `json:"env,omitempty"`
	Labels                     map[string]string    `json:"labels"` // Marathon always returns it ({} when empty)
	Constraints                [][]string           `json:"constraints,omitempty"`
	PortDefinitions            []PortDefinition     `json:"portDefinitions"` // nil: not given (Normalize adds one dynamic port); []: no ports
	RequirePorts               *bool                `json:"requirePorts,omitempty"`
	HealthChecks               []HealthCheck        `json:"healthChecks,omitempty"`
	ReadinessChecks            []ReadinessCheck     `json:"readinessChecks,omitempty"`
	UpgradeStrategy            *UpgradeStrategy     `json:"upgradeStrategy,omitempty"`
	BackoffSeconds             *float64             `json:"backoffSeconds,omitempty"`
	BackoffFactor              *float64             `json:"backoffFactor,omitempty"`
	MaxLaunchDelaySeconds      *float64             `json:"maxLaunchDelaySeconds,omitempty"`
	TaskKillGracePeriodSeconds *float64             `json:"taskKillGracePeriodSeconds,omitempty"`
	KillSelection              string               `json:"killSelection,omitempty"` // YOUNGEST_FIRST | OLDEST_FIRST
	UnreachableStrategy        *UnreachableStrategy `json:"unreachableStrategy,omitempty"`
	Fetch                      []Fetch              `json:"fetch,omitempty"`
	Dependencies               []string             `json:"dependencies,omitempty"`
	Container                  *Container           `json:"container,omitempty"`
	Networks                   []Network            `json:"networks,omitempty"`
	Role                       string               `json:"role,omitempty"`

	// Known Marathon fields Cairn accepts in input but cannot honour yet:
	// Validate reports each of them (a 422), so a stored app never has them.
	Executor              string            `json:"executor,omitempty"`              // "" or "//cmd" only
	StoreURLs             []string          `json:"storeUrls,omitempty"`             // artifact store
	IPAddress             map[string]any    `json:"ipAddress,omitempty"`             // IP-per-task (deprecated in Marathon)
	Residency             map[string]any    `json:"residency,omitempty"`             // resident tasks
	Secrets               map[string]any    `json:"secrets,omitempty"`               // secret store
	AcceptedResourceRoles []string          `json:"acceptedResourceRoles,omitempty"` // only ["*"]
	EnvSecrets            map[string]string `json:"-"`                               // env var → secret name ({"secret": "name"} values in env)

	// Set by the service, ignored in input.
	Version     string       `json:"version,omitempty"`
	VersionInfo *VersionInfo `json:"versionInfo,omitempty"`
}

// PortDefinition is one host port of an app's tasks.
type PortDefinition struct {
	Port     int               `json:"port"` // 0 = dynamic
	Protocol string            `json:"protocol,omitempty"`
	Name     string            `json:"name,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
}

// HealthCheck as Marathon: protocol HTTP|HTTPS|TCP|COMMAND|MESOS_HTTP|MESOS_HTTPS|MESOS_TCP;
// portIndex or port; path; gracePeriodSeconds (300), intervalSeconds (60),
// timeoutSeconds (20), maxConsecutiveFailures (3, 0 = never kill),
// delaySeconds (15); command {"value": "..."} for COMMAND.
type HealthCheck struct {
	Protocol               string        `json:"protocol,omitempty"`
	Path                   string        `json:"path,omitempty"`
	PortIndex              *int          `json:"portIndex,omitempty"`
	Port                   *int          `json:"port,omitempty"`
	Command                *CommandCheck `json:"command,omitempty"`
	GracePeriodSeconds     *float64      `json:"gracePeriodSeconds,omitempty"`
	IntervalSeconds        *float64      `json:"intervalSeconds,omitempty"`
	TimeoutSeconds         *float64      `json:"timeoutSeconds,omitempty"`
	MaxConsecutiveFailures *int          `json:"maxConsecutiveFailures,omitempty"`
	DelaySeconds           *float64      `json:"delaySeconds,omitempty"`
	IgnoreHTTP1xx          *bool         `json:"ignoreHttp1xx,omitempty"`
	IPProtocol             string        `json:"ipProtocol,omitempty"` // IPv4 (IPv6 is not supported)
}

// CommandCheck is a COMMAND health check's shell command.
type CommandCheck struct {
	Value string `json:"value"`
}

// ReadinessCheck as Marathon: run by the framework during deployments.
type ReadinessCheck struct {
	Name                    string   `json:"name,omitempty"`
	Protocol                string   `json:"protocol,omitempty"` // HTTP | HTTPS
	Path                    string   `json:"path,omitempty"`
	PortName                string   `json:"portName,omitempty"`
	IntervalSeconds         *float64 `json:"intervalSeconds,omitempty"`
	TimeoutSeconds          *float64 `json:"timeoutSeconds,omitempty"`
	HTTPStatusCodesForReady []int    `json:"httpStatusCodesForReady,omitempty"`
	PreserveLastResponse    bool     `json:"preserveLastResponse"`
}

// UpgradeStrategy bounds a rolling change (fractions of instances).
type UpgradeStrategy struct {
	MinimumHealthCapacity *float64 `json:"minimumHealthCapacity,omitempty"` // default 1
	MaximumOverCapacity   *float64 `json:"maximumOverCapacity,omitempty"`   // default 1
}

// UnreachableStrategy: {"inactiveAfterSeconds":300,"expungeAfterSeconds":600}
// or the JSON string "disabled" (Disabled=true).
type UnreachableStrategy struct {
	InactiveAfterSeconds *float64 `json:"inactiveAfterSeconds,omitempty"`
	ExpungeAfterSeconds  *float64 `json:"expungeAfterSeconds,omitempty"`
	Disabled             bool     `json:"-"`
}

// Fetch is an artifact fetched into the sandbox before the task starts.
type Fetch struct {
	URI        string `json:"uri"`
	Executable bool   `json:"executable"`
	Extract    *bool  `json:"extract,omitempty"` // default true
	Cache      bool   `json:"cache"`
	DestPath   string `json:"destPath,omitempty"`
}

// Container is the app's container. Cairn runs MESOS containers without an
// image (host volumes only) for now.
type Container struct {
	Type    string   `json:"type"` // DOCKER (Marathon's default) | MESOS
	Docker  *Docker  `json:"docker,omitempty"`
	Volumes []Volume `json:"volumes,omitempty"`
	// Extra holds the other Marathon container fields (portMappings,
	// appc), kept as decoded and written back as they came.
	Extra map[string]any `json:"-"`
}

// Docker is container.docker.
type Docker struct {
	Image string `json:"image,omitempty"`
	// Extra holds the other docker fields (network, portMappings,
	// privileged, parameters, forcePullImage, credential, pullConfig).
	Extra map[string]any `json:"-"`
}

// Volume is a container volume: a host path (supported), or a persistent,
// external or secret volume (not supported yet).
type Volume struct {
	ContainerPath string         `json:"containerPath"`
	HostPath      string         `json:"hostPath,omitempty"`
	Mode          string         `json:"mode"` // RW | RO
	Persistent    map[string]any `json:"persistent,omitempty"`
	External      map[string]any `json:"external,omitempty"`
	Secret        string         `json:"secret,omitempty"`
}

// Network is one of app.networks. Cairn supports {"mode": "host"} only.
type Network struct {
	Mode   string            `json:"mode,omitempty"` // host | container | container/bridge
	Name   string            `json:"name,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
}

// VersionInfo says when an app last changed.
type VersionInfo struct {
	LastScalingAt      string `json:"lastScalingAt"`
	LastConfigChangeAt string `json:"lastConfigChangeAt"`
}
