package marathon

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Custom JSON for the few types whose Marathon shape is not a plain
// struct: the unreachable strategy ("disabled" or an object) and the
// container fields Cairn keeps as they came (Extra).

// MarshalJSON writes "disabled" or the object.
func (u UnreachableStrategy) MarshalJSON() ([]byte, error) {
	if u.Disabled {
		return []byte(`"disabled"`), nil
	}
	type plain UnreachableStrategy
	return json.Marshal(plain(u))
}

// UnmarshalJSON reads "disabled" or the object.
func (u *UnreachableStrategy) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s != "disabled" {
			return fmt.Errorf(`unreachableStrategy: expected "disabled" or an object, got %q`, s)
		}
		*u = UnreachableStrategy{Disabled: true}
		return nil
	}
	type plain UnreachableStrategy
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*u = UnreachableStrategy(p)
	return nil
}

// MarshalJSON writes the container with its Extra fields.
func (c Container) MarshalJSON() ([]byte, error) {
	type plain Container
	b, err := json.Marshal(plain(c))
	if err != nil {
		return nil, err
	}
	return withExtra(b, c.Extra, "type", "docker", "volumes")
}

// UnmarshalJSON reads the container and keeps Marathon's other container
// fields in Extra.
func (c *Container) UnmarshalJSON(b []byte) error {
	type plain Container
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	extra, err := extraFields(b, containerExtras)
	if err != nil {
		return err
	}
	p.Extra = extra
	*c = Container(p)
	return nil
}

// MarshalJSON writes docker with its Extra fields.
func (d Docker) MarshalJSON() ([]byte, error) {
	type plain Docker
	b, err := json.Marshal(plain(d))
	if err != nil {
		return nil, err
	}
	return withExtra(b, d.Extra, "image")
}

// UnmarshalJSON reads docker and keeps the other docker fields in Extra.
func (d *Docker) UnmarshalJSON(b []byte) error {
	type plain Docker
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	extra, err := extraFields(b, dockerExtras)
	if err != nil {
		return err
	}
	p.Extra = extra
	*d = Docker(p)
	return nil
}

// withExtra appends extra's entries (except the struct's own keys) to the
// JSON object b.
func withExtra(b []byte, extra map[string]any, own ...string) ([]byte, error) {
	add := map[string]any{}
	for k, v := range extra {
		skip := false
		for _, o := range own {
			skip = skip || k == o
		}
		if !skip {
			add[k] = v
		}
	}
	if len(add) == 0 {
		return b, nil
	}
	e, err := json.Marshal(add)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(b, []byte("{}")) {
		return e, nil
	}
	out := append(b[:len(b)-1:len(b)-1], ',')
	return append(out, e[1:]...), nil
}

// extraFields decodes the given keys of the JSON object b (numbers as
// json.Number, as ParseApp); nil when none is there.
func extraFields(b []byte, keys []string) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	var out map[string]any
	for _, k := range keys {
		if v, ok := m[k]; ok && v != nil {
			if out == nil {
				out = map[string]any{}
			}
			out[k] = v
		}
	}
	return out, nil
}
