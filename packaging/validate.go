package packaging

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

var (
	// fileNameRE is what a file name may be: it is a file name in the
	// sandbox and a query parameter.
	fileNameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)
	// platformRE is "os/arch"; platformDirRE is the directory "os-arch".
	platformRE    = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9]+$`)
	platformDirRE = regexp.MustCompile(`^[a-z0-9]+-[a-z0-9]+$`)
)

// maxFileNameLen bounds a file name (a file name on every file system).
const maxFileNameLen = 255

// validationArtifact is the artifact reference Validate renders the
// template with.
const validationArtifact = "oci://example.invalid/ns/%s@sha256:0000000000000000000000000000000000000000000000000000000000000000"

func platformDir(platform string) string { return strings.Replace(platform, "/", "-", 1) }

func checkFileName(name string) error {
	if len(name) > maxFileNameLen || !fileNameRE.MatchString(name) {
		return fmt.Errorf("%q is not a valid file name (want letters, digits, '.', '_' and '-', not starting with '.' or '-')", name)
	}
	return nil
}

// checkFiles checks file names, platforms and uniqueness.
func checkFiles(files []File) error {
	var errs []error
	type key struct{ name, platform string }
	seen := map[key]bool{}
	binary := map[string]bool{}
	resource := map[string]bool{}
	for i, f := range files {
		where := fmt.Sprintf("files[%d]", i)
		if err := checkFileName(f.Name); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		where = f.Path()
		if f.Platform != "" && !platformRE.MatchString(f.Platform) {
			errs = append(errs, fmt.Errorf("%s: platform %q is not OS/ARCH (e.g. linux/amd64)", where, f.Platform))
			continue
		}
		if f.Size < 0 {
			errs = append(errs, fmt.Errorf("%s: negative size %d", where, f.Size))
		}
		k := key{f.Name, f.Platform}
		if seen[k] {
			errs = append(errs, fmt.Errorf("%s: appears twice", where))
		}
		seen[k] = true
		if f.Platform == "" {
			resource[f.Name] = true
		} else {
			binary[f.Name] = true
		}
		if binary[f.Name] && resource[f.Name] {
			errs = append(errs, fmt.Errorf("%s: %q is both a binary and a resource; rename one", where, f.Name))
		}
	}
	return errors.Join(errs...)
}

// Validate checks a package: manifest fields, files, schema compiles (and
// its defaults satisfy it), template parses and renders with the schema's
// defaults into valid JSON. Required options without a default are given
// a placeholder for the trial render: their first "examples" entry, else
// an empty value of their type.
func (p *Package) Validate() error {
	var errs []error
	if err := p.Manifest.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := checkFiles(p.Files); err != nil {
		errs = append(errs, err)
	}
	doc, sch, err := p.compileSchema()
	if err != nil {
		errs = append(errs, err)
	}
	opts := map[string]any{}
	if err == nil && doc != nil {
		applyDefaults(doc, doc, opts, 0)
		if verr := validateOptions(sch, opts); verr != nil {
			var oe *OptionsError
			if !errors.As(verr, &oe) {
				errs = append(errs, verr)
			} else {
				var bad []string
				for _, e := range oe.Errors {
					if !strings.HasSuffix(e, ": is required") {
						bad = append(bad, e)
					}
				}
				if len(bad) > 0 {
					errs = append(errs, fieldErr(SchemaFile, "", "the defaults do not satisfy the schema: %s", strings.Join(bad, "; ")))
				}
			}
		}
		fillRequired(doc, doc, opts, 0)
	}
	if mi := p.Manifest.Module; mi != nil && p.Manifest.Kind == KindModule {
		if p.Template != "" {
			errs = append(errs, fieldErr(TemplateFile, "", "a module package has no launch template: the module host runs its binary (remove %s)", TemplateFile))
		}
		if len(p.ModuleBinaries()) == 0 {
			errs = append(errs, fieldErr(ManifestFile, "module.binary", "%q is not among the package's binaries: add bin/<os>-<arch>/%s (for example bin/linux-amd64/%s)", mi.Binary, mi.Binary, mi.Binary))
		}
	}
	switch {
	case p.Template == "" && p.Manifest.Kind != KindModule:
		errs = append(errs, fieldErr(TemplateFile, "", "is required for a %s package (only modules may go without)", p.Manifest.Kind))
	case p.Template != "":
		if _, terr := p.parseTemplate(); terr != nil {
			errs = append(errs, terr)
		} else if err == nil && len(errs) == 0 {
			_, rerr := p.Render(RenderData{
				Package:  p.Manifest,
				Options:  opts,
				AppID:    "/" + p.Manifest.Name,
				Artifact: fmt.Sprintf(validationArtifact, p.Manifest.Name),
			})
			if rerr != nil {
				errs = append(errs, fmt.Errorf("rendering with the default options: %w", rerr))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("package %s is not valid: %w", p.Manifest.Name, errors.Join(errs...))
	}
	return nil
}

// ModuleBinaries are the module's executables, one per platform (empty
// for a package that is not a module).
func (p *Package) ModuleBinaries() []File {
	mi := p.Manifest.Module
	if mi == nil || p.Manifest.Kind != KindModule {
		return nil
	}
	var out []File
	for _, f := range p.Files {
		if f.Name == mi.Binary && f.Platform != "" && f.Executable {
			out = append(out, f)
		}
	}
	return out
}

// ModuleBinary is the module's executable for platform ("linux/amd64").
func (p *Package) ModuleBinary(platform string) (File, bool) {
	for _, f := range p.ModuleBinaries() {
		if f.Platform == platform {
			return f, true
		}
	}
	return File{}, false
}

// fillRequired gives every required, absent option a placeholder value.
func fillRequired(root, schema any, value map[string]any, depth int) {
	s := resolveSchema(root, schema, depth)
	if s == nil || depth > maxDefaultsDepth {
		return
	}
	props, _ := s["properties"].(map[string]any)
	required, _ := s["required"].([]any)
	for _, r := range required {
		name, ok := r.(string)
		if !ok {
			continue
		}
		if _, present := value[name]; !present {
			value[name] = placeholder(resolveSchema(root, props[name], depth))
		}
	}
	for key, sub := range props {
		if m, ok := value[key].(map[string]any); ok {
			fillRequired(root, sub, m, depth+1)
		}
	}
}

// placeholder is a value for an option of schema s in a trial render.
func placeholder(s map[string]any) any {
	if ex, ok := s["examples"].([]any); ok && len(ex) > 0 {
		return deepCopy(ex[0])
	}
	if c, ok := s["const"]; ok {
		return deepCopy(c)
	}
	if e, ok := s["enum"].([]any); ok && len(e) > 0 {
		return deepCopy(e[0])
	}
	t := s["type"]
	if ts, ok := t.([]any); ok && len(ts) > 0 {
		t = ts[0]
	}
	switch t {
	case "string":
		return ""
	case "integer", "number":
		return json.Number("0")
	case "boolean":
		return false
	case "array":
		return []any{}
	case "null":
		return nil
	}
	return map[string]any{}
}
