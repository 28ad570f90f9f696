package constraints

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-dc/cairn/kernel/resources"
)

// ag is an agent "host" with attributes in text form ("rack:r1;level:3").
func ag(host, attrs string) Agent {
	return Agent{Hostname: host, Attributes: resources.MustParseAttributes(attrs)}
}

func ags(specs ...string) []Agent {
	var out []Agent
	for _, s := range specs {
		host, attrs, _ := strings.Cut(s, "#")
		out = append(out, ag(host, attrs))
	}
	return out
}

func TestCheck(t *testing.T) {
	unsortedSet := Agent{Hostname: "u1", Attributes: resources.Attributes{{Name: "zones", Type: resources.Set, Set: []string{"b", "a", "b"}}}}
	unmergedRanges := Agent{Hostname: "u2", Attributes: resources.Attributes{{Name: "ports", Type: resources.Ranges, Ranges: resources.RangeSet{{Begin: 3, End: 5}, {Begin: 1, End: 2}}}}}
	textThree := Agent{Hostname: "t3", Attributes: resources.Attributes{{Name: "level", Type: resources.Text, Text: "3"}}}
	badType := Agent{Hostname: "x", Attributes: resources.Attributes{{Name: "rack", Type: "WEIRD", Text: "r1"}}}

	tests := []struct {
		name   string
		cs     [][]string
		cand   Agent
		placed []Agent
		ok     bool
		why    string // exact reason when !ok (empty: not checked)
	}{
		{name: "no constraints", cand: ag("a1", ""), ok: true},

		// UNIQUE
		{name: "unique hostname first", cs: [][]string{{"hostname", "UNIQUE"}}, cand: ag("a1", ""), ok: true},
		{name: "unique hostname other", cs: [][]string{{"hostname", "UNIQUE"}}, cand: ag("a1", ""), placed: ags("a2", "a3"), ok: true},
		{name: "unique hostname taken", cs: [][]string{{"hostname", "UNIQUE"}}, cand: ag("a1", ""), placed: ags("a2", "a1"),
			why: "UNIQUE hostname: a1 already runs an instance"},
		{name: "unique @hostname taken", cs: [][]string{{"@hostname", "UNIQUE"}}, cand: ag("a1", ""), placed: ags("a1"),
			why: "UNIQUE @hostname: a1 already runs an instance"},
		{name: "unique no hostname", cs: [][]string{{"hostname", "UNIQUE"}}, cand: ag("", "rack:r1"),
			why: "UNIQUE hostname: the agent has no hostname"},
		{name: "unique text taken", cs: [][]string{{"rack", "UNIQUE"}}, cand: ag("a2", "rack:r1"), placed: ags("a1#rack:r1"),
			why: "UNIQUE rack: a2 has rack r1, which already runs an instance (on a1)"},
		{name: "unique text free", cs: [][]string{{"rack", "UNIQUE"}}, cand: ag("a2", "rack:r2"), placed: ags("a1#rack:r1"), ok: true},
		{name: "unique placed without attribute", cs: [][]string{{"rack", "UNIQUE"}}, cand: ag("a2", "rack:r1"), placed: ags("a1#zone:a", "a3"), ok: true},
		{name: "unique candidate without attribute", cs: [][]string{{"rack", "UNIQUE"}}, cand: ag("a2", "zone:a"),
			why: "UNIQUE rack: a2 has no rack attribute"},
		{name: "unique scalar taken", cs: [][]string{{"level", "UNIQUE"}}, cand: ag("a2", "level:1.5"), placed: ags("a1#level:1.50"),
			why: "UNIQUE level: a2 has level 1.5, which already runs an instance (on a1)"},
		{name: "unique scalar free", cs: [][]string{{"level", "UNIQUE"}}, cand: ag("a2", "level:1.5"), placed: ags("a1#level:15"), ok: true},
		{name: "unique ranges taken", cs: [][]string{{"ports", "UNIQUE"}}, cand: ag("a2", "ports:[1-5]"), placed: []Agent{unmergedRanges}, ok: false},
		{name: "unique set taken, order-free", cs: [][]string{{"zones", "UNIQUE"}}, cand: ag("a2", "zones:{a,b}"), placed: []Agent{unsortedSet},
			why: "UNIQUE zones: a2 has zones {a,b}, which already runs an instance (on u1)"},
		{name: "unique set free", cs: [][]string{{"zones", "UNIQUE"}}, cand: ag("a2", "zones:{a}"), placed: []Agent{unsortedSet}, ok: true},
		{name: "unique text vs scalar text form", cs: [][]string{{"level", "UNIQUE"}}, cand: ag("a2", "level:3"), placed: []Agent{textThree}, ok: false},
		{name: "unknown attribute type is missing", cs: [][]string{{"rack", "UNIQUE"}}, cand: badType,
			why: "UNIQUE rack: x has no rack attribute"},

		// CLUSTER
		{name: "cluster value match", cs: [][]string{{"rack", "CLUSTER", "r1"}}, cand: ag("a1", "rack:r1"), ok: true},
		{name: "cluster value mismatch", cs: [][]string{{"rack", "CLUSTER", "r1"}}, cand: ag("a1", "rack:r2"),
			why: "CLUSTER rack r1: a1 has rack r2"},
		{name: "cluster value missing", cs: [][]string{{"rack", "CLUSTER", "r1"}}, cand: ag("a1", ""),
			why: "CLUSTER rack r1: a1 has no rack attribute"},
		{name: "cluster hostname", cs: [][]string{{"hostname", "CLUSTER", "a1"}}, cand: ag("a1", ""), ok: true},
		{name: "cluster hostname mismatch", cs: [][]string{{"hostname", "CLUSTER", "a1"}}, cand: ag("a2", ""),
			why: "CLUSTER hostname a1: the agent is a2"},
		{name: "cluster scalar 3.0", cs: [][]string{{"level", "CLUSTER", "3.0"}}, cand: ag("a1", "level:3"), ok: true},
		{name: "cluster empty first", cs: [][]string{{"rack", "CLUSTER"}}, cand: ag("a1", "rack:r9"), ok: true},
		{name: "cluster empty same", cs: [][]string{{"rack", "CLUSTER", ""}}, cand: ag("a3", "rack:r1"), placed: ags("a1#rack:r1", "a2#rack:r1"), ok: true},
		{name: "cluster empty other", cs: [][]string{{"rack", "CLUSTER"}}, cand: ag("a3", "rack:r2"), placed: ags("a1#rack:r1", "a2#rack:r1"),
			why: "CLUSTER rack: the app's instances run on rack r1; a3 has rack r2"},
		{name: "cluster empty majority", cs: [][]string{{"rack", "CLUSTER"}}, cand: ag("a3", "rack:r1"), placed: ags("a1#rack:r2", "a2#rack:r1", "a4#rack:r1"), ok: true},
		{name: "cluster empty minority", cs: [][]string{{"rack", "CLUSTER"}}, cand: ag("a3", "rack:r2"), placed: ags("a1#rack:r2", "a2#rack:r1", "a4#rack:r1"), ok: false},
		{name: "cluster empty tie smallest", cs: [][]string{{"rack", "CLUSTER"}}, cand: ag("a3", "rack:r1"), placed: ags("a1#rack:r2", "a2#rack:r1"), ok: true},
		{name: "cluster empty placed lack it", cs: [][]string{{"rack", "CLUSTER"}}, cand: ag("a3", "rack:r2"), placed: ags("a1", "a2#zone:z"), ok: true},
		{name: "cluster empty hostname", cs: [][]string{{"hostname", "CLUSTER"}}, cand: ag("a2", ""), placed: ags("a1"),
			why: "CLUSTER hostname: the app's instances run on hostname a1; a2 has hostname a2"},

		// GROUP_BY
		{name: "group_by first", cs: [][]string{{"rack", "GROUP_BY"}}, cand: ag("a1", "rack:r1"), ok: true},
		{name: "group_by new value", cs: [][]string{{"rack", "GROUP_BY"}}, cand: ag("a1", "rack:r3"), placed: ags("x#rack:r1", "y#rack:r1", "z#rack:r2"), ok: true},
		{name: "group_by least used", cs: [][]string{{"rack", "GROUP_BY"}}, cand: ag("a1", "rack:r2"), placed: ags("x#rack:r1", "y#rack:r1", "z#rack:r2"), ok: true},
		{name: "group_by most used", cs: [][]string{{"rack", "GROUP_BY"}}, cand: ag("a1", "rack:r1"), placed: ags("x#rack:r1", "y#rack:r1", "z#rack:r2"),
			why: "GROUP_BY rack: a1 has rack r1, which runs 2 instances, but rack r2 runs only 1 instance"},
		{name: "group_by only value so far", cs: [][]string{{"rack", "GROUP_BY"}}, cand: ag("a1", "rack:r1"), placed: ags("x#rack:r1", "y#rack:r1"), ok: true},
		{name: "group_by n waits for new values", cs: [][]string{{"rack", "GROUP_BY", "3"}}, cand: ag("a1", "rack:r1"), placed: ags("x#rack:r1", "z#rack:r2"),
			why: "GROUP_BY rack 3: a1 has rack r1, which already runs 1 instance, and only 2 of 3 rack values are in use; waiting for an agent with another rack"},
		{name: "group_by n new value", cs: [][]string{{"rack", "GROUP_BY", "3"}}, cand: ag("a1", "rack:r3"), placed: ags("x#rack:r1", "z#rack:r2"), ok: true},
		{name: "group_by n all in use", cs: [][]string{{"rack", "GROUP_BY", "3"}}, cand: ag("a1", "rack:r1"), placed: ags("x#rack:r1", "y#rack:r2", "z#rack:r3"), ok: true},
		{name: "group_by missing", cs: [][]string{{"rack", "GROUP_BY"}}, cand: ag("a1", ""), why: "GROUP_BY rack: a1 has no rack attribute"},
		{name: "group_by placed missing ignored", cs: [][]string{{"rack", "GROUP_BY"}}, cand: ag("a1", "rack:r1"), placed: ags("x", "y#rack:r1"), ok: true},
		{name: "group_by hostname", cs: [][]string{{"hostname", "GROUP_BY"}}, cand: ag("a1", ""), placed: ags("a1", "a2"), ok: true},
		{name: "group_by hostname uneven", cs: [][]string{{"hostname", "GROUP_BY"}}, cand: ag("a1", ""), placed: ags("a1", "a2", "a1"), ok: false},
		{name: "group_by scalar", cs: [][]string{{"level", "GROUP_BY"}}, cand: ag("a1", "level:2"), placed: ags("x#level:2", "y#level:3"), ok: true},
		{name: "group_by set", cs: [][]string{{"zones", "GROUP_BY"}}, cand: unsortedSet, placed: ags("x#zones:{a,b}", "y#zones:{a,b}", "z#zones:{c}"), ok: false},
		{name: "group_by @zone", cs: [][]string{{"@zone", "GROUP_BY", "2"}}, cand: ag("a1", "zone:a"), placed: ags("x#zone:a"),
			why: "GROUP_BY @zone 2: a1 has zone a, which already runs 1 instance, and only 1 of 2 zone values are in use; waiting for an agent with another zone"},

		// LIKE
		{name: "like text", cs: [][]string{{"rack", "LIKE", "r[12]"}}, cand: ag("a1", "rack:r1"), ok: true},
		{name: "like text no", cs: [][]string{{"rack", "LIKE", "r[12]"}}, cand: ag("a1", "rack:r3"),
			why: "LIKE rack r[12]: a1's rack r3 does not match"},
		{name: "like anchored", cs: [][]string{{"rack", "LIKE", "r[12]"}}, cand: ag("a1", "rack:r12"), ok: false},
		{name: "like anchored prefix", cs: [][]string{{"rack", "LIKE", "r"}}, cand: ag("a1", "rack:xr"), ok: false},
		{name: "like alternation anchored", cs: [][]string{{"rack", "LIKE", "a|r1"}}, cand: ag("a1", "rack:r1x"), ok: false},
		{name: "like any", cs: [][]string{{"rack", "LIKE", ".*"}}, cand: ag("a1", "rack:r1"), ok: true},
		{name: "like missing", cs: [][]string{{"rack", "LIKE", ".*"}}, cand: ag("a1", ""), why: "LIKE rack .*: a1 has no rack attribute"},
		{name: "like hostname", cs: [][]string{{"hostname", "LIKE", "web-.*"}}, cand: ag("web-1", ""), ok: true},
		{name: "like hostname no", cs: [][]string{{"hostname", "LIKE", "web-.*"}}, cand: ag("db-1", ""),
			why: "LIKE hostname web-.*: hostname db-1 does not match"},
		{name: "like scalar", cs: [][]string{{"level", "LIKE", `1\.5`}}, cand: ag("a1", "level:1.500"), ok: true},
		{name: "like scalar integer", cs: [][]string{{"level", "LIKE", `[0-9]+`}}, cand: ag("a1", "level:3.0"), ok: true},
		{name: "like ranges", cs: [][]string{{"ports", "LIKE", `\[1-5\]`}}, cand: unmergedRanges, ok: true}, // 3-5,1-2 normalises to [1-5]
		{name: "like set", cs: [][]string{{"zones", "LIKE", `\{a,.*\}`}}, cand: unsortedSet, ok: true},
		{name: "like case flag", cs: [][]string{{"rack", "LIKE", `(?i)R1`}}, cand: ag("a1", "rack:r1"), ok: true},

		// UNLIKE
		{name: "unlike ok", cs: [][]string{{"rack", "UNLIKE", "r3"}}, cand: ag("a1", "rack:r1"), ok: true},
		{name: "unlike no", cs: [][]string{{"rack", "UNLIKE", "r[34]"}}, cand: ag("a1", "rack:r3"),
			why: "UNLIKE rack r[34]: a1's rack r3 matches"},
		{name: "unlike partial is ok", cs: [][]string{{"rack", "UNLIKE", "r"}}, cand: ag("a1", "rack:r3"), ok: true},
		{name: "unlike missing attribute matches", cs: [][]string{{"rack", "UNLIKE", ".*"}}, cand: ag("a1", ""), ok: true},
		{name: "unlike missing hostname matches", cs: [][]string{{"hostname", "UNLIKE", ".*"}}, cand: ag("", ""), ok: true},
		{name: "unlike hostname", cs: [][]string{{"@hostname", "UNLIKE", "db-.*"}}, cand: ag("db-2", ""),
			why: "UNLIKE @hostname db-.*: hostname db-2 matches"},
		{name: "unlike set", cs: [][]string{{"zones", "UNLIKE", `\{a,b\}`}}, cand: unsortedSet, ok: false},

		// MAX_PER
		{name: "max_per under", cs: [][]string{{"rack", "MAX_PER", "2"}}, cand: ag("a1", "rack:r1"), placed: ags("x#rack:r1", "y#rack:r2", "z#rack:r2"), ok: true},
		{name: "max_per at", cs: [][]string{{"rack", "MAX_PER", "2"}}, cand: ag("a1", "rack:r2"), placed: ags("x#rack:r1", "y#rack:r2", "z#rack:r2"),
			why: "MAX_PER rack 2: a1 has rack r2, which already runs 2 instances"},
		{name: "max_per hostname", cs: [][]string{{"hostname", "MAX_PER", "1"}}, cand: ag("a1", ""), placed: ags("a1"),
			why: "MAX_PER hostname 1: a1 already runs 1 instance"},
		{name: "max_per missing", cs: [][]string{{"rack", "MAX_PER", "5"}}, cand: ag("a1", ""), ok: false},
		{name: "max_per placed missing", cs: [][]string{{"rack", "MAX_PER", "1"}}, cand: ag("a1", "rack:r1"), placed: ags("x", "y"), ok: true},
		{name: "max_per scalar", cs: [][]string{{"level", "MAX_PER", "1"}}, cand: ag("a1", "level:2"), placed: ags("x#level:2.000"), ok: false},

		// IS
		{name: "is text", cs: [][]string{{"rack", "IS", "r1"}}, cand: ag("a1", "rack:r1"), ok: true},
		{name: "is text no", cs: [][]string{{"rack", "IS", "r1"}}, cand: ag("a1", "rack:r2"), why: "IS rack r1: a1 has rack r2"},
		{name: "is missing", cs: [][]string{{"rack", "IS", "r1"}}, cand: ag("a1", "zone:a"), why: "IS rack r1: a1 has no rack attribute"},
		{name: "is scalar", cs: [][]string{{"level", "IS", "3"}}, cand: ag("a1", "level:3"), ok: true},
		{name: "is scalar normalised", cs: [][]string{{"level", "IS", "3.0"}}, cand: ag("a1", "level:3"), ok: true},
		{name: "is scalar leading zero", cs: [][]string{{"level", "IS", "03"}}, cand: ag("a1", "level:3"), ok: true},
		{name: "is scalar fraction", cs: [][]string{{"level", "IS", "1.50"}}, cand: ag("a1", "level:1.5"), ok: true},
		{name: "is scalar no", cs: [][]string{{"level", "IS", "3"}}, cand: ag("a1", "level:1.5"), why: "IS level 3: a1 has level 1.5"},
		{name: "is negative scalar", cs: [][]string{{"level", "IS", "-2"}}, cand: ag("a1", "level:-2"), ok: true},
		{name: "is text not normalised", cs: [][]string{{"level", "IS", "3.0"}}, cand: textThree, ok: false},
		{name: "is ranges", cs: [][]string{{"ports", "IS", "[1-5]"}}, cand: ag("a1", "ports:[1-5]"), ok: true},
		{name: "is ranges normalised", cs: [][]string{{"ports", "IS", "[3-5,1-2]"}}, cand: unmergedRanges, ok: true},
		{name: "is ranges no", cs: [][]string{{"ports", "IS", "[1-4]"}}, cand: ag("a1", "ports:[1-5]"), why: "IS ports [1-4]: a1 has ports [1-5]"},
		{name: "is set", cs: [][]string{{"zones", "IS", "{a,b}"}}, cand: ag("a1", "zones:{b,a}"), ok: true},
		{name: "is set unordered", cs: [][]string{{"zones", "IS", "{b,a}"}}, cand: unsortedSet, ok: true},
		{name: "is set no", cs: [][]string{{"zones", "IS", "{a}"}}, cand: ag("a1", "zones:{a,b}"), ok: false},
		{name: "is semicolon", cs: [][]string{{"zones", "IS", "{a};x:1"}}, cand: ag("a1", "zones:{a}"), ok: false},
		{name: "is hostname", cs: [][]string{{"hostname", "IS", "a1"}}, cand: ag("a1", ""), ok: true},
		{name: "is hostname no", cs: [][]string{{"hostname", "IS", "a1"}}, cand: ag("a2", ""), why: "IS hostname a1: the agent is a2"},
		{name: "is @region", cs: [][]string{{"@region", "IS", "eu"}}, cand: ag("a1", "region:eu;zone:b"), ok: true},
		{name: "is @zone", cs: [][]string{{"@zone", "IS", "a"}}, cand: ag("a1", "region:eu;zone:b"), why: "IS @zone a: a1 has zone b"},
		{name: "is @zone missing", cs: [][]string{{"@zone", "IS", "a"}}, cand: ag("a1", "region:eu"), why: "IS @zone a: a1 has no zone attribute"},

		// Combinations: all must hold; the first failing one is reported.
		{name: "combo ok", cs: [][]string{{"hostname", "UNIQUE"}, {"rack", "LIKE", "r[12]"}, {"rack", "MAX_PER", "2"}},
			cand: ag("a3", "rack:r2"), placed: ags("a1#rack:r1", "a2#rack:r1"), ok: true},
		{name: "combo unique", cs: [][]string{{"hostname", "UNIQUE"}, {"rack", "LIKE", "r[12]"}, {"rack", "MAX_PER", "2"}},
			cand: ag("a1", "rack:r1"), placed: ags("a1#rack:r1", "a2#rack:r1"), why: "UNIQUE hostname: a1 already runs an instance"},
		{name: "combo like", cs: [][]string{{"hostname", "UNIQUE"}, {"rack", "LIKE", "r[12]"}, {"rack", "MAX_PER", "2"}},
			cand: ag("a3", "rack:r3"), placed: ags("a1#rack:r1", "a2#rack:r1"), why: "LIKE rack r[12]: a3's rack r3 does not match"},
		{name: "combo max_per", cs: [][]string{{"hostname", "UNIQUE"}, {"rack", "LIKE", "r[12]"}, {"rack", "MAX_PER", "2"}},
			cand: ag("a3", "rack:r1"), placed: ags("a1#rack:r1", "a2#rack:r1"), why: "MAX_PER rack 2: a3 has rack r1, which already runs 2 instances"},
		{name: "combo zone group_by + hostname unique", cs: [][]string{{"@zone", "GROUP_BY", "2"}, {"hostname", "UNIQUE"}},
			cand: ag("a1", "zone:b"), placed: ags("a1#zone:a"), why: "UNIQUE hostname: a1 already runs an instance"},
		{name: "combo cluster + unlike", cs: [][]string{{"rack", "CLUSTER", "r1"}, {"hostname", "UNLIKE", "bad-.*"}},
			cand: ag("bad-1", "rack:r1"), why: "UNLIKE hostname bad-.*: hostname bad-1 matches"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := Parse(tt.cs)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			wantOK := tt.ok
			if tt.why != "" {
				wantOK = false
			}
			ok, why := Check(cs, tt.cand, tt.placed)
			if ok != wantOK {
				t.Fatalf("Check = %v, %q; want %v", ok, why, wantOK)
			}
			if ok != (why == "") {
				t.Fatalf("ok = %v but why = %q", ok, why)
			}
			if tt.why != "" && why != tt.why {
				t.Fatalf("why = %q\n want %q", why, tt.why)
			}
		})
	}
}

// place puts n instances one after the other, each on the first agent (in
// offer order) that Check accepts, like Marathon taking offers as they come.
func place(t *testing.T, cs []Constraint, offers []Agent, n int) []Agent {
	t.Helper()
	var placed []Agent
	for i := range n {
		var chosen *Agent
		for j := range offers {
			if ok, _ := Check(cs, offers[j], placed); ok {
				chosen = &offers[j]
				break
			}
		}
		if chosen == nil {
			t.Fatalf("instance %d: no agent accepted: %s", i, Explain(cs, offers, placed))
		}
		placed = append(placed, *chosen)
	}
	return placed
}

func rackCounts(placed []Agent) map[string]int {
	m := map[string]int{}
	for _, a := range placed {
		r, _ := a.Attributes.Get("rack")
		m[r.Value()]++
	}
	return m
}

func spread(counts map[string]int) int {
	vs := slices.Collect(maps.Values(counts))
	return slices.Max(vs) - slices.Min(vs)
}

// threeRacks: two agents per rack, offered rack by rack (the worst order
// for spreading).
var threeRacks = ags("a1#rack:r1", "a2#rack:r1", "b1#rack:r2", "b2#rack:r2", "c1#rack:r3", "c2#rack:r3")

func TestGroupBySpreadsSevenOverThreeRacks(t *testing.T) {
	cs := MustParse([]string{"rack", "GROUP_BY", "3"})
	var placed []Agent
	for i := range 7 {
		placed = placeFrom(t, cs, threeRacks, placed)
		// Never more than one apart once every rack is in use.
		if c := rackCounts(placed); len(c) == 3 && spread(c) > 1 {
			t.Fatalf("after %d placements: %v", i+1, c)
		}
	}
	got := rackCounts(placed)
	if want := map[string]int{"r1": 3, "r2": 2, "r3": 2}; !maps.Equal(got, want) {
		t.Fatalf("racks = %v, want %v", got, want)
	}
	// And in any offer order the result is as even.
	for rot := range threeRacks {
		offers := append(slices.Clone(threeRacks[rot:]), threeRacks[:rot]...)
		c := rackCounts(place(t, cs, offers, 7))
		if len(c) != 3 || spread(c) != 1 {
			t.Fatalf("rotation %d: %v", rot, c)
		}
	}
}

// placeFrom places one more instance after placed.
func placeFrom(t *testing.T, cs []Constraint, offers []Agent, placed []Agent) []Agent {
	t.Helper()
	for j := range offers {
		if ok, _ := Check(cs, offers[j], placed); ok {
			return append(slices.Clone(placed), offers[j])
		}
	}
	t.Fatalf("no agent accepted: %s", Explain(cs, offers, placed))
	return nil
}

// Without a value GROUP_BY only knows the values seen so far (Marathon's
// behaviour): offers in rack order put everything on r1. Rank fixes that.
func TestGroupByWithoutValue(t *testing.T) {
	cs := MustParse([]string{"rack", "GROUP_BY"})
	if c := rackCounts(place(t, cs, threeRacks, 7)); c["r1"] != 7 {
		t.Fatalf("first-fit without n: %v, want all on r1 (Marathon's behaviour)", c)
	}
	// Offers arriving round-robin over the racks spread.
	rr := ags("a1#rack:r1", "b1#rack:r2", "c1#rack:r3")
	var placed []Agent
	for i := range 7 {
		placed = placeFrom(t, cs, []Agent{rr[i%3]}, placed)
	}
	if c := rackCounts(placed); spread(c) != 1 || len(c) != 3 {
		t.Fatalf("round-robin: %v", c)
	}
	// Rank over all offers spreads whatever their order.
	placed = nil
	for range 7 {
		idx := Rank(cs, threeRacks, placed)
		if len(idx) == 0 {
			t.Fatal("Rank: nothing")
		}
		placed = append(placed, threeRacks[idx[0]])
	}
	if c := rackCounts(placed); len(c) != 3 || spread(c) != 1 {
		t.Fatalf("ranked: %v", c)
	}
}

func TestMaxPerPlacement(t *testing.T) {
	cs := MustParse([]string{"rack", "MAX_PER", "2"}, []string{"hostname", "UNIQUE"})
	placed := place(t, cs, threeRacks, 6)
	if c := rackCounts(placed); !maps.Equal(c, map[string]int{"r1": 2, "r2": 2, "r3": 2}) {
		t.Fatalf("racks = %v", c)
	}
	// A seventh fits nowhere; Explain says why.
	if idx := Rank(cs, threeRacks, placed); len(idx) != 0 {
		t.Fatalf("Rank = %v, want none", idx)
	}
	got := Explain(cs, threeRacks, placed)
	want := "MAX_PER rack 2: 6 agents refused (a1, a2, b1, 3 more); UNIQUE hostname: 6 agents refused (a1, a2, b1, 3 more)"
	if got != want {
		t.Fatalf("Explain = %q\n want %q", got, want)
	}
}

func TestRank(t *testing.T) {
	cs := MustParse([]string{"rack", "GROUP_BY"}, []string{"hostname", "UNIQUE"})
	cands := ags("a1#rack:r1", "a2#rack:r1", "b1#rack:r2", "c1#rack:r3", "n1")
	placed := ags("a1#rack:r1", "b9#rack:r2", "x#rack:r1")
	// a1 taken (UNIQUE); a2 refused (r1 has 2 > r2's 1); n1 has no rack;
	// c1 (r3, unused) before b1 (r2, 1).
	if got := Rank(cs, cands, placed); !slices.Equal(got, []int{3, 2}) {
		t.Fatalf("Rank = %v", got)
	}
	// Without GROUP_BY, Rank keeps the candidates' order.
	if got := Rank(MustParse([]string{"hostname", "UNIQUE"}), cands, placed); !slices.Equal(got, []int{1, 2, 3, 4}) {
		t.Fatalf("Rank = %v", got)
	}
	if got := Rank(nil, cands, nil); !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("Rank = %v", got)
	}
	if got := Rank([]Constraint{{Field: "rack", Operator: "GROUP_BY", Value: "x"}}, cands, nil); len(got) != 0 {
		t.Fatalf("Rank with invalid constraint = %v", got)
	}
}

func TestExplain(t *testing.T) {
	cs := MustParse([]string{"hostname", "UNIQUE"}, []string{"rack", "LIKE", "r[12]"})
	cands := ags("a1#rack:r1", "a2#rack:r3", "a3#rack:r1", "a4")
	placed := ags("a1#rack:r1", "a3#rack:r2")
	want := "UNIQUE hostname: 2 agents refused (a1, a3); LIKE rack r[12]: 2 agents refused (a2, a4)"
	if got := Explain(cs, cands, placed); got != want {
		t.Fatalf("Explain = %q\n want %q", got, want)
	}
	refs := Refusals(cs, cands, placed)
	if len(refs) != 2 || refs[1].Index != 1 || refs[1].Reason != "LIKE rack r[12]: a2's rack r3 does not match" {
		t.Fatalf("Refusals = %+v", refs)
	}
	if got := Explain(cs, ags("a9#rack:r2"), placed); got != "" {
		t.Fatalf("Explain with an acceptable agent = %q", got)
	}
	if got := Explain(cs, nil, placed); got != "" {
		t.Fatalf("Explain with no agents = %q", got)
	}
}

func TestCheckInvalidConstraint(t *testing.T) {
	for _, c := range []Constraint{
		{Field: "rack", Operator: "NEAR"},
		{Field: "rack", Operator: "LIKE", Value: "("},
		{Field: "rack", Operator: "MAX_PER"},
		{Field: "", Operator: "UNIQUE"},
	} {
		ok, why := Check([]Constraint{c}, ag("a1", "rack:r1"), nil)
		if ok || !strings.HasPrefix(why, "invalid constraint ") {
			t.Errorf("Check(%v) = %v, %q", c, ok, why)
		}
	}
}

func TestConcurrentCheck(t *testing.T) {
	// Exercise the regexp cache under -race.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				cs := []Constraint{{Field: "rack", Operator: "LIKE", Value: fmt.Sprintf("r%d|r%d", i, j)}}
				Check(cs, ag("a", "rack:r1"), nil)
			}
		}()
	}
	wg.Wait()
}

func TestString(t *testing.T) {
	for c, want := range map[Constraint]string{
		{"hostname", "UNIQUE", ""}:   "UNIQUE hostname",
		{"rack", "GROUP_BY", "3"}:    "GROUP_BY rack 3",
		{"rack", "LIKE", "r[12]"}:    "LIKE rack r[12]",
		{"rack", "IS", "a b"}:        `IS rack "a b"`,
		{"rack", "IS", "a\tb"}:       `IS rack "a\tb"`,
		{"", "UNIQUE", ""}:           `UNIQUE ""`,
		{"rack", "CLUSTER", "x:y;z"}: `CLUSTER rack "x:y;z"`,
	} {
		if got := c.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", c, got, want)
		}
	}
}
