package apiclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/cairn-dc/cairn/frameworks/run/runapi"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// NoServiceError says no connected framework of that name serves an HTTP
// API, so the master could not forward a /service/<name>/ call.
type NoServiceError struct {
	Name string
	Err  error // the master's answer
}

func (e *NoServiceError) Error() string {
	return fmt.Sprintf("no framework named %q with an HTTP API is subscribed to the master", e.Name)
}

func (e *NoServiceError) Unwrap() error { return e.Err }

// Service calls the HTTP API of the framework called name, through the
// master's proxy: method /service/<name><path>, with in (when not nil) as
// a JSON body, decoding the JSON answer into out (when not nil). When the
// master answers 404 because no such framework is connected, the error is
// a *NoServiceError; other non-2xx answers are *APIError.
func (c *Client) Service(ctx context.Context, name, method, path string, in, out any) error {
	return c.ServiceQuery(ctx, name, method, path, nil, in, out)
}

// ServiceQuery is Service with query parameters (e.g. ?force=true).
func (c *Client) ServiceQuery(ctx context.Context, name, method, path string, q url.Values, in, out any) error {
	if name == "" || strings.ContainsAny(name, "/?#") {
		return fmt.Errorf("framework name %q: give a name without / ? #", name)
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	err := c.sendJSON(ctx, method, "/service/"+name+path, q, in, out)
	return c.serviceError(ctx, name, err)
}

// serviceError turns the master's 404 for a framework that is not
// connected into a *NoServiceError; other errors are returned as they are.
func (c *Client) serviceError(ctx context.Context, name string, err error) error {
	var ae *APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound {
		// The framework's own 404, or the master's "no such framework"?
		if ok, ferr := c.serviceConnected(ctx, name); ferr == nil && !ok {
			return &NoServiceError{Name: name, Err: err}
		}
	}
	return err
}

// serviceConnected reports whether a connected framework called name has
// an HTTP API.
func (c *Client) serviceConnected(ctx context.Context, name string) (bool, error) {
	fws, err := c.Frameworks(ctx)
	if err != nil {
		return false, err
	}
	for _, f := range fws {
		if f.Name == name && f.Connected && f.WebuiURL != "" {
			return true, nil
		}
	}
	return false, nil
}

// SubmitRun is POST /service/run/v1/runs: queue a one-off task with the
// run framework.
func (c *Client) SubmitRun(ctx context.Context, req runapi.Request) (runapi.Submitted, error) {
	var s runapi.Submitted
	err := c.Service(ctx, runapi.DefaultName, http.MethodPost, "/v1/runs", req, &s)
	return s, err
}

// Run is GET /service/run/v1/runs/<id>.
func (c *Client) Run(ctx context.Context, id protocol.TaskID) (runapi.Run, error) {
	var r runapi.Run
	if err := protocol.ValidateTaskID("run id", id); err != nil {
		return r, err
	}
	err := c.Service(ctx, runapi.DefaultName, http.MethodGet, "/v1/runs/"+string(id), nil, &r)
	return r, err
}

// Runs is GET /service/run/v1/runs. The result is never nil.
func (c *Client) Runs(ctx context.Context) ([]runapi.Run, error) {
	var rs []runapi.Run
	if err := c.Service(ctx, runapi.DefaultName, http.MethodGet, "/v1/runs", nil, &rs); err != nil {
		return nil, err
	}
	if rs == nil {
		rs = []runapi.Run{}
	}
	return rs, nil
}

// KillRun is DELETE /service/run/v1/runs/<id>: a queued run ends at once,
// a launched one is killed.
func (c *Client) KillRun(ctx context.Context, id protocol.TaskID) (runapi.Run, error) {
	var r runapi.Run
	if err := protocol.ValidateTaskID("run id", id); err != nil {
		return r, err
	}
	err := c.Service(ctx, runapi.DefaultName, http.MethodDelete, "/v1/runs/"+string(id), nil, &r)
	return r, err
}
