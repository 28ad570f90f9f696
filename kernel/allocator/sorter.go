package allocator

import (
	"slices"
	"strings"
)

// The role tree. Every role "a/b" has an internal node whose children are
// kept sorted by weighted dominant share (ties by name): its sub-roles and a
// "self" leaf (named ".", like Mesos' virtual leaf) that holds the
// frameworks subscribed to exactly that role. A node's allocation includes
// its whole subtree, so a parent role's share counts its children (Mesos
// >= 1.5 hierarchical DRF). The root has the top-level roles as children.
//
// Leaves keep their eligible frameworks (active, subscribed, not suppressed
// for the role) sorted by the framework's dominant share within the role
// (ties by ID). Shares change one at a time as resources are allocated or
// recovered, and the changed entry is moved to its new place by binary
// search and one memmove; nothing is ever re-sorted per agent.

type node struct {
	name   string // last path segment; "." for a self leaf
	path   string // the role ("" for the root); a self leaf has its role's path
	parent *node
	leaf   bool
	self   *node // the role's own-frameworks leaf (internal nodes only)

	children []childEntry // internal nodes: sorted by (share, name)

	alloc  vector  // resources allocated in this subtree (leaf: in this role)
	share  float64 // dominant(alloc)/weight; the key of this node in parent.children
	weight float64

	eligible int // eligible frameworks in this subtree

	// leaves only
	fws         []fwEntry // eligible frameworks sorted by (share, id)
	subscribers int       // frameworks subscribed (active or not)
	holders     int       // agent allocation entries under this role
}

type childEntry struct {
	share float64
	n     *node
}

// fwEntry orders a framework in a role: by share, then by ID, using the
// framework's rank in ID order (Allocator.byID) so that ties cost an integer
// comparison.
type fwEntry struct {
	share float64
	rank  uint32
	slot  int32 // the fwRole's slot (Allocator.frs)
}

func childLess(s1 float64, n1 *node, s2 float64, n2 *node) bool {
	if s1 != s2 {
		return s1 < s2
	}
	return n1.name < n2.name
}

func fwLess(s1 float64, r1 uint32, s2 float64, r2 uint32) bool {
	if s1 != s2 {
		return s1 < s2
	}
	return r1 < r2
}

// ---- child lists ----

// childSearch returns the first index whose entry is not less than (s, n).
func childSearch(list []childEntry, s float64, n *node) int {
	lo, hi := 0, len(list)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if childLess(list[m].share, list[m].n, s, n) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (a *Allocator) childIndex(p, n *node) int {
	if !a.sharesStale {
		if i := childSearch(p.children, n.share, n); i < len(p.children) && p.children[i].n == n {
			return i
		}
	}
	for i := range p.children {
		if p.children[i].n == n {
			return i
		}
	}
	return -1
}

func (a *Allocator) insertChild(p, n *node) {
	i := len(p.children)
	if !a.sharesStale {
		i = childSearch(p.children, n.share, n)
	}
	p.children = slices.Insert(p.children, i, childEntry{n.share, n})
}

func (a *Allocator) removeChild(p, n *node) {
	if i := a.childIndex(p, n); i >= 0 {
		p.children = slices.Delete(p.children, i, i+1)
	}
}

// setNodeShare changes n's share and moves it within its parent's children.
func (a *Allocator) setNodeShare(n *node, s float64) {
	if s == n.share {
		return
	}
	p := n.parent
	if a.sharesStale || p == nil {
		n.share = s
		return
	}
	list := p.children
	i := a.childIndex(p, n)
	n.share = s
	e := childEntry{s, n}
	switch {
	case i+1 < len(list) && childLess(list[i+1].share, list[i+1].n, s, n):
		// move right: first j > i with !(list[j] < e)
		j := i + 1 + childSearch(list[i+1:], s, n)
		copy(list[i:j-1], list[i+1:j])
		list[j-1] = e
	case i > 0 && childLess(s, n, list[i-1].share, list[i-1].n):
		j := childSearch(list[:i], s, n)
		copy(list[j+1:i+1], list[j:i])
		list[j] = e
	default:
		list[i] = e
	}
}

// addNodeAlloc adds (sign>0) or removes vec along the path leaf→root.
func (a *Allocator) changeNodeAlloc(n *node, vec vector, sign int) {
	for ; n != nil && n.parent != nil; n = n.parent {
		if sign > 0 {
			n.alloc.add(vec)
		} else {
			n.alloc.sub(vec)
		}
		if !a.sharesStale {
			a.setNodeShare(n, a.dominant(n.alloc)/n.weight)
		}
	}
}

func (a *Allocator) changeEligible(n *node, d int) {
	for ; n != nil; n = n.parent {
		n.eligible += d
	}
}

// ---- framework lists ----

// fwSearch returns the first index whose entry is not less than (s, r).
func fwSearch(list []fwEntry, s float64, r uint32) int {
	lo, hi := 0, len(list)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if fwLess(list[m].share, list[m].rank, s, r) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (a *Allocator) fwIndex(leaf *node, fr *fwRole) int {
	if !a.sharesStale {
		if i := fwSearch(leaf.fws, fr.share, fr.fw.rank); i < len(leaf.fws) && leaf.fws[i].slot == fr.slot {
			return i
		}
	}
	for i := range leaf.fws {
		if leaf.fws[i].slot == fr.slot {
			return i
		}
	}
	return -1
}

// list makes fw eligible in fr's role.
func (a *Allocator) list(fw *framework, fr *fwRole) {
	if fr.listed {
		return
	}
	fr.listed = true
	l := fr.leaf
	i := len(l.fws)
	if !a.sharesStale {
		i = fwSearch(l.fws, fr.share, fw.rank)
	}
	l.fws = slices.Insert(l.fws, i, fwEntry{fr.share, fw.rank, fr.slot})
	a.changeEligible(l, 1)
}

func (a *Allocator) unlist(fw *framework, fr *fwRole) {
	if !fr.listed {
		return
	}
	fr.listed = false
	l := fr.leaf
	if i := a.fwIndex(l, fr); i >= 0 {
		l.fws = slices.Delete(l.fws, i, i+1)
	}
	a.changeEligible(l, -1)
}

// relist lists or unlists fr according to the framework's state.
func (a *Allocator) relist(fw *framework, fr *fwRole) {
	if fw.active && fr.subscribed && !fr.suppressed {
		a.list(fw, fr)
	} else {
		a.unlist(fw, fr)
	}
}

// setFwShare changes fr's share and moves the framework within its role.
func (a *Allocator) setFwShare(fw *framework, fr *fwRole, s float64) {
	if s == fr.share {
		return
	}
	if a.sharesStale || !fr.listed {
		fr.share = s
		return
	}
	list := fr.leaf.fws
	r := fw.rank
	i := a.fwIndex(fr.leaf, fr)
	fr.share = s
	e := fwEntry{s, r, fr.slot}
	switch {
	case i+1 < len(list) && fwLess(list[i+1].share, list[i+1].rank, s, r):
		j := i + 1 + fwSearch(list[i+1:], s, r)
		copy(list[i:j-1], list[i+1:j])
		list[j-1] = e
	case i > 0 && fwLess(s, r, list[i-1].share, list[i-1].rank):
		j := fwSearch(list[:i], s, r)
		copy(list[j+1:i+1], list[j:i])
		list[j] = e
	default:
		list[i] = e
	}
}

func (a *Allocator) changeFwAlloc(fw *framework, fr *fwRole, vec vector, sign int) {
	if sign > 0 {
		fr.alloc.add(vec)
	} else {
		fr.alloc.sub(vec)
	}
	if !a.sharesStale {
		a.setFwShare(fw, fr, a.dominant(fr.alloc))
	}
}

// ---- roles ----

func (a *Allocator) weightOf(role string) float64 {
	if w, ok := a.weights[role]; ok {
		return w
	}
	return 1
}

// role returns the internal node of a role, creating it (and its ancestors)
// if create is set.
func (a *Allocator) role(path string, create bool) *node {
	if n := a.roles[path]; n != nil || !create {
		return n
	}
	parent := a.root
	name := path
	if i := strings.LastIndexByte(path, '/'); i > 0 {
		parent = a.role(path[:i], true)
		name = path[i+1:]
	}
	w := a.weightOf(path)
	n := &node{name: name, path: path, parent: parent, weight: w}
	n.self = &node{name: ".", path: path, parent: n, leaf: true, weight: w}
	n.children = []childEntry{{0, n.self}}
	a.roles[path] = n
	a.insertChild(parent, n)
	return n
}

// leafOf is the self leaf of a role, creating the role if needed.
func (a *Allocator) leafOf(role string) *node {
	return a.role(role, true).self
}

// prune removes role nodes that have no subscribers, no allocations and no
// sub-roles, then their newly empty ancestors.
func (a *Allocator) prune(n *node) {
	for n != nil && n != a.root {
		if n.leaf {
			n = n.parent
			continue
		}
		if len(n.children) != 1 || n.self.subscribers != 0 || n.self.holders != 0 {
			return
		}
		p := n.parent
		a.removeChild(p, n)
		delete(a.roles, n.path)
		n = p
	}
}

// refresh recomputes every share after the cluster total changed and
// re-sorts every list (O(F log F + R log R), once per total change, never
// per agent).
func (a *Allocator) refresh() {
	if !a.sharesStale {
		return
	}
	for k, t := range a.total {
		if t > 0 {
			a.invTotal[k] = 1 / float64(t)
		} else {
			a.invTotal[k] = 0
		}
	}
	for _, fw := range a.fws {
		if fw == nil {
			continue
		}
		for _, fr := range fw.roles {
			fr.share = a.dominant(fr.alloc)
		}
	}
	a.refreshNode(a.root)
	a.sharesStale = false
}

func (a *Allocator) refreshNode(n *node) {
	if n.leaf {
		for i := range n.fws {
			e := &n.fws[i]
			e.share = a.frs[e.slot].share
		}
		slices.SortFunc(n.fws, func(x, y fwEntry) int {
			if fwLess(x.share, x.rank, y.share, y.rank) {
				return -1
			}
			if fwLess(y.share, y.rank, x.share, x.rank) {
				return 1
			}
			return 0
		})
		return
	}
	for i := range n.children {
		c := n.children[i].n
		c.share = a.dominant(c.alloc) / c.weight
		n.children[i].share = c.share
		a.refreshNode(c)
	}
	slices.SortFunc(n.children, func(x, y childEntry) int {
		if childLess(x.share, x.n, y.share, y.n) {
			return -1
		}
		if childLess(y.share, y.n, x.share, x.n) {
			return 1
		}
		return 0
	})
}

// rankNew gives a new framework its place in ID order, renumbering the
// frameworks after it (O(frameworks + list entries), once per framework).
func (a *Allocator) rankNew(fw *framework) {
	i, _ := slices.BinarySearchFunc(a.byID, fw.id, func(x int32, id string) int {
		return strings.Compare(a.fws[x].id, id)
	})
	a.byID = slices.Insert(a.byID, i, fw.idx)
	if i == len(a.byID)-1 {
		if i > 0 {
			fw.rank = a.fws[a.byID[i-1]].rank + 1
		}
		if i == 0 || fw.rank != 0 {
			return // appended in order; no wrap-around
		}
	}
	for r, f := range a.byID {
		a.fws[f].rank = uint32(r)
	}
	for _, n := range a.roles {
		for i := range n.self.fws {
			e := &n.self.fws[i]
			e.rank = a.frs[e.slot].fw.rank
		}
	}
}

// unrank removes a framework from the ID order (ranks keep their order).
func (a *Allocator) unrank(fw *framework) {
	if i := slices.Index(a.byID, fw.idx); i >= 0 {
		a.byID = slices.Delete(a.byID, i, i+1)
	}
}
