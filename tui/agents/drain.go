package agents

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/tui/view"
)

// drainTimeout bounds a drain or undrain request.
const drainTimeout = 30 * time.Second

// drain asks to confirm, then drains a (on) or undrains it. The agent's
// new status arrives with the event stream.
func (p *Page) drain(a protocol.Agent, on bool) tea.Cmd {
	draining := a.Status == protocol.AgentDraining || a.Status == protocol.AgentDrained
	switch {
	case a.Status == protocol.AgentRemoved:
		return view.FlashCmd("", fmt.Errorf("agent %s is gone: nothing to drain", a.Hostname))
	case on && draining:
		return view.FlashCmd(fmt.Sprintf("%s is already %s (u undrains it)", a.Hostname, a.Status), nil)
	case !on && !draining:
		return view.FlashCmd(fmt.Sprintf("%s is not drained (%s)", a.Hostname, a.Status), nil)
	}
	ctx, client := p.env.Ctx, p.env.Client
	prompt := fmt.Sprintf("Undrain %s? It gets offers again.", a.Hostname)
	if on {
		prompt = fmt.Sprintf("Drain %s? It gets no more offers, and its %d tasks are killed so their frameworks move them.", a.Hostname, a.ActiveTasks)
	}
	return view.ConfirmCmd(prompt, func() tea.Msg {
		if client == nil {
			return view.Flash{Err: errors.New("no operator API client")}
		}
		ctx, cancel := context.WithTimeout(ctx, drainTimeout)
		defer cancel()
		var err error
		verb := "undraining "
		if on {
			verb = "draining "
			_, err = client.DrainAgent(ctx, a.ID, apiclient.DrainOptions{Reason: "drained from cairn tui"})
		} else {
			_, err = client.UndrainAgent(ctx, a.ID)
		}
		var ae *apiclient.APIError
		if errors.As(err, &ae) && (ae.StatusCode == http.StatusNotFound || ae.StatusCode == http.StatusConflict) && ae.Message != "" {
			err = errors.New(ae.Message)
		}
		if err != nil {
			return view.Flash{Text: verb + a.Hostname, Err: err}
		}
		return view.Flash{Text: verb + a.Hostname}
	})
}
