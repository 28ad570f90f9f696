package ui

import (
	"charm.land/lipgloss/v2"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/tui/cluster"
	"github.com/cairn-dc/cairn/tui/view"
)

// UsedOf prints "used/total" of a scalar resource, cpus as numbers, mem
// and disk as sizes ("1.5/4", "512M/8G").
func UsedOf(used, total resources.Resources, name string) string {
	u, t := Scalar(used, name), Scalar(total, name)
	if name == "cpus" {
		return CPUs(u) + "/" + CPUs(t)
	}
	return MB(u) + "/" + MB(t)
}

// Amount prints one scalar resource of rs ("0.5", "64M"; "-" when absent).
func Amount(rs resources.Resources, name string) string {
	v := Scalar(rs, name)
	if v == 0 {
		return "-"
	}
	if name == "cpus" {
		return CPUs(v)
	}
	return MB(v)
}

// AgentStatus is an agent's status, styled.
func AgentStatus(th view.Theme, st protocol.AgentStatus) view.Cell {
	switch st {
	case protocol.AgentActive:
		return view.Styled(string(st), th.OK)
	case protocol.AgentDraining, protocol.AgentDrained:
		return view.Styled(string(st), th.Warn)
	}
	return view.Styled(string(st), th.Bad)
}

// StateStyle is how a task state is drawn: running green, starting and
// killing yellow, failures red, other endings muted.
func StateStyle(th view.Theme, st protocol.TaskState) lipgloss.Style {
	switch {
	case st == protocol.TaskRunning:
		return th.OK
	case cluster.Failed(st):
		return th.Bad
	case st.Terminal():
		return th.Muted
	}
	return th.Warn
}

// TaskState is a task's state without its TASK_ prefix, styled.
func TaskState(th view.Theme, st protocol.TaskState) view.Cell {
	return view.Styled(cluster.StateName(st), StateStyle(th, st))
}

// Connected is a framework's connection, styled.
func Connected(th view.Theme, f protocol.Framework) view.Cell {
	if f.Connected {
		return view.Styled("connected", th.OK)
	}
	return view.Styled("disconnected", th.Bad)
}
