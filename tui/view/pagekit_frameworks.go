package view

import (
	"slices"
	"strings"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// FrameworkFilter follows, from the event stream, the frameworks a page
// shows data of (the services framework for apps, cron for jobs), so the
// page refetches only when an event concerns one of them.
type FrameworkFilter struct {
	// Name is the framework's name; frameworks whose name contains it
	// match too (a second services framework, "services-dev").
	Name string
	// ids are the matching frameworks the stream told of, connected or
	// not.
	ids map[protocol.FrameworkID]bool
	// connected is the first connected matching framework.
	connected protocol.FrameworkID
	known     []protocol.Framework
}

func (f *FrameworkFilter) matches(name string) bool {
	return f.Name != "" && strings.Contains(name, f.Name)
}

// Concerns learns from ev and reports whether it concerns a matching
// framework: SUBSCRIBED (a new state), a matching framework added,
// updated or removed, or a task of one of them added or updated.
func (f *FrameworkFilter) Concerns(ev protocol.ClusterEvent) bool {
	if f.ids == nil {
		f.ids = map[protocol.FrameworkID]bool{}
	}
	switch ev.Type {
	case protocol.EvSubscribed:
		f.known = nil
		if ev.State != nil {
			f.known = slices.Clone(ev.State.Frameworks)
		}
		f.reindex()
		return true
	case protocol.EvFrameworkAdded, protocol.EvFrameworkUpdated, protocol.EvFrameworkRemoved:
		if ev.Framework == nil {
			return false
		}
		fw := *ev.Framework
		f.known = slices.DeleteFunc(f.known, func(k protocol.Framework) bool { return k.ID == fw.ID })
		if ev.Type != protocol.EvFrameworkRemoved {
			f.known = append(f.known, fw)
		}
		was := f.ids[fw.ID]
		f.reindex()
		return was || f.matches(fw.Name)
	case protocol.EvTaskAdded, protocol.EvTaskUpdated:
		return ev.Task != nil && f.ids[ev.Task.FrameworkID]
	}
	return false
}

func (f *FrameworkFilter) reindex() {
	clear(f.ids)
	f.connected = ""
	for _, fw := range f.known {
		if !f.matches(fw.Name) {
			continue
		}
		f.ids[fw.ID] = true
		if fw.Connected && (f.connected == "" || fw.Name == f.Name) {
			f.connected = fw.ID
		}
	}
}

// ID is the id of the connected framework called Name (or else of one
// whose name contains it), "" when the stream told of none.
func (f *FrameworkFilter) ID() protocol.FrameworkID { return f.connected }
