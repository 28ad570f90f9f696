package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/cairn-dc/cairn/kernel/resources"
)

// MaxMessageBytes bounds a wire message Cairn will decode.
const MaxMessageBytes = 8 << 20

func decode(what string, data []byte, v any) error {
	if len(data) == 0 {
		return fmt.Errorf("%s: empty message: send a JSON object", what)
	}
	if len(data) > MaxMessageBytes {
		return fmt.Errorf("%s: message of %d bytes exceeds the %d byte limit", what, len(data), MaxMessageBytes)
	}
	if err := json.Unmarshal(data, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fmt.Errorf("%s: field %s: expected %s, got JSON %s", what, te.Field, te.Type, te.Value)
		}
		return fmt.Errorf("%s: invalid JSON: %w", what, err)
	}
	return nil
}

// DecodeCall decodes and validates a framework call.
func DecodeCall(data []byte) (Call, error) {
	var c Call
	if err := decode("call", data, &c); err != nil {
		return Call{}, err
	}
	return c, c.Validate()
}

// DecodeEvent decodes and validates a framework event.
func DecodeEvent(data []byte) (Event, error) {
	var e Event
	if err := decode("event", data, &e); err != nil {
		return Event{}, err
	}
	return e, e.Validate()
}

// DecodeResponse decodes a call's reply.
func DecodeResponse(data []byte) (Response, error) {
	var r Response
	err := decode("response", data, &r)
	return r, err
}

// DecodeStatusUpdate decodes and validates a status update from the stream.
func DecodeStatusUpdate(data []byte) (StatusUpdate, error) {
	var u StatusUpdate
	if err := decode("status update", data, &u); err != nil {
		return StatusUpdate{}, err
	}
	return u, u.Validate()
}

// DecodeClusterEvent decodes an event of the operator API's event stream
// (GET /v1/events): data is its JSON, name its server-sent event name,
// which gives the type when the JSON has none.
func DecodeClusterEvent(name string, data []byte) (ClusterEvent, error) {
	var ev ClusterEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return ev, fmt.Errorf("decoding a %q event: %w", name, err)
	}
	if ev.Type == "" {
		ev.Type = ClusterEventType(name)
	}
	return ev, nil
}

// DecodeRegisterAgent decodes and validates an agent registration.
func DecodeRegisterAgent(data []byte) (RegisterAgent, error) {
	var r RegisterAgent
	if err := decode("register agent", data, &r); err != nil {
		return RegisterAgent{}, err
	}
	return r, r.Validate()
}

// DecodeAgentCommand decodes and validates a master → agent command.
func DecodeAgentCommand(data []byte) (AgentCommand, error) {
	var c AgentCommand
	if err := decode("agent command", data, &c); err != nil {
		return AgentCommand{}, err
	}
	return c, c.Validate()
}

func fieldErr(field, format string, args ...any) error {
	return fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...))
}

func validateAck(field string, a Acknowledge) error {
	if err := ValidateTaskID(field+".task_id", a.TaskID); err != nil {
		return err
	}
	if a.UUID == "" {
		return fieldErr(field+".uuid", "missing: acknowledge the uuid of the update")
	}
	return nil
}

func needBody(field string, present bool, typ any) error {
	if !present {
		return fieldErr(field, "missing: a %v call needs it", typ)
	}
	return nil
}

// Validate checks the call's structure: a known type with its body, IDs of
// the right shape. The master checks the rest against its state.
func (c *Call) Validate() error {
	if err := ValidateToken("framework_id", string(c.FrameworkID)); err != nil {
		return err
	}
	switch c.Type {
	case CallSubscribe:
		if err := needBody("subscribe", c.Subscribe != nil, c.Type); err != nil {
			return err
		}
		return c.Subscribe.validate(c.FrameworkID)
	case CallAccept:
		if err := needBody("accept", c.Accept != nil, c.Type); err != nil {
			return err
		}
		return c.Accept.validate()
	case CallDecline:
		if err := needBody("decline", c.Decline != nil, c.Type); err != nil {
			return err
		}
		if len(c.Decline.OfferIDs) == 0 {
			return fieldErr("decline.offer_ids", "empty: name the offers to decline")
		}
		return validateFilters("decline.filters", c.Decline.Filters)
	case CallRevive:
		if c.Revive != nil {
			return validateRoles("revive.roles", c.Revive.Roles)
		}
	case CallSuppress:
		if c.Suppress != nil {
			return validateRoles("suppress.roles", c.Suppress.Roles)
		}
	case CallKill:
		if err := needBody("kill", c.Kill != nil, c.Type); err != nil {
			return err
		}
		return ValidateTaskID("kill.task_id", c.Kill.TaskID)
	case CallShutdown:
		if err := needBody("shutdown", c.Shutdown != nil, c.Type); err != nil {
			return err
		}
		return ValidateToken("shutdown.agent_id", string(c.Shutdown.AgentID))
	case CallAcknowledge:
		if err := needBody("acknowledge", c.Acknowledge != nil, c.Type); err != nil {
			return err
		}
		return validateAck("acknowledge", *c.Acknowledge)
	case CallAcknowledgeMany:
		switch n := len(c.Acknowledgements); {
		case n == 0:
			return fieldErr("acknowledgements", "missing: an %v call needs 1 to %d", c.Type, MaxAcknowledgements)
		case n > MaxAcknowledgements:
			return fieldErr("acknowledgements", "%d of them: at most %d per call", n, MaxAcknowledgements)
		}
		for i, a := range c.Acknowledgements {
			if err := validateAck(fmt.Sprintf("acknowledgements[%d]", i), a); err != nil {
				return err
			}
		}
	case CallReconcile:
		if c.Reconcile != nil {
			for i, t := range c.Reconcile.Tasks {
				if err := ValidateTaskID(fmt.Sprintf("reconcile.tasks[%d].task_id", i), t.TaskID); err != nil {
					return err
				}
			}
		}
	case CallMessage:
		if err := needBody("message", c.Message != nil, c.Type); err != nil {
			return err
		}
		return ValidateToken("message.agent_id", string(c.Message.AgentID))
	case CallTeardown, CallHeartbeat:
	case "":
		return fieldErr("type", "missing: one of SUBSCRIBE, ACCEPT, DECLINE, REVIVE, SUPPRESS, KILL, SHUTDOWN, ACKNOWLEDGE, ACKNOWLEDGE_MANY, RECONCILE, MESSAGE, TEARDOWN, HEARTBEAT")
	default:
		return fieldErr("type", "unknown call type %q", c.Type)
	}
	return nil
}

func (s *Subscribe) validate(fid FrameworkID) error {
	fi := s.FrameworkInfo
	if fi.Name == "" {
		return fieldErr("subscribe.framework_info.name", "missing: give the framework a name")
	}
	if fi.ID != "" && fi.ID != fid {
		return fieldErr("subscribe.framework_info.id", "%q differs from the call's framework_id %q", fi.ID, fid)
	}
	if err := validateRoles("subscribe.framework_info.roles", fi.Roles); err != nil {
		return err
	}
	if fi.FailoverTimeout < 0 || math.IsNaN(fi.FailoverTimeout) || math.IsInf(fi.FailoverTimeout, 0) {
		return fieldErr("subscribe.framework_info.failover_timeout", "must be a non-negative number of seconds")
	}
	return validateRoles("subscribe.suppressed_roles", s.SuppressedRoles)
}

func validateRoles(field string, roles []string) error {
	seen := make(map[string]bool, len(roles))
	for i, r := range roles {
		if err := resources.ValidateRole(r); err != nil {
			return fieldErr(fmt.Sprintf("%s[%d]", field, i), "%v", err)
		}
		if seen[r] {
			return fieldErr(fmt.Sprintf("%s[%d]", field, i), "role %q is listed twice", r)
		}
		seen[r] = true
	}
	return nil
}

func validateFilters(field string, f *Filters) error {
	if f == nil || f.RefuseSeconds == nil {
		return nil
	}
	v := *f.RefuseSeconds
	if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) || v > 365*24*3600 {
		return fieldErr(field+".refuse_seconds", "must be between 0 and 31536000 seconds, got %v", v)
	}
	return nil
}

func (a *Accept) validate() error {
	if len(a.OfferIDs) == 0 {
		return fieldErr("accept.offer_ids", "empty: name the offers to accept")
	}
	for i, id := range a.OfferIDs {
		if id == "" {
			return fieldErr(fmt.Sprintf("accept.offer_ids[%d]", i), "empty offer id")
		}
	}
	for i, op := range a.Operations {
		if err := op.validate(fmt.Sprintf("accept.operations[%d]", i)); err != nil {
			return err
		}
	}
	return validateFilters("accept.filters", a.Filters)
}

func (op *Operation) validate(field string) error {
	switch op.Type {
	case OpLaunch:
		if op.Launch == nil {
			return fieldErr(field+".launch", "missing: a LAUNCH operation needs launch.task_infos")
		}
		if len(op.Launch.TaskInfos) == 0 {
			return fieldErr(field+".launch.task_infos", "empty: nothing to launch")
		}
		for i := range op.Launch.TaskInfos {
			if err := op.Launch.TaskInfos[i].Validate(fmt.Sprintf("%s.launch.task_infos[%d]", field, i)); err != nil {
				return err
			}
		}
	case OpReserve:
		if op.Reserve == nil || op.Reserve.Resources.IsEmpty() {
			return fieldErr(field+".reserve.resources", "missing: name the resources to reserve")
		}
	case OpUnreserve:
		if op.Unreserve == nil || op.Unreserve.Resources.IsEmpty() {
			return fieldErr(field+".unreserve.resources", "missing: name the resources to unreserve")
		}
	case OpCreate:
		if op.Create == nil || op.Create.Volumes.IsEmpty() {
			return fieldErr(field+".create.volumes", "missing: name the volumes to create")
		}
	case OpDestroy:
		if op.Destroy == nil || op.Destroy.Volumes.IsEmpty() {
			return fieldErr(field+".destroy.volumes", "missing: name the volumes to destroy")
		}
	case "":
		return fieldErr(field+".type", "missing: one of LAUNCH, RESERVE, UNRESERVE, CREATE, DESTROY")
	default:
		return fieldErr(field+".type", "unknown operation type %q", op.Type)
	}
	return nil
}

// Validate checks a task description; field prefixes error messages.
func (t *TaskInfo) Validate(field string) error {
	if err := ValidateTaskID(field+".task_id", t.TaskID); err != nil {
		return err
	}
	if t.AgentID != "" {
		if err := ValidateToken(field+".agent_id", string(t.AgentID)); err != nil {
			return err
		}
	}
	if t.Resources.IsEmpty() {
		return fieldErr(field+".resources", "empty: a task needs resources, e.g. cpus:0.1;mem:32")
	}
	if t.Command == nil && t.Container == nil {
		return fieldErr(field+".command", "missing: give a command (or a container)")
	}
	if t.Command != nil && t.Command.Value == "" && len(t.Command.Arguments) == 0 && t.Container == nil {
		return fieldErr(field+".command.value", "empty: give the command to run")
	}
	if t.KillPolicy != nil && t.KillPolicy.GracePeriod != nil && t.KillPolicy.GracePeriod.Nanoseconds < 0 {
		return fieldErr(field+".kill_policy.grace_period", "must not be negative")
	}
	if hc := t.HealthCheck; hc != nil {
		f := field + ".health_check"
		switch hc.Type {
		case HealthCommand:
			if hc.Command == nil || (hc.Command.Value == "" && len(hc.Command.Arguments) == 0) {
				return fieldErr(f+".command", "missing: a COMMAND check needs a command")
			}
		case HealthHTTP:
			if hc.HTTP == nil || hc.HTTP.Port == 0 || hc.HTTP.Port > 65535 {
				return fieldErr(f+".http.port", "missing or out of range: an HTTP check needs a port")
			}
		case HealthTCP:
			if hc.TCP == nil || hc.TCP.Port == 0 || hc.TCP.Port > 65535 {
				return fieldErr(f+".tcp.port", "missing or out of range: a TCP check needs a port")
			}
		default:
			return fieldErr(f+".type", "unknown health check type %q: use COMMAND, HTTP or TCP", hc.Type)
		}
		for name, v := range map[string]float64{"delay_seconds": hc.DelaySeconds, "interval_seconds": hc.IntervalSeconds,
			"timeout_seconds": hc.TimeoutSeconds, "grace_period_seconds": hc.GracePeriodSeconds} {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				return fieldErr(f+"."+name, "must be a non-negative number of seconds")
			}
		}
		if hc.ConsecutiveFailures < 0 {
			return fieldErr(f+".consecutive_failures", "must not be negative")
		}
	}
	return nil
}

// Validate checks an event's structure.
func (e *Event) Validate() error {
	switch e.Type {
	case EventSubscribed:
		return needBody("subscribed", e.Subscribed != nil, e.Type)
	case EventOffers:
		return needBody("offers", e.Offers != nil, e.Type)
	case EventRescind:
		return needBody("rescind", e.Rescind != nil, e.Type)
	case EventUpdate:
		if err := needBody("update", e.Update != nil, e.Type); err != nil {
			return err
		}
		return e.Update.Status.validate("update.status")
	case EventMessage:
		return needBody("message", e.Message != nil, e.Type)
	case EventFailure:
		return needBody("failure", e.Failure != nil, e.Type)
	case EventError:
		return needBody("error", e.Error != nil, e.Type)
	case EventHeartbeat:
		return nil
	case "":
		return fieldErr("type", "missing")
	default:
		return fieldErr("type", "unknown event type %q", e.Type)
	}
}

func (s *TaskStatus) validate(field string) error {
	if err := ValidateTaskID(field+".task_id", s.TaskID); err != nil {
		return err
	}
	if !s.State.Valid() {
		return fieldErr(field+".state", "unknown task state %q", s.State)
	}
	if len(s.Labels) > MaxStatusLabels {
		return fieldErr(field+".labels", "%d labels, more than the %d allowed", len(s.Labels), MaxStatusLabels)
	}
	for k, v := range s.Labels {
		if k == "" {
			return fieldErr(field+".labels", "a label has an empty key")
		}
		if len(k)+len(v) > MaxStatusLabelBytes {
			return fieldErr(field+".labels."+k, "longer than %d bytes", MaxStatusLabelBytes)
		}
	}
	return nil
}

// Validate checks a status update.
func (u *StatusUpdate) Validate() error {
	if err := ValidateToken("framework_id", string(u.FrameworkID)); err != nil {
		return err
	}
	if err := ValidateToken("agent_id", string(u.AgentID)); err != nil {
		return err
	}
	if err := u.Status.validate("status"); err != nil {
		return err
	}
	if u.Status.UUID == "" {
		return fieldErr("status.uuid", "missing: agents must give every update a uuid")
	}
	return nil
}

// Validate checks an agent registration.
func (r *RegisterAgent) Validate() error {
	if err := ValidateToken("agent.id", string(r.Agent.ID)); err != nil {
		return err
	}
	if r.Agent.Hostname == "" {
		return fieldErr("agent.hostname", "missing")
	}
	if r.Agent.Resources.IsEmpty() {
		return fieldErr("agent.resources", "empty: an agent must offer some resources")
	}
	for i, t := range r.Tasks {
		f := fmt.Sprintf("tasks[%d]", i)
		if err := ValidateToken(f+".framework_id", string(t.FrameworkID)); err != nil {
			return err
		}
		if err := ValidateTaskID(f+".task_id", t.TaskID); err != nil {
			return err
		}
		if !t.State.Valid() {
			return fieldErr(f+".state", "unknown task state %q", t.State)
		}
	}
	return nil
}

// Validate checks an agent command.
func (c *AgentCommand) Validate() error {
	switch c.Type {
	case AgentLaunch:
		if c.Launch == nil || len(c.Launch.Tasks) == 0 {
			return fieldErr("launch.tasks", "missing: nothing to launch")
		}
		if err := ValidateToken("launch.framework.id", string(c.Launch.Framework.ID)); err != nil {
			return err
		}
		for i := range c.Launch.Tasks {
			if err := c.Launch.Tasks[i].Validate(fmt.Sprintf("launch.tasks[%d]", i)); err != nil {
				return err
			}
		}
	case AgentKill:
		if c.Kill == nil {
			return fieldErr("kill", "missing")
		}
		if err := ValidateToken("kill.framework_id", string(c.Kill.FrameworkID)); err != nil {
			return err
		}
		return ValidateTaskID("kill.task_id", c.Kill.TaskID)
	case AgentAcknowledge:
		if len(c.Acknowledge) == 0 {
			return fieldErr("acknowledge", "missing: nothing to acknowledge")
		}
		for i, a := range c.Acknowledge {
			f := fmt.Sprintf("acknowledge[%d]", i)
			if a.UUID == "" {
				return fieldErr(f+".uuid", "missing")
			}
			if err := ValidateToken(f+".framework_id", string(a.FrameworkID)); err != nil {
				return err
			}
			if err := ValidateTaskID(f+".task_id", a.TaskID); err != nil {
				return err
			}
		}
	case AgentShutdownFramework:
		if c.ShutdownFramework == nil {
			return fieldErr("shutdown_framework", "missing")
		}
		return ValidateToken("shutdown_framework.framework_id", string(c.ShutdownFramework.FrameworkID))
	case AgentFrameworkMessage:
		if c.Message == nil {
			return fieldErr("message", "missing")
		}
	default:
		return fieldErr("type", "unknown agent command %q", c.Type)
	}
	return nil
}
