package packages

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// option is a top-level property of a package's options JSON Schema.
type option struct {
	Name        string
	Types       []string // "string", "integer" ... (none: any JSON)
	Default     json.RawMessage
	Description string
	Enum        []json.RawMessage
	Required    bool
}

// parseOptions reads the top-level properties of an options schema, in
// the schema's order. A package without a schema has none.
func parseOptions(schema json.RawMessage) ([]option, error) {
	if len(bytes.TrimSpace(schema)) == 0 || bytes.Equal(bytes.TrimSpace(schema), []byte("null")) {
		return nil, nil
	}
	var top struct {
		Properties json.RawMessage `json:"properties"`
		Required   []string        `json:"required"`
	}
	if err := json.Unmarshal(schema, &top); err != nil {
		return nil, fmt.Errorf("the package's options schema is not a JSON object: %w", err)
	}
	if len(top.Properties) == 0 {
		return nil, nil
	}
	names, err := objectKeys(top.Properties)
	if err != nil {
		return nil, fmt.Errorf("the package's options schema: properties: %w", err)
	}
	var props map[string]json.RawMessage
	if err := json.Unmarshal(top.Properties, &props); err != nil {
		return nil, fmt.Errorf("the package's options schema: properties: %w", err)
	}
	opts := make([]option, 0, len(names))
	for _, name := range names {
		var p struct {
			Type        json.RawMessage   `json:"type"`
			Default     json.RawMessage   `json:"default"`
			Description string            `json:"description"`
			Enum        []json.RawMessage `json:"enum"`
		}
		_ = json.Unmarshal(props[name], &p) // a property that is not an object takes any JSON
		o := option{Name: name, Default: p.Default, Description: p.Description, Enum: p.Enum, Required: slices.Contains(top.Required, name)}
		var one string
		if json.Unmarshal(p.Type, &one) == nil && one != "" {
			o.Types = []string{one}
		} else {
			_ = json.Unmarshal(p.Type, &o.Types)
		}
		opts = append(opts, o)
	}
	return opts, nil
}

// objectKeys lists a JSON object's keys in their order.
func objectKeys(obj json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := tok.(string)
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// typeText names an option's type for people: "integer", "string|null".
func (o option) typeText() string {
	if len(o.Types) == 0 {
		return "JSON"
	}
	return strings.Join(o.Types, "|")
}

// defaultText is an option's default as the form shows it: a string as it
// is, anything else as JSON ("" without a default).
func (o option) defaultText() string {
	if len(o.Default) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(o.Default, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, o.Default) != nil {
		return string(o.Default)
	}
	return buf.String()
}

func (o option) is(t string) bool { return slices.Contains(o.Types, t) }

// parse reads what the user typed for the option as its JSON value.
func (o option) parse(text string) (any, error) {
	text = strings.TrimSpace(text)
	switch {
	case len(o.Types) == 1 && o.is("string"):
		return text, nil
	case len(o.Types) == 1 && o.is("integer"):
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", text)
		}
		return n, nil
	case len(o.Types) == 1 && o.is("number"):
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", text)
		}
		return f, nil
	case len(o.Types) == 1 && o.is("boolean"):
		b, err := strconv.ParseBool(text)
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", text)
		}
		return b, nil
	}
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		if o.is("string") {
			return text, nil // a string among other types
		}
		return nil, fmt.Errorf("%q is not JSON (%s expected)", text, o.typeText())
	}
	return v, nil
}
