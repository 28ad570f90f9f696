package constraints

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	raw := [][]string{
		{"hostname", "UNIQUE"},
		{"@hostname", "UNIQUE", ""},
		{"rack", "CLUSTER", "r1"},
		{"rack", "CLUSTER"},
		{"rack", "CLUSTER", ""},
		{"rack", "GROUP_BY"},
		{"rack", "GROUP_BY", "3"},
		{"@zone", "GROUP_BY", "+2"},
		{"rack", "LIKE", "r[12]"},
		{"rack", "UNLIKE", "^r3$"},
		{"rack", "LIKE", "(?i)R.*"},
		{"rack", "MAX_PER", "2"},
		{"@region", "IS", "eu"},
		{"level", "IS", "3.0"},
		{"rack.id-2_x", "IS", "a b"},
	}
	cs, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != len(raw) {
		t.Fatalf("got %d constraints", len(cs))
	}
	if cs[2] != (Constraint{"rack", "CLUSTER", "r1"}) || cs[0] != (Constraint{Field: "hostname", Operator: "UNIQUE"}) {
		t.Fatalf("Parse = %+v", cs)
	}
	// Raw round-trips (an empty value becomes no value).
	back, err := Parse(ToRaw(cs))
	if err != nil || !reflect.DeepEqual(back, cs) {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	if got := cs[1].Raw(); len(got) != 2 {
		t.Fatalf("Raw of empty value = %q", got)
	}
	if cs, err := Parse(nil); cs != nil || err != nil {
		t.Fatalf("Parse(nil) = %v, %v", cs, err)
	}
	if cs, err := Parse([][]string{}); len(cs) != 0 || err != nil {
		t.Fatalf("Parse([]) = %v, %v", cs, err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		raw  []string
		want string
	}{
		{nil, `constraints(0): has 0 elements; expected ["field", "OPERATOR"] or ["field", "OPERATOR", "value"], e.g. ["hostname", "UNIQUE"]`},
		{[]string{"hostname"}, `constraints(0): has 1 element; expected`},
		{[]string{"a", "UNIQUE", "b", "c"}, `constraints(0): has 4 elements`},
		{[]string{"", "UNIQUE"}, `constraints(0): missing field; use hostname, @hostname, @region, @zone or an attribute name such as rack`},
		{[]string{"@rack", "UNIQUE"}, `constraints(0): unknown agent property "@rack"; use @hostname, @region, @zone, or an attribute name without '@' such as rack`},
		{[]string{"rack ", "UNIQUE"}, `constraints(0): field "rack " contains ' ', which no attribute name can`},
		{[]string{"ra:ck", "UNIQUE"}, `contains ':'`},
		{[]string{"r\xffck", "UNIQUE"}, `is not valid UTF-8`},
		{[]string{"rack", "NEAR"}, `constraints(0): unknown operator "NEAR"; use UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER or IS`},
		{[]string{"rack", ""}, `constraints(0): missing operator; use UNIQUE, CLUSTER`},
		{[]string{"rack", "unique"}, `constraints(0): unknown operator "unique"; operators are upper case: use UNIQUE`},
		{[]string{"rack", "group_by", "2"}, `use GROUP_BY`},
		{[]string{"hostname", "UNIQUE", "x"}, `constraints(0): UNIQUE takes no value, got "x"; use ["hostname", "UNIQUE"]`},
		{[]string{"rack", "GROUP_BY", "x"}, `constraints(0): GROUP_BY value "x" is not an integer; give the number of distinct rack values to spread over, e.g. 3, or no value`},
		{[]string{"rack", "GROUP_BY", "0"}, `GROUP_BY value "0" is not positive`},
		{[]string{"rack", "GROUP_BY", "-1"}, `is not positive`},
		{[]string{"rack", "GROUP_BY", "1.5"}, `is not an integer`},
		{[]string{"rack", "GROUP_BY", "99999999999"}, `is too large`},
		{[]string{"rack", "GROUP_BY", " 2"}, `is not an integer`},
		{[]string{"rack", "MAX_PER"}, `constraints(0): MAX_PER needs a value, the most instances per rack, e.g. ["rack", "MAX_PER", "2"]`},
		{[]string{"hostname", "MAX_PER", ""}, `MAX_PER needs a value, the most instances per hostname`},
		{[]string{"rack", "MAX_PER", "0"}, `constraints(0): MAX_PER value "0" is not positive; give the most instances per rack, e.g. 2`},
		{[]string{"rack", "MAX_PER", "two"}, `is not an integer`},
		{[]string{"rack", "LIKE"}, `constraints(0): LIKE needs a regular expression; use ".*" to match any value`},
		{[]string{"rack", "UNLIKE", ""}, `UNLIKE needs a regular expression`},
		{[]string{"rack", "LIKE", "r[1"}, `constraints(0): LIKE value "r[1" is not a valid regular expression: error parsing regexp: missing closing ]: ` + "`[1`"},
		{[]string{"rack", "UNLIKE", "(a"}, `UNLIKE value "(a" is not a valid regular expression`},
		{[]string{"rack", "LIKE", `a)|(b`}, `is not a valid regular expression`},
		{[]string{"rack", "LIKE", `(?=a)`}, `is not a valid regular expression`},
		{[]string{"rack", "LIKE", `(a)\1`}, `is not a valid regular expression`},
		{[]string{"rack", "IS"}, `constraints(0): IS needs a value, e.g. ["rack", "IS", "a"]`},
		{[]string{"rack", "IS", ""}, `IS needs a value`},
	}
	for _, tt := range tests {
		cs, err := Parse([][]string{tt.raw})
		if err == nil {
			t.Errorf("Parse(%q) = %+v, want error", tt.raw, cs)
			continue
		}
		if cs != nil {
			t.Errorf("Parse(%q) returned constraints with an error", tt.raw)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error\n %s\nwant\n %s", tt.raw, err, tt.want)
		}
		var pe *Error
		if !errors.As(err, &pe) || pe.Index != 0 || pe.Path() != "/constraints(0)" {
			t.Errorf("Parse(%q): not an *Error at index 0: %#v", tt.raw, err)
		}
	}
}

func TestParseReportsEveryError(t *testing.T) {
	_, err := Parse([][]string{
		{"hostname", "UNIQUE"},
		{"rack", "NEAR"},
		{"rack", "GROUP_BY", "2"},
		{"rack", "MAX_PER"},
	})
	if err == nil {
		t.Fatal("no error")
	}
	want := "constraints(1): unknown operator \"NEAR\"; use UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER or IS\n" +
		"constraints(3): MAX_PER needs a value, the most instances per rack, e.g. [\"rack\", \"MAX_PER\", \"2\"]"
	if err.Error() != want {
		t.Fatalf("error\n%s\nwant\n%s", err, want)
	}
	var paths []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		paths = append(paths, e.(*Error).Path())
	}
	if strings.Join(paths, " ") != "/constraints(1) /constraints(3)" {
		t.Fatalf("paths = %v", paths)
	}
	var pe *Error
	if !errors.As(err, &pe) || pe.Index != 1 {
		t.Fatalf("errors.As = %#v", pe)
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	MustParse([]string{"rack", "NEAR"})
}
