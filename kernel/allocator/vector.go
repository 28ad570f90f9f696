package allocator

import (
	"github.com/cairn-dc/cairn/kernel/resources"
)

// vector holds fixed-point quantities of scalar resources indexed by kind
// (see Allocator.kinds). Vectors may be shorter than the number of kinds:
// missing entries are zero. All share arithmetic works on vectors, so that
// allocating and recovering never re-sums a Resources list.
type vector []resources.Value

// add adds o to v, growing v as needed.
func (v *vector) add(o vector) {
	if len(*v) < len(o) {
		*v = append(*v, make(vector, len(o)-len(*v))...)
	}
	w := *v
	for i, x := range o {
		w[i] += x
	}
}

// sub subtracts o from v, clamping at zero.
func (v *vector) sub(o vector) {
	w := *v
	for i, x := range o {
		if i >= len(w) {
			break
		}
		w[i] -= x
		if w[i] < 0 {
			w[i] = 0
		}
	}
}

func (v vector) isZero() bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// kindOf interns a scalar resource name.
func (a *Allocator) kindOf(name string) int {
	for i, k := range a.kinds {
		if k == name {
			return i
		}
	}
	a.kinds = append(a.kinds, name)
	a.total = append(a.total, 0)
	a.invTotal = append(a.invTotal, 0)
	return len(a.kinds) - 1
}

// vecInto writes the scalar quantities of rs into dst (reusing its storage).
func (a *Allocator) vecInto(dst vector, rs resources.Resources) vector {
	dst = dst[:0]
	for i := range rs {
		r := &rs[i]
		if r.Type != resources.Scalar {
			continue
		}
		k := a.kindOf(r.Name)
		for len(dst) <= k {
			dst = append(dst, 0)
		}
		dst[k] += r.Scalar
	}
	return dst
}

// vecOf returns a fresh vector of rs' scalar quantities.
func (a *Allocator) vecOf(rs resources.Resources) vector {
	return a.vecInto(nil, rs)
}

// dominant is max over kinds of v[k]/clusterTotal[k] (kinds with a zero
// total are ignored).
func (a *Allocator) dominant(v vector) float64 {
	m := 0.0
	inv := a.invTotal
	if len(v) < len(inv) {
		inv = inv[:len(v)]
	}
	for k, t := range inv {
		if s := float64(v[k]) * t; s > m {
			m = s
		}
	}
	return m
}

// minAlt is one MinAllocatable alternative: scalar quantities by kind plus
// any non-scalar quantities (checked ignoring reservations).
type minAlt struct {
	scalars []kindValue
	other   resources.Resources
}

type kindValue struct {
	kind int
	v    resources.Value
}

func (a *Allocator) compileMin(alts []resources.Resources) {
	if alts == nil {
		alts = []resources.Resources{
			{{Name: "cpus", Type: resources.Scalar, Scalar: 10}},
			{{Name: "mem", Type: resources.Scalar, Scalar: 32 * resources.Scale}},
		}
	}
	a.minAlts = a.minAlts[:0]
	for _, alt := range alts {
		var m minAlt
		sums := map[int]resources.Value{}
		var order []int
		for _, r := range alt {
			if r.Type == resources.Scalar {
				k := a.kindOf(r.Name)
				if _, ok := sums[k]; !ok {
					order = append(order, k)
				}
				sums[k] += r.Scalar
				continue
			}
			m.other = append(m.other, stripReservation(r))
		}
		for _, k := range order {
			m.scalars = append(m.scalars, kindValue{k, sums[k]})
		}
		a.minAlts = append(a.minAlts, m)
	}
}

// minOK reports whether resources rs (whose scalar quantities are vec) hold
// at least one MinAllocatable alternative. An empty rs never does.
func (a *Allocator) minOK(vec vector, rs resources.Resources) bool {
	if len(rs) == 0 {
		return false
	}
	if len(a.minAlts) == 0 {
		return true
	}
next:
	for i := range a.minAlts {
		alt := &a.minAlts[i]
		for _, kv := range alt.scalars {
			if kv.kind >= len(vec) || vec[kv.kind] < kv.v {
				continue next
			}
		}
		if len(alt.other) > 0 && !quantitiesContain(rs, alt.other) {
			continue
		}
		return true
	}
	return false
}

// quantitiesContain checks non-scalar requirements against rs as
// quantities, ignoring reservations and disk info: a RANGES requirement
// needs as many range elements (e.g. ports:[1-2] needs any two ports), a
// SET requirement as many items. A rare path: only for MinAllocatable
// entries such as ports.
func quantitiesContain(rs, need resources.Resources) bool {
	for _, n := range need {
		var have uint64
		for _, r := range rs {
			if r.Name == n.Name && r.Type == n.Type {
				have += count(r)
			}
		}
		if have < count(n) {
			return false
		}
	}
	return true
}

func count(r resources.Resource) uint64 {
	switch r.Type {
	case resources.Ranges:
		var n uint64
		for _, x := range r.Ranges {
			n += x.End - x.Begin + 1
		}
		return n
	case resources.Set:
		return uint64(len(r.Set))
	}
	return 0
}

func stripReservation(r resources.Resource) resources.Resource {
	r.Reservations = nil
	r.Disk = nil
	return r
}

// sameSlice reports whether x and y are the very same Resources (same
// backing array and length): a cheap exact-equality fast path.
func sameSlice(x, y resources.Resources) bool {
	return len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
}
