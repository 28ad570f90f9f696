package packaging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// ReservedName is the name no package may take: the repository index is
// stored under it.
const ReservedName = "cairn-index"

// MaxNameLen bounds a package name (a DNS label: names become app ids and
// DNS names).
const MaxNameLen = 63

var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// FieldError is a bad field of a package file: "package.json: version:
// \"1.x\" is not a semantic version (want MAJOR.MINOR.PATCH)". Functions
// returning several return them joined (errors.Join); errors.As finds the
// first.
type FieldError struct {
	File    string // "package.json", "options.schema.json", ...
	Field   string // "version", "licenses[0].url"; empty for the whole file
	Message string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.File + ": " + e.Message
	}
	return e.File + ": " + e.Field + ": " + e.Message
}

func fieldErr(file, field, format string, args ...any) *FieldError {
	return &FieldError{File: file, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ParseManifest decodes and validates package.json (or an artifact's config
// blob). Decoding is strict: unknown and duplicate fields and values of
// the wrong type are errors naming the field.
func ParseManifest(data []byte) (*Manifest, error) {
	const file = ManifestFile
	if len(data) > MaxConfigSize {
		return nil, fieldErr(file, "", "is %d bytes, more than the %d allowed", len(data), MaxConfigSize)
	}
	if err := checkJSON(file, data); err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil || raw == nil {
		return nil, fieldErr(file, "", "must be a JSON object (got %s)", jsonKind(bytes.TrimSpace(data)))
	}
	var m Manifest
	var errs []error
	str := func(key string, dst *string) {
		if err := decodeField(raw[key], dst, "a string"); err != nil {
			errs = append(errs, fieldErr(file, key, "%s", err))
		}
	}
	strs := func(key string, dst *[]string) {
		var items []json.RawMessage
		if err := decodeField(raw[key], &items, "a list of strings"); err != nil {
			errs = append(errs, fieldErr(file, key, "%s", err))
			return
		}
		for i, item := range items {
			var s string
			if err := decodeField(item, &s, "a string"); err != nil {
				errs = append(errs, fieldErr(file, fmt.Sprintf("%s[%d]", key, i), "%s", err))
				continue
			}
			*dst = append(*dst, s)
		}
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		switch key {
		case "name":
			str(key, &m.Name)
		case "version":
			str(key, &m.Version)
		case "release":
			if err := decodeField(raw[key], &m.Release, "an integer"); err != nil {
				errs = append(errs, fieldErr(file, key, "%s", err))
			}
		case "description":
			str(key, &m.Description)
		case "maintainer":
			str(key, &m.Maintainer)
		case "tags":
			strs(key, &m.Tags)
		case "kind":
			var k string
			str(key, &k)
			m.Kind = Kind(k)
		case "upgradesFrom":
			strs(key, &m.UpgradesFrom)
		case "preInstallNotes":
			str(key, &m.PreInstallNotes)
		case "postInstallNotes":
			str(key, &m.PostInstallNotes)
		case "postUninstallNotes":
			str(key, &m.PostUninstallNotes)
		case "website":
			str(key, &m.Website)
		case "module":
			mi, merrs := decodeModule(file, key, raw[key])
			errs = append(errs, merrs...)
			m.Module = mi
		case "licenses":
			var items []json.RawMessage
			if err := decodeField(raw[key], &items, "a list of licenses"); err != nil {
				errs = append(errs, fieldErr(file, key, "%s", err))
				break
			}
			for i, item := range items {
				l, lerrs := decodeLicense(file, fmt.Sprintf("%s[%d]", key, i), item)
				errs = append(errs, lerrs...)
				m.Licenses = append(m.Licenses, l)
			}
		default:
			errs = append(errs, fieldErr(file, key, "unknown field (known: name, version, release, description, maintainer, tags, kind, upgradesFrom, preInstallNotes, postInstallNotes, postUninstallNotes, licenses, website, module)"))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

func decodeLicense(file, path string, data json.RawMessage) (License, []error) {
	var l License
	errs := decodeStrings(file, path, data, "a license object", map[string]*string{"name": &l.Name, "url": &l.URL})
	return l, errs
}

func decodeModule(file, path string, data json.RawMessage) (*ModuleInfo, []error) {
	var mi ModuleInfo
	var kind string
	errs := decodeStrings(file, path, data, "a module object", map[string]*string{"kind": &kind, "binary": &mi.Binary})
	mi.Kind = kind
	return &mi, errs
}

// decodeStrings decodes a JSON object whose fields are all strings into
// fields (name → destination); unknown fields are errors.
func decodeStrings(file, path string, data json.RawMessage, what string, fields map[string]*string) []error {
	var raw map[string]json.RawMessage
	if err := decodeField(data, &raw, what); err != nil || raw == nil {
		if err == nil {
			err = fmt.Errorf("want %s, got null", what)
		}
		return []error{fieldErr(file, path, "%s", err)}
	}
	known := make([]string, 0, len(fields))
	for k := range fields {
		known = append(known, k)
	}
	slices.Sort(known)
	var errs []error
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		dst, ok := fields[key]
		if !ok {
			errs = append(errs, fieldErr(file, path+"."+key, "unknown field (known: %s)", strings.Join(known, ", ")))
			continue
		}
		if err := decodeField(raw[key], dst, "a string"); err != nil {
			errs = append(errs, fieldErr(file, path+"."+key, "%s", err))
		}
	}
	return errs
}

// decodeField decodes one JSON value into dst (a pointer to a string, int,
// slice or map); null leaves dst as it is.
func decodeField(data json.RawMessage, dst any, want string) error {
	if err := json.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("want %s, got %s", want, jsonKind(data))
	}
	return nil
}

// jsonKind names a JSON value for an error message: its kind, with short
// numbers shown.
func jsonKind(data []byte) string {
	if len(data) == 0 {
		return "nothing"
	}
	switch data[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "a list"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	if len(data) <= 24 {
		return "the number " + string(data)
	}
	return "a number"
}

// checkJSON checks that data is exactly one JSON value with no duplicate
// object keys, reporting syntax errors with their line and column.
func checkJSON(file string, data []byte) error {
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		var se *json.SyntaxError
		if !errors.As(err, &se) || strings.Contains(se.Error(), "unexpected end of JSON input") {
			return fieldErr(file, "", "invalid JSON: unexpected end of input")
		}
		line, col := lineCol(data, se.Offset-1)
		return fieldErr(file, "", "invalid JSON at line %d, column %d: %s", line, col, strings.TrimPrefix(se.Error(), "json: "))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walkJSON(dec, ""); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			fe.File = file
			return fe
		}
		return fieldErr(file, "", "invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// walkJSON reads one value from dec, rejecting duplicate keys.
func walkJSON(dec *json.Decoder, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := kt.(string)
			p := key
			if path != "" {
				p = path + "." + key
			}
			if seen[key] {
				return &FieldError{Field: p, Message: "duplicate field"}
			}
			seen[key] = true
			if err := walkJSON(dec, p); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := walkJSON(dec, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	}
	return nil
}

// lineCol gives the 1-based line and column of the byte at index i.
func lineCol(data []byte, i int64) (line, col int) {
	i = max(0, min(i, int64(len(data))))
	before := data[:i]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(i) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// Validate checks the manifest's fields; every bad field is reported, as
// *FieldError values joined.
func (m *Manifest) Validate() error {
	const file = ManifestFile
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fieldErr(file, field, format, args...))
	}
	switch {
	case m.Name == "":
		bad("name", "is required")
	case len(m.Name) > MaxNameLen:
		bad("name", "%q is longer than %d characters", m.Name, MaxNameLen)
	case !nameRE.MatchString(m.Name):
		bad("name", "%q is not a valid name (want lower-case letters, digits and '-', starting and ending with a letter or digit)", m.Name)
	case m.Name == ReservedName:
		bad("name", "%q is reserved for the repository index; choose another name", m.Name)
	}
	switch {
	case m.Version == "":
		bad("version", "is required")
	case !ValidVersion(m.Version):
		bad("version", "%q is not a semantic version (want MAJOR.MINOR.PATCH)", m.Version)
	}
	if m.Release < 0 {
		bad("release", "%d is negative (want a build number >= 0)", m.Release)
	}
	if strings.TrimSpace(m.Description) == "" {
		bad("description", "is required")
	}
	if strings.TrimSpace(m.Maintainer) == "" {
		bad("maintainer", "is required (who to contact, e.g. \"Jane Doe <jane@example.com>\")")
	}
	for i, t := range m.Tags {
		switch {
		case t == "":
			bad(fmt.Sprintf("tags[%d]", i), "is empty")
		case len(t) > 64:
			bad(fmt.Sprintf("tags[%d]", i), "%q is longer than 64 characters", t)
		case strings.IndexFunc(t, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
			bad(fmt.Sprintf("tags[%d]", i), "%q contains white space", t)
		}
	}
	switch m.Kind {
	case KindFramework, KindModule, KindService:
	case "":
		bad("kind", "is required (one of framework, module, service)")
	default:
		bad("kind", "%q is not a kind (want one of framework, module, service)", string(m.Kind))
	}
	switch {
	case m.Kind == KindModule && m.Module == nil:
		bad("module", "is required for a module package: {\"kind\": \"watcher\" or \"hook\", \"binary\": \"<file name under bin/<os>-<arch>/>\"}")
	case m.Kind == KindModule:
		if m.Module.Kind != ModuleWatcher && m.Module.Kind != ModuleHook {
			bad("module.kind", "%q is not a module kind (want %s or %s)", m.Module.Kind, ModuleWatcher, ModuleHook)
		}
		if err := checkFileName(m.Module.Binary); err != nil {
			bad("module.binary", "%v", err)
		}
	case m.Module != nil && m.Kind != "":
		bad("module", "is only for module packages (this one is a %s)", m.Kind)
	}
	for i, v := range m.UpgradesFrom {
		if v != "*" && !ValidVersion(v) {
			bad(fmt.Sprintf("upgradesFrom[%d]", i), "%q is not a semantic version or \"*\"", v)
		}
	}
	for i, l := range m.Licenses {
		if strings.TrimSpace(l.Name) == "" {
			bad(fmt.Sprintf("licenses[%d].name", i), "is required (an SPDX identifier such as \"Apache-2.0\")")
		}
		if l.URL != "" {
			if err := checkURL(l.URL); err != nil {
				bad(fmt.Sprintf("licenses[%d].url", i), "%s", err)
			}
		}
	}
	if m.Website != "" {
		if err := checkURL(m.Website); err != nil {
			bad("website", "%s", err)
		}
	}
	return errors.Join(errs...)
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}
