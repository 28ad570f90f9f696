package constraints

import (
	"fmt"
	"slices"
	"strings"
)

// Rank returns the indexes of the candidates that pass Check, best first.
//
// Marathon places on whichever acceptable offer comes first, so GROUP_BY
// without a value spreads only as well as offers happen to arrive (with
// offers from rack r1 first, every instance lands on r1: each is "the least
// used of the racks seen so far"). When the core sees several candidates at
// once, Rank fixes that: candidates are ordered by how many placed instances
// share their value for each GROUP_BY constraint (fewest first, the first
// GROUP_BY constraint deciding first); ties keep the candidates' order.
//
// Rank ranks against placed only: to place several instances in one round,
// append each placement to placed and rank again.
func Rank(cs []Constraint, candidates []Agent, placed []Agent) []int {
	var groups []*rule
	var tallies []map[string]int
	for _, c := range cs {
		if c.Operator != GroupBy {
			continue
		}
		r, err := compile(c)
		if err != nil {
			return nil // Check refuses every candidate
		}
		counts, _ := r.tally(placed)
		groups = append(groups, r)
		tallies = append(tallies, counts)
	}
	type ranked struct {
		i    int
		keys []int
	}
	var out []ranked
	for i := range candidates {
		if ok, _ := Check(cs, candidates[i], placed); !ok {
			continue
		}
		keys := make([]int, len(groups))
		for j, r := range groups {
			v, _, _ := r.f.read(&candidates[i]) // present: Check passed
			keys[j] = tallies[j][v]
		}
		out = append(out, ranked{i, keys})
	}
	slices.SortStableFunc(out, func(a, b ranked) int { return slices.Compare(a.keys, b.keys) })
	idx := make([]int, len(out))
	for j, r := range out {
		idx[j] = r.i
	}
	return idx
}

// Refusal is what one constraint refused among many candidates.
type Refusal struct {
	Index      int        // position of the constraint in cs
	Constraint Constraint //
	Agents     []string   // hostnames of the candidates it refused, in order
	Reason     string     // the first refusal's reason, as Check gives it
}

// Refusals evaluates every constraint on every candidate and returns, for
// each constraint that refused at least one, which candidates it refused (a
// candidate refused by two constraints counts for both). Constraints come in
// cs order.
func Refusals(cs []Constraint, candidates []Agent, placed []Agent) []Refusal {
	var out []Refusal
	for i, c := range cs {
		var ref *Refusal
		for j := range candidates {
			ok, why := checkOne(c, &candidates[j], placed)
			if ok {
				continue
			}
			if ref == nil {
				out = append(out, Refusal{Index: i, Constraint: c, Reason: why})
				ref = &out[len(out)-1]
			}
			ref.Agents = append(ref.Agents, candidates[j].name())
		}
	}
	return out
}

// Explain summarises Refusals for status messages (Marathon's "unfulfilled
// constraints"), e.g. "UNIQUE hostname: 3 agents refused (a1, a2, a3);
// LIKE rack r[12]: 1 agent refused (a4)". At most three hostnames are listed
// per constraint. It is "" when no constraint refused a candidate.
func Explain(cs []Constraint, candidates []Agent, placed []Agent) string {
	var b strings.Builder
	for i, r := range Refusals(cs, candidates, placed) {
		if i > 0 {
			b.WriteString("; ")
		}
		n := len(r.Agents)
		fmt.Fprintf(&b, "%s: %d agent%s refused (", r.Constraint, n, plural(n))
		shown := r.Agents[:min(n, 3)]
		b.WriteString(strings.Join(shown, ", "))
		if n > len(shown) {
			fmt.Fprintf(&b, ", %d more", n-len(shown))
		}
		b.WriteString(")")
	}
	return b.String()
}
