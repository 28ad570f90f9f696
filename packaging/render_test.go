package packaging

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRenderHello(t *testing.T) {
	p := loadHello(t)
	opts, err := p.Options(map[string]any{"instances": 3, "greeting": `say "hi"`, "role": "web"})
	if err != nil {
		t.Fatal(err)
	}
	const artifact = "oci://registry.local/cairn/hello@sha256:abc"
	out, err := p.Render(RenderData{Package: p.Manifest, Options: opts, AppID: "/team/hello", Artifact: artifact, Files: p.FileURIs(artifact)})
	if err != nil {
		t.Fatal(err)
	}
	var app struct {
		ID        string            `json:"id"`
		Cmd       string            `json:"cmd"`
		Role      string            `json:"role"`
		Cpus      json.Number       `json:"cpus"`
		Mem       json.Number       `json:"mem"`
		Instances json.Number       `json:"instances"`
		Labels    map[string]string `json:"labels"`
		Fetch     []struct {
			URI        string `json:"uri"`
			Executable bool   `json:"executable"`
		} `json:"fetch"`
	}
	if err := json.Unmarshal(out, &app); err != nil {
		t.Fatalf("rendered JSON: %v\n%s", err, out)
	}
	if app.ID != "/team/hello" || app.Cmd != `./hello --greeting say "hi"` || app.Role != "web" ||
		app.Cpus != "0.1" || app.Mem != "32" || app.Instances != "3" ||
		app.Labels["SERVICE_NAME"] != "hello" || app.Labels["VERSION"] != "1.2.0" {
		t.Errorf("rendered app: %+v\n%s", app, out)
	}
	if len(app.Fetch) != 2 || app.Fetch[0].URI != artifact+"?file=hello" || !app.Fetch[0].Executable || app.Fetch[1].URI != artifact+"?file=README.txt" {
		t.Errorf("fetch = %+v", app.Fetch)
	}
	// Integers stay integers: no "3e+00" or "3.0".
	if !strings.Contains(string(out), `"instances": 3,`) {
		t.Errorf("instances not rendered as an integer:\n%s", out)
	}
	// Zero fields are filled in: AppID, Package, Files.
	out, err = p.Render(RenderData{Options: opts, Artifact: artifact})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"id": "/hello"`) || !strings.Contains(string(out), artifact+"?file=hello") {
		t.Errorf("defaults not filled in:\n%s", out)
	}
}

func TestTemplateFuncs(t *testing.T) {
	p := pkgWithSchema("")
	for _, tc := range []struct{ tmpl, want string }{
		{`{"a": {{json .Options.list}}}`, `{"a": ["x","y"]}`},
		{`{"a": {{quote .Options.n}}}`, `{"a": "7"}`},
		{`{"a": {{quote "a\"b"}}}`, `{"a": "a\"b"}`},
		{`{"a": {{json (default "d" (index .Options "missing"))}}}`, `{"a": "d"}`},
		{`{"a": {{json (default "d" .Options.empty)}}}`, `{"a": "d"}`},
		{`{"a": {{json (default "d" .Options.s)}}}`, `{"a": "S"}`},
		{`{"a": {{default 5 .Options.zero}}}`, `{"a": 0}`},
		{`{"a": {{quote (join "," .Options.list)}}}`, `{"a": "x,y"}`},
		{`{"a": {{quote (lower .Options.s)}}, "b": {{quote (upper "q")}}}`, `{"a": "s", "b": "Q"}`},
	} {
		p.Template = tc.tmpl
		out, err := p.Render(RenderData{Options: map[string]any{
			"list": []any{"x", "y"}, "n": json.Number("7"), "empty": "", "s": "S", "zero": json.Number("0"),
		}})
		if err != nil || string(out) != tc.want {
			t.Errorf("template %s = %s, %v; want %s", tc.tmpl, out, err, tc.want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	for _, tc := range []struct{ tmpl, want string }{
		{`{"a": {{.Options.nope}}}`, `app.json.tmpl: line 1, column 16: at <.Options.nope>: map has no entry for key "nope"`},
		{"{\n\"a\": {{.Options.x}\n}", `app.json.tmpl: line 2: bad character U+007D '}'`},
		{`{"a": {{nofunc 1}}}`, `app.json.tmpl: line 1: function "nofunc" not defined`},
		{"{\n  \"a\": {{.Options.s}}\n}", `app.json.tmpl rendered invalid JSON at line 2, column 8: invalid character 'y'`},
		{`{"a": 1, "a": 2}`, `app.json.tmpl rendered JSON with a duplicate field a`},
		{`[1]`, `app.json.tmpl rendered a list, want a JSON object`},
		{``, `has no launch template`},
		{`{{define "x"}}{{template "x" .}}{{end}}{{template "x" .}}`, `app.json.tmpl: `},
		{`{{define "a"}}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{{end}}` +
			`{{define "b"}}{{template "a"}}{{template "a"}}{{template "a"}}{{template "a"}}{{template "a"}}{{template "a"}}{{template "a"}}{{template "a"}}{{end}}` +
			`{{define "c"}}{{template "b"}}{{template "b"}}{{template "b"}}{{template "b"}}{{template "b"}}{{template "b"}}{{template "b"}}{{template "b"}}{{end}}` +
			`{{define "d"}}{{template "c"}}{{template "c"}}{{template "c"}}{{template "c"}}{{template "c"}}{{template "c"}}{{template "c"}}{{template "c"}}{{end}}` +
			`{{define "e"}}{{template "d"}}{{template "d"}}{{template "d"}}{{template "d"}}{{template "d"}}{{template "d"}}{{template "d"}}{{template "d"}}{{end}}` +
			`{{define "f"}}{{template "e"}}{{template "e"}}{{template "e"}}{{template "e"}}{{template "e"}}{{template "e"}}{{template "e"}}{{template "e"}}{{end}}` +
			`{{template "f"}}`, `rendered output is larger than 1 MiB`},
	} {
		p := pkgWithSchema("")
		p.Template = tc.tmpl
		_, err := p.Render(RenderData{Options: map[string]any{"x": 1, "s": "yes"}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("template %.60q: error %v, want %q", tc.tmpl, err, tc.want)
		}
	}
}
