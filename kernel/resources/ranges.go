package resources

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Range is an inclusive range of unsigned integers, e.g. ports 31000-32000.
type Range struct {
	Begin uint64 `json:"begin"`
	End   uint64 `json:"end"`
}

// RangeSet is a normalised list of ranges: sorted, non-overlapping, coalesced
// (adjacent ranges such as 1-2 and 3-4 become 1-4). The nil RangeSet is empty.
//
// The methods below expect normalised operands, as produced by [NewRangeSet],
// [Parse] and JSON decoding; they never modify their operands.
type RangeSet []Range

// NewRangeSet normalises ranges given in any order, possibly overlapping. A
// range with Begin > End is an error.
func NewRangeSet(ranges ...Range) (RangeSet, error) {
	for _, r := range ranges {
		if r.Begin > r.End {
			return nil, fmt.Errorf("range %d-%d has begin > end; write it as %d-%d", r.Begin, r.End, r.End, r.Begin)
		}
	}
	return normalizeRanges(ranges), nil
}

// String is the text form, e.g. "[31000-32000,33000-33010]"; "[]" when empty.
func (s RangeSet) String() string { return string(s.appendText(nil)) }

func (s RangeSet) appendText(b []byte) []byte {
	b = append(b, '[')
	for i, r := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, r.Begin, 10)
		b = append(b, '-')
		b = strconv.AppendUint(b, r.End, 10)
	}
	return append(b, ']')
}

// Count is how many integers the set holds (saturating at math.MaxUint64).
func (s RangeSet) Count() uint64 {
	var n uint64
	for _, r := range s {
		c := r.End - r.Begin + 1
		if c == 0 || n+c < n { // the whole uint64 range, or overflow
			return math.MaxUint64
		}
		n += c
	}
	return n
}

// Has reports whether v is in the set.
func (s RangeSet) Has(v uint64) bool {
	i, _ := slices.BinarySearchFunc(s, v, func(r Range, v uint64) int {
		if r.End < v {
			return -1
		}
		if r.Begin > v {
			return 1
		}
		return 0
	})
	return i < len(s) && s[i].Begin <= v && v <= s[i].End
}

// Contains reports whether o ⊆ s.
func (s RangeSet) Contains(o RangeSet) bool {
	i := 0
	for _, r := range o {
		for i < len(s) && s[i].End < r.Begin {
			i++
		}
		// s is coalesced, so r must lie within the single range s[i].
		if i == len(s) || s[i].Begin > r.Begin || s[i].End < r.End {
			return false
		}
	}
	return true
}

// Equal reports whether both sets hold the same integers.
func (s RangeSet) Equal(o RangeSet) bool { return slices.Equal(s, o) }

// Union returns s ∪ o. The result may share memory with an empty-side operand's
// counterpart; treat RangeSets as immutable.
func (s RangeSet) Union(o RangeSet) RangeSet {
	if len(o) == 0 {
		return s
	}
	if len(s) == 0 {
		return o
	}
	out := make(RangeSet, 0, len(s)+len(o))
	i, j := 0, 0
	for i < len(s) || j < len(o) {
		var r Range
		if j == len(o) || (i < len(s) && s[i].Begin <= o[j].Begin) {
			r = s[i]
			i++
		} else {
			r = o[j]
			j++
		}
		out = appendCoalesce(out, r)
	}
	return out
}

// Difference returns s \ o.
func (s RangeSet) Difference(o RangeSet) RangeSet {
	if !s.overlaps(o) {
		return s
	}
	out := make(RangeSet, 0, len(s)+len(o))
	j := 0
	for _, cur := range s {
		for j < len(o) && o[j].End < cur.Begin {
			j++
		}
		alive := true
		for k := j; k < len(o) && o[k].Begin <= cur.End; k++ {
			if o[k].Begin > cur.Begin {
				out = append(out, Range{cur.Begin, o[k].Begin - 1})
			}
			if o[k].End >= cur.End {
				alive = false
				break
			}
			cur.Begin = o[k].End + 1
		}
		if alive {
			out = append(out, cur)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// overlaps reports whether s and o share at least one integer.
func (s RangeSet) overlaps(o RangeSet) bool {
	i, j := 0, 0
	for i < len(s) && j < len(o) {
		switch {
		case s[i].End < o[j].Begin:
			i++
		case o[j].End < s[i].Begin:
			j++
		default:
			return true
		}
	}
	return false
}

// Intersect returns s ∩ o.
func (s RangeSet) Intersect(o RangeSet) RangeSet {
	var out RangeSet
	i, j := 0, 0
	for i < len(s) && j < len(o) {
		b := max(s[i].Begin, o[j].Begin)
		e := min(s[i].End, o[j].End)
		if b <= e {
			out = append(out, Range{b, e})
		}
		if s[i].End < o[j].End {
			i++
		} else {
			j++
		}
	}
	return out
}

// appendCoalesce appends r to out (sorted by Begin), merging it into the last
// range when they overlap or touch.
func appendCoalesce(out RangeSet, r Range) RangeSet {
	if n := len(out); n > 0 {
		last := &out[n-1]
		if last.End == math.MaxUint64 || r.Begin <= last.End+1 {
			if r.End > last.End {
				last.End = r.End
			}
			return out
		}
	}
	return append(out, r)
}

// rangesNormal reports whether s is sorted, valid, non-overlapping and
// coalesced.
func rangesNormal(s RangeSet) bool {
	for i, r := range s {
		if r.Begin > r.End {
			return false
		}
		if i > 0 {
			p := s[i-1].End
			if p == math.MaxUint64 || r.Begin <= p+1 {
				return false
			}
		}
	}
	return true
}

// normalizeRanges returns s normalised, sharing s when it already is. Invalid
// ranges (Begin > End) are dropped; Validate reports them.
func normalizeRanges(s []Range) RangeSet {
	if rangesNormal(s) {
		if len(s) == 0 {
			return nil
		}
		return s
	}
	tmp := make([]Range, 0, len(s))
	for _, r := range s {
		if r.Begin <= r.End {
			tmp = append(tmp, r)
		}
	}
	slices.SortFunc(tmp, func(a, b Range) int {
		switch {
		case a.Begin < b.Begin:
			return -1
		case a.Begin > b.Begin:
			return 1
		}
		return 0
	})
	out := tmp[:0]
	for _, r := range tmp {
		out = appendCoalesce(out, r)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
