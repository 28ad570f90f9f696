package view

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// Theme holds the TUI's styles. Plain (NO_COLOR) themes use only bold,
// faint and reverse, so selection and emphasis stay visible without colour.
type Theme struct {
	Plain bool

	Title    lipgloss.Style // page and section titles
	Header   lipgloss.Style // table headers
	Selected lipgloss.Style // the selected row
	Muted    lipgloss.Style // secondary text
	Key      lipgloss.Style // key names in help
	OK       lipgloss.Style // RUNNING, healthy, success
	Warn     lipgloss.Style // STAGING, KILLING, draining, deployments
	Bad      lipgloss.Style // FAILED, unhealthy, errors
	Tab      lipgloss.Style // an inactive tab
	TabOn    lipgloss.Style // the active tab
	Border   lipgloss.Style // boxes around panels
	BarFull  lipgloss.Style // the used part of a resource bar
	BarEmpty lipgloss.Style // the free part
}

// NewTheme returns the coloured theme, or the plain one when plain is true
// (set it from NO_COLOR).
func NewTheme(plain bool) Theme {
	s := lipgloss.NewStyle
	if plain {
		return Theme{
			Plain:    true,
			Title:    s().Bold(true),
			Header:   s().Bold(true),
			Selected: s().Reverse(true),
			Muted:    s().Faint(true),
			Key:      s().Bold(true),
			OK:       s(),
			Warn:     s().Bold(true),
			Bad:      s().Bold(true),
			Tab:      s(),
			TabOn:    s().Reverse(true).Bold(true),
			Border:   s().Border(lipgloss.NormalBorder()),
			BarFull:  s(),
			BarEmpty: s().Faint(true),
		}
	}
	c := func(hex string) color.Color { return lipgloss.Color(hex) }
	return Theme{
		Title:    s().Bold(true).Foreground(c("#7AA2F7")),
		Header:   s().Bold(true).Foreground(c("#A9B1D6")),
		Selected: s().Background(c("#33467C")).Foreground(c("#FFFFFF")),
		Muted:    s().Foreground(c("#737AA2")),
		Key:      s().Bold(true).Foreground(c("#BB9AF7")),
		OK:       s().Foreground(c("#9ECE6A")),
		Warn:     s().Foreground(c("#E0AF68")),
		Bad:      s().Foreground(c("#F7768E")).Bold(true),
		Tab:      s().Foreground(c("#A9B1D6")).Padding(0, 1),
		TabOn:    s().Bold(true).Foreground(c("#1A1B26")).Background(c("#7AA2F7")).Padding(0, 1),
		Border:   s().Border(lipgloss.RoundedBorder()).BorderForeground(c("#3B4261")),
		BarFull:  s().Foreground(c("#7AA2F7")),
		BarEmpty: s().Foreground(c("#3B4261")),
	}
}
