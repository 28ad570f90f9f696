package sdk

import (
	"maps"

	"github.com/cairn-dc/cairn/modules/sdk/modulepb"
)

// Conversions between the Go types and modulepb's messages. Maps are copied
// so that neither side shares memory with a message.

func kindToPB(k Kind) modulepb.Kind {
	switch k {
	case KindWatcher:
		return modulepb.Kind_KIND_WATCHER
	case KindHook:
		return modulepb.Kind_KIND_HOOK
	}
	return modulepb.Kind_KIND_UNSPECIFIED
}

func kindFromPB(k modulepb.Kind) Kind {
	switch k {
	case modulepb.Kind_KIND_WATCHER:
		return KindWatcher
	case modulepb.Kind_KIND_HOOK:
		return KindHook
	}
	return Kind("unknown(" + k.String() + ")")
}

func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// SnapshotToPB converts a snapshot to its wire form (for the host side).
func SnapshotToPB(s Snapshot) *modulepb.Snapshot {
	out := &modulepb.Snapshot{Leader: s.Leader,
		Agents:     make([]*modulepb.Agent, len(s.Agents)),
		Frameworks: make([]*modulepb.Framework, len(s.Frameworks)),
		Tasks:      make([]*modulepb.Task, len(s.Tasks)),
	}
	for i := range s.Agents {
		out.Agents[i] = agentToPB(&s.Agents[i])
	}
	for i := range s.Frameworks {
		out.Frameworks[i] = frameworkToPB(&s.Frameworks[i])
	}
	for i := range s.Tasks {
		out.Tasks[i] = taskToPB(&s.Tasks[i])
	}
	return out
}

// SnapshotFromPB converts a snapshot from its wire form.
func SnapshotFromPB(s *modulepb.Snapshot) Snapshot {
	out := Snapshot{Leader: s.GetLeader()}
	if n := len(s.GetAgents()); n > 0 {
		out.Agents = make([]Agent, n)
		for i, a := range s.GetAgents() {
			out.Agents[i] = agentFromPB(a)
		}
	}
	if n := len(s.GetFrameworks()); n > 0 {
		out.Frameworks = make([]Framework, n)
		for i, f := range s.GetFrameworks() {
			out.Frameworks[i] = frameworkFromPB(f)
		}
	}
	if n := len(s.GetTasks()); n > 0 {
		out.Tasks = make([]Task, n)
		for i, t := range s.GetTasks() {
			out.Tasks[i] = taskFromPB(t)
		}
	}
	return out
}

func agentToPB(a *Agent) *modulepb.Agent {
	return &modulepb.Agent{Id: a.ID, Hostname: a.Hostname, Address: a.Address, Attributes: copyMap(a.Attributes), Active: a.Active}
}

func agentFromPB(a *modulepb.Agent) Agent {
	return Agent{ID: a.GetId(), Hostname: a.GetHostname(), Address: a.GetAddress(), Attributes: copyMap(a.GetAttributes()), Active: a.GetActive()}
}

func frameworkToPB(f *Framework) *modulepb.Framework {
	return &modulepb.Framework{Id: f.ID, Name: f.Name, Active: f.Active, WebuiUrl: f.WebuiURL}
}

func frameworkFromPB(f *modulepb.Framework) Framework {
	return Framework{ID: f.GetId(), Name: f.GetName(), Active: f.GetActive(), WebuiURL: f.GetWebuiUrl()}
}

func portsToPB(ps []Port) []*modulepb.Port {
	if len(ps) == 0 {
		return nil
	}
	out := make([]*modulepb.Port, len(ps))
	for i, p := range ps {
		out[i] = &modulepb.Port{Number: p.Number, Name: p.Name, Protocol: p.Protocol}
	}
	return out
}

func portsFromPB(ps []*modulepb.Port) []Port {
	if len(ps) == 0 {
		return nil
	}
	out := make([]Port, len(ps))
	for i, p := range ps {
		out[i] = Port{Number: p.GetNumber(), Name: p.GetName(), Protocol: p.GetProtocol()}
	}
	return out
}

func healthToPB(h Health) modulepb.Health {
	switch h {
	case HealthHealthy:
		return modulepb.Health_HEALTH_HEALTHY
	case HealthUnhealthy:
		return modulepb.Health_HEALTH_UNHEALTHY
	}
	return modulepb.Health_HEALTH_UNKNOWN
}

func healthFromPB(h modulepb.Health) Health {
	switch h {
	case modulepb.Health_HEALTH_HEALTHY:
		return HealthHealthy
	case modulepb.Health_HEALTH_UNHEALTHY:
		return HealthUnhealthy
	}
	return HealthUnknown
}

func taskToPB(t *Task) *modulepb.Task {
	var ips []string
	if len(t.IPs) > 0 {
		ips = append(ips, t.IPs...)
	}
	return &modulepb.Task{Id: t.ID, Name: t.Name, FrameworkId: t.FrameworkID, FrameworkName: t.FrameworkName,
		AgentId: t.AgentID, Hostname: t.Hostname, Address: t.Address, Ips: ips, Ports: portsToPB(t.Ports),
		State: t.State, Health: healthToPB(t.Health), Labels: copyMap(t.Labels)}
}

func taskFromPB(t *modulepb.Task) Task {
	var ips []string
	if len(t.GetIps()) > 0 {
		ips = append(ips, t.GetIps()...)
	}
	return Task{ID: t.GetId(), Name: t.GetName(), FrameworkID: t.GetFrameworkId(), FrameworkName: t.GetFrameworkName(),
		AgentID: t.GetAgentId(), Hostname: t.GetHostname(), Address: t.GetAddress(), IPs: ips, Ports: portsFromPB(t.GetPorts()),
		State: t.GetState(), Health: healthFromPB(t.GetHealth()), Labels: copyMap(t.GetLabels())}
}

func eventTypeToPB(t EventType) modulepb.EventType {
	switch t {
	case AgentAdded:
		return modulepb.EventType_EVENT_TYPE_AGENT_ADDED
	case AgentUpdated:
		return modulepb.EventType_EVENT_TYPE_AGENT_UPDATED
	case AgentRemoved:
		return modulepb.EventType_EVENT_TYPE_AGENT_REMOVED
	case FrameworkAdded:
		return modulepb.EventType_EVENT_TYPE_FRAMEWORK_ADDED
	case FrameworkUpdated:
		return modulepb.EventType_EVENT_TYPE_FRAMEWORK_UPDATED
	case FrameworkRemoved:
		return modulepb.EventType_EVENT_TYPE_FRAMEWORK_REMOVED
	case TaskUpdated:
		return modulepb.EventType_EVENT_TYPE_TASK_UPDATED
	case LeaderChanged:
		return modulepb.EventType_EVENT_TYPE_LEADER_CHANGED
	}
	return modulepb.EventType_EVENT_TYPE_UNSPECIFIED
}

func eventTypeFromPB(t modulepb.EventType) EventType {
	switch t {
	case modulepb.EventType_EVENT_TYPE_AGENT_ADDED:
		return AgentAdded
	case modulepb.EventType_EVENT_TYPE_AGENT_UPDATED:
		return AgentUpdated
	case modulepb.EventType_EVENT_TYPE_AGENT_REMOVED:
		return AgentRemoved
	case modulepb.EventType_EVENT_TYPE_FRAMEWORK_ADDED:
		return FrameworkAdded
	case modulepb.EventType_EVENT_TYPE_FRAMEWORK_UPDATED:
		return FrameworkUpdated
	case modulepb.EventType_EVENT_TYPE_FRAMEWORK_REMOVED:
		return FrameworkRemoved
	case modulepb.EventType_EVENT_TYPE_TASK_UPDATED:
		return TaskUpdated
	case modulepb.EventType_EVENT_TYPE_LEADER_CHANGED:
		return LeaderChanged
	}
	return EventType("UNKNOWN(" + t.String() + ")")
}

// EventToPB converts an event to its wire form (for the host side).
func EventToPB(e Event) *modulepb.Event {
	out := &modulepb.Event{Type: eventTypeToPB(e.Type), Leader: e.Leader}
	if e.Agent != nil {
		out.Agent = agentToPB(e.Agent)
	}
	if e.Framework != nil {
		out.Framework = frameworkToPB(e.Framework)
	}
	if e.Task != nil {
		out.Task = taskToPB(e.Task)
	}
	return out
}

// EventFromPB converts an event from its wire form. An event type this SDK
// does not know becomes "UNKNOWN(<number>)".
func EventFromPB(e *modulepb.Event) Event {
	out := Event{Type: eventTypeFromPB(e.GetType()), Leader: e.GetLeader()}
	if e.GetAgent() != nil {
		a := agentFromPB(e.GetAgent())
		out.Agent = &a
	}
	if e.GetFramework() != nil {
		f := frameworkFromPB(e.GetFramework())
		out.Framework = &f
	}
	if e.GetTask() != nil {
		t := taskFromPB(e.GetTask())
		out.Task = &t
	}
	return out
}

func launchInfoToPB(t TaskLaunchInfo) *modulepb.TaskLaunchInfo {
	return &modulepb.TaskLaunchInfo{TaskId: t.TaskID, Name: t.Name, FrameworkId: t.FrameworkID, FrameworkName: t.FrameworkName,
		AgentId: t.AgentID, Hostname: t.Hostname, Address: t.Address, Ports: portsToPB(t.Ports),
		Env: copyMap(t.Env), Labels: copyMap(t.Labels), Command: t.Command, Image: t.Image}
}

func launchInfoFromPB(t *modulepb.TaskLaunchInfo) TaskLaunchInfo {
	return TaskLaunchInfo{TaskID: t.GetTaskId(), Name: t.GetName(), FrameworkID: t.GetFrameworkId(), FrameworkName: t.GetFrameworkName(),
		AgentID: t.GetAgentId(), Hostname: t.GetHostname(), Address: t.GetAddress(), Ports: portsFromPB(t.GetPorts()),
		Env: copyMap(t.GetEnv()), Labels: copyMap(t.GetLabels()), Command: t.GetCommand(), Image: t.GetImage()}
}
