package resources

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// gen makes random Resources for property tests. side 0 or 1 draws ranges
// and set items from disjoint halves (so a side-0 and a side-1 collection
// never overlap there); side -1 draws from everything. The result is not
// necessarily normalised: entries come in random order and may repeat.
func gen(rng *rand.Rand, side int) Resources {
	stacks := [][]Reservation{
		nil,
		nil,
		{{Type: Static, Role: "prod"}},
		{{Type: Dynamic, Role: "eng", Principal: "p", Labels: map[string]string{"team": "x"}}},
		{{Type: Static, Role: "eng"}, {Type: Dynamic, Role: "eng/web", Principal: "q"}},
		{{Type: Static, Role: "we(i)rd;role"}},
	}
	names := []struct {
		name string
		typ  Type
	}{{"cpus", Scalar}, {"mem", Scalar}, {"disk", Scalar}, {"gpus", Scalar}, {"foo.bar", Scalar}, {"ports", Ranges}, {"zones", Set}}
	var out Resources
	for range rng.IntN(7) {
		n := names[rng.IntN(len(names))]
		r := Resource{Name: n.name, Type: n.typ, Reservations: stacks[rng.IntN(len(stacks))]}
		switch n.typ {
		case Scalar:
			r.Scalar = Value(rng.IntN(100000) + 1)
			if n.name == "gpus" {
				r.Scalar = Value(rng.IntN(8)+1) * Scale
			}
			if n.name == "disk" && rng.IntN(3) == 0 {
				r.Reservations = []Reservation{{Type: Dynamic, Role: "db", Principal: "fw"}}
				r.Disk = &DiskInfo{
					Persistence: &Persistence{ID: fmt.Sprintf("v%d", rng.IntN(2))},
					Volume:      &Volume{ContainerPath: "data", Mode: "RW"},
				}
				r.Scalar = Value(rng.IntN(2)+1) * 1000
			}
		case Ranges:
			for range rng.IntN(3) + 1 {
				base := uint64(rng.IntN(4)) * 1000
				if side >= 0 {
					base += uint64(side) * 500
				}
				b := base + uint64(rng.IntN(400))
				r.Ranges = append(r.Ranges, Range{b, b + uint64(rng.IntN(100))})
			}
		case Set:
			for range rng.IntN(3) + 1 {
				item := string(rune('a' + rng.IntN(4)))
				if side >= 0 {
					item = fmt.Sprint(side) + item
				}
				r.Set = append(r.Set, item)
			}
		}
		out = append(out, r)
	}
	return out
}

func TestProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 2026))
	n := 2000
	if testing.Short() {
		n = 200
	}
	for i := range n {
		a, b, c := gen(rng, 0), gen(rng, 1), gen(rng, -1)
		a0, b0, c0 := a.Clone(), b.Clone(), c.Clone()
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("case %d: a=%v b=%v c=%v: %s", i, a, b, c, fmt.Sprintf(format, args...))
		}
		for _, x := range []Resources{a, b, c} {
			if err := x.Validate(); err != nil {
				fail("generator made invalid resources: %v", err)
			}
		}
		ab := a.Plus(b)
		if !ab.Equal(b.Plus(a)) {
			fail("a + b != b + a")
		}
		if !ab.Plus(c).Equal(a.Plus(b.Plus(c))) {
			fail("(a + b) + c != a + (b + c)")
		}
		if got := ab.Minus(b); !got.Equal(a) {
			fail("(a + b) - b = %v", got)
		}
		if !ab.Contains(a) || !ab.Contains(b) || !a.Plus(c).Contains(c) {
			fail("a + b does not contain a or b")
		}
		if !c.Contains(c.Minus(a)) || !a.Contains(a.Minus(c)) {
			fail("x does not contain x - y")
		}
		if !a.Contains(a) || !a.Minus(a).IsEmpty() || !a.Contains(nil) {
			fail("a ⊇ a, a - a = ∅")
		}
		// b' ⊆ c, so (c - b') + b' == c.
		sub := c.Minus(a.Plus(b))
		if !c.Contains(sub) || !c.Minus(sub).Plus(sub).Equal(c) {
			fail("(c - s) + s != c for s ⊆ c")
		}
		if !a.IsEmpty() && !ab.Plus(c).Minus(a).Contains(b) {
			fail("(a + b + c) - a does not contain b")
		}
		for _, x := range []Resources{ab, ab.Plus(c), c.Minus(a), a.Minus(c), c.Minus(b)} {
			if !isNormal(x) {
				fail("result not normalised: %#v", x)
			}
		}
		checkRoundTrips(t, ab.Plus(c))
		if !reflect.DeepEqual(a, a0) || !reflect.DeepEqual(b, b0) || !reflect.DeepEqual(c, c0) {
			fail("operands modified")
		}
		// Order of the input does not matter.
		shuffled := c.Clone()
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if shuffled.String() != c.String() || !shuffled.Equal(c) {
			fail("order-dependent: %q vs %q", shuffled, c)
		}
		// ScalarTotal is additive.
		if ab.ScalarTotal("cpus") != a.ScalarTotal("cpus")+b.ScalarTotal("cpus") {
			fail("ScalarTotal not additive")
		}
	}
}

// checkRoundTrips checks Parse(String(r)) == r and the JSON round trip.
func checkRoundTrips(t *testing.T, r Resources) {
	t.Helper()
	s := r.String()
	p, err := Parse(s)
	if err != nil || !p.Equal(r) {
		t.Fatalf("Parse(String(r)): %v -> %q -> %v, %v", r, s, p, err)
	}
	if p.String() != s {
		t.Fatalf("String not stable: %q vs %q", p.String(), s)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var j Resources
	if err := json.Unmarshal(b, &j); err != nil || !j.Equal(r) {
		t.Fatalf("JSON round trip: %v -> %s -> %v, %v", r, b, j, err)
	}
}
