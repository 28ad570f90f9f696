package records

import (
	"net/netip"
	"strconv"
	"strings"
)

// Well-known names (relative to the zone).
const (
	NameLeader = "leader" // A: the leading master
	NameMaster = "master" // A: every master; masterN: the Nth of Masters
	NameAgents = "agents" // A: every agent; <host>.agents, <id>.agents: one agent
)

// masterRecords: leader, _leader._tcp/_udp (when the leader has a port),
// master (leader and every master), masterN.
func (st *state) masterRecords() []rec {
	var out []rec
	if ip, ok := parseIP(st.leader); ok {
		out = append(out, rec{name: NameLeader, addr: ip}, rec{name: NameMaster, addr: ip})
		if _, port := parseHostPort(st.leader); port != "" {
			if p, err := strconv.ParseUint(port, 10, 16); err == nil && p > 0 {
				out = append(out,
					rec{name: "_leader._tcp", target: NameLeader, port: uint16(p)},
					rec{name: "_leader._udp", target: NameLeader, port: uint16(p)})
			}
		}
	}
	for i, m := range st.masters {
		if ip, ok := parseIP(m); ok {
			out = append(out, rec{name: NameMaster, addr: ip},
				rec{name: NameMaster + strconv.Itoa(i), addr: ip})
		}
	}
	return out
}

// agentAddr is the first IP address among the agent's address and
// hostname.
func agentAddr(a Agent) (netip.Addr, bool) {
	if ip, ok := parseIP(a.Address); ok {
		return ip, true
	}
	return parseIP(a.Hostname)
}

// agentRecords: agents, <hostname>.agents, <id>.agents.
func (st *state) agentRecords(id string) []rec {
	a, ok := st.agents[id]
	if !ok {
		return nil
	}
	ip, ok := agentAddr(a)
	if !ok {
		return nil
	}
	out := []rec{{name: NameAgents, addr: ip}}
	if l := Label(a.Hostname); l != "" {
		out = append(out, rec{name: l + "." + NameAgents, addr: ip})
	}
	if l := Label(a.ID); l != "" {
		out = append(out, rec{name: l + "." + NameAgents, addr: ip})
	}
	return out
}

// taskRecords are the records of a published task:
//
//	<task>.<fw>                          A  task IPs, else agent address
//	<task>-<hash>-<agent>.<fw>           A  agent address, else task IPs
//	_<task>._<proto>.<fw>                SRV <task>-<hash>-<agent>.<fw>:<port>
//	_<portname>._<task>._<proto>.<fw>    SRV same, for named ports
func (st *state) taskRecords(id string) []rec {
	t, ok := st.tasks[id]
	if !ok || !t.published() {
		return nil
	}
	task := Label(t.Name)
	fwName := t.FrameworkName
	if f, ok := st.frameworks[t.FrameworkID]; ok && f.Name != "" {
		fwName = f.Name
	}
	fw := Label(fwName)
	if task == "" || fw == "" {
		return nil
	}

	// The agent's address: from the store's agent, else the task's copy.
	var agentIP netip.Addr
	if a, ok := st.agents[t.AgentID]; ok {
		agentIP, _ = parseIP(a.Address)
	}
	if !agentIP.IsValid() {
		agentIP, _ = parseIP(t.Address)
	}
	if !agentIP.IsValid() {
		if a, ok := st.agents[t.AgentID]; ok {
			agentIP, _ = parseIP(a.Hostname)
		}
	}
	if !agentIP.IsValid() {
		agentIP, _ = parseIP(t.Hostname)
	}
	var own []netip.Addr
	for _, s := range t.IPs {
		if ip, ok := parseIP(s); ok {
			own = append(own, ip)
		}
	}

	taskIPs := own // where the task is
	if len(taskIPs) == 0 && agentIP.IsValid() {
		taskIPs = []netip.Addr{agentIP}
	}
	if len(taskIPs) == 0 {
		return nil
	}
	portIPs := taskIPs // where its host ports are
	if agentIP.IsValid() {
		portIPs = []netip.Addr{agentIP}
	}

	name := task + "." + fw
	host := HostLabel(task, t.ID, t.AgentID) + "." + fw
	out := make([]rec, 0, len(taskIPs)+len(portIPs)+2*len(t.Ports))
	for _, ip := range taskIPs {
		out = append(out, rec{name: name, addr: ip})
	}
	for _, ip := range portIPs { // also without ports, as in mesos-dns
		out = append(out, rec{name: host, addr: ip})
	}
	svc := serviceLabel(task)
	for _, p := range t.Ports {
		if p.Number == 0 {
			continue
		}
		pn := ""
		if l := Label(p.Name); l != "" {
			pn = serviceLabel(l) + "."
		}
		for _, proto := range protocols(p.Protocol) {
			srv := svc + "." + proto + "." + fw
			out = append(out, rec{name: srv, target: host, port: p.Number})
			if pn != "" {
				out = append(out, rec{name: pn + srv, target: host, port: p.Number})
			}
		}
	}
	return out
}

var tcpUDP = []string{"_tcp", "_udp"}

// protocols maps a port's protocol ("tcp", "udp", "udp,tcp", "") to
// service labels; "" means both tcp and udp.
func protocols(p string) []string {
	if p == "" {
		return tcpUDP
	}
	switch strings.ToLower(p) {
	case "tcp":
		return tcpUDP[:1]
	case "udp":
		return tcpUDP[1:]
	}
	var out []string
	for _, f := range strings.Split(p, ",") {
		if l := Label(f); l != "" {
			s := serviceLabel(l)
			dup := false
			for _, o := range out {
				dup = dup || o == s
			}
			if !dup {
				out = append(out, s)
			}
		}
	}
	return out
}
