// Package apiclient is a small typed client for the Cairn master's operator
// API (GET /v1/state, /v1/agents, /v1/frameworks, /v1/tasks, /v1/events,
// /health, POST /v1/tasks/<id>/kill), for the agents' APIs the master
// proxies at /agent/<id>/ (state, task logs, sandbox files), and for
// frameworks' APIs it proxies at /service/<name>/ (the run framework's),
// and for the package API under /package/ (packages.go). It speaks only
// HTTP and imports only wire types (kernel/protocol, frameworks/run/runapi,
// repository/packageapi), so the CLI, the TUI and other tools can share it.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// maxResponseBytes bounds a decoded response body (a large cluster's state
// is tens of megabytes; this is far above that and far below trouble).
const maxResponseBytes = 512 << 20

// Client calls one master's operator API. It is safe for concurrent use.
type Client struct {
	base   *url.URL // normalised: scheme, host, path without trailing '/'
	token  string
	hc     *http.Client
	source string // where base came from, for UnreachableError
}

// New returns a client for the operator API at baseURL (for example
// "http://127.0.0.1:5050"; a bare "host:port" means http). token, when not
// empty, is sent as "Authorization: Bearer <token>". hc nil means
// http.DefaultClient; it must have no overall Timeout if Events is used.
func New(baseURL, token string, hc *http.Client) (*Client, error) {
	u, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: u, token: token, hc: hc}, nil
}

func parseBaseURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("the master's URL is empty: pass --url or set CAIRN_URL, e.g. http://127.0.0.1:5050")
	}
	raw := s
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("the master's URL %q is not a valid URL (%v): use e.g. http://127.0.0.1:5050", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("the master's URL %q has scheme %q: use http:// or https://", s, u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("the master's URL %q has no host: use e.g. http://127.0.0.1:5050", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("the master's URL %q has a query or fragment: give only scheme://host[:port][/path]", s)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// WithSource returns a copy of c whose unreachable errors say where its
// URL came from (e.g. `cluster "prod"`, "the default"); "" and "--url"
// say nothing.
func (c *Client) WithSource(source string) *Client {
	cc := *c
	cc.source = source
	return &cc
}

// BaseURL is the operator API's base URL, without credentials.
func (c *Client) BaseURL() string { return c.base.Redacted() }

// State is GET /v1/state: a snapshot of the whole cluster.
func (c *Client) State(ctx context.Context) (protocol.State, error) {
	var s protocol.State
	err := c.getJSON(ctx, "/v1/state", nil, &s)
	return s, err
}

// Agents is GET /v1/agents. The result is never nil.
func (c *Client) Agents(ctx context.Context) ([]protocol.Agent, error) {
	var as []protocol.Agent
	if err := c.getJSON(ctx, "/v1/agents", nil, &as); err != nil {
		return nil, err
	}
	if as == nil {
		as = []protocol.Agent{}
	}
	return as, nil
}

// Frameworks is GET /v1/frameworks. The result is never nil.
func (c *Client) Frameworks(ctx context.Context) ([]protocol.Framework, error) {
	var fs []protocol.Framework
	if err := c.getJSON(ctx, "/v1/frameworks", nil, &fs); err != nil {
		return nil, err
	}
	if fs == nil {
		fs = []protocol.Framework{}
	}
	return fs, nil
}

// TaskFilter selects tasks; empty fields match everything.
type TaskFilter struct {
	FrameworkID protocol.FrameworkID
	AgentID     protocol.AgentID
	State       protocol.TaskState
}

func (f TaskFilter) match(t protocol.Task) bool {
	return (f.FrameworkID == "" || t.FrameworkID == f.FrameworkID) &&
		(f.AgentID == "" || t.AgentID == f.AgentID) &&
		(f.State == "" || t.State == f.State)
}

// Tasks is GET /v1/tasks?framework_id=&agent_id=&state=. The master filters;
// the client checks the filter again, so the result is right even from a
// master that ignores a parameter. The result is never nil.
func (c *Client) Tasks(ctx context.Context, filter TaskFilter) ([]protocol.Task, error) {
	q := url.Values{}
	if filter.FrameworkID != "" {
		q.Set("framework_id", string(filter.FrameworkID))
	}
	if filter.AgentID != "" {
		q.Set("agent_id", string(filter.AgentID))
	}
	if filter.State != "" {
		q.Set("state", string(filter.State))
	}
	var ts []protocol.Task
	if err := c.getJSON(ctx, "/v1/tasks", q, &ts); err != nil {
		return nil, err
	}
	out := make([]protocol.Task, 0, len(ts))
	for _, t := range ts {
		if filter.match(t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// TasksWithID returns the tasks of tasks whose ID is id, and the
// frameworks they are of, sorted, as "F1, F2".
func TasksWithID(tasks []protocol.Task, id protocol.TaskID) (found []protocol.Task, frameworks string) {
	for _, t := range tasks {
		if t.ID == id {
			found = append(found, t)
		}
	}
	fws := make([]string, len(found))
	for i, t := range found {
		fws[i] = string(t.FrameworkID)
	}
	slices.Sort(fws)
	return found, strings.Join(fws, ", ")
}

// FindTask finds a task by ID among the master's tasks (ended ones too,
// while the master keeps them); an ID several frameworks use needs
// frameworkID.
func (c *Client) FindTask(ctx context.Context, id protocol.TaskID, frameworkID protocol.FrameworkID) (protocol.Task, error) {
	tasks, err := c.Tasks(ctx, TaskFilter{FrameworkID: frameworkID})
	if err != nil {
		return protocol.Task{}, fmt.Errorf("looking up task %s: %w", id, err)
	}
	found, fws := TasksWithID(tasks, id)
	switch len(found) {
	case 0:
		return protocol.Task{}, &TaskNotFoundError{TaskID: id, FrameworkID: frameworkID}
	case 1:
		return found[0], nil
	}
	return protocol.Task{}, fmt.Errorf("task id %s is used by %d frameworks (%s): pass --framework", id, len(found), fws)
}

// TaskNotFoundError is FindTask's answer for a task the master does not
// know (never, or no longer: it keeps a framework's latest ended tasks).
type TaskNotFoundError struct {
	TaskID      protocol.TaskID
	FrameworkID protocol.FrameworkID
}

func (e *TaskNotFoundError) Error() string {
	if e.FrameworkID != "" {
		return fmt.Sprintf("task %s of framework %s is unknown to the master (see cairn task list)", e.TaskID, e.FrameworkID)
	}
	return fmt.Sprintf("task %s is unknown to the master (see cairn task list)", e.TaskID)
}

// Health is GET /health: nil when the master leads and is ready; otherwise
// an *APIError (503 with the master's reason) or an *UnreachableError.
func (c *Client) Health(ctx context.Context) error {
	resp, err := c.do(ctx, "/health", nil, "")
	if err != nil {
		return err
	}
	defer drainClose(resp.Body)
	return nil
}

// getJSON GETs path and decodes the JSON body into v.
func (c *Client) getJSON(ctx context.Context, path string, q url.Values, v any) error {
	return c.sendJSON(ctx, http.MethodGet, path, q, nil, v)
}

// sendJSON sends method path with in (when not nil) as a JSON body and
// decodes the JSON answer into out (when not nil).
func (c *Client) sendJSON(ctx context.Context, method, path string, q url.Values, in, out any) error {
	resp, err := c.send(ctx, method, path, q, in, "application/json")
	if err != nil {
		return err
	}
	defer drainClose(resp.Body)
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes))
	if err := dec.Decode(out); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("reading the master's answer to %s %s: %w", method, c.endpoint(path, nil).Redacted(), err)
	}
	return nil
}

// do sends GET path and returns a 2xx response; other statuses become an
// *APIError, transport failures an *UnreachableError (or ctx's error).
func (c *Client) do(ctx context.Context, path string, q url.Values, accept string) (*http.Response, error) {
	return c.send(ctx, http.MethodGet, path, q, nil, accept)
}

// send sends method path, with in (when not nil) encoded as a JSON body,
// and returns a 2xx response; other statuses become an *APIError,
// transport failures an *UnreachableError (or ctx's error).
func (c *Client) send(ctx context.Context, method, path string, q url.Values, in any, accept string) (*http.Response, error) {
	u := c.endpoint(path, q)
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encoding the body of %s %s: %w", method, u.Redacted(), err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("building %s %s: %w", method, u.Redacted(), err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		slog.DebugContext(ctx, "operator api request failed", "method", method, "url", u.Redacted(), "err", err)
		return nil, &UnreachableError{URL: c.BaseURL(), Source: c.source, Err: err}
	}
	slog.DebugContext(ctx, "operator api request", "method", method, "url", u.Redacted(), "status", resp.StatusCode, "duration", time.Since(start))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer drainClose(resp.Body)
		return nil, newAPIError(req, resp, c.token != "")
	}
	return resp, nil
}

func (c *Client) endpoint(path string, q url.Values) *url.URL {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawQuery = q.Encode()
	return &u
}

// drainClose reads a little of what is left (so the connection can be
// reused) and closes the body.
func drainClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}
