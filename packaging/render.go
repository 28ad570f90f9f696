package packaging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"text/template"
)

// errRenderTooLarge stops a template whose output outgrows MaxRenderSize.
var errRenderTooLarge = fmt.Errorf("output is larger than %d bytes", MaxRenderSize)

// TemplateFuncs are the functions a launch template may call besides Go
// text/template's built-ins (index, printf, eq, ...):
//
//	json V          V as JSON ({{json .AppID}} → "/hello")
//	quote S         S (any value, printed) as a JSON string
//	default D V     V, or D when V is empty (nil, "", false, an empty list or object)
//	join SEP LIST   the items of LIST, printed, joined with SEP
//	lower S, upper S
//
// Missing map keys are errors ({{.Options.nope}}); use
// {{default 3 (index .Options "nope")}} for an option that may be absent.
func TemplateFuncs() template.FuncMap {
	return template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			if err != nil {
				return "", err
			}
			return string(b), nil
		},
		"quote": func(v any) string {
			b, _ := json.Marshal(fmt.Sprint(v)) // marshalling a string cannot fail
			return string(b)
		},
		"default": func(def, v any) any {
			if isEmpty(v) {
				return def
			}
			return v
		},
		"join": func(sep string, list any) (string, error) {
			rv := reflect.ValueOf(list)
			if list == nil {
				return "", nil
			}
			if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
				return "", fmt.Errorf("join: want a list, got %T", list)
			}
			parts := make([]string, rv.Len())
			for i := range parts {
				parts[i] = fmt.Sprint(rv.Index(i).Interface())
			}
			return strings.Join(parts, sep), nil
		},
		"lower": strings.ToLower,
		"upper": strings.ToUpper,
	}
}

func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Array:
		return rv.Len() == 0
	case reflect.Bool:
		return !rv.Bool()
	case reflect.Pointer, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// parseTemplate parses the launch template.
func (p *Package) parseTemplate() (*template.Template, error) {
	if len(p.Template) > MaxTemplateSize {
		return nil, fieldErr(TemplateFile, "", "is %d bytes, more than the %d allowed", len(p.Template), MaxTemplateSize)
	}
	t, err := template.New(TemplateFile).Option("missingkey=error").Funcs(TemplateFuncs()).Parse(p.Template)
	if err != nil {
		return nil, templateError(err)
	}
	return t, nil
}

var (
	parseErrRE = regexp.MustCompile(`^template: ` + regexp.QuoteMeta(TemplateFile) + `:(\d+): `)
	execErrRE  = regexp.MustCompile(`^template: ` + regexp.QuoteMeta(TemplateFile) + `:(\d+):(\d+): executing "[^"]*" at `)
)

// templateError rewrites text/template's errors as "app.json.tmpl: line N: ...".
func templateError(err error) error {
	msg := err.Error()
	if m := execErrRE.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("line %s, column %s: at %s", m[1], m[2], msg[len(m[0]):])
	} else if m := parseErrRE.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("line %s: %s", m[1], msg[len(m[0]):])
	}
	return &FieldError{File: TemplateFile, Message: msg}
}

// FileURI is the URI a task fetches a package file from: the pinned
// artifact reference with "?file=<name>"; the agent picks the binary of its
// platform.
func FileURI(artifact, name string) string {
	return artifact + "?file=" + url.QueryEscape(name)
}

// FileURIs maps each file name of the package to its FileURI.
func (p *Package) FileURIs(artifact string) map[string]string {
	m := make(map[string]string, len(p.Files))
	for _, f := range p.Files {
		m[f.Name] = FileURI(artifact, f.Name)
	}
	return m
}

// Render runs the launch template with data; the result is JSON (a
// services app definition), checked to parse as an object. Zero fields of
// data are filled in: Package with p.Manifest, AppID with "/<name>",
// Options with an empty map, Files with p.FileURIs(data.Artifact). Options
// are used as given: pass them through Options first.
func (p *Package) Render(data RenderData) ([]byte, error) {
	if p.Template == "" {
		return nil, fmt.Errorf("package %s (kind %s) has no launch template (%s), so it cannot be launched as an app", p.Manifest.Name, p.Manifest.Kind, TemplateFile)
	}
	t, err := p.parseTemplate()
	if err != nil {
		return nil, err
	}
	if data.Package.Name == "" {
		data.Package = p.Manifest
	}
	if data.AppID == "" {
		data.AppID = "/" + p.Manifest.Name
	}
	if data.Options == nil {
		data.Options = map[string]any{}
	}
	if data.Files == nil {
		data.Files = p.FileURIs(data.Artifact)
	}
	var out limitedBuffer
	if err := t.Execute(&out, data); err != nil {
		if errors.Is(err, errRenderTooLarge) {
			return nil, &FieldError{File: TemplateFile, Message: "rendered output is larger than 1 MiB"}
		}
		return nil, templateError(err)
	}
	b := bytes.TrimSpace(out.Bytes())
	if err := checkJSON(TemplateFile, b); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) && fe.Field != "" {
			return nil, fmt.Errorf("%s rendered JSON with a duplicate field %s; fix the template", TemplateFile, fe.Field)
		}
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("%s rendered %s; fix the template (quote strings with json or quote)", TemplateFile, fe.Message)
		}
		return nil, err
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("%s rendered %s, want a JSON object (a services app definition)", TemplateFile, jsonKind(b))
	}
	return b, nil
}

// limitedBuffer is a bytes.Buffer that refuses to grow past MaxRenderSize.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > MaxRenderSize {
		return 0, errRenderTooLarge
	}
	return b.Buffer.Write(p)
}
