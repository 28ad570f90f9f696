package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// HealthStatus is the master's answer to GET /health.
type HealthStatus struct {
	// Status is "ok" when the master leads and is ready, else why not
	// (e.g. "not ready").
	Status string `json:"status"`
	// Leader says whether this master leads the cluster.
	Leader bool `json:"leader"`
	// Master identifies the master that answered (its version ...).
	Master protocol.MasterInfo `json:"master"`
}

// MasterHealth is GET /health with its body: who the master is, and
// whether it is ready. A master that answers 503 (not leading, not ready)
// is returned with its status and an *APIError; a master that cannot be
// reached gives an *UnreachableError.
func (c *Client) MasterHealth(ctx context.Context) (HealthStatus, error) {
	var hs HealthStatus
	err := c.getJSON(ctx, "/health", nil, &hs)
	var ae *APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusServiceUnavailable {
		if json.Unmarshal(ae.Body, &hs) != nil {
			hs = HealthStatus{}
		}
		return hs, err
	}
	if err != nil {
		return hs, err
	}
	if hs.Status == "" {
		return hs, fmt.Errorf("GET %s: the answer has no status: is that a Cairn master?", c.endpoint("/health", nil).Redacted())
	}
	return hs, nil
}
