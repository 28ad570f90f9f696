package marathon

import (
	"encoding/json"
	"time"
)

// Response shapes. Arrays Marathon always returns are written [] when
// empty, never null (the MarshalJSON methods below); wrappers such as
// {"app": ...} and {"apps": [...]} are the API's.

// Task is a task in Marathon's responses (/v2/apps/{id}/tasks, /v2/tasks,
// embedded in apps).
type Task struct {
	ID                 string              `json:"id"`
	AppID              string              `json:"appId"`
	Host               string              `json:"host"`
	IPAddresses        []IPAddress         `json:"ipAddresses"`
	Ports              []int               `json:"ports"`
	ServicePorts       []int               `json:"servicePorts"`
	SlaveID            string              `json:"slaveId"`
	StagedAt           string              `json:"stagedAt,omitempty"`
	StartedAt          string              `json:"startedAt,omitempty"`
	Version            string              `json:"version"`
	State              string              `json:"state"` // TASK_RUNNING ...
	HealthCheckResults []HealthCheckResult `json:"healthCheckResults,omitempty"`
}

// MarshalJSON writes empty arrays as [].
func (t Task) MarshalJSON() ([]byte, error) {
	type plain Task
	p := plain(t)
	p.IPAddresses = nonNil(p.IPAddresses)
	p.Ports = nonNil(p.Ports)
	p.ServicePorts = nonNil(p.ServicePorts)
	return json.Marshal(p)
}

// IPAddress is one of a task's addresses.
type IPAddress struct {
	IPAddress string `json:"ipAddress"`
	Protocol  string `json:"protocol"` // IPv4 | IPv6
}

// HealthCheckResult is a task's health as Marathon reports it.
type HealthCheckResult struct {
	Alive               bool   `json:"alive"`
	ConsecutiveFailures int    `json:"consecutiveFailures"`
	FirstSuccess        string `json:"firstSuccess,omitempty"`
	LastFailure         string `json:"lastFailure,omitempty"`
	LastSuccess         string `json:"lastSuccess,omitempty"`
	LastFailureCause    string `json:"lastFailureCause,omitempty"`
	TaskID              string `json:"taskId"`
	InstanceID          string `json:"instanceId,omitempty"` // Marathon 1.4+ (the task id in Cairn)
}

// AppStatus is an app in GET /v2/apps responses: the definition plus
// counts, deployments in progress and (with embed) tasks. Tasks: nil
// leaves "tasks" out (not embedded); non-nil writes it, [] when empty.
// Deployments is written [] when empty.
type AppStatus struct {
	App
	TasksStaged     int              `json:"tasksStaged"`
	TasksRunning    int              `json:"tasksRunning"`
	TasksHealthy    int              `json:"tasksHealthy"`
	TasksUnhealthy  int              `json:"tasksUnhealthy"`
	Deployments     DeploymentRefs   `json:"deployments"`
	Tasks           []Task           `json:"tasks,omitzero"`
	LastTaskFailure *LastTaskFailure `json:"lastTaskFailure,omitempty"`
}

// DeploymentRefs is an app's deployments in progress; it is written []
// when empty. (AppStatus has no MarshalJSON of its own: encoding/json
// would re-scan its whole output, which GET /v2/apps with many apps pays.)
type DeploymentRefs []DeploymentRef

// MarshalJSON writes nil as [].
func (d DeploymentRefs) MarshalJSON() ([]byte, error) {
	return json.Marshal(nonNil([]DeploymentRef(d)))
}

// DeploymentRef names a deployment in progress for an app.
type DeploymentRef struct {
	ID string `json:"id"`
}

// LastTaskFailure is an app's most recent failed task.
type LastTaskFailure struct {
	AppID     string `json:"appId"`
	Host      string `json:"host"`
	Message   string `json:"message"`
	State     string `json:"state"`
	TaskID    string `json:"taskId"`
	Timestamp string `json:"timestamp"`
	Version   string `json:"version"`
	SlaveID   string `json:"slaveId"`
}

// Deployment is GET /v2/deployments' item.
type Deployment struct {
	ID             string          `json:"id"`
	Version        string          `json:"version"`
	AffectedApps   []string        `json:"affectedApps"`
	Steps          []Step          `json:"steps"`
	CurrentActions []CurrentAction `json:"currentActions"`
	CurrentStep    int             `json:"currentStep"`
	TotalSteps     int             `json:"totalSteps"`
	// Waiting is Cairn's addition: why the deployment does not progress
	// (no matching offers: which constraint or resource, on how many
	// agents; back-off; a dependency not healthy yet).
	Waiting string `json:"waiting,omitempty"`
}

// MarshalJSON writes empty arrays as [].
func (d Deployment) MarshalJSON() ([]byte, error) {
	type plain Deployment
	p := plain(d)
	p.AffectedApps = nonNil(p.AffectedApps)
	p.Steps = nonNil(p.Steps)
	p.CurrentActions = nonNil(p.CurrentActions)
	return json.Marshal(p)
}

// Step is one step of a deployment: its actions run together.
type Step struct {
	Actions []Action `json:"actions"`
}

// MarshalJSON writes empty arrays as [].
func (s Step) MarshalJSON() ([]byte, error) {
	type plain Step
	p := plain(s)
	p.Actions = nonNil(p.Actions)
	return json.Marshal(p)
}

// Action is one app's part of a step.
type Action struct {
	Action string `json:"action"` // StartApplication | StopApplication | ScaleApplication | RestartApplication
	App    string `json:"app"`
}

// CurrentAction is an action of the current step, with its readiness.
type CurrentAction struct {
	Action                string                 `json:"action"`
	App                   string                 `json:"app"`
	ReadinessCheckResults []ReadinessCheckResult `json:"readinessCheckResults"`
}

// MarshalJSON writes empty arrays as [].
func (c CurrentAction) MarshalJSON() ([]byte, error) {
	type plain CurrentAction
	p := plain(c)
	p.ReadinessCheckResults = nonNil(p.ReadinessCheckResults)
	return json.Marshal(p)
}

// ReadinessCheckResult is a task's readiness during a deployment.
type ReadinessCheckResult struct {
	Name    string `json:"name"`
	TaskID  string `json:"taskId"`
	Ready   bool   `json:"ready"`
	LastURL string `json:"lastResponseUrl,omitempty"`
}

// QueueItem is GET /v2/queue's item.
type QueueItem struct {
	App                    App      `json:"app"`
	Count                  int      `json:"count"`
	Delay                  Delay    `json:"delay"`
	Since                  string   `json:"since"`
	ProcessedOffersSummary *Summary `json:"processedOffersSummary,omitempty"`
	LastUnusedOffers       []any    `json:"lastUnusedOffers,omitempty"`
}

// Delay is a queued app's launch backoff.
type Delay struct {
	TimeLeftSeconds float64 `json:"timeLeftSeconds"`
	Overdue         bool    `json:"overdue"`
}

// Summary says why offers were not used (per reason, how many offers).
type Summary struct {
	ProcessedOffersCount    int            `json:"processedOffersCount"`
	UnusedOffersCount       int            `json:"unusedOffersCount"`
	LastUnusedOfferAt       string         `json:"lastUnusedOfferAt,omitempty"`
	LastUsedOfferAt         string         `json:"lastUsedOfferAt,omitempty"`
	RejectSummaryLastOffers []RejectReason `json:"rejectSummaryLastOffers"`
}

// MarshalJSON writes empty arrays as [].
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	p := plain(s)
	p.RejectSummaryLastOffers = nonNil(p.RejectSummaryLastOffers)
	return json.Marshal(p)
}

// RejectReason counts the offers declined for one reason.
type RejectReason struct {
	Reason    string `json:"reason"` // InsufficientCpus, InsufficientMemory, UnfulfilledConstraint, InsufficientPorts ...
	Declined  int    `json:"declined"`
	Processed int    `json:"processed"`
}

// Event is one /v2/events SSE event: Marathon event types
// (status_update_event, deployment_info, deployment_step_success,
// deployment_success, deployment_failed, api_post_event,
// health_status_changed_event, failed_health_check_event,
// instance_changed_event, app_terminated_event ...). Body is the event's
// JSON object (it includes "eventType" and "timestamp").
type Event struct {
	Type string
	Body map[string]any
}

// NewEvent makes an event of type eventType at t: body's fields plus
// "eventType" and "timestamp" (body is not modified).
func NewEvent(eventType string, t time.Time, body map[string]any) Event {
	b := make(map[string]any, len(body)+2)
	for k, v := range body {
		b[k] = v
	}
	b["eventType"] = eventType
	b["timestamp"] = Timestamp(t)
	return Event{Type: eventType, Body: b}
}

// TimestampLayout is Marathon's time format: ISO 8601 in UTC with
// milliseconds.
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// Timestamp formats as Marathon does ("2015-04-02T09:37:00.596Z").
func Timestamp(t time.Time) string { return t.UTC().Format(TimestampLayout) }
