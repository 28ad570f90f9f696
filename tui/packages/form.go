package packages

import (
	"errors"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/repository/packageapi"
	"github.com/cairn-dc/cairn/tui/view"
)

// appIDField is the form's first field: the app (or module) to install
// as; the other fields are the package's options.
const appIDField = "app id"

// form is the install form of one package version: a text input per
// top-level option, prefilled with its default.
type form struct {
	name, version string
	notes         string // the package's pre-install notes
	options       []option
	inputs        []textinput.Model // inputs[0] is the app id
	errs          []string          // per input: what is wrong with it
	focus         int
	err           string // what is wrong that no field names
	sending       bool
}

func newForm(th view.Theme, d packageapi.PackageDetails) (*form, error) {
	opts, err := parseOptions(d.Config)
	if err != nil {
		return nil, err
	}
	f := &form{name: d.Name, version: d.Version, notes: d.PreInstallNotes, options: opts}
	id := view.NewInput(th, "", "/"+d.Name)
	f.inputs = append(f.inputs, id)
	for _, o := range opts {
		in := view.NewInput(th, "", o.typeText())
		in.SetValue(o.defaultText())
		in.CursorEnd()
		f.inputs = append(f.inputs, in)
	}
	f.errs = make([]string, len(f.inputs))
	return f, nil
}

// label is input i's name.
func (f *form) label(i int) string {
	if i == 0 {
		return appIDField
	}
	return f.options[i-1].Name
}

// focusOn moves the focus to input i.
func (f *form) focusOn(i int) tea.Cmd {
	f.inputs[f.focus].Blur()
	f.focus = max(0, min(i, len(f.inputs)-1))
	return f.inputs[f.focus].Focus()
}

// update hands a key to the focused input; editing a field clears its
// error.
func (f *form) update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	before := f.inputs[f.focus].Value()
	f.inputs[f.focus], cmd = f.inputs[f.focus].Update(msg)
	if f.inputs[f.focus].Value() != before {
		f.errs[f.focus] = ""
	}
	return cmd
}

// request checks every field and builds the install request: options
// left at their default (or empty) are not sent, so the schema's defaults
// apply. It reports false when a field is wrong (its error is set).
func (f *form) request() (packageapi.InstallRequest, bool) {
	req := packageapi.InstallRequest{PackageName: f.name, PackageVersion: f.version}
	ok := true
	clear(f.errs)
	f.err = ""
	if id := strings.TrimSpace(f.inputs[0].Value()); id != "" {
		req.AppID = id
	}
	for i, o := range f.options {
		text := f.inputs[i+1].Value()
		if strings.TrimSpace(text) == "" || text == o.defaultText() {
			if o.Required && len(o.Default) == 0 {
				f.errs[i+1] = "required: give a " + o.typeText()
				ok = false
			}
			continue
		}
		v, err := o.parse(text)
		if err != nil {
			f.errs[i+1] = err.Error()
			ok = false
			continue
		}
		if req.Options == nil {
			req.Options = map[string]any{}
		}
		req.Options[o.Name] = v
	}
	return req, ok
}

// refused shows the package API's refusal of the install next to the
// fields it names ("/port: must be >= 1024"), or above the fields.
func (f *form) refused(err error) {
	f.sending = false
	var pe *apiclient.PackageError
	if !errors.As(err, &pe) {
		f.err = err.Error()
		return
	}
	switch pe.Type {
	case packageapi.ErrAppAlreadyInstalled:
		f.errs[0] = pe.Message + ": give another app id"
		f.focusOn(0)
		return
	case packageapi.ErrOptionsInvalid:
	default:
		f.err = pe.Error()
		return
	}
	var rest []string
	first := -1
	for _, e := range pe.Errors {
		i := f.fieldOf(e)
		if i < 0 {
			rest = append(rest, e)
			continue
		}
		if f.errs[i] != "" {
			f.errs[i] += "; "
		}
		f.errs[i] += strings.TrimSpace(e[strings.Index(e, ":")+1:])
		if first < 0 || i < first {
			first = i
		}
	}
	if len(rest) > 0 || len(pe.Errors) == 0 {
		f.err = strings.Join(append([]string{pe.Message}, rest...), ": ")
	}
	if first >= 0 {
		f.focusOn(first)
	}
}

// fieldOf is the input an error "/name/...: message" is about (-1 when
// none is).
func (f *form) fieldOf(e string) int {
	colon := strings.Index(e, ":")
	if colon < 0 || !strings.HasPrefix(e, "/") {
		return -1
	}
	ptr := e[1:colon]
	if i := strings.Index(ptr, "/"); i >= 0 {
		ptr = ptr[:i]
	}
	name := strings.NewReplacer("~1", "/", "~0", "~").Replace(ptr)
	for i, o := range f.options {
		if o.Name == name {
			return i + 1
		}
	}
	return -1
}
