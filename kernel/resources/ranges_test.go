package resources

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func rs(pairs ...uint64) RangeSet {
	var out RangeSet
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, Range{pairs[i], pairs[i+1]})
	}
	return out
}

func TestNewRangeSet(t *testing.T) {
	got, err := NewRangeSet(Range{10, 20}, Range{1, 5}, Range{6, 8}, Range{15, 30}, Range{40, 40})
	if err != nil || !got.Equal(rs(1, 8, 10, 30, 40, 40)) {
		t.Fatalf("NewRangeSet = %v, %v", got, err)
	}
	if _, err := NewRangeSet(Range{5, 1}); err == nil {
		t.Fatal("5-1 accepted")
	}
	max := uint64(math.MaxUint64)
	got, _ = NewRangeSet(Range{max, max}, Range{0, max - 1})
	if !got.Equal(rs(0, max)) || got.Count() != math.MaxUint64 {
		t.Fatalf("full range = %v (count %d)", got, got.Count())
	}
}

func TestRangeSetOps(t *testing.T) {
	tests := []struct {
		name       string
		a, b       RangeSet
		union      RangeSet
		diff       RangeSet
		inter      RangeSet
		aContainsB bool
	}{
		{"empty", nil, nil, nil, nil, nil, true},
		{"empty b", rs(1, 5), nil, rs(1, 5), rs(1, 5), nil, true},
		{"empty a", nil, rs(1, 5), rs(1, 5), nil, nil, false},
		{"inside", rs(1, 10), rs(3, 4), rs(1, 10), rs(1, 2, 5, 10), rs(3, 4), true},
		{"same", rs(1, 10), rs(1, 10), rs(1, 10), nil, rs(1, 10), true},
		{"touching", rs(1, 5), rs(6, 9), rs(1, 9), rs(1, 5), nil, false},
		{"overlap left", rs(5, 10), rs(1, 6), rs(1, 10), rs(7, 10), rs(5, 6), false},
		{"overlap right", rs(5, 10), rs(9, 20), rs(5, 20), rs(5, 8), rs(9, 10), false},
		{"many", rs(1, 10, 20, 30, 40, 50), rs(5, 25, 45, 45), rs(1, 30, 40, 50), rs(1, 4, 26, 30, 40, 44, 46, 50), rs(5, 10, 20, 25, 45, 45), false},
		{"span two", rs(1, 10, 20, 30), rs(1, 10, 20, 25), rs(1, 10, 20, 30), rs(26, 30), rs(1, 10, 20, 25), true},
		{"across gap", rs(1, 10, 20, 30), rs(5, 25), rs(1, 30), rs(1, 4, 26, 30), rs(5, 10, 20, 25), false},
		{"max", rs(0, math.MaxUint64), rs(math.MaxUint64, math.MaxUint64), rs(0, math.MaxUint64), rs(0, math.MaxUint64-1), rs(math.MaxUint64, math.MaxUint64), true},
		{"disjoint", rs(1, 2), rs(10, 20), rs(1, 2, 10, 20), rs(1, 2), nil, false},
	}
	for _, tt := range tests {
		if got := tt.a.Union(tt.b); !got.Equal(tt.union) {
			t.Errorf("%s: %v ∪ %v = %v; want %v", tt.name, tt.a, tt.b, got, tt.union)
		}
		if got := tt.a.Difference(tt.b); !got.Equal(tt.diff) {
			t.Errorf("%s: %v \\ %v = %v; want %v", tt.name, tt.a, tt.b, got, tt.diff)
		}
		if got := tt.a.Intersect(tt.b); !got.Equal(tt.inter) {
			t.Errorf("%s: %v ∩ %v = %v; want %v", tt.name, tt.a, tt.b, got, tt.inter)
		}
		if got := tt.a.Contains(tt.b); got != tt.aContainsB {
			t.Errorf("%s: %v ⊇ %v = %v", tt.name, tt.a, tt.b, got)
		}
	}
}

func TestRangeSetHasCountString(t *testing.T) {
	s := rs(1, 5, 10, 10, 20, 29)
	for v, want := range map[uint64]bool{0: false, 1: true, 5: true, 6: false, 10: true, 11: false, 25: true, 30: false} {
		if s.Has(v) != want {
			t.Errorf("Has(%d) = %v", v, !want)
		}
	}
	if s.Count() != 16 {
		t.Errorf("Count = %d", s.Count())
	}
	if s.String() != "[1-5,10-10,20-29]" || RangeSet(nil).String() != "[]" {
		t.Errorf("String = %q", s.String())
	}
}

// TestRangeSetModel checks the operations against a bitmap model.
func TestRangeSetModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func() (RangeSet, []bool) {
		bits := make([]bool, 64)
		var raw []Range
		for range rng.IntN(5) {
			b := rng.Uint64N(64)
			e := b + rng.Uint64N(64-b)
			raw = append(raw, Range{b, e})
			for i := b; i <= e; i++ {
				bits[i] = true
			}
		}
		s, err := NewRangeSet(raw...)
		if err != nil {
			t.Fatal(err)
		}
		return s, bits
	}
	toSet := func(bits []bool) RangeSet {
		var raw []Range
		for i, b := range bits {
			if b {
				raw = append(raw, Range{uint64(i), uint64(i)})
			}
		}
		s, _ := NewRangeSet(raw...)
		return s
	}
	for range 2000 {
		a, ab := gen()
		b, bb := gen()
		aCopy, bCopy := slices.Clone(a), slices.Clone(b)
		union, diff, inter := make([]bool, 64), make([]bool, 64), make([]bool, 64)
		contains := true
		for i := range 64 {
			union[i] = ab[i] || bb[i]
			diff[i] = ab[i] && !bb[i]
			inter[i] = ab[i] && bb[i]
			if bb[i] && !ab[i] {
				contains = false
			}
		}
		if got := a.Union(b); !got.Equal(toSet(union)) || !rangesNormal(got) {
			t.Fatalf("%v ∪ %v = %v", a, b, got)
		}
		if got := a.Difference(b); !got.Equal(toSet(diff)) || !rangesNormal(got) {
			t.Fatalf("%v \\ %v = %v", a, b, got)
		}
		if got := a.Intersect(b); !got.Equal(toSet(inter)) {
			t.Fatalf("%v ∩ %v = %v", a, b, got)
		}
		if a.Contains(b) != contains {
			t.Fatalf("%v ⊇ %v = %v", a, b, !contains)
		}
		if !slices.Equal(a, aCopy) || !slices.Equal(b, bCopy) {
			t.Fatal("operands modified")
		}
	}
}
