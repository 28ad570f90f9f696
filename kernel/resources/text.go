package resources

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Parse reads the text format (see package doc) or, if s starts with '[', the
// JSON format. Unreserved unless a role is given as name(role). Errors name the
// offending entry and say what is expected.
//
// Entries are separated by ';' (empty entries are ignored) and whitespace
// around tokens is ignored. An entry is one of
//
//	name:4.5                     scalar (at most 3 decimals)
//	name:[1-5,10-20]             ranges ("[7]" is 7-7; "[]" is empty)
//	name:{a,b}                   set ("{}" is empty)
//	name(role):…                 statically reserved for role; "(*)" means unreserved
//	{"name":"disk",…}            a Mesos JSON resource object, for what text cannot say
//
// Repeated entries with the same name and role add up. The result is
// validated and normalised.
func Parse(s string) (Resources, error) {
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "[") {
		var rs Resources
		if err := json.Unmarshal([]byte(t), &rs); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("resources: invalid JSON at byte %d: %v", se.Offset, err)
			}
			return nil, err
		}
		return rs, nil
	}
	var out Resources
	var entries []string // the text of out[i], for error messages
	err := scanEntries(s, "resource", func(text string, isJSON bool) error {
		var r Resource
		if isJSON {
			var err error
			if r, err = decodeResource([]byte(text)); err != nil {
				return fmt.Errorf("resource %s: %w", quoteEntry(text), err)
			}
		} else {
			var err error
			if r, err = parseResourceText(text); err != nil {
				return err
			}
		}
		out = append(out, r)
		entries = append(entries, text)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if i, j := typeConflict(out); i >= 0 {
		return nil, fmt.Errorf("resource %s: %s was given as %s before (%s); a resource name has one type",
			quoteEntry(entries[i]), out[i].Name, out[j].Type, quoteEntry(entries[j]))
	}
	return normalize(out), nil
}

// MustParse is Parse for tests and constants; it panics on error.
func MustParse(s string) Resources {
	rs, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return rs
}

// String is the text format; Parse(r.String()) equals r. Entries the text
// format cannot express are written as JSON objects (see [Resource.String]).
func (rs Resources) String() string {
	a := norm(rs)
	var b []byte
	for i := range a {
		if i > 0 {
			b = append(b, ';')
		}
		b = appendResource(b, &a[i])
	}
	return string(b)
}

// scanEntries splits s into ';'-separated entries and calls fn with each
// trimmed, non-empty entry. An entry starting with '{' is a JSON object and
// runs to the object's end, so it may contain ';'. kind ("resource",
// "attribute") words the errors.
func scanEntries(s, kind string, fn func(text string, isJSON bool) error) error {
	pos := 0
	for pos < len(s) {
		start := len(s) - len(strings.TrimLeftFunc(s[pos:], unicode.IsSpace))
		if start == len(s) {
			break
		}
		if s[start] == ';' {
			pos = start + 1
			continue
		}
		if s[start] != '{' {
			end := strings.IndexByte(s[start:], ';')
			if end < 0 {
				end = len(s)
			} else {
				end += start
			}
			if err := fn(strings.TrimSpace(s[start:end]), false); err != nil {
				return err
			}
			pos = end + 1
			continue
		}
		dec := json.NewDecoder(strings.NewReader(s[start:]))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			entry := s[start:]
			if i := strings.IndexByte(entry, ';'); i >= 0 {
				entry = entry[:i]
			}
			return fmt.Errorf("%s %s: an entry starting with '{' must be a JSON object (%v); did you forget the name, as in zones:{a,b}?", kind, quoteEntry(entry), err)
		}
		end := start + int(dec.InputOffset())
		if err := fn(s[start:end], true); err != nil {
			return err
		}
		rest := strings.TrimLeftFunc(s[end:], unicode.IsSpace)
		if rest != "" && rest[0] != ';' {
			return fmt.Errorf("after %s %s: expected ';' but found %s", kind, quoteEntry(s[start:end]), quoteEntry(rest))
		}
		pos = len(s) - len(rest) + 1
	}
	return nil
}

// quoteEntry quotes an entry for an error message, shortening long ones.
func quoteEntry(s string) string {
	const maxLen = 80
	if len(s) > maxLen {
		cut := maxLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

// parseResourceText parses one text entry "name(role):value".
func parseResourceText(entry string) (Resource, error) {
	fail := func(format string, args ...any) (Resource, error) {
		return Resource{}, fmt.Errorf("resource %s: %s", quoteEntry(entry), fmt.Sprintf(format, args...))
	}
	i := strings.IndexAny(entry, "(:")
	if i < 0 {
		return fail("missing ':' between name and value; expected e.g. %s:2", entry)
	}
	r := Resource{Name: strings.TrimSpace(entry[:i])}
	if fe := validateName(r.Name, "resource"); fe != nil {
		if r.Name == "" {
			return fail("missing name before %q; expected e.g. cpus%s", entry[i:], entry[i:])
		}
		return fail("%s", fe.msg)
	}
	rest := entry[i:]
	if rest[0] == '(' {
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return fail("missing ')' after the role; expected e.g. %s(prod):2", r.Name)
		}
		role := strings.TrimSpace(rest[1:end])
		if role == "" {
			return fail("empty role in (); write %s(*):… for unreserved or %s(prod):… for role prod", r.Name, r.Name)
		}
		if role != DefaultRole {
			if err := ValidateRole(role); err != nil {
				return fail("%s", err)
			}
			r.Reservations = []Reservation{{Type: Static, Role: role}}
		}
		rest = strings.TrimLeftFunc(rest[end+1:], unicode.IsSpace)
		if rest == "" || rest[0] != ':' {
			return fail("expected ':' after (%s) but found %q; write e.g. %s(%s):2", role, rest, r.Name, role)
		}
	}
	val := strings.TrimSpace(rest[1:])
	wantType, example := wellKnown(r.Name)
	if example == "" {
		example = r.Name + ":2"
	}
	switch {
	case val == "":
		return fail("missing value after ':'; expected e.g. %s", example)
	case val[0] == '[':
		r.Type = Ranges
		rs, err := parseRangesText(val)
		if err != nil {
			return fail("%s", err)
		}
		r.Ranges = rs
	case val[0] == '{':
		r.Type = Set
		items, err := parseSetText(val)
		if err != nil {
			return fail("%s", err)
		}
		r.Set = items
	default:
		r.Type = Scalar
		v, e := parseDecimal(val, 0)
		switch e {
		case numOK:
		case numSyntax:
			if wantType == Ranges {
				return fail("value %q is not a list of ranges; expected e.g. %s", val, example)
			}
			return fail("value %q is not a number; expected e.g. %s:0.5", val, r.Name)
		default:
			return fail("%s", e.describe(val, "resources"))
		}
		r.Scalar = v
	}
	if fe := validateResource(&r); fe != nil {
		return fail("%s", fe.msg)
	}
	return r, nil
}

// parseRangesText parses "[1-5,7,10-20]".
func parseRangesText(val string) (RangeSet, error) {
	if !strings.HasSuffix(val, "]") {
		return nil, fmt.Errorf("ranges %q must end with ']'; expected e.g. [31000-32000,33000-33010]", val)
	}
	inner := strings.TrimSpace(val[1 : len(val)-1])
	if inner == "" {
		return nil, nil
	}
	var out []Range
	for part := range strings.SplitSeq(inner, ",") {
		part = strings.TrimSpace(part)
		b, e, isRange := strings.Cut(part, "-")
		if !isRange {
			e = b
		}
		begin, err1 := strconv.ParseUint(strings.TrimSpace(b), 10, 64)
		end, err2 := strconv.ParseUint(strings.TrimSpace(e), 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("range %q is not of the form begin-end with non-negative integers; expected e.g. [31000-32000,33000-33010]", part)
		}
		if begin > end {
			return nil, fmt.Errorf("range %d-%d has begin > end", begin, end)
		}
		out = append(out, Range{begin, end})
	}
	return normalizeRanges(out), nil
}

// parseSetText parses "{a,b}".
func parseSetText(val string) ([]string, error) {
	if !strings.HasSuffix(val, "}") {
		return nil, fmt.Errorf("set %q must end with '}'; expected e.g. {a,b}", val)
	}
	inner := strings.TrimSpace(val[1 : len(val)-1])
	if inner == "" {
		return nil, nil
	}
	var items []string
	for item := range strings.SplitSeq(inner, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("set %s has an empty item; expected e.g. {a,b}", val)
		}
		if strings.ContainsAny(item, "{}") {
			return nil, fmt.Errorf("set item %q contains '{' or '}'; expected e.g. {a,b}", item)
		}
		if msg := validateItem(item); msg != "" {
			return nil, fmt.Errorf("set item %s", msg)
		}
		items = append(items, item)
	}
	return normalizeSet(items), nil
}

// appendResource appends r in text form, or as a JSON object when the text
// form cannot express it.
func appendResource(b []byte, r *Resource) []byte {
	if !textable(r) {
		j, err := r.MarshalJSON()
		if err != nil { // cannot happen: every field marshals
			return append(b, "<"+err.Error()+">"...)
		}
		return append(b, j...)
	}
	b = append(b, r.Name...)
	if len(r.Reservations) == 1 {
		b = append(b, '(')
		b = append(b, r.Reservations[0].Role...)
		b = append(b, ')')
	}
	b = append(b, ':')
	switch r.Type {
	case Scalar:
		b = r.Scalar.appendText(b)
	case Ranges:
		b = r.Ranges.appendText(b)
	case Set:
		b = appendSetText(b, r.Set)
	}
	return b
}

func appendSetText(b []byte, items []string) []byte {
	b = append(b, '{')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	return append(b, '}')
}

// textable reports whether the text format can express r exactly, so that
// parsing its text gives r back.
func textable(r *Resource) bool {
	if r.Disk != nil || validateName(r.Name, "resource") != nil {
		return false
	}
	switch len(r.Reservations) {
	case 0:
	case 1:
		x := &r.Reservations[0]
		if x.Type != Static || x.Principal != "" || len(x.Labels) != 0 ||
			x.Role == DefaultRole || ValidateRole(x.Role) != nil || strings.ContainsAny(x.Role, "();") {
			return false
		}
	default:
		return false
	}
	switch r.Type {
	case Scalar:
		if t, _ := wellKnown(r.Name); t != "" && t != Scalar {
			return false
		}
		return r.Scalar >= 0 && (r.Name != "gpus" || r.Scalar%Scale == 0) && len(r.Ranges) == 0 && len(r.Set) == 0
	case Ranges:
		if t, _ := wellKnown(r.Name); (t != "" && t != Ranges) || r.Scalar != 0 || len(r.Set) != 0 || !rangesNormal(r.Ranges) {
			return false
		}
		return true
	case Set:
		if t, _ := wellKnown(r.Name); t != "" || r.Scalar != 0 || len(r.Ranges) != 0 || !setNormal(r.Set) {
			return false
		}
		for _, it := range r.Set {
			if !textItem(it) {
				return false
			}
		}
		return true
	}
	return false
}

// textItem reports whether a set item survives the text format unchanged.
func textItem(it string) bool {
	return validateItem(it) == "" && !strings.ContainsAny(it, ",;{}") && strings.TrimSpace(it) == it
}
