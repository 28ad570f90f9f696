// Package constraints evaluates Marathon placement constraints (UNIQUE,
// CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS) on agents' hostnames and
// attributes. No I/O.
//
// Semantics follow Marathon (docs "Constraints"; mesosphere/marathon
// Constraints.scala and SchedulingValidation.scala):
//
//   - The field "hostname" or "@hostname" is the agent's hostname; "@region"
//     and "@zone" are read from the agent attributes named "region" and "zone"
//     (Cairn agents carry their fault domain as attributes; Marathon reads the
//     Mesos domain). Any other field is an attribute name; other "@" fields
//     are rejected by Parse.
//   - Attribute values compare by their text form ("r1", "3", "1.5",
//     "[1-5]", "{a,b}"): see [resources.Attribute.Value]. Sets and ranges are
//     normalised first (sorted, coalesced), so {b,a} equals {a,b}.
//   - A candidate without the field (no such attribute, or an empty hostname)
//     matches only UNLIKE; every other operator refuses it.
//   - Placed instances without the field never conflict with the candidate
//     (UNIQUE, MAX_PER) and are left out of the GROUP_BY and CLUSTER tallies.
//
// Operators (v is the candidate's value, "placed" the app's other instances):
//
//	UNIQUE          no placed instance has v
//	CLUSTER x       v equals x
//	CLUSTER         v equals the value the placed instances share (the most
//	                common one if they disagree); anything for the first
//	GROUP_BY [n]    v is not used yet, or every used value is counted and v
//	                has the fewest instances; with n, used values are refused
//	                until n distinct values are in use
//	LIKE re         v fully matches re (anchored, Go RE2 syntax)
//	UNLIKE re       v does not fully match re, or the field is missing
//	MAX_PER n       fewer than n placed instances have v
//	IS x            v equals x
//
// For CLUSTER x and IS x on a SCALAR, RANGES or SET attribute, x is read as a
// value of that type when it can be, so "3.0" matches the scalar 3 and
// "{b,a}" the set {a,b} (Marathon does this for scalars).
//
// Check evaluates one candidate; [Rank] orders many candidates (preferring
// the least used GROUP_BY values) and [Explain] summarises why candidates
// were refused.
package constraints

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/cairn-dc/cairn/kernel/resources"
)

// Operators.
const (
	Unique  = "UNIQUE"
	Cluster = "CLUSTER"
	GroupBy = "GROUP_BY"
	Like    = "LIKE"
	Unlike  = "UNLIKE"
	MaxPer  = "MAX_PER"
	Is      = "IS"
)

// Operators lists the operators Parse accepts.
var Operators = []string{Unique, Cluster, GroupBy, Like, Unlike, MaxPer, Is}

const operatorList = "UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER or IS"

// Constraint is one ["field", "OPERATOR", "value"] constraint.
type Constraint struct {
	Field    string // "hostname", "@hostname", "@region", "@zone", or an attribute name
	Operator string
	Value    string // "" when the constraint has no value
}

// Raw is the Marathon JSON form: ["field","OPERATOR"] when Value is empty,
// else ["field","OPERATOR","value"]. Parse(Raw) gives c back.
func (c Constraint) Raw() []string {
	if c.Value == "" {
		return []string{c.Field, c.Operator}
	}
	return []string{c.Field, c.Operator, c.Value}
}

// ToRaw is Raw for a list; Parse(ToRaw(cs)) gives cs back.
func ToRaw(cs []Constraint) [][]string {
	if cs == nil {
		return nil
	}
	out := make([][]string, len(cs))
	for i, c := range cs {
		out[i] = c.Raw()
	}
	return out
}

// String is "OPERATOR field [value]", e.g. "UNIQUE hostname" or
// "LIKE rack r[12]"; the value is quoted when empty-looking or ambiguous.
func (c Constraint) String() string {
	s := c.Operator + " " + quoteIfNeeded(c.Field)
	if c.Value != "" {
		s += " " + quoteIfNeeded(c.Value)
	}
	return s
}

func quoteIfNeeded(s string) string {
	if s == "" {
		return `""`
	}
	q := strconv.Quote(s)
	if q[1:len(q)-1] != s || strings.ContainsAny(s, " :;") {
		return q
	}
	return s
}

// Error is a Parse error for one constraint. Index is 0-based, like
// Marathon's 422 paths "/constraints(1)".
type Error struct {
	Index int
	Msg   string
}

// Error is "constraints(1): msg".
func (e *Error) Error() string { return fmt.Sprintf("constraints(%d): %s", e.Index, e.Msg) }

// Path is Marathon's JSON path for the error, "/constraints(1)".
func (e *Error) Path() string { return fmt.Sprintf("/constraints(%d)", e.Index) }

// Parse validates Marathon's constraint arrays; errors name the index
// ("constraints(1): unknown operator \"NEAR\"; use UNIQUE, CLUSTER, ...").
//
// Every constraint is checked: the error is an [*Error] when one constraint
// is wrong, else an errors.Join of them (unwrap with
// interface{ Unwrap() []error } to list every [*Error]).
//
// Rules (Marathon's, with the differences noted):
//   - 2 or 3 elements: field, operator, optional value; an empty value is the
//     same as none.
//   - the field is non-empty and, as an attribute name, avoids whitespace,
//     control characters and ; : ( ) [ ] { } , " (no agent attribute can have
//     such a name); "@" fields must be @hostname, @region or @zone.
//   - the operator is one of UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER,
//     IS (upper case, as in Marathon).
//   - UNIQUE takes no value; CLUSTER's value is optional.
//   - GROUP_BY's optional value and MAX_PER's required value are positive
//     integers (Marathon also accepts 0 and negatives, which mean nothing
//     for GROUP_BY and refuse every agent for MAX_PER).
//   - LIKE and UNLIKE need a regular expression that compiles (Go RE2 syntax:
//     no backreferences or lookarounds, unlike Marathon's Java regexes).
//   - IS needs a value.
func Parse(raw [][]string) ([]Constraint, error) {
	if raw == nil {
		return nil, nil
	}
	out := make([]Constraint, 0, len(raw))
	var errs []error
	for i, r := range raw {
		if len(r) < 2 || len(r) > 3 {
			errs = append(errs, &Error{i, fmt.Sprintf(`has %d element%s; expected ["field", "OPERATOR"] or ["field", "OPERATOR", "value"], e.g. ["hostname", "UNIQUE"]`, len(r), plural(len(r)))})
			continue
		}
		c := Constraint{Field: r[0], Operator: r[1]}
		if len(r) == 3 {
			c.Value = r[2]
		}
		if _, err := compile(c); err != nil {
			errs = append(errs, &Error{i, err.Error()})
			continue
		}
		out = append(out, c)
	}
	switch len(errs) {
	case 0:
		return out, nil
	case 1:
		return nil, errs[0]
	}
	return nil, errors.Join(errs...)
}

// MustParse is Parse for tests and constants; it panics on error.
func MustParse(raw ...[]string) []Constraint {
	cs, err := Parse(raw)
	if err != nil {
		panic(err)
	}
	return cs
}

// Agent is where an instance runs or could run.
type Agent struct {
	Hostname   string
	Attributes resources.Attributes
}

func (a *Agent) name() string {
	if a.Hostname == "" {
		return "agent (no hostname)"
	}
	return a.Hostname
}

// Check says whether an instance may be placed on candidate given where
// the app's other instances already run (placed: one entry per instance, so
// an agent running two instances appears twice); why explains a refusal
// ("UNIQUE hostname: agent-1 already runs an instance"). All constraints
// must hold; why names the first that does not.
//
// Check does not require cs to come from Parse: an invalid constraint
// refuses every candidate, with the Parse error as the reason.
func Check(cs []Constraint, candidate Agent, placed []Agent) (ok bool, why string) {
	for _, c := range cs {
		if ok, why := checkOne(c, &candidate, placed); !ok {
			return false, why
		}
	}
	return true, ""
}

func checkOne(c Constraint, cand *Agent, placed []Agent) (bool, string) {
	r, err := compile(c)
	if err != nil {
		return false, fmt.Sprintf("invalid constraint %s: %v", c, err)
	}
	msg := r.check(cand, placed)
	if msg == "" {
		return true, ""
	}
	return false, c.String() + ": " + msg
}

// rule is a validated constraint.
type rule struct {
	c  Constraint
	f  field
	n  int            // GROUP_BY (0: no value), MAX_PER
	re *regexp.Regexp // LIKE, UNLIKE (anchored)
}

// field says where a constraint's value is read.
type field struct {
	hostname bool
	attr     string // attribute name when !hostname
}

func (f field) label() string {
	if f.hostname {
		return "hostname"
	}
	return f.attr
}

// read returns the agent's value for the field in text form; ok is false
// when the agent has no hostname or no such attribute.
func (f field) read(a *Agent) (v string, attr *resources.Attribute, ok bool) {
	if f.hostname {
		return a.Hostname, nil, a.Hostname != ""
	}
	for i := range a.Attributes {
		if a.Attributes[i].Name == f.attr {
			v, ok := valueText(&a.Attributes[i])
			return v, &a.Attributes[i], ok
		}
	}
	return "", nil, false
}

// valueText is the attribute's text form, with sets and ranges normalised
// (attributes built in code need not be). ok is false for an unknown type.
func valueText(a *resources.Attribute) (string, bool) {
	switch a.Type {
	case resources.Text, resources.Scalar:
		return a.Value(), true
	case resources.Ranges:
		if rs, err := resources.NewRangeSet(a.Ranges...); err == nil {
			return rs.String(), true
		}
		return a.Ranges.String(), true
	case resources.Set:
		items := a.Set
		for i := 1; i < len(items); i++ {
			if items[i-1] >= items[i] { // not normalised: sort, drop duplicates
				items = slices.Compact(slices.Sorted(slices.Values(items)))
				break
			}
		}
		return "{" + strings.Join(items, ",") + "}", true
	}
	return "", false
}

func compile(c Constraint) (*rule, error) {
	r := &rule{c: c}
	switch {
	case c.Field == "":
		return nil, errors.New("missing field; use hostname, @hostname, @region, @zone or an attribute name such as rack")
	case c.Field == "hostname" || c.Field == "@hostname":
		r.f = field{hostname: true}
	case c.Field == "@region":
		r.f = field{attr: "region"}
	case c.Field == "@zone":
		r.f = field{attr: "zone"}
	case c.Field[0] == '@':
		return nil, fmt.Errorf("unknown agent property %q; use @hostname, @region, @zone, or an attribute name without '@' such as rack", c.Field)
	default:
		if msg := badFieldName(c.Field); msg != "" {
			return nil, errors.New(msg)
		}
		r.f = field{attr: c.Field}
	}
	v := c.Value
	switch c.Operator {
	case Unique:
		if v != "" {
			return nil, fmt.Errorf(`UNIQUE takes no value, got %q; use [%q, "UNIQUE"]`, v, c.Field)
		}
	case Cluster:
	case GroupBy:
		if v != "" {
			n, err := positive(v)
			if err != nil {
				return nil, fmt.Errorf("GROUP_BY value %q %s; give the number of distinct %s values to spread over, e.g. 3, or no value", v, err, r.f.label())
			}
			r.n = n
		}
	case MaxPer:
		if v == "" {
			return nil, fmt.Errorf(`MAX_PER needs a value, the most instances per %s, e.g. [%q, "MAX_PER", "2"]`, r.f.label(), c.Field)
		}
		n, err := positive(v)
		if err != nil {
			return nil, fmt.Errorf("MAX_PER value %q %s; give the most instances per %s, e.g. 2", v, err, r.f.label())
		}
		r.n = n
	case Like, Unlike:
		if v == "" {
			return nil, fmt.Errorf(`%s needs a regular expression; use ".*" to match any value`, c.Operator)
		}
		re, err := cachedRegexp(v)
		if err != nil {
			return nil, fmt.Errorf("%s value %q is not a valid regular expression: %v", c.Operator, v, err)
		}
		r.re = re
	case Is:
		if v == "" {
			return nil, fmt.Errorf(`IS needs a value, e.g. [%q, "IS", "a"]`, c.Field)
		}
	default:
		if up := strings.ToUpper(strings.TrimSpace(c.Operator)); up != c.Operator && slices.Contains(Operators, up) {
			return nil, fmt.Errorf("unknown operator %q; operators are upper case: use %s", c.Operator, up)
		}
		if c.Operator == "" {
			return nil, fmt.Errorf("missing operator; use %s", operatorList)
		}
		return nil, fmt.Errorf("unknown operator %q; use %s", c.Operator, operatorList)
	}
	return r, nil
}

// badFieldName applies the resources package's rule for attribute names.
func badFieldName(name string) string {
	if !utf8.ValidString(name) {
		return fmt.Sprintf("field %q is not valid UTF-8", name)
	}
	for _, c := range name {
		if strings.ContainsRune(";:()[]{},\"", c) || unicode.IsSpace(c) || unicode.IsControl(c) {
			return fmt.Sprintf("field %q contains %q, which no attribute name can; use hostname, @hostname, @region, @zone or an attribute name such as rack", name, c)
		}
	}
	return ""
}

func positive(s string) (int, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	switch {
	case err != nil && errors.Is(err, strconv.ErrRange):
		return 0, errors.New("is too large")
	case err != nil:
		return 0, errors.New("is not an integer")
	case n <= 0:
		return 0, errors.New("is not positive")
	}
	return int(n), nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Regular expressions are compiled once per pattern: Check runs for every
// offer. The cache is bounded (cleared when full) so arbitrary input cannot
// grow it without limit.
var reCache = struct {
	sync.Mutex
	m map[string]reEntry
}{m: map[string]reEntry{}}

type reEntry struct {
	re  *regexp.Regexp
	err error
}

const reCacheMax = 256

func cachedRegexp(p string) (*regexp.Regexp, error) {
	reCache.Lock()
	e, ok := reCache.m[p]
	reCache.Unlock()
	if ok {
		return e.re, e.err
	}
	// Compile the pattern alone first so errors quote what the user wrote,
	// then anchored, since Marathon (Java's String.matches) matches the
	// whole value.
	if _, e.err = regexp.Compile(p); e.err == nil {
		e.re, e.err = regexp.Compile(`\A(?:` + p + `)\z`)
	}
	reCache.Lock()
	if len(reCache.m) >= reCacheMax {
		clear(reCache.m)
	}
	reCache.m[p] = e
	reCache.Unlock()
	return e.re, e.err
}

// check returns "" when the candidate satisfies the rule, else the reason.
func (r *rule) check(cand *Agent, placed []Agent) string {
	v, attr, ok := r.f.read(cand)
	if !ok {
		if r.c.Operator == Unlike {
			return ""
		}
		if r.f.hostname {
			return "the agent has no hostname"
		}
		return fmt.Sprintf("%s has no %s attribute", cand.name(), r.f.attr)
	}
	switch r.c.Operator {
	case Unique:
		for i := range placed {
			if pv, _, ok := r.f.read(&placed[i]); ok && pv == v {
				if r.f.hostname {
					return fmt.Sprintf("%s already runs an instance", cand.name())
				}
				return fmt.Sprintf("%s has %s, which already runs an instance (on %s)", cand.name(), r.has(v), placed[i].name())
			}
		}
	case Cluster:
		want := r.c.Value
		if want == "" {
			var n int
			if want, n = r.shared(placed); n == 0 {
				return ""
			}
			if v != want {
				return fmt.Sprintf("the app's instances run on %s; %s has %s", r.has(want), cand.name(), r.has(v))
			}
			return ""
		}
		if !equalValue(want, v, attr) {
			return r.is(cand, v)
		}
	case GroupBy:
		counts, order := r.tally(placed)
		cnt, used := counts[v]
		if !used {
			return ""
		}
		if len(counts) < r.n {
			return fmt.Sprintf("%s has %s, which already runs %s, and only %d of %d %s values are in use; waiting for an agent with another %s",
				cand.name(), r.has(v), instances(cnt), len(counts), r.n, r.f.label(), r.f.label())
		}
		least := v
		for _, k := range order {
			if counts[k] < counts[least] {
				least = k
			}
		}
		if least != v {
			return fmt.Sprintf("%s has %s, which runs %s, but %s runs only %s",
				cand.name(), r.has(v), instances(cnt), r.has(least), instances(counts[least]))
		}
	case Like:
		if !r.re.MatchString(v) {
			return fmt.Sprintf("%s does not match", r.subject(cand, v))
		}
	case Unlike:
		if r.re.MatchString(v) {
			return fmt.Sprintf("%s matches", r.subject(cand, v))
		}
	case MaxPer:
		n := 0
		for i := range placed {
			if pv, _, ok := r.f.read(&placed[i]); ok && pv == v {
				n++
			}
		}
		if n >= r.n {
			if r.f.hostname {
				return fmt.Sprintf("%s already runs %s", cand.name(), instances(n))
			}
			return fmt.Sprintf("%s has %s, which already runs %s", cand.name(), r.has(v), instances(n))
		}
	case Is:
		if !equalValue(r.c.Value, v, attr) {
			return r.is(cand, v)
		}
	}
	return ""
}

// has is "rack r1" or "hostname agent-1".
func (r *rule) has(v string) string { return r.f.label() + " " + quoteIfNeeded(v) }

// subject is "agent-1's rack r1" or "hostname agent-1", for LIKE/UNLIKE.
func (r *rule) subject(cand *Agent, v string) string {
	if r.f.hostname {
		return "hostname " + quoteIfNeeded(v)
	}
	return fmt.Sprintf("%s's %s", cand.name(), r.has(v))
}

// is explains an IS/CLUSTER mismatch.
func (r *rule) is(cand *Agent, v string) string {
	if r.f.hostname {
		return fmt.Sprintf("the agent is %s", quoteIfNeeded(v))
	}
	return fmt.Sprintf("%s has %s", cand.name(), r.has(v))
}

// tally counts placed instances per value, skipping those without the
// field; order lists the values by first appearance.
func (r *rule) tally(placed []Agent) (map[string]int, []string) {
	counts := map[string]int{}
	var order []string
	for i := range placed {
		if pv, _, ok := r.f.read(&placed[i]); ok {
			if _, seen := counts[pv]; !seen {
				order = append(order, pv)
			}
			counts[pv]++
		}
	}
	return counts, order
}

// shared is the value most placed instances have (the smallest on a tie),
// and how many have it; n is 0 when none has the field.
func (r *rule) shared(placed []Agent) (v string, n int) {
	counts, order := r.tally(placed)
	for _, k := range order {
		if c := counts[k]; c > n || c == n && k < v {
			v, n = k, c
		}
	}
	return v, n
}

func instances(n int) string {
	if n == 1 {
		return "1 instance"
	}
	return strconv.Itoa(n) + " instances"
}

// equalValue reports whether the constraint value want equals the
// candidate's value v. For a SCALAR, RANGES or SET attribute, want is also
// read as a value of that type, so "3.0" equals 3 and "{b,a}" equals {a,b}.
func equalValue(want, v string, attr *resources.Attribute) bool {
	if want == v {
		return true
	}
	if attr == nil || attr.Type == resources.Text || strings.ContainsRune(want, ';') {
		return false
	}
	as, err := resources.ParseAttributes("v:" + want)
	if err != nil || len(as) != 1 || as[0].Type != attr.Type {
		return false
	}
	w, ok := valueText(&as[0])
	return ok && w == v
}
