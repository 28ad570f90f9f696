package resources

import (
	"fmt"
	"slices"
)

// Resources is a normalised collection: one entry per (name, type,
// reservations, disk) with non-empty values, in a deterministic order. The
// zero value is empty. Methods never modify their receiver or arguments.
//
// The order is by name, then type, then reservation stack (unreserved first,
// then compared bottom-up by role, type, principal and labels), then disk
// info. Persistent volumes are the exception to "one entry per key": they are
// atomic and never merged, so identical volumes (same id, same size) may
// appear more than once, ordered by size.
//
// Methods accept collections that are not normalised (for example literals
// written in any order) and normalise a copy first; that costs an allocation,
// so keep collections normalised in hot paths. Results may share the Ranges,
// Set, Reservations and Disk of their inputs; see [Resource].
type Resources []Resource

// IsEmpty reports whether there is nothing.
func (rs Resources) IsEmpty() bool {
	for i := range rs {
		if !isEmpty(&rs[i]) {
			return false
		}
	}
	return true
}

// Plus returns rs + o. Scalars add (saturating at [MaxValue]), ranges and sets
// take their union; persistent volumes are kept as separate entries.
func (rs Resources) Plus(o Resources) Resources {
	a, b := norm(rs), norm(o)
	if len(a)+len(b) == 0 {
		return nil
	}
	out := make(Resources, 0, plusLen(a, b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		c := compareEntry(&a[i], &b[j])
		switch {
		case c < 0:
			out = append(out, a[i])
			i++
		case c > 0:
			out = append(out, b[j])
			j++
		case isPersistent(&a[i]):
			out = append(out, a[i], b[j])
			i++
			j++
		default:
			out = append(out, add(&a[i], &b[j]))
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// plusLen is the length of a + b (both normalised): a smaller allocation is
// worth the extra comparisons, since entries hold pointers the GC must scan.
func plusLen(a, b Resources) int {
	n := len(a) + len(b)
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := compareEntry(&a[i], &b[j]); {
		case c < 0:
			i++
		case c > 0:
			j++
		default:
			if !isPersistent(&a[i]) {
				n--
			}
			i++
			j++
		}
	}
	return n
}

// Minus returns rs - o; when o is not contained, the result is clamped
// (scalars at zero, ranges/sets by difference), as Mesos does. Entries of o
// that rs lacks are ignored. A persistent volume is removed only by an
// identical volume (same disk info and size); a partial one leaves it as is.
func (rs Resources) Minus(o Resources) Resources {
	a, b := norm(rs), norm(o)
	if len(a) == 0 {
		return nil
	}
	out := make(Resources, 0, len(a))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		c := compareEntry(&a[i], &b[j])
		switch {
		case c < 0:
			out = append(out, a[i])
			i++
		case c > 0:
			j++
		case isPersistent(&a[i]): // identical volume: remove it whole
			i++
			j++
		default:
			if r := sub(&a[i], &b[j]); !isEmpty(&r) {
				out = append(out, r)
			}
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	if len(out) == 0 {
		return nil
	}
	return out
}

// Contains reports whether o ⊆ rs, matching reservations exactly.
// Persistent volumes must be matched whole.
func (rs Resources) Contains(o Resources) bool {
	a, b := norm(rs), norm(o)
	i := 0
	for j := range b {
		for {
			if i == len(a) {
				return false
			}
			c := compareEntry(&a[i], &b[j])
			if c < 0 {
				i++
				continue
			}
			if c > 0 {
				return false
			}
			break
		}
		if !isPersistent(&b[j]) && !containsValue(&a[i], &b[j]) {
			return false
		}
		i++
	}
	return true
}

// Equal reports whether both hold exactly the same resources.
func (rs Resources) Equal(o Resources) bool {
	a, b := norm(rs), norm(o)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if compareEntry(&a[i], &b[i]) != 0 || !valuesEqual(&a[i], &b[i]) {
			return false
		}
	}
	return true
}

// ScalarTotal is the sum of the named scalar over all reservations.
func (rs Resources) ScalarTotal(name string) Value {
	var v Value
	for i := range rs {
		if r := &rs[i]; r.Name == name && r.Type == Scalar && r.Scalar > 0 {
			v = addSat(v, r.Scalar)
		}
	}
	return v
}

// Filter returns the resources for which keep is true.
func (rs Resources) Filter(keep func(Resource) bool) Resources {
	var out Resources
	for _, r := range norm(rs) {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// Unreserved returns the resources with role "*".
func (rs Resources) Unreserved() Resources {
	return rs.Filter(func(r Resource) bool { return len(r.Reservations) == 0 })
}

// ReservedFor returns the resources whose role is role.
func (rs Resources) ReservedFor(role string) Resources {
	return rs.Filter(func(r Resource) bool { return r.Role() == role })
}

// AllocatableTo returns what a framework subscribed with role may be offered:
// unreserved resources plus those reserved for role (or, for hierarchical
// roles like "eng/web", reserved for an ancestor such as "eng").
func (rs Resources) AllocatableTo(role string) Resources {
	return rs.Filter(func(r Resource) bool {
		rr := r.Role()
		return rr == DefaultRole || rr == role || IsSubRole(role, rr)
	})
}

// Named returns the resources called name, whatever their reservations.
func (rs Resources) Named(name string) Resources {
	return rs.Filter(func(r Resource) bool { return r.Name == name })
}

// Names returns the distinct resource names, sorted.
func (rs Resources) Names() []string {
	var names []string
	for _, r := range norm(rs) {
		if n := len(names); n == 0 || names[n-1] != r.Name {
			names = append(names, r.Name)
		}
	}
	return names
}

// Flatten returns the resources with every reservation removed (all of them
// unreserved), merged; disk info is kept.
func (rs Resources) Flatten() Resources {
	out := make(Resources, 0, len(rs))
	for _, r := range rs {
		r.Reservations = nil
		out = append(out, r)
	}
	return normalize(out)
}

// ScalarQuantities returns only the scalars, stripped of reservations and disk
// info and merged by name: "how much", as fair sharing and quota count it.
func (rs Resources) ScalarQuantities() Resources {
	out := make(Resources, 0, len(rs))
	for _, r := range rs {
		if r.Type == Scalar {
			out = append(out, Resource{Name: r.Name, Type: Scalar, Scalar: r.Scalar})
		}
	}
	return normalize(out)
}

// PushReservation returns the resources with res added on top of every
// entry's reservation stack (a RESERVE, or a refinement of an existing
// reservation). Call Validate on the result if res comes from a user: the
// new role must refine the current one.
func (rs Resources) PushReservation(res Reservation) Resources {
	out := make(Resources, 0, len(rs))
	for _, r := range rs {
		stack := make([]Reservation, len(r.Reservations), len(r.Reservations)+1)
		copy(stack, r.Reservations)
		r.Reservations = append(stack, res)
		out = append(out, r)
	}
	return normalize(out)
}

// PopReservation returns the resources with the top reservation of every
// reserved entry removed (an UNRESERVE); unreserved entries are unchanged.
func (rs Resources) PopReservation() Resources {
	out := make(Resources, 0, len(rs))
	for _, r := range rs {
		if n := len(r.Reservations); n > 0 {
			r.Reservations = r.Reservations[: n-1 : n-1]
		}
		out = append(out, r)
	}
	return normalize(out)
}

// Clone returns a deep copy that shares no memory with rs.
func (rs Resources) Clone() Resources {
	if rs == nil {
		return nil
	}
	out := make(Resources, len(rs))
	for i, r := range rs {
		out[i] = r.Clone()
	}
	return out
}

// Validate checks names, types, values and roles; JSON decoding and Parse
// already call it. A name must have the same type in every entry.
func (rs Resources) Validate() error {
	for i := range rs {
		if fe := validateResource(&rs[i]); fe != nil {
			return fe.under(fmt.Sprintf("resources[%d]", i))
		}
	}
	if i, j := typeConflict(rs); i >= 0 {
		return fieldErrorf(fmt.Sprintf("resources[%d].type", i), "%s is %s here but %s in resources[%d]; a resource name has one type",
			rs[i].Name, rs[i].Type, rs[j].Type, j)
	}
	return nil
}

// typeConflict returns (i, j), j < i, when entries i and j have the same name
// but different types, or (-1, -1).
func typeConflict(rs Resources) (int, int) {
	i, j := firstRepeat(len(rs), func(i int) string { return rs[i].Name }, func(i, j int) bool { return rs[i].Type != rs[j].Type })
	return i, j
}

// firstRepeat finds the first i whose name(i) was seen before at j (the first
// index with that name) and for which bad(i, j) holds; (-1, -1) if none. It
// assumes that bad compares a property shared by all earlier entries of a
// name, as types and (for attributes) mere presence are.
func firstRepeat(n int, name func(int) string, bad func(i, j int) bool) (int, int) {
	if n <= 32 { // no map for the usual handful of entries
		for i := 1; i < n; i++ {
			for j := 0; j < i; j++ {
				if name(j) == name(i) {
					if bad(i, j) {
						return i, j
					}
					break
				}
			}
		}
		return -1, -1
	}
	first := make(map[string]int, n)
	for i := range n {
		if j, ok := first[name(i)]; ok {
			if bad(i, j) {
				return i, j
			}
			continue
		}
		first[name(i)] = i
	}
	return -1, -1
}

// norm returns rs if it is normalised, else a normalised copy.
func norm(rs Resources) Resources {
	if isNormal(rs) {
		return rs
	}
	return normalize(rs)
}

// isNormal reports whether rs is in normal form (see Resources).
func isNormal(rs Resources) bool {
	for i := range rs {
		r := &rs[i]
		if isEmpty(r) || !entryNormal(r) {
			return false
		}
		if i > 0 {
			c := compareEntry(&rs[i-1], r)
			if c > 0 || (c == 0 && !isPersistent(r)) {
				return false
			}
		}
	}
	return true
}

// entryNormal reports whether normalizeEntry would leave r unchanged.
func entryNormal(r *Resource) bool {
	switch r.Type {
	case Scalar:
		if r.Ranges != nil || r.Set != nil {
			return false
		}
	case Ranges:
		if r.Scalar != 0 || r.Set != nil || !rangesNormal(r.Ranges) {
			return false
		}
	case Set:
		if r.Scalar != 0 || r.Ranges != nil || !setNormal(r.Set) {
			return false
		}
	default:
		if !rangesNormal(r.Ranges) || !setNormal(r.Set) {
			return false
		}
	}
	if r.Disk != nil && diskEmpty(r.Disk) {
		return false
	}
	return r.Reservations == nil || len(r.Reservations) > 0
}

// normalizeEntry puts the values of one resource in normal form.
func normalizeEntry(r Resource) Resource {
	switch r.Type {
	case Scalar:
		r.Ranges, r.Set = nil, nil
	case Ranges:
		r.Scalar, r.Set = 0, nil
		r.Ranges = normalizeRanges(r.Ranges)
	case Set:
		r.Scalar, r.Ranges = 0, nil
		r.Set = normalizeSet(r.Set)
	default:
		r.Ranges = normalizeRanges(r.Ranges)
		r.Set = normalizeSet(r.Set)
	}
	if diskEmpty(r.Disk) {
		r.Disk = nil
	}
	if len(r.Reservations) == 0 {
		r.Reservations = nil
	}
	return r
}

// normalize returns a normalised copy of rs: empty entries dropped, entries
// sorted, equal keys merged.
func normalize(rs Resources) Resources {
	out := make(Resources, 0, len(rs))
	for _, r := range rs {
		if r = normalizeEntry(r); !isEmpty(&r) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b Resource) int { return compareEntry(&a, &b) })
	w := 0
	for i := range out {
		if w > 0 && !isPersistent(&out[i]) && compareKey(&out[w-1], &out[i]) == 0 {
			out[w-1] = add(&out[w-1], &out[i])
			continue
		}
		out[w] = out[i]
		w++
	}
	clear(out[w:])
	if w == 0 {
		return nil
	}
	return out[:w]
}

// add merges the values of two resources with the same key.
func add(a, b *Resource) Resource {
	r := *a
	switch a.Type {
	case Scalar:
		r.Scalar = addSat(a.Scalar, b.Scalar)
	case Ranges:
		r.Ranges = a.Ranges.Union(b.Ranges)
	case Set:
		r.Set = setUnion(a.Set, b.Set)
	default:
		r.Scalar = addSat(a.Scalar, b.Scalar)
		r.Ranges = a.Ranges.Union(b.Ranges)
		r.Set = setUnion(a.Set, b.Set)
	}
	return r
}

// sub subtracts b's values from a's (same key), clamping at empty.
func sub(a, b *Resource) Resource {
	r := *a
	switch a.Type {
	case Scalar:
		r.Scalar = subClamp(a.Scalar, b.Scalar)
	case Ranges:
		r.Ranges = a.Ranges.Difference(b.Ranges)
	case Set:
		r.Set = setDifference(a.Set, b.Set)
	default:
		r.Scalar = subClamp(a.Scalar, b.Scalar)
		r.Ranges = a.Ranges.Difference(b.Ranges)
		r.Set = setDifference(a.Set, b.Set)
	}
	return r
}

func subClamp(a, b Value) Value {
	if b >= a {
		return 0
	}
	return a - b
}

// containsValue reports whether a's values include b's (same key).
func containsValue(a, b *Resource) bool {
	switch a.Type {
	case Scalar:
		return a.Scalar >= b.Scalar
	case Ranges:
		return a.Ranges.Contains(b.Ranges)
	case Set:
		return setContains(a.Set, b.Set)
	}
	return a.Scalar >= b.Scalar && a.Ranges.Contains(b.Ranges) && setContains(a.Set, b.Set)
}
