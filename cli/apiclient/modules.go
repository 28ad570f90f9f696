package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/cairn-dc/cairn/modules/host/moduleapi"
)

// The module host's API, which the master serves at /v1/modules (see
// modules/host/moduleapi): the modules' status, and modules added or
// removed at runtime.

// ErrNoModuleAPI is in the chain of an error from a master that serves no
// module API (it answered 404 for /v1/modules itself).
var ErrNoModuleAPI = errors.New("this master serves no module API at /v1/modules (is its module host enabled? cairn up runs one)")

// Modules is GET /v1/modules: every module's status, by name. The result
// is never nil.
func (c *Client) Modules(ctx context.Context) ([]moduleapi.Status, error) {
	var out []moduleapi.Status
	if err := c.getJSON(ctx, moduleapi.PathModules, nil, &out); err != nil {
		return nil, moduleAPIError(err)
	}
	if out == nil {
		out = []moduleapi.Status{}
	}
	return out, nil
}

// Module is GET /v1/modules/{name}.
func (c *Client) Module(ctx context.Context, name string) (moduleapi.Status, error) {
	var out moduleapi.Status
	if err := moduleapi.ValidateName(name); err != nil {
		return out, err
	}
	err := c.getJSON(ctx, moduleapi.PathModules+"/"+url.PathEscape(name), nil, &out)
	return out, err
}

// ModuleInstall is POST /v1/modules: the host checks the spec and the
// binary's checksum, saves the module and starts it (replacing one of the
// same name added earlier). replaced says whether one was replaced.
func (c *Client) ModuleInstall(ctx context.Context, spec moduleapi.Spec) (st moduleapi.Status, replaced bool, err error) {
	resp, err := c.send(ctx, http.MethodPost, moduleapi.PathModules, nil, spec, "application/json")
	if err != nil {
		return st, false, moduleAPIError(err)
	}
	defer drainClose(resp.Body)
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(&st); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return st, false, ctxErr
		}
		return st, false, fmt.Errorf("reading the master's answer to POST %s: %w", c.endpoint(moduleapi.PathModules, nil).Redacted(), err)
	}
	return st, resp.StatusCode == http.StatusOK, nil
}

// ModuleRemove is DELETE /v1/modules/{name}: the host stops the module and
// forgets it. It returns the module's last status.
func (c *Client) ModuleRemove(ctx context.Context, name string) (moduleapi.Status, error) {
	var out moduleapi.Status
	if err := moduleapi.ValidateName(name); err != nil {
		return out, err
	}
	err := c.sendJSON(ctx, http.MethodDelete, moduleapi.PathModules+"/"+url.PathEscape(name), nil, nil, &out)
	return out, err
}

// moduleAPIError adds ErrNoModuleAPI to a 404 from a master that does not
// serve /v1/modules (its catch-all "no such endpoint" answer).
func moduleAPIError(err error) error {
	var ae *APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%w: %w", ErrNoModuleAPI, err)
	}
	return err
}
