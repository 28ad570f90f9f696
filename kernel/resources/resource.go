package resources

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Type is a resource's (or attribute's) value type.
type Type string

// The value types. Resources are SCALAR, RANGES or SET; attributes may also be
// TEXT.
const (
	Scalar Type = "SCALAR"
	Ranges Type = "RANGES"
	Set    Type = "SET"
	Text   Type = "TEXT" // attributes only
)

// ReservationType says how a reservation was made.
type ReservationType string

// The reservation types.
const (
	Static  ReservationType = "STATIC"  // from the agent's configuration
	Dynamic ReservationType = "DYNAMIC" // by a framework or operator (RESERVE)
)

// Reservation is one entry of a resource's reservation stack.
//
// Its JSON is Mesos v1's ReservationInfo, labels included:
// {"type":"DYNAMIC","role":"prod","principal":"ops","labels":{"labels":[{"key":"k","value":"v"}]}}.
// A plain {"k":"v"} object is accepted for labels on input too.
type Reservation struct {
	Type      ReservationType   `json:"type"`
	Role      string            `json:"role"`
	Principal string            `json:"principal,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// DiskInfo marks disk resources that are persistent volumes.
type DiskInfo struct {
	Persistence *Persistence `json:"persistence,omitempty"`
	Volume      *Volume      `json:"volume,omitempty"`
}

// Persistence identifies a persistent volume.
type Persistence struct {
	ID        string `json:"id"`
	Principal string `json:"principal,omitempty"`
}

// Volume says where a persistent volume is mounted in the task's sandbox.
type Volume struct {
	ContainerPath string `json:"container_path"`
	Mode          string `json:"mode"` // RW | RO
}

// Resource is one named resource. Exactly one of Scalar/Ranges/Set is
// meaningful, according to Type. JSON is Mesos v1's shape
// ({"scalar":{"value":4}}, {"ranges":{"range":[...]}}, {"set":{"item":[...]}}).
//
// Resource values returned by this package may share their Ranges, Set,
// Reservations and Disk with other values: treat them as immutable, or
// [Resource.Clone] before modifying.
type Resource struct {
	Name         string
	Type         Type
	Scalar       Value
	Ranges       RangeSet
	Set          []string // sorted, unique
	Reservations []Reservation
	Disk         *DiskInfo
}

// Role is the role the resource is reserved for (the top of its reservation
// stack), or "*" when unreserved.
func (r Resource) Role() string {
	if n := len(r.Reservations); n > 0 {
		return r.Reservations[n-1].Role
	}
	return DefaultRole
}

// IsReserved reports whether the resource has at least one reservation.
func (r Resource) IsReserved() bool { return len(r.Reservations) > 0 }

// IsDynamicallyReserved reports whether the top reservation is DYNAMIC.
func (r Resource) IsDynamicallyReserved() bool {
	n := len(r.Reservations)
	return n > 0 && r.Reservations[n-1].Type == Dynamic
}

// IsPersistentVolume reports whether the resource is a persistent volume
// (Disk.Persistence set). Persistent volumes are atomic: they are never merged
// with one another, and only a whole volume can be subtracted or contained.
func (r Resource) IsPersistentVolume() bool { return r.Disk != nil && r.Disk.Persistence != nil }

// IsEmpty reports whether the resource holds nothing: a scalar <= 0, or no
// ranges or set items.
func (r Resource) IsEmpty() bool { return isEmpty(&r) }

// Clone returns a deep copy that shares no memory with r.
func (r Resource) Clone() Resource {
	r.Ranges = slices.Clone(r.Ranges)
	r.Set = slices.Clone(r.Set)
	if r.Reservations != nil {
		res := make([]Reservation, len(r.Reservations))
		for i, x := range r.Reservations {
			x.Labels = maps.Clone(x.Labels)
			res[i] = x
		}
		r.Reservations = res
	}
	if r.Disk != nil {
		d := *r.Disk
		if d.Persistence != nil {
			p := *d.Persistence
			d.Persistence = &p
		}
		if d.Volume != nil {
			v := *d.Volume
			d.Volume = &v
		}
		r.Disk = &d
	}
	return r
}

// String is the resource in the text format of [Parse]: "cpus(prod):2",
// "ports:[31000-32000]". A resource the text format cannot express (dynamic
// or refined reservations, persistent volumes, unusual set items or roles) is
// written as its JSON object, which Parse accepts as an entry too.
func (r Resource) String() string { return string(appendResource(nil, &r)) }

// Validate checks the resource's name, type, value, reservations and disk.
func (r Resource) Validate() error {
	if fe := validateResource(&r); fe != nil {
		return fmt.Errorf("resource %q: %s", r.Name, fe)
	}
	return nil
}

// isEmpty: see Resource.IsEmpty.
func isEmpty(r *Resource) bool {
	switch r.Type {
	case Scalar:
		return r.Scalar <= 0
	case Ranges:
		return len(r.Ranges) == 0
	case Set:
		return len(r.Set) == 0
	}
	return r.Scalar <= 0 && len(r.Ranges) == 0 && len(r.Set) == 0
}

func isPersistent(r *Resource) bool { return r.Disk != nil && r.Disk.Persistence != nil }

// compareKey orders resources by name, type, reservation stack and disk; 0
// means the two may be merged (unless they are persistent volumes).
func compareKey(a, b *Resource) int {
	if a.Name != b.Name {
		return strings.Compare(a.Name, b.Name)
	}
	if a.Type != b.Type {
		return strings.Compare(string(a.Type), string(b.Type))
	}
	if c := compareReservations(a.Reservations, b.Reservations); c != 0 {
		return c
	}
	return compareDisk(a.Disk, b.Disk)
}

// compareEntry is the total order of a normalised Resources: compareKey, then,
// for persistent volumes only (which are never merged), their size.
func compareEntry(a, b *Resource) int {
	c := compareKey(a, b)
	if c == 0 && isPersistent(a) {
		c = cmp.Compare(a.Scalar, b.Scalar)
	}
	return c
}

// compareReservations orders stacks bottom-up: unreserved first, then by the
// first differing reservation, a stack before its refinements.
func compareReservations(a, b []Reservation) int {
	if len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0]) {
		return 0 // same stack (shared memory is common after Plus/Minus)
	}
	for i := range min(len(a), len(b)) {
		if c := compareReservation(&a[i], &b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

func compareReservation(a, b *Reservation) int {
	if a.Role != b.Role {
		return strings.Compare(a.Role, b.Role)
	}
	if a.Type != b.Type {
		return strings.Compare(string(a.Type), string(b.Type))
	}
	if a.Principal != b.Principal {
		return strings.Compare(a.Principal, b.Principal)
	}
	return compareLabels(a.Labels, b.Labels)
}

// compareLabels orders label maps as their sorted (key, value) lists; it only
// allocates when both are non-empty and differ.
func compareLabels(a, b map[string]string) int {
	if len(a) == 0 && len(b) == 0 {
		return 0
	}
	if len(a) != len(b) {
		return cmp.Compare(len(a), len(b))
	}
	if maps.Equal(a, b) {
		return 0
	}
	ka := slices.Sorted(maps.Keys(a))
	kb := slices.Sorted(maps.Keys(b))
	for i := range ka {
		if c := strings.Compare(ka[i], kb[i]); c != 0 {
			return c
		}
		if c := strings.Compare(a[ka[i]], b[kb[i]]); c != 0 {
			return c
		}
	}
	return 0
}

// diskEmpty reports whether d carries no information (nil or {}).
func diskEmpty(d *DiskInfo) bool { return d == nil || (d.Persistence == nil && d.Volume == nil) }

func compareDisk(a, b *DiskInfo) int {
	if a == b {
		return 0
	}
	ae, be := diskEmpty(a), diskEmpty(b)
	switch {
	case ae && be:
		return 0
	case ae:
		return -1
	case be:
		return 1
	}
	if c := comparePtr(a.Persistence, b.Persistence, func(x, y *Persistence) int {
		if x.ID != y.ID {
			return strings.Compare(x.ID, y.ID)
		}
		return strings.Compare(x.Principal, y.Principal)
	}); c != 0 {
		return c
	}
	return comparePtr(a.Volume, b.Volume, func(x, y *Volume) int {
		if x.ContainerPath != y.ContainerPath {
			return strings.Compare(x.ContainerPath, y.ContainerPath)
		}
		return strings.Compare(x.Mode, y.Mode)
	})
}

// comparePtr orders nil first, then by f.
func comparePtr[T any](a, b *T, f func(a, b *T) int) int {
	switch {
	case a == b:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return f(a, b)
}

// valuesEqual compares the values of two resources of the same key.
func valuesEqual(a, b *Resource) bool {
	switch a.Type {
	case Scalar:
		return a.Scalar == b.Scalar
	case Ranges:
		return slices.Equal(a.Ranges, b.Ranges)
	case Set:
		return slices.Equal(a.Set, b.Set)
	}
	return a.Scalar == b.Scalar && slices.Equal(a.Ranges, b.Ranges) && slices.Equal(a.Set, b.Set)
}

// wellKnown is the type each well-known resource name must have, with an
// example for error messages.
func wellKnown(name string) (Type, string) {
	switch name {
	case "cpus":
		return Scalar, "cpus:2"
	case "mem":
		return Scalar, "mem:1024"
	case "disk":
		return Scalar, "disk:10000"
	case "gpus":
		return Scalar, "gpus:1"
	case "ports":
		return Ranges, "ports:[31000-32000]"
	}
	return "", ""
}

// fieldError is a validation or decoding error at a JSON-style field path,
// such as "scalar.value" or "reservations[0].role".
type fieldError struct {
	path string
	msg  string
}

func (e *fieldError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return e.path + ": " + e.msg
}

// under returns the error with its path placed under prefix ("resources[2]").
func (e *fieldError) under(prefix string) *fieldError {
	switch {
	case prefix == "":
		return e
	case e.path == "":
		return &fieldError{prefix, e.msg}
	case e.path[0] == '[':
		return &fieldError{prefix + e.path, e.msg}
	}
	return &fieldError{prefix + "." + e.path, e.msg}
}

func fieldErrorf(path, format string, args ...any) *fieldError {
	return &fieldError{path, fmt.Sprintf(format, args...)}
}

// validateName checks a resource or attribute name; kind is "resource" or
// "attribute".
func validateName(name, kind string) *fieldError {
	if name == "" {
		example := "cpus or ports"
		if kind == "attribute" {
			example = "rack or zone"
		}
		return fieldErrorf("name", "missing; every %s needs a name such as %s", kind, example)
	}
	if !utf8.ValidString(name) {
		return fieldErrorf("name", "%q is not valid UTF-8", name)
	}
	for _, c := range name {
		if strings.ContainsRune(";:()[]{},", c) || unicode.IsSpace(c) || unicode.IsControl(c) || c == '"' {
			return fieldErrorf("name", "%s name %q contains %q, which is not allowed; use letters, digits, '_', '.' and '-'", kind, name, c)
		}
	}
	return nil
}

// validateItem checks one set item.
func validateItem(item string) string {
	if item == "" {
		return "is empty; set items must be non-empty"
	}
	if !utf8.ValidString(item) {
		return fmt.Sprintf("%q is not valid UTF-8", item)
	}
	for _, c := range item {
		if unicode.IsControl(c) {
			return fmt.Sprintf("%q contains the control character %q", item, c)
		}
	}
	return ""
}

// validateResource checks one resource; the error path is relative to it.
func validateResource(r *Resource) *fieldError {
	if fe := validateName(r.Name, "resource"); fe != nil {
		return fe
	}
	switch r.Type {
	case Scalar, Ranges, Set:
	case "":
		return fieldErrorf("type", "missing for %s; expected SCALAR, RANGES or SET", r.Name)
	default:
		return fieldErrorf("type", "unknown type %q for %s; expected SCALAR, RANGES or SET", string(r.Type), r.Name)
	}
	if t, example := wellKnown(r.Name); t != "" && t != r.Type {
		return fieldErrorf("type", "%s must be of type %s, e.g. %s (got %s)", r.Name, t, example, r.Type)
	}
	if r.Type != Scalar && r.Scalar != 0 {
		return fieldErrorf("scalar", "set on %s resource %s; only SCALAR resources have a scalar value", r.Type, r.Name)
	}
	if r.Type != Ranges && len(r.Ranges) > 0 {
		return fieldErrorf("ranges", "set on %s resource %s; only RANGES resources have ranges", r.Type, r.Name)
	}
	if r.Type != Set && len(r.Set) > 0 {
		return fieldErrorf("set", "set on %s resource %s; only SET resources have items", r.Type, r.Name)
	}
	switch r.Type {
	case Scalar:
		if r.Scalar < 0 {
			return fieldErrorf("scalar.value", "must be >= 0 (got %s)", r.Scalar)
		}
		if r.Name == "gpus" && r.Scalar%Scale != 0 {
			return fieldErrorf("scalar.value", "gpus must be a whole number (got %s)", r.Scalar)
		}
	case Ranges:
		for i, x := range r.Ranges {
			if x.Begin > x.End {
				return fieldErrorf(fmt.Sprintf("ranges.range[%d]", i), "range %d-%d has begin > end", x.Begin, x.End)
			}
		}
	case Set:
		for i, it := range r.Set {
			if msg := validateItem(it); msg != "" {
				return fieldErrorf(fmt.Sprintf("set.item[%d]", i), "%s", msg)
			}
		}
	}
	for i := range r.Reservations {
		if fe := validateReservation(r.Reservations, i); fe != nil {
			return fe.under(fmt.Sprintf("reservations[%d]", i))
		}
	}
	if !diskEmpty(r.Disk) {
		if fe := validateDisk(r); fe != nil {
			return fe.under("disk")
		}
	}
	return nil
}

// validateReservation checks stack[i] in its place in the stack.
func validateReservation(stack []Reservation, i int) *fieldError {
	x := &stack[i]
	switch x.Type {
	case Static:
		if i > 0 {
			return fieldErrorf("type", "STATIC reservations must be at the bottom of the stack (reservations[0]); refine with DYNAMIC reservations")
		}
	case Dynamic:
	case "":
		return fieldErrorf("type", "missing; use STATIC or DYNAMIC")
	default:
		return fieldErrorf("type", "unknown reservation type %q; use STATIC or DYNAMIC", string(x.Type))
	}
	if x.Role == DefaultRole {
		return fieldErrorf("role", "cannot reserve for %q (that means unreserved); leave the reservations out instead", DefaultRole)
	}
	if err := ValidateRole(x.Role); err != nil {
		return fieldErrorf("role", "%s", err)
	}
	if i > 0 && !IsSubRole(x.Role, stack[i-1].Role) {
		return fieldErrorf("role", "%q does not refine %q (reservations[%d]); each reservation must be for a sub-role of the one below, e.g. %q", x.Role, stack[i-1].Role, i-1, stack[i-1].Role+"/web")
	}
	if !utf8.ValidString(x.Principal) {
		return fieldErrorf("principal", "%q is not valid UTF-8", x.Principal)
	}
	for k, v := range x.Labels {
		if k == "" {
			return fieldErrorf("labels", "a label has an empty key")
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fieldErrorf("labels", "label %q=%q is not valid UTF-8", k, v)
		}
	}
	return nil
}

func validateDisk(r *Resource) *fieldError {
	if r.Name != "disk" {
		return fieldErrorf("", "only disk resources can have disk info (this is %s)", r.Name)
	}
	d := r.Disk
	if p := d.Persistence; p != nil {
		if p.ID == "" {
			return fieldErrorf("persistence.id", "missing; a persistent volume needs an id")
		}
		if !utf8.ValidString(p.ID) || !utf8.ValidString(p.Principal) {
			return fieldErrorf("persistence", "id and principal must be valid UTF-8")
		}
	}
	if v := d.Volume; v != nil {
		if v.ContainerPath == "" {
			return fieldErrorf("volume.container_path", "missing; say where the volume is mounted in the sandbox, e.g. \"data\"")
		}
		if !utf8.ValidString(v.ContainerPath) {
			return fieldErrorf("volume.container_path", "%q is not valid UTF-8", v.ContainerPath)
		}
		if v.Mode != "RW" && v.Mode != "RO" {
			return fieldErrorf("volume.mode", "%q is not a volume mode; use RW or RO", v.Mode)
		}
	}
	return nil
}
