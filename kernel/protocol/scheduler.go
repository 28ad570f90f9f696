package protocol

import "github.com/cairn-dc/cairn/kernel/resources"

// FrameworkInfo describes a framework (SUBSCRIBE).
type FrameworkInfo struct {
	ID        FrameworkID `json:"id,omitempty"`
	Name      string      `json:"name"`
	User      string      `json:"user,omitempty"`
	Roles     []string    `json:"roles,omitempty"`
	Principal string      `json:"principal,omitempty"`
	// FailoverTimeout is how long (seconds) the master keeps a disconnected
	// framework's tasks before it kills them. Zero means the master default
	// (DefaultFailoverTimeout), never "kill at once" as in Mesos.
	FailoverTimeout float64           `json:"failover_timeout,omitempty"`
	Hostname        string            `json:"hostname,omitempty"`
	WebuiURL        string            `json:"webui_url,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
}

// RolesOrDefault is Roles, or ["*"] when none are given.
func (f FrameworkInfo) RolesOrDefault() []string {
	if len(f.Roles) == 0 {
		return []string{resources.DefaultRole}
	}
	return f.Roles
}

// CallType is the type of a framework → master call.
type CallType string

const (
	CallSubscribe   CallType = "SUBSCRIBE"
	CallTeardown    CallType = "TEARDOWN"
	CallAccept      CallType = "ACCEPT"
	CallDecline     CallType = "DECLINE"
	CallRevive      CallType = "REVIVE"
	CallSuppress    CallType = "SUPPRESS"
	CallKill        CallType = "KILL"
	CallShutdown    CallType = "SHUTDOWN"
	CallAcknowledge CallType = "ACKNOWLEDGE"
	// CallAcknowledgeMany is Cairn's addition: the acknowledgements of
	// several updates in one call (Acknowledgements), which a framework
	// that gets updates in bursts sends instead of one call each.
	CallAcknowledgeMany CallType = "ACKNOWLEDGE_MANY"
	CallReconcile       CallType = "RECONCILE"
	CallMessage         CallType = "MESSAGE"
	// CallHeartbeat is Cairn's addition: NATS has no connection a master can
	// watch, so a framework proves it is alive with a heartbeat call every
	// Subscribed.HeartbeatIntervalSeconds (the client library does it). Any
	// other call counts as a heartbeat too.
	CallHeartbeat CallType = "HEARTBEAT"
)

// Call is a framework → master call, sent as a NATS request on
// FrameworkCall(framework_id); the reply is a Response.
type Call struct {
	FrameworkID FrameworkID  `json:"framework_id"`
	Type        CallType     `json:"type"`
	Subscribe   *Subscribe   `json:"subscribe,omitempty"`
	Accept      *Accept      `json:"accept,omitempty"`
	Decline     *Decline     `json:"decline,omitempty"`
	Revive      *Revive      `json:"revive,omitempty"`
	Suppress    *Suppress    `json:"suppress,omitempty"`
	Kill        *Kill        `json:"kill,omitempty"`
	Shutdown    *Shutdown    `json:"shutdown,omitempty"`
	Acknowledge *Acknowledge `json:"acknowledge,omitempty"`
	// Acknowledgements is the body of ACKNOWLEDGE_MANY (1 to
	// MaxAcknowledgements).
	Acknowledgements []Acknowledge `json:"acknowledgements,omitempty"`
	Reconcile        *Reconcile    `json:"reconcile,omitempty"`
	Message          *Message      `json:"message,omitempty"`
}

// MaxAcknowledgements bounds an ACKNOWLEDGE_MANY call.
const MaxAcknowledgements = 1024

// Subscribe registers a framework, or fails it over when FrameworkInfo.ID is
// a framework the master knows.
type Subscribe struct {
	FrameworkInfo   FrameworkInfo `json:"framework_info"`
	SuppressedRoles []string      `json:"suppressed_roles,omitempty"`
}

// Accept uses offers: its operations consume the offers' resources; the rest
// is declined with Filters.
type Accept struct {
	OfferIDs   []OfferID   `json:"offer_ids"`
	Operations []Operation `json:"operations"`
	Filters    *Filters    `json:"filters,omitempty"`
}

// Decline gives offers back; with Filters.RefuseSeconds they are not offered
// to this framework again for that long.
type Decline struct {
	OfferIDs []OfferID `json:"offer_ids"`
	Filters  *Filters  `json:"filters,omitempty"`
}

// Filters are decline filters.
type Filters struct {
	// RefuseSeconds; nil means the default (5 s, as Mesos).
	RefuseSeconds *float64 `json:"refuse_seconds,omitempty"`
}

// DefaultRefuseSeconds is Mesos' default decline filter.
const DefaultRefuseSeconds = 5.0

// Refuse returns the filter duration in seconds, with the default applied.
func (f *Filters) Refuse() float64 {
	if f == nil || f.RefuseSeconds == nil {
		return DefaultRefuseSeconds
	}
	return *f.RefuseSeconds
}

// Revive asks for offers again (for Roles, or all roles) and clears filters.
type Revive struct {
	Roles []string `json:"roles,omitempty"`
}

// Suppress stops offers (for Roles, or all roles).
type Suppress struct {
	Roles []string `json:"roles,omitempty"`
}

// Kill kills a task.
type Kill struct {
	TaskID     TaskID      `json:"task_id"`
	AgentID    AgentID     `json:"agent_id,omitempty"`
	KillPolicy *KillPolicy `json:"kill_policy,omitempty"`
}

// Shutdown kills all of the framework's tasks on an agent (Cairn runs tasks
// without executors, so it is per agent; ExecutorID is accepted and ignored).
type Shutdown struct {
	ExecutorID ExecutorID `json:"executor_id,omitempty"`
	AgentID    AgentID    `json:"agent_id"`
}

// Acknowledge acknowledges a status update by its UUID.
type Acknowledge struct {
	AgentID AgentID `json:"agent_id"`
	TaskID  TaskID  `json:"task_id"`
	UUID    string  `json:"uuid"`
}

// Reconcile asks for the latest state of Tasks, or of all the framework's
// tasks when Tasks is empty (implicit reconciliation). Answers arrive as
// UPDATE events with reason REASON_RECONCILIATION and no UUID.
type Reconcile struct {
	Tasks []ReconcileTask `json:"tasks,omitempty"`
}

// ReconcileTask names one task to reconcile.
type ReconcileTask struct {
	TaskID  TaskID  `json:"task_id"`
	AgentID AgentID `json:"agent_id,omitempty"`
}

// Message sends opaque data to the framework's tasks on an agent.
type Message struct {
	AgentID    AgentID    `json:"agent_id"`
	ExecutorID ExecutorID `json:"executor_id,omitempty"`
	Data       []byte     `json:"data"`
}

// OperationType is the kind of an offer operation.
type OperationType string

const (
	OpLaunch    OperationType = "LAUNCH"
	OpReserve   OperationType = "RESERVE"
	OpUnreserve OperationType = "UNRESERVE"
	OpCreate    OperationType = "CREATE"
	OpDestroy   OperationType = "DESTROY"
)

// Operation is one operation of an ACCEPT.
type Operation struct {
	Type      OperationType `json:"type"`
	Launch    *Launch       `json:"launch,omitempty"`
	Reserve   *Reserve      `json:"reserve,omitempty"`
	Unreserve *Unreserve    `json:"unreserve,omitempty"`
	Create    *Create       `json:"create,omitempty"`
	Destroy   *Destroy      `json:"destroy,omitempty"`
}

// Launch launches tasks.
type Launch struct {
	TaskInfos []TaskInfo `json:"task_infos"`
}

// Reserve dynamically reserves offered resources for the framework's role.
type Reserve struct {
	Resources resources.Resources `json:"resources"`
}

// Unreserve undoes a dynamic reservation.
type Unreserve struct {
	Resources resources.Resources `json:"resources"`
}

// Create turns reserved disk into persistent volumes.
type Create struct {
	Volumes resources.Resources `json:"volumes"`
}

// Destroy destroys persistent volumes.
type Destroy struct {
	Volumes resources.Resources `json:"volumes"`
}

// Response is the master's reply to a Call.
type Response struct {
	// Subscribed answers SUBSCRIBE.
	Subscribed *Subscribed `json:"subscribed,omitempty"`
	// Rejected lists tasks of an ACCEPT that were not launched, with why
	// (they also get TASK_ERROR / TASK_DROPPED updates), or the
	// acknowledgements of an ACKNOWLEDGE_MANY that were refused (the
	// master sends those updates again).
	Rejected []Rejection `json:"rejected,omitempty"`
	// Error is set when the call as a whole was refused.
	Error *Error `json:"error,omitempty"`
}

// Rejection is a task of an ACCEPT that was not launched.
type Rejection struct {
	TaskID  TaskID `json:"task_id"`
	Message string `json:"message"`
}

// ErrorCode classifies a refused call.
type ErrorCode string

const (
	ErrBadRequest    ErrorCode = "BAD_REQUEST"    // malformed or invalid call; fix the call
	ErrForbidden     ErrorCode = "FORBIDDEN"      // e.g. a call for another framework's ID
	ErrNotFound      ErrorCode = "NOT_FOUND"      // unknown offer, task, agent
	ErrNotSubscribed ErrorCode = "NOT_SUBSCRIBED" // SUBSCRIBE first
	ErrUnavailable   ErrorCode = "UNAVAILABLE"    // master not leading/ready; retry
)

// Error is a refused call.
type Error struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// EventType is the type of a master → framework event.
type EventType string

const (
	EventSubscribed EventType = "SUBSCRIBED"
	EventOffers     EventType = "OFFERS"
	EventRescind    EventType = "RESCIND"
	EventUpdate     EventType = "UPDATE"
	EventMessage    EventType = "MESSAGE"
	EventFailure    EventType = "FAILURE"
	EventError      EventType = "ERROR"
	EventHeartbeat  EventType = "HEARTBEAT"
)

// Event is a master → framework event, published on FrameworkEvents(fid).
type Event struct {
	Type       EventType    `json:"type"`
	Subscribed *Subscribed  `json:"subscribed,omitempty"`
	Offers     *Offers      `json:"offers,omitempty"`
	Rescind    *Rescind     `json:"rescind,omitempty"`
	Update     *Update      `json:"update,omitempty"`
	Message    *TaskMessage `json:"message,omitempty"`
	Failure    *Failure     `json:"failure,omitempty"`
	Error      *FatalError  `json:"error,omitempty"`
}

// Subscribed confirms a subscription.
type Subscribed struct {
	FrameworkID              FrameworkID `json:"framework_id"`
	HeartbeatIntervalSeconds float64     `json:"heartbeat_interval_seconds"`
	MasterInfo               MasterInfo  `json:"master_info"`
}

// MasterInfo identifies the leading master.
type MasterInfo struct {
	ID       string `json:"id"`
	Hostname string `json:"hostname,omitempty"`
	Version  string `json:"version,omitempty"`
	URL      string `json:"url,omitempty"`
	// NATSURL is where frameworks connect, when the master knows it.
	NATSURL string `json:"nats_url,omitempty"`
}

// Offers carries new offers.
type Offers struct {
	Offers []Offer `json:"offers"`
}

// Offer is a slice of one agent's resources offered to one framework.
type Offer struct {
	ID             OfferID              `json:"id"`
	FrameworkID    FrameworkID          `json:"framework_id"`
	AgentID        AgentID              `json:"agent_id"`
	Hostname       string               `json:"hostname"`
	Resources      resources.Resources  `json:"resources"`
	Attributes     resources.Attributes `json:"attributes,omitempty"`
	AllocationInfo AllocationInfo       `json:"allocation_info"`
	// Address where tasks on the agent are reached (see AgentInfo.Address).
	Address string `json:"address,omitempty"`
	// URL of the agent's HTTP API (sandboxes, logs), when it has one.
	URL string `json:"url,omitempty"`
}

// AllocationInfo says which role an offer was allocated to.
type AllocationInfo struct {
	Role string `json:"role"`
}

// Rescind withdraws an offer (it timed out, or its agent went away).
type Rescind struct {
	OfferID OfferID `json:"offer_id"`
}

// Update carries a task status update; acknowledge it if it has a UUID.
type Update struct {
	Status TaskStatus `json:"status"`
}

// TaskMessage carries data from one of the framework's tasks.
type TaskMessage struct {
	AgentID    AgentID    `json:"agent_id"`
	ExecutorID ExecutorID `json:"executor_id,omitempty"`
	Data       []byte     `json:"data"`
}

// Failure reports a lost agent.
type Failure struct {
	AgentID AgentID `json:"agent_id,omitempty"`
}

// FatalError is a fatal error: the framework was removed or refused.
type FatalError struct {
	Message string `json:"message"`
}
