package host

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/protocol/sse"
)

// MasterReader is how the host learns the cluster: the master's operator
// API, as any client reads it. Tests give the host a fake.
type MasterReader interface {
	// Events streams the master's cluster events (GET /v1/events) to
	// handle, in order, until ctx ends (it then returns ctx's error) or the
	// stream breaks (the error says why). The first event is SUBSCRIBED;
	// it carries the whole state (when it does not, the host calls State).
	// An error from handle ends the stream with that error.
	Events(ctx context.Context, handle func(protocol.ClusterEvent) error) error
	// State reads the whole cluster (GET /v1/state).
	State(ctx context.Context) (protocol.State, error)
}

// maxEventBytes bounds one server-sent event (SUBSCRIBED carries the whole
// cluster state).
const maxEventBytes = 256 << 20

// MasterClient reads a master's operator API over HTTP.
type MasterClient struct {
	base  *url.URL
	token string
	hc    *http.Client
}

// NewMasterClient returns a MasterReader for the operator API at baseURL
// ("http://127.0.0.1:5050"). token, when set, is sent as a bearer token. hc
// nil means http.DefaultClient; it must have no overall Timeout, since the
// event stream stays open.
func NewMasterClient(baseURL, token string, hc *http.Client) (*MasterClient, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("module host: master URL %q is not an http(s) URL: give the operator API's URL, e.g. http://127.0.0.1:5050", baseURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	if hc == nil {
		hc = http.DefaultClient
	}
	return &MasterClient{base: u, token: token, hc: hc}, nil
}

// URL is the operator API's base URL.
func (c *MasterClient) URL() string { return c.base.Redacted() }

func (c *MasterClient) get(ctx context.Context, path, accept string) (*http.Response, error) {
	u := *c.base
	u.Path += path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("building GET %s: %w", u.Redacted(), err)
	}
	req.Header.Set("Accept", accept)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("cannot reach the master at %s: %w (is it running? the module host retries)", c.URL(), err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		var body struct {
			Message string `json:"message"`
		}
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &body) == nil && body.Message != "" {
			msg = body.Message
		}
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized {
			hint = ": give the module host the master's token"
		}
		return nil, fmt.Errorf("GET %s: %s: %s%s", u.Redacted(), resp.Status, msg, hint)
	}
	return resp, nil
}

// State is GET /v1/state.
func (c *MasterClient) State(ctx context.Context) (protocol.State, error) {
	var st protocol.State
	resp, err := c.get(ctx, "/v1/state", "application/json")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxEventBytes)).Decode(&st); err != nil {
		return st, fmt.Errorf("reading the master's state (GET %s/v1/state): %w", c.URL(), err)
	}
	return st, nil
}

// Events is GET /v1/events, the server-sent event stream.
func (c *MasterClient) Events(ctx context.Context, handle func(protocol.ClusterEvent) error) error {
	resp, err := c.get(ctx, "/v1/events", "text/event-stream")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	err = sse.Read(resp.Body, maxEventBytes, func(name string, data []byte) error {
		ev, err := protocol.DecodeClusterEvent(name, data)
		if err != nil {
			return fmt.Errorf("%s/v1/events: %w", c.URL(), err)
		}
		return handle(ev)
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// errStreamClosed says the master ended the event stream (it stopped, or
// lost leadership).
var errStreamClosed = sse.ErrClosed
