// Package records turns a view of a Cairn cluster (leader, masters, agents,
// frameworks, tasks) into the DNS records of the cluster's zone, mesos-dns
// style, and serves them from an immutable index that readers load with one
// atomic pointer read. See README.md for the naming rules.
//
// Names in this package are relative to the zone and have no trailing dot:
// the task "web" of the framework "services" is "web.services"; the DNS
// plugin appends its domain ("cairn.").
package records

import (
	"fmt"
	"net"
	"slices"
)

// StateRunning is the only task state whose tasks are published.
const StateRunning = "TASK_RUNNING"

// Cluster is a full snapshot of the cluster, as Store.Replace takes it.
type Cluster struct {
	// Leader is the leading master: "host:port", "host", or Mesos'
	// "name@host:port". Only an IP address yields records.
	Leader string
	// Masters are all the known masters, in the same forms as Leader.
	Masters    []string
	Agents     []Agent
	Frameworks []Framework
	Tasks      []Task
}

// Agent is an agent of the cluster.
type Agent struct {
	ID       string
	Hostname string
	// Address is where the agent's tasks are reached. Only an IP address
	// (optionally with a port) yields records: resolve names beforehand.
	Address string
}

// Framework is a registered framework.
type Framework struct {
	ID   string
	Name string
}

// Task is a task of the cluster. Only tasks in StateRunning whose Healthy
// is nil or true are published.
type Task struct {
	ID   string
	Name string
	// FrameworkID names the framework; its Framework's Name is used when
	// the store knows it, else FrameworkName.
	FrameworkID   string
	FrameworkName string
	// AgentID names the agent; its Agent's Address is used when the store
	// knows it, else Address (a copy of the agent's address) or Hostname
	// when it is an IP address.
	AgentID  string
	Hostname string
	Address  string
	// IPs are the task's own addresses (container network); when there is
	// none, the task is reached at its agent's address.
	IPs []string
	// Ports are the task's host ports (reached at the agent's address).
	Ports   []Port
	State   string
	Healthy *bool
}

// Port is one port of a task.
type Port struct {
	Number uint16
	// Name, when set, adds the SRV name _<name>._<task>._<proto>.<framework>.
	Name string
	// Protocol is "tcp", "udp", a comma list such as "udp,tcp", or empty
	// for both tcp and udp (as mesos-dns does for ports it knows nothing
	// about).
	Protocol string
}

// Entry holds the records of one name. Entries are shared by every reader
// of a snapshot: never modify one. A name that exists only because names
// below it do (an empty non-terminal such as "services") has an empty
// Entry.
type Entry struct {
	A    []net.IP // IPv4 addresses, 4 bytes each
	AAAA []net.IP // IPv6 addresses, 16 bytes each
	SRV  []SRV
}

// Empty reports whether the entry holds no record (an empty non-terminal).
func (e *Entry) Empty() bool { return len(e.A) == 0 && len(e.AAAA) == 0 && len(e.SRV) == 0 }

// SRV is a service record: Target is a name relative to the zone (which
// has its own Entry with the target's addresses), Port the port to use.
// Priority and weight are always 0.
type SRV struct {
	Target string
	Port   uint16
}

func (s SRV) String() string { return fmt.Sprintf("%s:%d", s.Target, s.Port) }

// clone deep-copies t so that the store never shares memory with callers.
func (t Task) clone() Task {
	t.IPs = slices.Clone(t.IPs)
	t.Ports = slices.Clone(t.Ports)
	if t.Healthy != nil {
		h := *t.Healthy
		t.Healthy = &h
	}
	return t
}

// published reports whether t is to be in the DNS.
func (t *Task) published() bool {
	return t.State == StateRunning && (t.Healthy == nil || *t.Healthy)
}
