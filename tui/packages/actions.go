package packages

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/repository/packageapi"
	"github.com/cairn-dc/cairn/tui/internal/listpage"
	"github.com/cairn-dc/cairn/tui/view"
)

type (
	installedMsg struct {
		req packageapi.InstallRequest
		res packageapi.InstallResponse
		err error
	}
	uninstalledMsg struct {
		name, as string
		res      packageapi.UninstallResponse
		err      error
	}
)

// key handles a key press.
func (p *page) key(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case p.search != nil:
		return p.searchKey(msg)
	case p.mode == modeForm:
		return p.formKey(msg)
	}
	k := p.keys
	if by, ok := k.Step(msg); ok {
		p.move(by)
		return nil
	}
	switch {
	case key.Matches(msg, k.Refresh):
		return listpage.Refetch(&p.refresh, p.list)
	case key.Matches(msg, k.Search) && p.mode != modeDescribe:
		in := view.NewInput(p.env.Theme, "search: ", "a name, a word of a description or a tag (empty: all)")
		in.SetValue(p.query)
		in.CursorEnd()
		p.search = &in
		return p.search.Focus()
	case key.Matches(msg, k.Open):
		return p.open()
	case key.Matches(msg, k.Back):
		switch p.mode {
		case modeDescribe:
			p.mode = p.back
		case modeResults:
			p.mode = modeInstalled
		}
	case key.Matches(msg, k.Form):
		return p.install()
	case key.Matches(msg, k.Uninstall) && p.mode == modeInstalled:
		return p.uninstall()
	}
	return nil
}

// move moves the cursor of the list shown, or scrolls the description.
func (p *page) move(by int) {
	switch p.mode {
	case modeInstalled:
		p.cursor = listpage.Clamp(p.cursor+by, len(p.installed))
	case modeResults:
		p.resultCursor = listpage.Clamp(p.resultCursor+by, len(p.results))
	case modeDescribe:
		p.scroll = max(0, min(p.scroll+by, 1<<20))
	}
}

func (p *page) searchKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, p.keys.Cancel):
		p.search = nil
		return nil
	case key.Matches(msg, p.keys.Submit):
		p.query = strings.TrimSpace(p.search.Value())
		p.search = nil
		p.mode, p.searching, p.results, p.resultsErr, p.resultCursor = modeResults, true, nil, nil, 0
		return p.searchCmd(p.query)
	}
	var cmd tea.Cmd
	*p.search, cmd = p.search.Update(msg)
	return cmd
}

// open describes the package under the cursor: the installed version, or
// a search result's newest.
func (p *page) open() tea.Cmd {
	switch p.mode {
	case modeInstalled:
		if p.cursor < len(p.installed) {
			in := p.installed[p.cursor]
			return p.describe(in.PackageName, in.PackageVersion, false)
		}
	case modeResults:
		if p.resultCursor < len(p.results) {
			return p.describe(p.results[p.resultCursor].Name, "", false)
		}
	}
	return nil
}

// describe shows a package version (the newest when version is "").
func (p *page) describe(name, version string, thenInstall bool) tea.Cmd {
	if p.mode != modeDescribe {
		p.back = p.mode
	}
	p.mode = modeDescribe
	p.descName, p.descVersion, p.details, p.versions, p.descErr, p.scroll = name, version, nil, nil, nil, 0
	p.installAfterDescribe = thenInstall
	return p.describeCmd(name, version)
}

// install opens the install form of the package described, or of the
// search result under the cursor (once it is described).
func (p *page) install() tea.Cmd {
	switch p.mode {
	case modeDescribe:
		if p.details != nil {
			return p.openForm()
		}
	case modeResults:
		if p.resultCursor < len(p.results) {
			return p.describe(p.results[p.resultCursor].Name, "", true)
		}
	}
	return nil
}

func (p *page) openForm() tea.Cmd {
	f, err := newForm(p.env.Theme, *p.details)
	if err != nil {
		return view.FlashCmd("", fmt.Errorf("install %s: %w", p.details.Name, err))
	}
	p.form, p.mode = f, modeForm
	return f.focusOn(0)
}

func (p *page) formKey(msg tea.KeyPressMsg) tea.Cmd {
	f, k := p.form, p.keys
	if f.sending {
		return nil // the install is on its way
	}
	switch {
	case key.Matches(msg, k.Cancel):
		p.form, p.mode = nil, modeDescribe
		return nil
	case key.Matches(msg, k.Install), msg.String() == "enter" && f.focus == len(f.inputs)-1:
		return p.submit()
	case key.Matches(msg, k.Next):
		return f.focusOn(f.focus + 1)
	case key.Matches(msg, k.Prev):
		return f.focusOn(f.focus - 1)
	}
	return f.update(msg)
}

// submit installs the package with the form's options, once every field
// reads well.
func (p *page) submit() tea.Cmd {
	req, ok := p.form.request()
	if !ok {
		for i, e := range p.form.errs {
			if e != "" {
				return p.form.focusOn(i)
			}
		}
		return nil
	}
	p.form.sending = true
	ctx, client := p.env.Ctx, p.env.Client
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, installTimeout)
		defer cancel()
		res, err := client.PackageInstall(ctx, req)
		return installedMsg{req: req, res: res, err: err}
	}
}

func (p *page) installDone(m installedMsg) tea.Cmd {
	if m.err != nil {
		if p.form != nil && p.mode == modeForm {
			p.form.refused(m.err)
			return nil
		}
		return view.FlashCmd("", fmt.Errorf("install %s: %s", m.req.PackageName, errorText(m.err, m.req.PackageName, m.req.PackageVersion)))
	}
	p.form, p.mode = nil, modeInstalled
	as := "app " + m.res.AppID
	if m.res.Module != "" {
		as = "module " + m.res.Module
	}
	text := fmt.Sprintf("installed %s %s as %s", m.res.PackageName, m.res.PackageVersion, as)
	if m.res.DeploymentID != "" {
		text += " (deployment " + m.res.DeploymentID + ")"
	}
	if n := view.Clean(m.res.PostInstallNotes); n != "" {
		text += ": " + n
	}
	cmds := []tea.Cmd{view.FlashCmd(text, nil)}
	if p.refresh.Now() {
		cmds = append(cmds, p.list())
	}
	return tea.Batch(cmds...)
}

// uninstall asks to confirm removing the installed package under the
// cursor.
func (p *page) uninstall() tea.Cmd {
	if p.cursor >= len(p.installed) {
		return nil
	}
	in := p.installed[p.cursor]
	as := installedAs(in)
	what := "app " + as + " and its tasks are removed"
	if in.AppID == "" {
		what = "module " + as + " is stopped and removed"
	}
	prompt := fmt.Sprintf("Uninstall %s %s (%s)?", in.PackageName, in.PackageVersion, what)
	ctx, client := p.env.Ctx, p.env.Client
	req := packageapi.UninstallRequest{PackageName: in.PackageName, AppID: as}
	return view.ConfirmCmd(prompt, func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, installTimeout)
		defer cancel()
		res, err := client.PackageUninstall(ctx, req)
		return uninstalledMsg{name: req.PackageName, as: as, res: res, err: err}
	})
}

func (p *page) uninstallDone(m uninstalledMsg) tea.Cmd {
	var flash tea.Cmd
	if m.err != nil {
		flash = view.FlashCmd("", fmt.Errorf("uninstall %s (%s): %s", m.name, m.as, errorText(m.err, m.name, "")))
	} else {
		text := fmt.Sprintf("uninstalled %s from %s", m.name, m.as)
		for _, r := range m.res.Results {
			if n := view.Clean(r.PostUninstallNotes); n != "" {
				text += ": " + n
			}
		}
		flash = view.FlashCmd(text, nil)
	}
	if p.refresh.Now() {
		return tea.Batch(flash, p.list())
	}
	return flash
}
