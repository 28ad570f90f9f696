package apps

import (
	"testing"

	"github.com/cairn-dc/cairn/tui/internal/pagetest"
)

const (
	servicesID = pagetest.ServicesID
	cronID     = pagetest.CronID
)

// driver runs the page as the shell would (see pagetest.Driver).
type driver = pagetest.Driver[*page]

// newDriver is the page against m, its timers kept for the test to fire.
func newDriver(t *testing.T, m *pagetest.Master) *driver {
	t.Helper()
	p := New(pagetest.Env(t, m)).(*page)
	p.after = pagetest.After
	return pagetest.NewDriver(t, p)
}
