package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cairn-dc/cairn/frameworks/services/marathon"
)

// The services framework (Cairn's Marathon) serves Marathon's v2 REST API;
// the master proxies it at /service/services/. These calls speak it with
// the wire types of frameworks/services/marathon.

// ServicesName is the services framework's name: the master proxies its
// API at /service/services/.
const ServicesName = "services"

// maxMarathonEventBytes bounds one /v2/events event (a deployment plan
// holds whole app definitions).
const maxMarathonEventBytes = 16 << 20

// DeploymentResult is the services framework's answer to a change of an
// app: the deployment carrying it out and the app's new version.
type DeploymentResult struct {
	DeploymentID string `json:"deploymentId"`
	Version      string `json:"version"`
	// Warnings are the fields of the definition the framework ignored.
	Warnings []string `json:"warnings,omitempty"`
}

// CreatedApp is the answer of POST /v2/apps: the app as stored, with its
// deployment in Deployments.
type CreatedApp struct {
	marathon.AppStatus
	// Warnings are the fields of the definition the framework ignored.
	Warnings []string `json:"warnings,omitempty"`
}

// DeploymentID is the deployment creating the app ("" if none).
func (c CreatedApp) DeploymentID() string {
	if len(c.Deployments) == 0 {
		return ""
	}
	return c.Deployments[0].ID
}

// QueueItem is an item of GET /v2/queue: an app waiting for instances to
// launch, with Cairn's reason why it cannot progress, if it knows one.
type QueueItem struct {
	marathon.QueueItem
	Waiting string `json:"waiting,omitempty"`
}

// AppLockedError is the services framework's 409 for a change to an app
// that a deployment in progress holds. Sending the change again with
// force=true overrides the deployment.
type AppLockedError struct {
	// Deployments are the IDs of the deployments holding the app.
	Deployments []string
	Err         *APIError
}

func (e *AppLockedError) Error() string { return e.Err.Error() }
func (e *AppLockedError) Unwrap() error { return e.Err }

// AppInvalidError is the services framework's 422: every problem of an app
// definition (or update), each under the path of its field.
type AppInvalidError struct {
	Validation marathon.ValidationError
	Err        *APIError
}

// Error lists every problem: "Object is not valid: /instances: ...; /cmd: ...".
func (e *AppInvalidError) Error() string { return e.Validation.Error() }
func (e *AppInvalidError) Unwrap() error { return e.Err }

// marathonError turns the services framework's structured error answers
// (409 with deployments, 422 with details) into typed errors.
func marathonError(err error) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.StatusCode {
	case http.StatusConflict:
		var body struct {
			Deployments []struct {
				ID string `json:"id"`
			} `json:"deployments"`
		}
		if json.Unmarshal(ae.Body, &body) == nil && len(body.Deployments) > 0 {
			le := &AppLockedError{Err: ae}
			for _, d := range body.Deployments {
				le.Deployments = append(le.Deployments, d.ID)
			}
			return le
		}
	case http.StatusUnprocessableEntity:
		var ve marathon.ValidationError
		if json.Unmarshal(ae.Body, &ve) == nil && len(ve.Details) > 0 {
			return &AppInvalidError{Validation: ve, Err: ae}
		}
	}
	return err
}

// marathonCall calls the services framework's API.
func (c *Client) marathonCall(ctx context.Context, method, path string, q url.Values, in, out any) error {
	return marathonError(c.ServiceQuery(ctx, ServicesName, method, path, q, in, out))
}

// appPath is /v2/apps<canonical id>; "web" and "/web" are the same app.
func appPath(id string) (string, error) {
	cid, err := marathon.CanonicalID(id)
	if err != nil {
		return "", fmt.Errorf("app id %w", err)
	}
	return "/v2/apps" + cid, nil
}

func forceQuery(force bool) url.Values {
	if !force {
		return nil
	}
	return url.Values{"force": {"true"}}
}

// Apps is GET /v2/apps (with counts and deployments). idContains, when not
// empty, keeps the apps whose id contains it (Marathon's ?id=). The result
// is never nil.
func (c *Client) Apps(ctx context.Context, idContains string) ([]marathon.AppStatus, error) {
	var q url.Values
	if idContains != "" {
		q = url.Values{"id": {idContains}}
	}
	var out struct {
		Apps []marathon.AppStatus `json:"apps"`
	}
	if err := c.marathonCall(ctx, http.MethodGet, "/v2/apps", q, nil, &out); err != nil {
		return nil, err
	}
	if out.Apps == nil {
		out.Apps = []marathon.AppStatus{}
	}
	return out.Apps, nil
}

// App is GET /v2/apps/<id>: the app with its tasks, deployments and last
// task failure.
func (c *Client) App(ctx context.Context, id string) (marathon.AppStatus, error) {
	var out struct {
		App marathon.AppStatus `json:"app"`
	}
	p, err := appPath(id)
	if err != nil {
		return out.App, err
	}
	err = c.marathonCall(ctx, http.MethodGet, p, nil, nil, &out)
	return out.App, err
}

// CreateApp is POST /v2/apps with an app definition (a JSON object).
func (c *Client) CreateApp(ctx context.Context, definition json.RawMessage) (CreatedApp, error) {
	var out CreatedApp
	err := c.marathonCall(ctx, http.MethodPost, "/v2/apps", nil, definition, &out)
	return out, err
}

// UpdateApp is PUT /v2/apps/<id>: a partial update (only the fields given
// change). force overrides a deployment in progress.
func (c *Client) UpdateApp(ctx context.Context, id string, update json.RawMessage, force bool) (DeploymentResult, error) {
	var out DeploymentResult
	p, err := appPath(id)
	if err != nil {
		return out, err
	}
	err = c.marathonCall(ctx, http.MethodPut, p, forceQuery(force), update, &out)
	return out, err
}

// ScaleApp sets an app's number of instances (a partial update).
func (c *Client) ScaleApp(ctx context.Context, id string, instances int, force bool) (DeploymentResult, error) {
	return c.UpdateApp(ctx, id, json.RawMessage(`{"instances":`+strconv.Itoa(instances)+`}`), force)
}

// RestartApp is POST /v2/apps/<id>/restart: a rolling restart of every
// instance.
func (c *Client) RestartApp(ctx context.Context, id string, force bool) (DeploymentResult, error) {
	var out DeploymentResult
	p, err := appPath(id)
	if err != nil {
		return out, err
	}
	err = c.marathonCall(ctx, http.MethodPost, p+"/restart", forceQuery(force), nil, &out)
	return out, err
}

// DeleteApp is DELETE /v2/apps/<id>: kill every instance and remove the
// app.
func (c *Client) DeleteApp(ctx context.Context, id string, force bool) (DeploymentResult, error) {
	var out DeploymentResult
	p, err := appPath(id)
	if err != nil {
		return out, err
	}
	err = c.marathonCall(ctx, http.MethodDelete, p, forceQuery(force), nil, &out)
	return out, err
}

// AppVersions is GET /v2/apps/<id>/versions: the app's versions, newest
// first. The result is never nil.
func (c *Client) AppVersions(ctx context.Context, id string) ([]string, error) {
	var out struct {
		Versions []string `json:"versions"`
	}
	p, err := appPath(id)
	if err != nil {
		return nil, err
	}
	if err := c.marathonCall(ctx, http.MethodGet, p+"/versions", nil, nil, &out); err != nil {
		return nil, err
	}
	if out.Versions == nil {
		out.Versions = []string{}
	}
	return out.Versions, nil
}

// Deployments is GET /v2/deployments: the deployments in progress. The
// result is never nil.
func (c *Client) Deployments(ctx context.Context) ([]marathon.Deployment, error) {
	var out []marathon.Deployment
	if err := c.marathonCall(ctx, http.MethodGet, "/v2/deployments", nil, nil, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = []marathon.Deployment{}
	}
	return out, nil
}

// RollbackDeployment is DELETE /v2/deployments/<id>: stop the deployment
// and start a new one that puts the app back as it was (its result is
// returned). With force the deployment is only stopped, without a
// rollback, and the result is nil.
func (c *Client) RollbackDeployment(ctx context.Context, id string, force bool) (*DeploymentResult, error) {
	if id == "" || strings.ContainsAny(id, "/?#") {
		return nil, fmt.Errorf("deployment id %q: give an id such as 01m8as42-5x1n-s0gr-hzzr-dedp35", id)
	}
	path := "/service/" + ServicesName + "/v2/deployments/" + id
	resp, err := c.send(ctx, http.MethodDelete, path, forceQuery(force), nil, "application/json")
	if err != nil {
		return nil, marathonError(c.serviceError(ctx, ServicesName, err))
	}
	defer drainClose(resp.Body)
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("reading the answer to DELETE %s: %w", c.endpoint(path, nil).Redacted(), err)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, nil // 202: cancelled without a rollback
	}
	var out DeploymentResult
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("reading the answer to DELETE %s: %w", c.endpoint(path, nil).Redacted(), err)
	}
	if out.DeploymentID == "" {
		return nil, nil
	}
	return &out, nil
}

// Queue is GET /v2/queue: the apps waiting for instances to launch. The
// result is never nil.
func (c *Client) Queue(ctx context.Context) ([]QueueItem, error) {
	var out struct {
		Queue []QueueItem `json:"queue"`
	}
	if err := c.marathonCall(ctx, http.MethodGet, "/v2/queue", nil, nil, &out); err != nil {
		return nil, err
	}
	if out.Queue == nil {
		out.Queue = []QueueItem{}
	}
	return out.Queue, nil
}

// MarathonEvents subscribes to the services framework's /v2/events stream
// (server-sent events), optionally only the given event types. The first
// event is event_stream_attached: from then on, every event is delivered
// (as long as the reader keeps up; Marathon's stream is best-effort).
//
// Events arrive on the first channel. When the stream ends, at most one
// error is sent on the second channel (ErrStreamClosed when the framework
// ended it) and both channels are closed. Cancelling ctx ends the stream
// with no error.
func (c *Client) MarathonEvents(ctx context.Context, types ...string) (<-chan marathon.Event, <-chan error) {
	events := make(chan marathon.Event)
	errc := make(chan error, 1)
	go func() {
		defer close(errc)
		defer close(events)
		if err := c.streamMarathonEvents(ctx, types, events); err != nil && ctx.Err() == nil {
			errc <- err
		}
	}()
	return events, errc
}

func (c *Client) streamMarathonEvents(ctx context.Context, types []string, out chan<- marathon.Event) error {
	var q url.Values
	if len(types) > 0 {
		q = url.Values{"event_type": types}
	}
	path := "/service/" + ServicesName + "/v2/events"
	resp, err := c.send(ctx, http.MethodGet, path, q, nil, "text/event-stream")
	if err != nil {
		return c.serviceError(ctx, ServicesName, err)
	}
	defer resp.Body.Close()
	where := c.endpoint(path, nil).Redacted()
	return readSSE(resp.Body, maxMarathonEventBytes, where, func(name string, data []byte) error {
		ev := marathon.Event{Type: name}
		if err := json.Unmarshal(data, &ev.Body); err != nil {
			return fmt.Errorf("%s: decoding a %q event: %w", where, name, err)
		}
		if t, ok := ev.Body["eventType"].(string); ok && (ev.Type == "" || ev.Type == "message") {
			ev.Type = t
		}
		select {
		case out <- ev:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

// AppsByLabel is GET /v2/apps?label=SELECTOR: the apps carrying a label
// ("KEY") or a label value ("KEY==VALUE"). The result is never nil.
func (c *Client) AppsByLabel(ctx context.Context, selector string) ([]marathon.AppStatus, error) {
	var out struct {
		Apps []marathon.AppStatus `json:"apps"`
	}
	if err := c.marathonCall(ctx, http.MethodGet, "/v2/apps", url.Values{"label": {selector}}, nil, &out); err != nil {
		return nil, err
	}
	if out.Apps == nil {
		out.Apps = []marathon.AppStatus{}
	}
	return out.Apps, nil
}
