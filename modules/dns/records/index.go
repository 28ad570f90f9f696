package records

import (
	"hash/maphash"
	"maps"
	"sort"
)

// shardCount is the number of maps an index is split into: an update
// copies only the shards whose names changed (about 1/256 of the index
// each), so that one change costs O(names/256), not O(names).
const shardCount = 256

// Snapshot is an immutable view of the records: a name → entry map split
// into shards. It is safe for concurrent use; entries must not be modified.
type Snapshot struct {
	seed    maphash.Seed
	shards  [shardCount]map[string]*Entry
	version uint64
	size    int
}

// emptyEntry is the entry of every empty non-terminal.
var emptyEntry = &Entry{}

func (s *Snapshot) shard(name string) int {
	return int(maphash.String(s.seed, name) & (shardCount - 1))
}

// Lookup returns the entry of name, relative to the zone, lower-case,
// without trailing dot ("web.services"); ok is false when the name does
// not exist. An existing name may have an empty entry (see Entry).
func (s *Snapshot) Lookup(name string) (e *Entry, ok bool) {
	e, ok = s.shards[s.shard(name)][name]
	return e, ok
}

// Version counts the changes applied to the store; it grows with every
// committed update (the plugin uses it as the SOA serial).
func (s *Snapshot) Version() uint64 { return s.version }

// Len is the number of names, empty non-terminals included.
func (s *Snapshot) Len() int { return s.size }

// Names returns every name, sorted.
func (s *Snapshot) Names() []string {
	out := make([]string, 0, s.size)
	for _, m := range s.shards {
		for n := range m {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// with returns a copy of s with the given names changed (nil entry:
// removed). Only the shards that hold a changed name are copied.
func (s *Snapshot) with(changes map[string]*Entry, fresh bool) *Snapshot {
	n := &Snapshot{seed: s.seed, version: s.version + 1, size: s.size}
	if fresh {
		n.size = 0
	} else {
		n.shards = s.shards
	}
	copied := [shardCount]bool{}
	for name, e := range changes {
		i := n.shard(name)
		if !copied[i] {
			copied[i] = true
			if n.shards[i] == nil {
				n.shards[i] = make(map[string]*Entry)
			} else {
				n.shards[i] = maps.Clone(n.shards[i])
			}
		}
		m := n.shards[i]
		_, had := m[name]
		switch {
		case e == nil && had:
			delete(m, name)
			n.size--
		case e != nil:
			m[name] = e
			if !had {
				n.size++
			}
		}
	}
	return n
}
