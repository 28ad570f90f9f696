package constraints

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/kernel/resources"
)

// fuzzAgents reads "host#attrs|host#attrs"; unparsable attributes are
// dropped.
func fuzzAgents(s string) []Agent {
	if s == "" {
		return nil
	}
	var out []Agent
	for spec := range strings.SplitSeq(s, "|") {
		host, attrs, _ := strings.Cut(spec, "#")
		as, _ := resources.ParseAttributes(attrs)
		out = append(out, Agent{Hostname: host, Attributes: as})
	}
	return out
}

// FuzzParseCheck parses one constraint and checks it (and the unparsed
// constraint) against a candidate and placed agents: nothing may panic, a
// refusal always has a reason, a parsed constraint is never reported as
// invalid, and Raw round-trips through Parse. Seeds: testdata/fuzz.
func FuzzParseCheck(f *testing.F) {
	f.Add("hostname", "UNIQUE", "", "a1#rack:r1", "a1#rack:r1|a2#rack:r2")
	f.Add("rack", "GROUP_BY", "3", "a1#rack:r1", "a2#rack:r1|a3#rack:r2")
	f.Add("rack", "LIKE", "r[12]", "a1#rack:r3", "")
	f.Add("level", "IS", "3.0", "a1#level:3", "")
	f.Add("zones", "IS", "{b,a}", "a1#zones:{a,b}", "")
	f.Add("ports", "IS", "[3-5,1-2]", "a1#ports:[1-5]", "")
	f.Add("@zone", "MAX_PER", "1", "a1#zone:a", "a2#zone:a")
	f.Add("rack", "CLUSTER", "", "a1#rack:r2", "a2#rack:r1|a3")
	f.Add("rack", "UNLIKE", "(", "a1", "")
	f.Fuzz(func(t *testing.T, fieldName, op, value, cand, placed string) {
		raw := []string{fieldName, op}
		if value != "" {
			raw = append(raw, value)
		}
		c := Constraint{Field: fieldName, Operator: op, Value: value}
		candidate := Agent{}
		if as := fuzzAgents(cand); len(as) > 0 {
			candidate = as[0]
		}
		pl := fuzzAgents(placed)

		ok, why := Check([]Constraint{c}, candidate, pl)
		if ok != (why == "") {
			t.Fatalf("Check(%v) = %v, %q", c, ok, why)
		}
		cs, err := Parse([][]string{raw})
		if err != nil {
			if ok {
				t.Fatalf("Check accepted %v, which Parse rejects: %v", c, err)
			}
			return
		}
		if !reflect.DeepEqual(cs, []Constraint{c}) {
			t.Fatalf("Parse(%q) = %+v", raw, cs)
		}
		if strings.HasPrefix(why, "invalid constraint") {
			t.Fatalf("parsed %v but Check says %q", c, why)
		}
		if back, err := Parse(ToRaw(cs)); err != nil || !reflect.DeepEqual(back, cs) {
			t.Fatalf("round trip of %+v: %+v, %v", cs, back, err)
		}
		cands := append([]Agent{candidate}, pl...)
		idx := Rank(cs, cands, pl)
		for _, i := range idx {
			if ok, _ := Check(cs, cands[i], pl); !ok {
				t.Fatalf("Rank returned refused candidate %d", i)
			}
		}
		refs := Refusals(cs, cands, pl)
		refused := 0
		for _, r := range refs {
			refused += len(r.Agents)
		}
		if refused+len(idx) != len(cands) {
			t.Fatalf("Rank %v and Refusals %+v do not cover %d candidates", idx, refs, len(cands))
		}
		_ = Explain(cs, cands, pl)
		_ = c.String()
	})
}
