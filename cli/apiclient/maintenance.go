package apiclient

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// DrainOptions say how to drain an agent.
type DrainOptions struct {
	// GracePeriod, when not nil, is the time each task of the agent gets
	// between SIGTERM and SIGKILL, instead of its own kill policy's (0:
	// SIGKILL at once). Nil keeps the tasks' own.
	GracePeriod *time.Duration
	// Reason is shown with the agent and in its tasks' kill messages.
	Reason string
}

// DrainAgent is POST /v1/agents/<id>/drain: the agent gets no more offers
// and the master kills its tasks (TASK_KILLED, REASON_AGENT_DRAINING) so
// their frameworks move them; it is DRAINING until none is left, then
// DRAINED. Draining a draining agent updates its reason and grace period.
// It returns the agent as the master stored it. Errors are *APIError: 404
// for an unknown agent, 409 for a gone one, 400 for a bad request.
func (c *Client) DrainAgent(ctx context.Context, id protocol.AgentID, opts DrainOptions) (protocol.Agent, error) {
	var a protocol.Agent
	if err := protocol.ValidateToken("agent id", string(id)); err != nil {
		return a, err
	}
	body := protocol.DrainAgent{Reason: opts.Reason}
	if g := opts.GracePeriod; g != nil {
		if *g < 0 {
			return a, fmt.Errorf("grace period %v is negative: give 0 (kill at once) or more", *g)
		}
		secs := g.Seconds()
		body.GracePeriodSeconds = &secs
	}
	if err := body.Validate(); err != nil {
		return a, err
	}
	err := c.sendJSON(ctx, http.MethodPost, "/v1/agents/"+string(id)+"/drain", nil, body, &a)
	return a, err
}

// UndrainAgent is POST /v1/agents/<id>/undrain (Mesos' REACTIVATE_AGENT):
// the agent is offered again. Tasks already killed stay killed. Undraining
// an agent that is not drained changes nothing. Errors are *APIError: 404
// for an unknown agent, 409 for a gone one.
func (c *Client) UndrainAgent(ctx context.Context, id protocol.AgentID) (protocol.Agent, error) {
	var a protocol.Agent
	if err := protocol.ValidateToken("agent id", string(id)); err != nil {
		return a, err
	}
	err := c.sendJSON(ctx, http.MethodPost, "/v1/agents/"+string(id)+"/undrain", nil, nil, &a)
	return a, err
}

// Maintenance is GET /v1/maintenance: the agents marked for maintenance
// (draining or drained). Agents is never nil.
func (c *Client) Maintenance(ctx context.Context) (protocol.Maintenance, error) {
	var m protocol.Maintenance
	if err := c.getJSON(ctx, "/v1/maintenance", nil, &m); err != nil {
		return m, err
	}
	if m.Agents == nil {
		m.Agents = []protocol.Agent{}
	}
	return m, nil
}
