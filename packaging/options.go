package packaging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// schemaURL is where the options schema is registered in the compiler; it
// never leaves this file (errors name options.schema.json).
const schemaURL = "mem:///" + SchemaFile

// maxDefaultsDepth bounds how deep defaults are applied (and how many
// local $refs are followed on the way), so self-referencing schemas end.
const maxDefaultsDepth = 32

// OptionsError lists every option that failed validation, one
// "/path: message" per entry, sorted ("/port: minimum: got 80, want 1024").
type OptionsError struct {
	Errors []string
}

func (e *OptionsError) Error() string {
	return "invalid options (fix them in your options file): " + strings.Join(e.Errors, "; ")
}

// refusingLoader refuses every schema the compiler would fetch: a package's
// schema must be self-contained (only the JSON Schema metaschemas, built
// into the library, are available).
type refusingLoader struct{}

func (refusingLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s: references outside %s are not allowed; inline them under $defs", url, SchemaFile)
}

// schemaDoc decodes the options schema (numbers as json.Number). A nil
// schema gives a nil document.
func (p *Package) schemaDoc() (map[string]any, error) {
	if p.Schema == nil {
		return nil, nil
	}
	if len(p.Schema) > MaxSchemaSize {
		return nil, fieldErr(SchemaFile, "", "is %d bytes, more than the %d allowed", len(p.Schema), MaxSchemaSize)
	}
	if err := checkJSON(SchemaFile, p.Schema); err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(p.Schema))
	if err != nil {
		return nil, fieldErr(SchemaFile, "", "invalid JSON: %s", err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, fieldErr(SchemaFile, "", "must be a JSON Schema object (got %s)", jsonKind(bytes.TrimSpace(p.Schema)))
	}
	if t, ok := obj["type"]; ok && t != "object" {
		return nil, fieldErr(SchemaFile, "type", "must be \"object\": options are a JSON object")
	}
	return obj, nil
}

// compileSchema decodes and compiles the options schema (draft 2020-12
// unless it says otherwise in $schema). A nil schema gives nil, nil.
func (p *Package) compileSchema() (doc map[string]any, sch *jsonschema.Schema, err error) {
	doc, err = p.schemaDoc()
	if err != nil || doc == nil {
		return nil, nil, err
	}
	defer func() { // a hostile schema must not crash a daemon, whatever the library does
		if r := recover(); r != nil {
			sch, err = nil, fieldErr(SchemaFile, "", "cannot compile the schema (%v)", r)
		}
	}()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(refusingLoader{})
	// The compiler may keep the document; give it its own copy, as defaults
	// are taken from doc.
	own, err := jsonschema.UnmarshalJSON(bytes.NewReader(p.Schema))
	if err != nil {
		return nil, nil, fieldErr(SchemaFile, "", "invalid JSON: %s", err)
	}
	if err := c.AddResource(schemaURL, own); err != nil {
		return nil, nil, fieldErr(SchemaFile, "", "%s", err)
	}
	sch, err = c.Compile(schemaURL)
	if err != nil {
		return nil, nil, schemaCompileError(err)
	}
	return doc, sch, nil
}

// schemaCompileError names what is wrong in a schema that does not compile.
func schemaCompileError(err error) error {
	var sve *jsonschema.SchemaValidationError
	if errors.As(err, &sve) {
		var ve *jsonschema.ValidationError
		if errors.As(sve.Err, &ve) {
			return fieldErr(SchemaFile, "", "not a valid JSON Schema: %s", strings.Join(outputErrors(ve), "; "))
		}
	}
	msg := strings.ReplaceAll(err.Error(), schemaURL, SchemaFile)
	return fieldErr(SchemaFile, "", "cannot compile the schema: %s", msg)
}

// Options validates options against the schema after applying its
// defaults, and returns the complete options; errors name every failing
// option path ("/port: must be >= 1024"): an *OptionsError, or a
// *FieldError when the schema itself is bad.
//
// Defaults are merged into the user's options the way DC/OS Cosmos does:
// every absent property with a "default" gets it, and an absent object
// whose properties have defaults is created with them, recursively
// (following local "$ref"s). user is not modified. Numbers in the result
// are json.Number, so integers render as integers.
func (p *Package) Options(user map[string]any) (map[string]any, error) {
	opts, err := normalizeOptions(user)
	if err != nil {
		return nil, err
	}
	doc, sch, err := p.compileSchema()
	if err != nil {
		return nil, err
	}
	if doc == nil {
		if len(opts) == 0 {
			return opts, nil
		}
		var errs []string
		for k := range opts {
			errs = append(errs, "/"+escapePointer(k)+": unknown option (package "+p.Manifest.Name+" takes no options)")
		}
		slices.Sort(errs)
		return nil, &OptionsError{Errors: errs}
	}
	applyDefaults(doc, doc, opts, 0)
	if err := validateOptions(sch, opts); err != nil {
		return nil, err
	}
	return opts, nil
}

func validateOptions(sch *jsonschema.Schema, opts map[string]any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fieldErr(SchemaFile, "", "cannot validate options against the schema (%v)", r)
		}
	}()
	verr := sch.Validate(opts)
	if verr == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(verr, &ve) {
		return fmt.Errorf("validate options: %w", verr)
	}
	return &OptionsError{Errors: outputErrors(ve)}
}

// normalizeOptions copies user options through JSON, so the result holds
// only JSON types with numbers as json.Number.
func normalizeOptions(user map[string]any) (map[string]any, error) {
	opts := map[string]any{}
	if len(user) == 0 {
		return opts, nil
	}
	b, err := json.Marshal(user)
	if err != nil {
		return nil, fmt.Errorf("options are not JSON values: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&opts); err != nil {
		return nil, fmt.Errorf("options are not JSON values: %w", err)
	}
	return opts, nil
}

// outputErrors flattens a validation error into sorted "/path: message"
// lines, naming each missing or unknown property by its own path.
func outputErrors(ve *jsonschema.ValidationError) []string {
	var errs []string
	var walk func(u jsonschema.OutputUnit)
	walk = func(u jsonschema.OutputUnit) {
		if len(u.Errors) > 0 {
			for _, c := range u.Errors {
				walk(c)
			}
			return
		}
		if u.Error == nil {
			return
		}
		switch k := u.Error.Kind.(type) {
		case *kind.Required:
			for _, m := range k.Missing {
				errs = append(errs, u.InstanceLocation+"/"+escapePointer(m)+": is required")
			}
			return
		case *kind.AdditionalProperties:
			for _, m := range k.Properties {
				errs = append(errs, u.InstanceLocation+"/"+escapePointer(m)+": unknown option (not allowed by the schema)")
			}
			return
		}
		loc := u.InstanceLocation
		if loc == "" {
			loc = "/"
		}
		errs = append(errs, loc+": "+u.Error.String())
	}
	walk(*ve.DetailedOutput())
	slices.Sort(errs)
	return slices.Compact(errs)
}

func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// applyDefaults merges the defaults of schema's properties into value.
func applyDefaults(root, schema any, value map[string]any, depth int) {
	s := resolveSchema(root, schema, depth)
	if s == nil || depth > maxDefaultsDepth {
		return
	}
	props, _ := s["properties"].(map[string]any)
	for key, sub := range props {
		cur, present := value[key]
		if !present {
			if d, ok := schemaDefault(root, sub, depth); ok {
				cur, present = deepCopy(d), true
				value[key] = cur
			}
		}
		if !present {
			if subS := resolveSchema(root, sub, depth); subS != nil && mayBeObject(subS) {
				obj := map[string]any{}
				applyDefaults(root, subS, obj, depth+1)
				if len(obj) > 0 {
					value[key] = obj
				}
			}
			continue
		}
		if m, ok := cur.(map[string]any); ok {
			applyDefaults(root, sub, m, depth+1)
		}
	}
}

// schemaDefault is the "default" of schema, or of what its local $ref
// points to.
func schemaDefault(root, schema any, depth int) (any, bool) {
	for range maxDefaultsDepth {
		m, ok := schema.(map[string]any)
		if !ok {
			return nil, false
		}
		if d, ok := m["default"]; ok {
			return d, true
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return nil, false
		}
		if schema, ok = resolvePointer(root, ref); !ok {
			return nil, false
		}
	}
	return nil, false
}

// resolveSchema follows local $refs ("#/$defs/x") until a schema object
// that has properties (or no $ref).
func resolveSchema(root, schema any, depth int) map[string]any {
	for range maxDefaultsDepth - depth + 1 {
		m, ok := schema.(map[string]any)
		if !ok {
			return nil
		}
		ref, isRef := m["$ref"].(string)
		if _, hasProps := m["properties"]; hasProps || !isRef {
			return m
		}
		if schema, ok = resolvePointer(root, ref); !ok {
			return nil
		}
	}
	return nil
}

func mayBeObject(s map[string]any) bool {
	switch t := s["type"].(type) {
	case nil:
		_, ok := s["properties"]
		return ok
	case string:
		return t == "object"
	case []any:
		return slices.Contains(t, any("object"))
	}
	return false
}

// resolvePointer resolves a local reference "#/a/b" in root; other
// references (anchors, other documents) are not followed.
func resolvePointer(root any, ref string) (any, bool) {
	ptr, ok := strings.CutPrefix(ref, "#")
	if !ok || (ptr != "" && ptr[0] != '/') {
		return nil, false
	}
	cur := root
	if ptr == "" {
		return cur, true
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch c := cur.(type) {
		case map[string]any:
			if cur, ok = c[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// deepCopy copies a decoded JSON value.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}
