package resources

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// JSON follows Mesos v1 (the JSON mapping of mesos.v1.Resource):
//
//	{"name":"cpus","type":"SCALAR","scalar":{"value":0.5},
//	 "reservations":[{"type":"STATIC","role":"prod"}]}
//	{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]}}
//	{"name":"zones","type":"SET","set":{"item":["a","b"]}}
//	{"name":"disk","type":"SCALAR","scalar":{"value":100},
//	 "reservations":[{"type":"DYNAMIC","role":"db","principal":"ops"}],
//	 "disk":{"persistence":{"id":"vol1"},"volume":{"container_path":"data","mode":"RW"}}}
//
// Scalars are read from the number's decimal text, never through float64, so
// 0.1 is exactly 100 thousandths; digits past the third decimal are rounded
// to the nearest thousandth, halves away from zero, as Mesos does. On input,
// the deprecated "role" field (with the deprecated "reservation" field for a
// dynamic reservation) is accepted for compatibility; unknown fields such as
// "allocation_info" are ignored; "revocable", "shared", "provider_id" and
// disk "source" are rejected because Cairn does not support them.

// scalarWire and friends mirror the Mesos JSON on input.
type scalarWire struct {
	Value json.RawMessage `json:"value"`
}

type rangeWire struct {
	Begin json.RawMessage `json:"begin"`
	End   json.RawMessage `json:"end"`
}

type rangesWire struct {
	Range []rangeWire `json:"range"`
}

type setWire struct {
	Item []string `json:"item"`
}

type legacyReservationWire struct {
	Principal string          `json:"principal"`
	Labels    json.RawMessage `json:"labels"`
}

type diskWire struct {
	Persistence *Persistence    `json:"persistence"`
	Volume      *Volume         `json:"volume"`
	Source      json.RawMessage `json:"source"`
}

type resourceWire struct {
	Name         *string                `json:"name"`
	Type         *string                `json:"type"`
	Scalar       *scalarWire            `json:"scalar"`
	Ranges       *rangesWire            `json:"ranges"`
	Set          *setWire               `json:"set"`
	Role         *string                `json:"role"`
	Reservation  *legacyReservationWire `json:"reservation"`
	Reservations []json.RawMessage      `json:"reservations"`
	Disk         *diskWire              `json:"disk"`
	Revocable    json.RawMessage        `json:"revocable"`
	Shared       json.RawMessage        `json:"shared"`
	ProviderID   json.RawMessage        `json:"provider_id"`
}

// Output shapes.
type scalarOut struct {
	Value json.Number `json:"value"`
}

type rangesOut struct {
	Range []Range `json:"range"`
}

type setOut struct {
	Item []string `json:"item"`
}

type resourceOut struct {
	Name         string        `json:"name"`
	Type         Type          `json:"type"`
	Scalar       *scalarOut    `json:"scalar,omitempty"`
	Ranges       *rangesOut    `json:"ranges,omitempty"`
	Set          *setOut       `json:"set,omitempty"`
	Reservations []Reservation `json:"reservations,omitempty"`
	Disk         *DiskInfo     `json:"disk,omitempty"`
}

// MarshalJSON writes the Mesos v1 JSON object; the scalar is written as its
// exact decimal.
func (r Resource) MarshalJSON() ([]byte, error) {
	out := resourceOut{Name: r.Name, Type: r.Type, Reservations: r.Reservations}
	if !diskEmpty(r.Disk) {
		out.Disk = r.Disk
	}
	switch r.Type {
	case Scalar:
		out.Scalar = &scalarOut{json.Number(r.Scalar.String())}
	case Ranges:
		out.Ranges = &rangesOut{nonNil(r.Ranges)}
	case Set:
		out.Set = &setOut{nonNil(r.Set)}
	default: // invalid type: write whatever is set, so nothing is lost
		if r.Scalar != 0 {
			out.Scalar = &scalarOut{json.Number(r.Scalar.String())}
		}
		if len(r.Ranges) > 0 {
			out.Ranges = &rangesOut{r.Ranges}
		}
		if len(r.Set) > 0 {
			out.Set = &setOut{r.Set}
		}
	}
	return json.Marshal(out)
}

func nonNil[S ~[]E, E any](s S) S {
	if s == nil {
		return S{}
	}
	return s
}

// UnmarshalJSON reads and validates one Mesos v1 JSON resource. Errors name
// the field, e.g. "resource.scalar.value: must be >= 0".
func (r *Resource) UnmarshalJSON(b []byte) error {
	x, err := decodeResource(b)
	if err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			return fe.under("resource")
		}
		return err
	}
	*r = x
	return nil
}

// MarshalJSON writes a JSON array of the normalised resources ([] when empty).
func (rs Resources) MarshalJSON() ([]byte, error) {
	a := norm(rs)
	if b, ok := appendResourcesFast(make([]byte, 0, 64*len(a)+2), a); ok {
		return b, nil
	}
	return a.slowMarshal()
}

// slowMarshal is MarshalJSON without the fast path (for normalised rs).
func (rs Resources) slowMarshal() ([]byte, error) {
	a := rs
	b := []byte{'['}
	for i := range a {
		if i > 0 {
			b = append(b, ',')
		}
		j, err := a[i].MarshalJSON()
		if err != nil {
			return nil, err
		}
		b = append(b, j...)
	}
	return append(b, ']'), nil
}

// UnmarshalJSON reads a JSON array of Mesos v1 resources, validates and
// normalises it. Errors name the field, e.g.
// "resources[2].scalar.value: must be >= 0". null gives an empty collection.
func (rs *Resources) UnmarshalJSON(b []byte) error {
	if fast, ok := fastDecodeResources(b); ok {
		*rs = fast
		return nil
	}
	return rs.slowUnmarshal(b)
}

// slowUnmarshal is UnmarshalJSON without the fast path.
func (rs *Resources) slowUnmarshal(b []byte) error {
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return jsonError(err, "expected a JSON array of resources such as [{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":2}}]").under("resources")
	}
	out := make(Resources, 0, len(raws))
	for i, raw := range raws {
		r, err := decodeResource(raw)
		if err != nil {
			var fe *fieldError
			if errors.As(err, &fe) {
				return fe.under(fmt.Sprintf("resources[%d]", i))
			}
			return fmt.Errorf("resources[%d]: %w", i, err)
		}
		out = append(out, r)
	}
	if i, j := typeConflict(out); i >= 0 {
		return fieldErrorf(fmt.Sprintf("resources[%d].type", i), "%s is %s here but %s in resources[%d]; a resource name has one type",
			out[i].Name, out[i].Type, out[j].Type, j)
	}
	*rs = normalize(out)
	return nil
}

// jsonError turns an encoding/json error into a fieldError; what describes the
// expected shape when the JSON has the wrong type at the top.
func jsonError(err error, what string) *fieldError {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field == "" {
			return fieldErrorf("", "%s, got JSON %s", what, te.Value)
		}
		return fieldErrorf(te.Field, "expected %s, got JSON %s", jsonTypeName(te.Type.String()), te.Value)
	case errors.As(err, &se):
		return fieldErrorf("", "invalid JSON at byte %d: %v", se.Offset, err)
	}
	var fe *fieldError
	if errors.As(err, &fe) {
		return fe
	}
	return fieldErrorf("", "%v", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonTypeName words a Go type as the JSON it expects.
func jsonTypeName(goType string) string {
	switch {
	case goType == "string" || goType == "*string":
		return "a string"
	case goType == "json.Number" || goType == "*json.Number":
		return "a number"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	}
	return "an object"
}

// present reports whether a raw JSON field was given and is not null.
func present(raw json.RawMessage) bool {
	return len(raw) > 0 && strings.TrimSpace(string(raw)) != "null"
}

// decodeResource decodes, normalises the values of, and validates one JSON
// resource; errors are *fieldError with paths relative to the resource.
func decodeResource(data []byte) (Resource, error) {
	var w resourceWire
	if err := json.Unmarshal(data, &w); err != nil {
		return Resource{}, jsonError(err, "expected a JSON object such as {\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":2}}")
	}
	var r Resource
	if w.Name == nil {
		return r, fieldErrorf("name", "missing; every resource needs a name such as cpus or ports")
	}
	r.Name = *w.Name
	if fe := validateName(r.Name, "resource"); fe != nil {
		return r, fe
	}
	switch {
	case present(w.Revocable):
		return r, fieldErrorf("revocable", "revocable resources are not supported by Cairn; remove the field")
	case present(w.Shared):
		return r, fieldErrorf("shared", "shared resources are not supported by Cairn; remove the field")
	case present(w.ProviderID):
		return r, fieldErrorf("provider_id", "resource providers are not supported by Cairn; remove the field")
	}

	// Type, inferred when missing and unambiguous.
	if w.Type == nil {
		switch {
		case w.Scalar != nil && w.Ranges == nil && w.Set == nil:
			r.Type = Scalar
		case w.Scalar == nil && w.Ranges != nil && w.Set == nil:
			r.Type = Ranges
		case w.Scalar == nil && w.Ranges == nil && w.Set != nil:
			r.Type = Set
		default:
			return r, fieldErrorf("type", "missing for %s; expected SCALAR, RANGES or SET", r.Name)
		}
	} else {
		r.Type = Type(*w.Type)
	}
	example := map[Type]string{
		Scalar: `"scalar":{"value":2}`,
		Ranges: `"ranges":{"range":[{"begin":31000,"end":32000}]}`,
		Set:    `"set":{"item":["a","b"]}`,
	}
	switch r.Type {
	case Scalar, Ranges, Set:
	default:
		return r, fieldErrorf("type", "unknown type %q for %s; expected SCALAR, RANGES or SET", *w.Type, r.Name)
	}
	if w.Scalar != nil && r.Type != Scalar {
		return r, fieldErrorf("scalar", "not allowed on a %s resource; give %s", r.Type, example[r.Type])
	}
	if w.Ranges != nil && r.Type != Ranges {
		return r, fieldErrorf("ranges", "not allowed on a %s resource; give %s", r.Type, example[r.Type])
	}
	if w.Set != nil && r.Type != Set {
		return r, fieldErrorf("set", "not allowed on a %s resource; give %s", r.Type, example[r.Type])
	}

	switch r.Type {
	case Scalar:
		if w.Scalar == nil || !present(w.Scalar.Value) {
			return r, fieldErrorf("scalar.value", "missing for SCALAR resource %s; give %s", r.Name, example[Scalar])
		}
		text, fe := jsonNumber(w.Scalar.Value)
		if fe != nil {
			return r, fe.under("scalar.value")
		}
		v, e := parseDecimal(text, numJSON)
		switch e {
		case numOK:
		case numNegative:
			return r, fieldErrorf("scalar.value", "must be >= 0 (got %s)", text)
		default:
			return r, fieldErrorf("scalar.value", "%s", e.describe(text, "resources"))
		}
		r.Scalar = v
	case Ranges:
		if w.Ranges == nil {
			return r, fieldErrorf("ranges", "missing for RANGES resource %s; give %s", r.Name, example[Ranges])
		}
		rs, fe := decodeRanges(w.Ranges)
		if fe != nil {
			return r, fe.under("ranges")
		}
		r.Ranges = rs
	case Set:
		if w.Set == nil {
			return r, fieldErrorf("set", "missing for SET resource %s; give %s", r.Name, example[Set])
		}
		r.Set = normalizeSet(slices.Clone(w.Set.Item))
	}

	for i, raw := range w.Reservations {
		var x Reservation
		if err := x.UnmarshalJSON(raw); err != nil {
			return r, jsonError(err, "expected a reservation object").under(fmt.Sprintf("reservations[%d]", i))
		}
		r.Reservations = append(r.Reservations, x)
	}
	role := DefaultRole
	if w.Role != nil && *w.Role != "" {
		role = *w.Role
	}
	switch {
	case role != DefaultRole && len(r.Reservations) == 0:
		if err := ValidateRole(role); err != nil {
			return r, fieldErrorf("role", "%s", err)
		}
		x := Reservation{Type: Static, Role: role}
		if w.Reservation != nil {
			labels, fe := decodeLabels(w.Reservation.Labels)
			if fe != nil {
				return r, fe.under("reservation.labels")
			}
			x = Reservation{Type: Dynamic, Role: role, Principal: w.Reservation.Principal, Labels: labels}
		}
		r.Reservations = []Reservation{x}
	case role != DefaultRole && role != r.Role():
		return r, fieldErrorf("role", "%q disagrees with the reservations (whose top role is %q); drop the deprecated \"role\" field", role, r.Role())
	case w.Reservation != nil && len(r.Reservations) == 0:
		return r, fieldErrorf("reservation", "a dynamic reservation needs a role; use \"reservations\":[{\"type\":\"DYNAMIC\",\"role\":\"prod\",\"principal\":\"…\"}]")
	}

	if w.Disk != nil {
		if present(w.Disk.Source) {
			return r, fieldErrorf("disk.source", "disk sources (PATH, MOUNT, BLOCK, RAW) are not supported by Cairn; remove the field")
		}
		r.Disk = &DiskInfo{Persistence: w.Disk.Persistence, Volume: w.Disk.Volume}
		if diskEmpty(r.Disk) {
			r.Disk = nil
		}
	}
	if fe := validateResource(&r); fe != nil {
		return r, fe
	}
	return r, nil
}

// decodeRanges reads {"range":[{"begin":1,"end":5},…]} exactly.
func decodeRanges(w *rangesWire) (RangeSet, *fieldError) {
	out := make([]Range, 0, len(w.Range))
	for i, x := range w.Range {
		path := fmt.Sprintf("range[%d]", i)
		var rg Range
		for _, f := range []struct {
			name string
			raw  json.RawMessage
			dst  *uint64
		}{{"begin", x.Begin, &rg.Begin}, {"end", x.End, &rg.End}} {
			if !present(f.raw) {
				return nil, fieldErrorf(path+"."+f.name, "missing; a range needs begin and end, e.g. {\"begin\":31000,\"end\":32000}")
			}
			text, fe := jsonNumber(f.raw)
			if fe != nil {
				return nil, fe.under(path + "." + f.name)
			}
			v, err := strconv.ParseUint(text, 10, 64)
			if err != nil {
				return nil, fieldErrorf(path+"."+f.name, "%s is not an integer between 0 and %d", text, uint64(1<<64-1))
			}
			*f.dst = v
		}
		if rg.Begin > rg.End {
			return nil, fieldErrorf(path, "range %d-%d has begin > end", rg.Begin, rg.End)
		}
		out = append(out, rg)
	}
	return normalizeRanges(out), nil
}

// jsonNumber returns the text of a JSON number, or of a JSON string holding
// one (proto3 JSON writes 64-bit integers as strings).
func jsonNumber(raw json.RawMessage) (string, *fieldError) {
	s := strings.TrimSpace(string(raw))
	switch {
	case s == "":
		return "", fieldErrorf("", "missing")
	case s[0] == '"':
		var str string
		if err := json.Unmarshal([]byte(s), &str); err != nil {
			return "", fieldErrorf("", "invalid JSON string %s", quoteEntry(s))
		}
		return strings.TrimSpace(str), nil
	case s[0] == '-' || isDigit(s[0]):
		return s, nil
	}
	kind := "an object"
	switch s[0] {
	case '[':
		kind = "an array"
	case 't', 'f':
		kind = "a boolean"
	case 'n':
		kind = "null"
	}
	return "", fieldErrorf("", "expected a number, got %s", kind)
}

// Reservation JSON.

type labelWire struct {
	Key   *string `json:"key"`
	Value *string `json:"value"`
}

type labelOut struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

type labelsOut struct {
	Labels []labelOut `json:"labels"`
}

type reservationOut struct {
	Type      ReservationType `json:"type"`
	Role      string          `json:"role"`
	Principal string          `json:"principal,omitempty"`
	Labels    *labelsOut      `json:"labels,omitempty"`
}

// MarshalJSON writes the Mesos v1 ReservationInfo, labels sorted by key.
func (x Reservation) MarshalJSON() ([]byte, error) {
	out := reservationOut{Type: x.Type, Role: x.Role, Principal: x.Principal}
	if len(x.Labels) > 0 {
		out.Labels = &labelsOut{}
		for _, k := range slices.Sorted(maps.Keys(x.Labels)) {
			out.Labels.Labels = append(out.Labels.Labels, labelOut{k, x.Labels[k]})
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a Mesos v1 ReservationInfo; labels may be Mesos'
// {"labels":[{"key":…,"value":…}]} or a plain {"key":"value"} object. Use
// [Reservation.Validate] (or validate the enclosing resource) to check it.
func (x *Reservation) UnmarshalJSON(b []byte) error {
	var w struct {
		Type      *string         `json:"type"`
		Role      *string         `json:"role"`
		Principal string          `json:"principal"`
		Labels    json.RawMessage `json:"labels"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return jsonError(err, "expected a reservation object such as {\"type\":\"DYNAMIC\",\"role\":\"prod\"}")
	}
	if w.Type == nil {
		return fieldErrorf("type", "missing; use STATIC or DYNAMIC")
	}
	if w.Role == nil {
		return fieldErrorf("role", "missing; say which role the reservation is for")
	}
	labels, fe := decodeLabels(w.Labels)
	if fe != nil {
		return fe.under("labels")
	}
	*x = Reservation{Type: ReservationType(*w.Type), Role: *w.Role, Principal: w.Principal, Labels: labels}
	return nil
}

// Validate checks the reservation on its own (as the bottom of a stack).
func (x Reservation) Validate() error {
	if fe := validateReservation([]Reservation{x}, 0); fe != nil {
		return fe
	}
	return nil
}

// decodeLabels reads Mesos labels or a plain string map; nil when empty.
func decodeLabels(raw json.RawMessage) (map[string]string, *fieldError) {
	if !present(raw) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fieldErrorf("", `expected {"labels":[{"key":"k","value":"v"}]}, got %s`, quoteEntry(string(raw)))
	}
	if inner, ok := m["labels"]; ok && len(m) == 1 && strings.HasPrefix(strings.TrimSpace(string(inner)), "[") {
		var list []labelWire
		if err := json.Unmarshal(inner, &list); err != nil {
			return nil, jsonError(err, "expected a list of labels").under("labels")
		}
		out := make(map[string]string, len(list))
		for i, l := range list {
			if l.Key == nil {
				return nil, fieldErrorf(fmt.Sprintf("labels[%d].key", i), "missing")
			}
			if _, dup := out[*l.Key]; dup {
				return nil, fieldErrorf(fmt.Sprintf("labels[%d].key", i), "duplicate label key %q", *l.Key)
			}
			v := ""
			if l.Value != nil {
				v = *l.Value
			}
			out[*l.Key] = v
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
	out := make(map[string]string, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		var v string
		if err := json.Unmarshal(m[k], &v); err != nil {
			return nil, fieldErrorf(k, "label values must be strings, got %s", quoteEntry(string(m[k])))
		}
		out[k] = v
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
