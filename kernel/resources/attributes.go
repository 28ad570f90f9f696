package resources

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Attribute is an agent attribute such as rack:r1 (TEXT), level:3 (SCALAR),
// ports:[1-5] (RANGES) or zones:{a,b} (SET). JSON as Mesos v1:
// {"name":"rack","type":"TEXT","text":{"value":"r1"}}.
//
// Unlike resource scalars, attribute scalars may be negative.
type Attribute struct {
	Name   string
	Type   Type
	Text   string
	Scalar Value
	Ranges RangeSet
	Set    []string
}

// Value is the attribute's value in text form ("r1", "3", "[1-5]", "{a,b}").
func (a Attribute) Value() string {
	switch a.Type {
	case Text:
		return a.Text
	case Scalar:
		return a.Scalar.String()
	case Ranges:
		return a.Ranges.String()
	case Set:
		return string(appendSetText(nil, a.Set))
	}
	return ""
}

// String is "name:value", or the JSON object when the text form cannot
// express the attribute (e.g. a TEXT value that looks like a number).
func (a Attribute) String() string { return string(appendAttribute(nil, &a)) }

// Validate checks the attribute's name, type and value.
func (a Attribute) Validate() error {
	if fe := validateAttribute(&a); fe != nil {
		return fmt.Errorf("attribute %q: %s", a.Name, fe)
	}
	return nil
}

// Attributes is a list of attributes with unique names, in the given order.
type Attributes []Attribute

// ParseAttributes reads "rack:r1;zone:a;level:3". Numbers become SCALAR,
// [..] RANGES, {..} SET, anything else TEXT.
//
// Whitespace around tokens is ignored and empty entries are skipped. Numbers
// are decimals with at most 3 decimals and an optional sign; a TEXT value may
// contain any character but ';' and control characters (it may not start with
// '[' or '{'). As for resources, an entry may be a Mesos JSON attribute object
// and a string starting with '[' is read as a JSON array. Duplicate names are
// an error.
func ParseAttributes(s string) (Attributes, error) {
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "[") {
		var as Attributes
		if err := json.Unmarshal([]byte(t), &as); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("attributes: invalid JSON at byte %d: %v", se.Offset, err)
			}
			return nil, err
		}
		return as, nil
	}
	var out Attributes
	var entries []string
	err := scanEntries(s, "attribute", func(text string, isJSON bool) error {
		var a Attribute
		var err error
		if isJSON {
			if a, err = decodeAttribute([]byte(text)); err != nil {
				return fmt.Errorf("attribute %s: %w", quoteEntry(text), err)
			}
		} else if a, err = parseAttributeText(text); err != nil {
			return err
		}
		out = append(out, a)
		entries = append(entries, text)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if i, j := out.duplicate(); i >= 0 {
		return nil, fmt.Errorf("attribute %s: duplicate name %s (first given as %s); an agent has one value per attribute",
			quoteEntry(entries[i]), out[i].Name, quoteEntry(entries[j]))
	}
	return out, nil
}

// duplicate returns (i, j), j < i, when attributes i and j have the same
// name, or (-1, -1).
func (as Attributes) duplicate() (int, int) {
	return firstRepeat(len(as), func(i int) string { return as[i].Name }, func(int, int) bool { return true })
}

// MustParseAttributes is ParseAttributes for tests and constants; it panics
// on error.
func MustParseAttributes(s string) Attributes {
	as, err := ParseAttributes(s)
	if err != nil {
		panic(err)
	}
	return as
}

// String is the text form; ParseAttributes(a.String()) equals a.
func (as Attributes) String() string {
	var b []byte
	for i := range as {
		if i > 0 {
			b = append(b, ';')
		}
		b = appendAttribute(b, &as[i])
	}
	return string(b)
}

// Get returns the attribute with the given name.
func (as Attributes) Get(name string) (Attribute, bool) {
	for _, a := range as {
		if a.Name == name {
			return a, true
		}
	}
	return Attribute{}, false
}

// Equal reports whether both hold the same attributes with the same values,
// in any order.
func (as Attributes) Equal(o Attributes) bool {
	if len(as) != len(o) {
		return false
	}
	for _, a := range as {
		b, ok := o.Get(a.Name)
		if !ok || !attributeEqual(&a, &b) {
			return false
		}
	}
	return true
}

// Validate checks every attribute and that names are unique.
func (as Attributes) Validate() error {
	for i := range as {
		if fe := validateAttribute(&as[i]); fe != nil {
			return fe.under(fmt.Sprintf("attributes[%d]", i))
		}
	}
	if i, j := as.duplicate(); i >= 0 {
		return fieldErrorf(fmt.Sprintf("attributes[%d].name", i), "duplicate name %s (also attributes[%d]); an agent has one value per attribute", as[i].Name, j)
	}
	return nil
}

func attributeEqual(a, b *Attribute) bool {
	return a.Type == b.Type && a.Text == b.Text && a.Scalar == b.Scalar &&
		slices.Equal(a.Ranges, b.Ranges) && slices.Equal(a.Set, b.Set)
}

// validateAttribute checks one attribute; the error path is relative to it.
func validateAttribute(a *Attribute) *fieldError {
	if fe := validateName(a.Name, "attribute"); fe != nil {
		return fe
	}
	switch a.Type {
	case Text, Scalar, Ranges, Set:
	case "":
		return fieldErrorf("type", "missing for %s; expected TEXT, SCALAR, RANGES or SET", a.Name)
	default:
		return fieldErrorf("type", "unknown type %q for %s; expected TEXT, SCALAR, RANGES or SET", string(a.Type), a.Name)
	}
	if a.Type != Text && a.Text != "" {
		return fieldErrorf("text", "set on %s attribute %s; only TEXT attributes have text", a.Type, a.Name)
	}
	if a.Type != Scalar && a.Scalar != 0 {
		return fieldErrorf("scalar", "set on %s attribute %s; only SCALAR attributes have a scalar value", a.Type, a.Name)
	}
	if a.Type != Ranges && len(a.Ranges) > 0 {
		return fieldErrorf("ranges", "set on %s attribute %s; only RANGES attributes have ranges", a.Type, a.Name)
	}
	if a.Type != Set && len(a.Set) > 0 {
		return fieldErrorf("set", "set on %s attribute %s; only SET attributes have items", a.Type, a.Name)
	}
	switch a.Type {
	case Text:
		if msg := validateText(a.Text); msg != "" {
			return fieldErrorf("text.value", "%s", msg)
		}
	case Ranges:
		for i, x := range a.Ranges {
			if x.Begin > x.End {
				return fieldErrorf(fmt.Sprintf("ranges.range[%d]", i), "range %d-%d has begin > end", x.Begin, x.End)
			}
		}
	case Set:
		for i, it := range a.Set {
			if msg := validateItem(it); msg != "" {
				return fieldErrorf(fmt.Sprintf("set.item[%d]", i), "%s", msg)
			}
		}
	}
	return nil
}

func validateText(t string) string {
	if t == "" {
		return "is empty; a TEXT attribute needs a value such as r1"
	}
	if !utf8.ValidString(t) {
		return fmt.Sprintf("%q is not valid UTF-8", t)
	}
	for _, c := range t {
		if unicode.IsControl(c) {
			return fmt.Sprintf("%q contains the control character %q", t, c)
		}
	}
	return ""
}

// parseAttributeText parses one text entry "name:value".
func parseAttributeText(entry string) (Attribute, error) {
	fail := func(format string, args ...any) (Attribute, error) {
		return Attribute{}, fmt.Errorf("attribute %s: %s", quoteEntry(entry), fmt.Sprintf(format, args...))
	}
	name, val, ok := strings.Cut(entry, ":")
	if !ok {
		return fail("missing ':' between name and value; expected e.g. rack:r1")
	}
	a := Attribute{Name: strings.TrimSpace(name)}
	if fe := validateName(a.Name, "attribute"); fe != nil {
		if a.Name == "" {
			return fail("missing name before ':'; expected e.g. rack:r1")
		}
		return fail("%s", fe.msg)
	}
	val = strings.TrimSpace(val)
	switch {
	case val == "":
		return fail("missing value after ':'; expected e.g. %s:r1, %s:3, %s:[1-5] or %s:{a,b}", a.Name, a.Name, a.Name, a.Name)
	case val[0] == '[':
		a.Type = Ranges
		rs, err := parseRangesText(val)
		if err != nil {
			return fail("%s", err)
		}
		a.Ranges = rs
	case val[0] == '{':
		a.Type = Set
		items, err := parseSetText(val)
		if err != nil {
			return fail("%s", err)
		}
		a.Set = items
	case looksNumeric(val):
		a.Type = Scalar
		v, e := parseDecimal(val, numSigned)
		if e != numOK {
			return fail("%s", e.describe(val, "attributes"))
		}
		a.Scalar = v
	default:
		a.Type = Text
		if msg := validateText(val); msg != "" {
			return fail("value %s", msg)
		}
		a.Text = val
	}
	return a, nil
}

// appendAttribute appends a in text form, or as JSON when text cannot
// express it.
func appendAttribute(b []byte, a *Attribute) []byte {
	if !attributeTextable(a) {
		j, err := a.MarshalJSON()
		if err != nil {
			return append(b, "<"+err.Error()+">"...)
		}
		return append(b, j...)
	}
	b = append(b, a.Name...)
	b = append(b, ':')
	switch a.Type {
	case Text:
		b = append(b, a.Text...)
	case Scalar:
		b = a.Scalar.appendText(b)
	case Ranges:
		b = a.Ranges.appendText(b)
	case Set:
		b = appendSetText(b, a.Set)
	}
	return b
}

func attributeTextable(a *Attribute) bool {
	if validateAttribute(a) != nil {
		return false
	}
	switch a.Type {
	case Text:
		t := a.Text
		return strings.TrimSpace(t) == t && !strings.ContainsRune(t, ';') &&
			t[0] != '[' && t[0] != '{' && !looksNumeric(t)
	case Scalar:
		return true
	case Ranges:
		return rangesNormal(a.Ranges)
	case Set:
		if !setNormal(a.Set) {
			return false
		}
		for _, it := range a.Set {
			if !textItem(it) {
				return false
			}
		}
		return true
	}
	return false
}

// Attribute JSON.

type attributeWire struct {
	Name *string `json:"name"`
	Type *string `json:"type"`
	Text *struct {
		Value *string `json:"value"`
	} `json:"text"`
	Scalar *scalarWire `json:"scalar"`
	Ranges *rangesWire `json:"ranges"`
	Set    *setWire    `json:"set"`
}

type textOut struct {
	Value string `json:"value"`
}

type attributeOut struct {
	Name   string     `json:"name"`
	Type   Type       `json:"type"`
	Text   *textOut   `json:"text,omitempty"`
	Scalar *scalarOut `json:"scalar,omitempty"`
	Ranges *rangesOut `json:"ranges,omitempty"`
	Set    *setOut    `json:"set,omitempty"`
}

// MarshalJSON writes the Mesos v1 JSON object.
func (a Attribute) MarshalJSON() ([]byte, error) {
	out := attributeOut{Name: a.Name, Type: a.Type}
	switch a.Type {
	case Text:
		out.Text = &textOut{a.Text}
	case Scalar:
		out.Scalar = &scalarOut{json.Number(a.Scalar.String())}
	case Ranges:
		out.Ranges = &rangesOut{nonNil(a.Ranges)}
	case Set:
		out.Set = &setOut{nonNil(a.Set)}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads and validates one Mesos v1 JSON attribute.
func (a *Attribute) UnmarshalJSON(b []byte) error {
	x, err := decodeAttribute(b)
	if err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			return fe.under("attribute")
		}
		return err
	}
	*a = x
	return nil
}

// MarshalJSON writes a JSON array ([] when empty).
func (as Attributes) MarshalJSON() ([]byte, error) {
	if as == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]Attribute(as))
}

// UnmarshalJSON reads a JSON array of Mesos v1 attributes and validates it
// (names must be unique). Errors name the field, e.g.
// "attributes[1].text.value: missing".
func (as *Attributes) UnmarshalJSON(b []byte) error {
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return jsonError(err, "expected a JSON array of attributes such as [{\"name\":\"rack\",\"type\":\"TEXT\",\"text\":{\"value\":\"r1\"}}]").under("attributes")
	}
	var out Attributes
	for i, raw := range raws {
		a, err := decodeAttribute(raw)
		if err != nil {
			var fe *fieldError
			if errors.As(err, &fe) {
				return fe.under(fmt.Sprintf("attributes[%d]", i))
			}
			return fmt.Errorf("attributes[%d]: %w", i, err)
		}
		out = append(out, a)
	}
	if i, j := out.duplicate(); i >= 0 {
		return fieldErrorf(fmt.Sprintf("attributes[%d].name", i), "duplicate name %s (also attributes[%d]); an agent has one value per attribute", out[i].Name, j)
	}
	*as = out
	return nil
}

// decodeAttribute decodes, normalises and validates one JSON attribute.
func decodeAttribute(data []byte) (Attribute, error) {
	var w attributeWire
	if err := json.Unmarshal(data, &w); err != nil {
		return Attribute{}, jsonError(err, "expected a JSON object such as {\"name\":\"rack\",\"type\":\"TEXT\",\"text\":{\"value\":\"r1\"}}")
	}
	var a Attribute
	if w.Name == nil {
		return a, fieldErrorf("name", "missing; every attribute needs a name such as rack or zone")
	}
	a.Name = *w.Name
	if fe := validateName(a.Name, "attribute"); fe != nil {
		return a, fe
	}
	if w.Type == nil {
		return a, fieldErrorf("type", "missing for %s; expected TEXT, SCALAR, RANGES or SET", a.Name)
	}
	a.Type = Type(*w.Type)
	given := 0
	for _, p := range []bool{w.Text != nil, w.Scalar != nil, w.Ranges != nil, w.Set != nil} {
		if p {
			given++
		}
	}
	field := strings.ToLower(string(a.Type))
	switch a.Type {
	case Text:
		if w.Text == nil || w.Text.Value == nil {
			return a, fieldErrorf("text.value", `missing for TEXT attribute %s; give "text":{"value":"r1"}`, a.Name)
		}
		a.Text = *w.Text.Value
	case Scalar:
		if w.Scalar == nil || !present(w.Scalar.Value) {
			return a, fieldErrorf("scalar.value", `missing for SCALAR attribute %s; give "scalar":{"value":3}`, a.Name)
		}
		text, fe := jsonNumber(w.Scalar.Value)
		if fe != nil {
			return a, fe.under("scalar.value")
		}
		v, e := parseDecimal(text, numJSON|numSigned)
		if e != numOK {
			return a, fieldErrorf("scalar.value", "%s", e.describe(text, "attributes"))
		}
		a.Scalar = v
	case Ranges:
		if w.Ranges == nil {
			return a, fieldErrorf("ranges", `missing for RANGES attribute %s; give "ranges":{"range":[{"begin":1,"end":5}]}`, a.Name)
		}
		rs, fe := decodeRanges(w.Ranges)
		if fe != nil {
			return a, fe.under("ranges")
		}
		a.Ranges = rs
	case Set:
		if w.Set == nil {
			return a, fieldErrorf("set", `missing for SET attribute %s; give "set":{"item":["a","b"]}`, a.Name)
		}
		a.Set = normalizeSet(slices.Clone(w.Set.Item))
	default:
		return a, fieldErrorf("type", "unknown type %q for %s; expected TEXT, SCALAR, RANGES or SET", *w.Type, a.Name)
	}
	if given > 1 {
		return a, fieldErrorf("", "a %s attribute must only have %q", a.Type, field)
	}
	if fe := validateAttribute(&a); fe != nil {
		return a, fe
	}
	return a, nil
}
