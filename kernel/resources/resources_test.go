package resources

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"  ", ""},
		{";;", ""},
		{"cpus:4;mem:8192;disk:10000;ports:[31000-32000,33000-33010];zones:{a,b}",
			"cpus:4;disk:10000;mem:8192;ports:[31000-32000,33000-33010];zones:{a,b}"},
		{" cpus : 4 ; mem:1024 ;", "cpus:4;mem:1024"},
		{"cpus ( prod ) : 2", "cpus(prod):2"},
		{"cpus(prod):2;cpus:1;cpus(dev):0.5", "cpus:1;cpus(dev):0.5;cpus(prod):2"},
		{"cpus:1;cpus:2.5;cpus(prod):1;cpus(prod):1", "cpus:3.5;cpus(prod):2"},
		{"cpus(*):1", "cpus:1"},
		{"cpus(eng/web):1", "cpus(eng/web):1"},
		{"cpus:0;mem:0.000", ""},
		{"ports:[];zones:{}", ""},
		{"ports:[ 1 - 5 , 3-8, 10 ]", "ports:[1-8,10-10]"},
		{"ports:[1-5];ports:[6-9]", "ports:[1-9]"},
		{"zones:{ b , a , b }", "zones:{a,b}"},
		{"zones:{a};zones:{c,b}", "zones:{a,b,c}"},
		{"gpus:2", "gpus:2"},
		{"my.custom-res_1:1.5", "my.custom-res_1:1.5"},
		{"cpus:1.500", "cpus:1.5"},
		{"\tcpus:1\n;\nmem:2\r\n", "cpus:1;mem:2"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got.String() != tt.want {
			t.Errorf("Parse(%q).String() = %q; want %q", tt.in, got.String(), tt.want)
		}
		again, err := Parse(got.String())
		if err != nil || !again.Equal(got) {
			t.Errorf("round trip of %q: %v, %v", got.String(), again, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // the whole error, or a substring when it starts with "~"
	}{
		{"cpus:abc", `resource "cpus:abc": value "abc" is not a number; expected e.g. cpus:0.5`},
		{"ports:[5-1]", `resource "ports:[5-1]": range 5-1 has begin > end`},
		{"cpus:4;mem:lots", `resource "mem:lots": value "lots" is not a number; expected e.g. mem:0.5`},
		{"cpus:0.0001", `resource "cpus:0.0001": value "0.0001" has more than 3 decimals; scalars are precise to 0.001`},
		{"cpus:-1", `resource "cpus:-1": value "-1" is negative; resources must be >= 0`},
		{"cpus:NaN", `resource "cpus:NaN": value "NaN" is not a finite number`},
		{"cpus:Inf", `resource "cpus:Inf": value "Inf" is not a finite number`},
		{"cpus:99999999999999999", `~is too large`},
		{"cpus", `resource "cpus": missing ':' between name and value; expected e.g. cpus:2`},
		{"cpus:", `resource "cpus:": missing value after ':'; expected e.g. cpus:2`},
		{":4", `~missing name`},
		{"cp us:4", `~resource name "cp us" contains ' '`},
		{"cpus,mem:4", `~resource name "cpus,mem" contains ','`},
		{"c[1]:4", `~contains '['`},
		{"cpus(prod:2", `~missing ')' after the role`},
		{"cpus(prod)x:2", `~expected ':' after (prod) but found "x:2"`},
		{"cpus():1", `~empty role in ()`},
		{"cpus(-x):1", `~path segment "-x" starts with '-'`},
		{"cpus(a//b):1", `~empty path segment`},
		{"cpus(a/./b):1", `~"." is not allowed`},
		{"ports:5", `resource "ports:5": ports must be of type RANGES, e.g. ports:[31000-32000] (got SCALAR)`},
		{"ports:lots", `resource "ports:lots": value "lots" is not a list of ranges; expected e.g. ports:[31000-32000]`},
		{"cpus:[1-2]", `resource "cpus:[1-2]": cpus must be of type SCALAR, e.g. cpus:2 (got RANGES)`},
		{"mem:{a}", `~mem must be of type SCALAR`},
		{"gpus:0.5", `resource "gpus:0.5": gpus must be a whole number (got 0.5)`},
		{"ports:[1-2", `~must end with ']'`},
		{"ports:[a-b]", `~range "a-b" is not of the form begin-end`},
		{"ports:[1-2-3]", `~range "1-2-3" is not of the form begin-end`},
		{"ports:[-5]", `~range "-5" is not of the form`},
		{"zones:{a,,b}", `~has an empty item`},
		{"zones:{a", `~must end with '}'`},
		{"zones:{a;b}", `~must end with '}'`},
		{"foo:1;foo:{a}", `resource "foo:{a}": foo was given as SCALAR before ("foo:1"); a resource name has one type`},
		{"{a,b}", `~did you forget the name, as in zones:{a,b}?`},
		{`{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}`, `~scalar.value: must be >= 0`},
		{`{"name":"cpus","type":"SCALAR","scalar":{"value":1}} x`, `~expected ';' but found "x"`},
		{`[{"name":"cpus"`, `~resources: invalid JSON`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded; want error %q", tt.in, tt.want)
			continue
		}
		if sub, ok := strings.CutPrefix(tt.want, "~"); ok {
			if !strings.Contains(err.Error(), sub) {
				t.Errorf("Parse(%q) error %q; want it to contain %q", tt.in, err, sub)
			}
		} else if err.Error() != tt.want {
			t.Errorf("Parse(%q) error\n  %q\nwant\n  %q", tt.in, err, tt.want)
		}
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("MustParse did not panic")
		}
	}()
	MustParse("cpus:x")
}

func TestArithmetic(t *testing.T) {
	tests := []struct {
		a, b        string
		plus, minus string
		contains    bool // a ⊇ b
	}{
		{"", "", "", "", true},
		{"cpus:4;mem:1024", "", "cpus:4;mem:1024", "cpus:4;mem:1024", true},
		{"", "cpus:1", "cpus:1", "", false},
		{"cpus:4;mem:1024", "cpus:1.5;mem:24", "cpus:5.5;mem:1048", "cpus:2.5;mem:1000", true},
		{"cpus:4", "cpus:4", "cpus:8", "", true},
		{"cpus:1", "cpus:4", "cpus:5", "", false}, // clamped at zero
		{"cpus:1", "mem:4", "cpus:1;mem:4", "cpus:1", false},
		{"cpus:4", "cpus(prod):1", "cpus:4;cpus(prod):1", "cpus:4", false}, // reservations must match
		{"cpus(prod):4", "cpus(prod):1", "cpus(prod):5", "cpus(prod):3", true},
		{"cpus(eng):4", "cpus(eng/web):1", "cpus(eng):4;cpus(eng/web):1", "cpus(eng):4", false},
		{"ports:[1-10]", "ports:[3-4]", "ports:[1-10]", "ports:[1-2,5-10]", true},
		{"ports:[1-10]", "ports:[8-12]", "ports:[1-12]", "ports:[1-7]", false},
		{"ports:[1-10]", "ports:[11-12]", "ports:[1-12]", "ports:[1-10]", false},
		{"zones:{a,b,c}", "zones:{b}", "zones:{a,b,c}", "zones:{a,c}", true},
		{"zones:{a}", "zones:{b}", "zones:{a,b}", "zones:{a}", false},
		{"cpus:16;mem:65536;disk:100000;ports:[31000-32000];cpus(prod):4",
			"cpus:0.5;mem:512;ports:[31005-31005]",
			"cpus:16.5;cpus(prod):4;disk:100000;mem:66048;ports:[31000-32000]",
			"cpus:15.5;cpus(prod):4;disk:100000;mem:65024;ports:[31000-31004,31006-32000]", true},
	}
	for _, tt := range tests {
		a, b := MustParse(tt.a), MustParse(tt.b)
		a0, b0 := a.Clone(), b.Clone()
		if got := a.Plus(b); got.String() != tt.plus {
			t.Errorf("%q + %q = %q; want %q", tt.a, tt.b, got, tt.plus)
		}
		if got := a.Minus(b); got.String() != tt.minus {
			t.Errorf("%q - %q = %q; want %q", tt.a, tt.b, got, tt.minus)
		}
		if got := a.Contains(b); got != tt.contains {
			t.Errorf("%q ⊇ %q = %v", tt.a, tt.b, got)
		}
		if !reflect.DeepEqual(a, a0) || !reflect.DeepEqual(b, b0) {
			t.Errorf("%q, %q: operands modified", tt.a, tt.b)
		}
	}
}

func TestPlusMinusDoNotAlias(t *testing.T) {
	a := MustParse("cpus:1;ports:[1-5]")
	b := MustParse("cpus:1")
	sum := a.Plus(b)
	sum[0].Scalar = 99000
	if a[0].Scalar != 1000 || b[0].Scalar != 1000 {
		t.Fatal("Plus result aliases its operands' entries")
	}
	diff := a.Minus(nil)
	diff[0].Scalar = 7
	if a[0].Scalar != 1000 {
		t.Fatal("Minus result aliases the receiver's entries")
	}
}

func TestUnnormalisedInput(t *testing.T) {
	lit := Resources{
		{Name: "mem", Type: Scalar, Scalar: 512},
		{Name: "ports", Type: Ranges, Ranges: RangeSet{{10, 20}, {1, 5}, {6, 8}}},
		{Name: "cpus", Type: Scalar, Scalar: 1000},
		{Name: "cpus", Type: Scalar, Scalar: 500},
		{Name: "zones", Type: Set, Set: []string{"b", "a", "b"}},
		{Name: "disk", Type: Scalar, Scalar: 0, Disk: &DiskInfo{}},
		{Name: "cpus", Type: Scalar, Scalar: 1000, Reservations: []Reservation{}},
	}
	want := MustParse("cpus:2.5;mem:0.512;ports:[1-8,10-20];zones:{a,b}")
	if !lit.Equal(want) || !want.Equal(lit) {
		t.Fatalf("literal %v != %v", lit, want)
	}
	if got := lit.Plus(nil); !reflect.DeepEqual(got, want) {
		t.Fatalf("lit + nothing = %#v", got)
	}
	if !lit.Contains(MustParse("cpus:2.5;ports:[7-8]")) || lit.Contains(MustParse("ports:[9]")) {
		t.Fatal("Contains on literal")
	}
	if got := lit.Minus(MustParse("cpus:2;zones:{a}")).String(); got != "cpus:0.5;mem:0.512;ports:[1-8,10-20];zones:{b}" {
		t.Fatalf("lit - x = %s", got)
	}
	if lit[0].Name != "mem" || lit[1].Ranges[0].Begin != 10 || lit[4].Set[0] != "b" {
		t.Fatal("literal modified")
	}
}

func dynVolume(id string, size Value) Resource {
	return Resource{
		Name: "disk", Type: Scalar, Scalar: size,
		Reservations: []Reservation{{Type: Dynamic, Role: "db", Principal: "ops"}},
		Disk:         &DiskInfo{Persistence: &Persistence{ID: id}, Volume: &Volume{ContainerPath: "data", Mode: "RW"}},
	}
}

func TestPersistentVolumes(t *testing.T) {
	v1 := Resources{dynVolume("v1", 100000)}
	v2 := Resources{dynVolume("v2", 100000)}
	plain := MustParse("disk:50")
	both := v1.Plus(v2).Plus(plain)
	if len(both) != 3 {
		t.Fatalf("volumes with different ids merged: %v", both)
	}
	if !both.Contains(v1) || !both.Contains(v2) || !both.Contains(plain) {
		t.Fatal("whole volumes not contained")
	}
	half := Resources{dynVolume("v1", 50000)}
	if both.Contains(half) {
		t.Fatal("part of a persistent volume is contained")
	}
	if got := both.Minus(half); !got.Equal(both) {
		t.Fatalf("subtracting part of a volume changed it: %v", got)
	}
	if got := both.Minus(v1); !got.Equal(v2.Plus(plain)) {
		t.Fatalf("both - v1 = %v", got)
	}
	// The same volume twice (e.g. summed over agents) stays two atomic entries.
	twice := v1.Plus(v1)
	if len(twice) != 2 || twice.ScalarTotal("disk") != 200000 {
		t.Fatalf("v1 + v1 = %v", twice)
	}
	if !twice.Minus(v1).Equal(v1) || !twice.Contains(v1.Plus(v1)) || v1.Contains(twice) {
		t.Fatal("multiset semantics of identical volumes")
	}
	// Persistent volumes need the JSON form in text, and survive it.
	s := both.String()
	if !strings.Contains(s, `"persistence":{"id":"v1"}`) {
		t.Fatalf("String = %s", s)
	}
	back, err := Parse(s)
	if err != nil || !back.Equal(both) {
		t.Fatalf("Parse(String) = %v, %v", back, err)
	}
}

func TestFiltersAndRoles(t *testing.T) {
	r := MustParse("cpus:8;cpus(eng):4;cpus(eng/web):2;cpus(engineering):1;cpus(prod):3;mem:100")
	tests := []struct {
		got  Resources
		want string
	}{
		{r.Unreserved(), "cpus:8;mem:100"},
		{r.ReservedFor("eng"), "cpus(eng):4"},
		{r.ReservedFor("*"), "cpus:8;mem:100"},
		{r.AllocatableTo("eng"), "cpus:8;cpus(eng):4;mem:100"},
		{r.AllocatableTo("eng/web"), "cpus:8;cpus(eng):4;cpus(eng/web):2;mem:100"},
		{r.AllocatableTo("eng/web/api"), "cpus:8;cpus(eng):4;cpus(eng/web):2;mem:100"},
		{r.AllocatableTo("dev"), "cpus:8;mem:100"},
		{r.Named("mem"), "mem:100"},
		{r.Filter(func(x Resource) bool { return x.Scalar > 3000 }), "cpus:8;cpus(eng):4;mem:100"},
		{r.Flatten(), "cpus:18;mem:100"},
		{r.ScalarQuantities(), "cpus:18;mem:100"},
	}
	for i, tt := range tests {
		if tt.got.String() != tt.want {
			t.Errorf("%d: got %q; want %q", i, tt.got, tt.want)
		}
	}
	if got := r.ScalarTotal("cpus"); got != 18000 {
		t.Errorf("ScalarTotal(cpus) = %v", got)
	}
	if got := r.Names(); !reflect.DeepEqual(got, []string{"cpus", "mem"}) {
		t.Errorf("Names = %v", got)
	}
	if r[0].Role() != "*" || r[1].Role() != "eng" || r[1].IsDynamicallyReserved() || !r[1].IsReserved() {
		t.Error("Role/IsReserved")
	}
}

func TestPushPopReservation(t *testing.T) {
	base := MustParse("cpus(eng):2;mem(eng):10")
	web := Reservation{Type: Dynamic, Role: "eng/web", Principal: "alice", Labels: map[string]string{"team": "web"}}
	refined := base.PushReservation(web)
	if err := refined.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(refined[0].Reservations) != 2 || refined[0].Role() != "eng/web" || !refined[0].IsDynamicallyReserved() {
		t.Fatalf("pushed = %#v", refined)
	}
	if len(base[0].Reservations) != 1 {
		t.Fatal("PushReservation modified its receiver")
	}
	if got := refined.PopReservation(); !got.Equal(base) {
		t.Fatalf("pop(push(x)) = %v", got)
	}
	// Unreserving merges with what was already there.
	mixed := MustParse("cpus:1").Plus(MustParse("cpus:2").PushReservation(Reservation{Type: Dynamic, Role: "prod"}))
	if got := mixed.PopReservation(); got.String() != "cpus:3" {
		t.Fatalf("unreserve = %v", got)
	}
	if err := MustParse("cpus(eng):1").PushReservation(Reservation{Type: Dynamic, Role: "prod"}).Validate(); err == nil ||
		!strings.Contains(err.Error(), `"prod" does not refine "eng"`) {
		t.Fatalf("bad refinement: %v", err)
	}
}

func TestValidate(t *testing.T) {
	good := Resource{Name: "cpus", Type: Scalar, Scalar: 1000}
	tests := []struct {
		name string
		r    Resource
		want string
	}{
		{"ok", good, ""},
		{"no name", Resource{Type: Scalar, Scalar: 1}, "resources[0].name: missing"},
		{"bad name", Resource{Name: "a;b", Type: Scalar, Scalar: 1}, `resources[0].name: resource name "a;b" contains ';'`},
		{"no type", Resource{Name: "x", Scalar: 1}, "resources[0].type: missing for x"},
		{"text type", Resource{Name: "x", Type: Text}, `resources[0].type: unknown type "TEXT"`},
		{"negative", Resource{Name: "cpus", Type: Scalar, Scalar: -1}, "resources[0].scalar.value: must be >= 0 (got -0.001)"},
		{"mixed", Resource{Name: "x", Type: Scalar, Scalar: 1, Set: []string{"a"}}, "resources[0].set: set on SCALAR resource x"},
		{"bad range", Resource{Name: "ports", Type: Ranges, Ranges: RangeSet{{5, 1}}}, "resources[0].ranges.range[0]: range 5-1 has begin > end"},
		{"empty item", Resource{Name: "z", Type: Set, Set: []string{""}}, "resources[0].set.item[0]: is empty"},
		{"control item", Resource{Name: "z", Type: Set, Set: []string{"a\x00"}}, "resources[0].set.item[0]: \"a\\x00\" contains the control character"},
		{"star", Resource{Name: "cpus", Type: Scalar, Scalar: 1, Reservations: []Reservation{{Type: Static, Role: "*"}}}, `resources[0].reservations[0].role: cannot reserve for "*"`},
		{"no res type", Resource{Name: "cpus", Type: Scalar, Scalar: 1, Reservations: []Reservation{{Role: "a"}}}, "resources[0].reservations[0].type: missing"},
		{"static on top", Resource{Name: "cpus", Type: Scalar, Scalar: 1, Reservations: []Reservation{{Type: Dynamic, Role: "a"}, {Type: Static, Role: "a/b"}}}, "resources[0].reservations[1].type: STATIC reservations must be at the bottom"},
		{"not refined", Resource{Name: "cpus", Type: Scalar, Scalar: 1, Reservations: []Reservation{{Type: Static, Role: "a"}, {Type: Dynamic, Role: "a"}}}, `resources[0].reservations[1].role: "a" does not refine "a"`},
		{"disk on cpus", Resource{Name: "cpus", Type: Scalar, Scalar: 1, Disk: &DiskInfo{Persistence: &Persistence{ID: "x"}}}, "resources[0].disk: only disk resources"},
		{"no id", Resource{Name: "disk", Type: Scalar, Scalar: 1, Disk: &DiskInfo{Persistence: &Persistence{}}}, "resources[0].disk.persistence.id: missing"},
		{"bad mode", Resource{Name: "disk", Type: Scalar, Scalar: 1, Disk: &DiskInfo{Persistence: &Persistence{ID: "v"}, Volume: &Volume{ContainerPath: "d", Mode: "RX"}}}, `resources[0].disk.volume.mode: "RX" is not a volume mode; use RW or RO`},
	}
	for _, tt := range tests {
		err := Resources{tt.r}.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("%s: error %v; want prefix %q", tt.name, err, tt.want)
		}
	}
	err := Resources{good, {Name: "foo", Type: Scalar, Scalar: 1}, {Name: "foo", Type: Set, Set: []string{"a"}}}.Validate()
	if err == nil || err.Error() != "resources[2].type: foo is SET here but SCALAR in resources[1]; a resource name has one type" {
		t.Errorf("type conflict: %v", err)
	}
	if err := (Resource{Name: "cpus", Type: Scalar, Scalar: -5}).Validate(); err == nil || !strings.Contains(err.Error(), `resource "cpus": scalar.value`) {
		t.Errorf("Resource.Validate: %v", err)
	}
}

func TestValidateRole(t *testing.T) {
	for _, ok := range []string{"*", "prod", "eng/web", "a.b", "a-b", "_x", "x*", "a/b/c", "slave_public", "ü", "a(b", "a:b"} {
		if err := ValidateRole(ok); err != nil {
			t.Errorf("ValidateRole(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "-a", "a/-b", "/a", "a/", "a//b", "a/./b", "a/../b", "a b", "a\tb", "a\x7f", "a/*", "*/a", "\xff"} {
		if err := ValidateRole(bad); err == nil {
			t.Errorf("ValidateRole(%q) accepted", bad)
		}
	}
	for _, tt := range []struct {
		role, ancestor string
		want           bool
	}{
		{"eng/web", "eng", true}, {"eng/web/api", "eng", true}, {"eng", "eng", false},
		{"engineering", "eng", false}, {"eng", "eng/web", false}, {"eng", "*", false},
	} {
		if got := IsSubRole(tt.role, tt.ancestor); got != tt.want {
			t.Errorf("IsSubRole(%q, %q) = %v", tt.role, tt.ancestor, got)
		}
	}
}

func TestTextFallsBackToJSONEntries(t *testing.T) {
	tests := []Resources{
		{{Name: "cpus", Type: Scalar, Scalar: 1000, Reservations: []Reservation{{Type: Dynamic, Role: "prod", Principal: "p"}}}},
		{{Name: "cpus", Type: Scalar, Scalar: 1000, Reservations: []Reservation{{Type: Static, Role: "a)b"}}}},
		{{Name: "cpus", Type: Scalar, Scalar: 1000, Reservations: []Reservation{{Type: Static, Role: "a;b"}}}},
		{{Name: "cpus", Type: Scalar, Scalar: 1000, Reservations: []Reservation{{Type: Static, Role: "eng"}, {Type: Dynamic, Role: "eng/x"}}}},
		{{Name: "zones", Type: Set, Set: []string{" a", "b,c", "d;e", "{f}"}}},
		{{Name: "zones", Type: Set, Set: []string{"x"}}, {Name: "cpus", Type: Scalar, Scalar: 1, Reservations: []Reservation{{Type: Static, Role: "p", Labels: map[string]string{"k": "v;w"}}}}},
	}
	for _, want := range tests {
		want = norm(want)
		s := want.String()
		got, err := Parse(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("Parse(%s) = %v, %v; want %#v", s, got, err, want)
		}
	}
}

func TestManyEntries(t *testing.T) {
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "r%d:1;", i)
	}
	r, err := Parse(b.String() + "r7:2")
	if err != nil || len(r) != 100 || r.ScalarTotal("r7") != 3000 {
		t.Fatalf("100 names: %v", err)
	}
	_, err = Parse(b.String() + "r7:{a}")
	if err == nil || err.Error() != `resource "r7:{a}": r7 was given as SCALAR before ("r7:1"); a resource name has one type` {
		t.Fatalf("conflict among many: %v", err)
	}
	_, err = ParseAttributes(strings.ReplaceAll(b.String(), "r", "a") + "a42:x")
	if err == nil || err.Error() != `attribute "a42:x": duplicate name a42 (first given as "a42:1"); an agent has one value per attribute` {
		t.Fatalf("duplicate among many: %v", err)
	}
}
