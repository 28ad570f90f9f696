package resources

import (
	"slices"
	"strings"
)

// Set items are kept as sorted, duplicate-free []string; these helpers expect
// and return that form and never modify their operands.

// setNormal reports whether s is sorted and duplicate-free.
func setNormal(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= s[i] {
			return false
		}
	}
	return true
}

// normalizeSet returns s sorted and duplicate-free, sharing s when it already
// is, and nil when empty.
func normalizeSet(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	if setNormal(s) {
		return s
	}
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// setUnion returns a ∪ b.
func setUnion(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := make([]string, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := strings.Compare(a[i], b[j]); {
		case c < 0:
			out = append(out, a[i])
			i++
		case c > 0:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// setDifference returns a \ b.
func setDifference(a, b []string) []string {
	if len(a) == 0 || len(b) == 0 {
		return a
	}
	var out []string
	j := 0
	for i, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j < len(b) && b[j] == x {
			if out == nil {
				out = make([]string, i, len(a))
				copy(out, a[:i])
			}
			continue
		}
		if out != nil {
			out = append(out, x)
		}
	}
	if out == nil {
		return a // nothing removed
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// setContains reports whether b ⊆ a.
func setContains(a, b []string) bool {
	if len(b) > len(a) {
		return false
	}
	i := 0
	for _, x := range b {
		for i < len(a) && a[i] < x {
			i++
		}
		if i == len(a) || a[i] != x {
			return false
		}
		i++
	}
	return true
}
