package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"
)

// Maintenance (Mesos' DRAIN_AGENT / REACTIVATE_AGENT): an operator marks
// an agent draining; it gets no more offers and the master kills its tasks
// (TASK_KILLED, REASON_AGENT_DRAINING) so their frameworks move them; once
// none is left the agent is DRAINED. Reactivating ("undrain") makes it
// offer again.

// DrainState is where an agent's drain stands.
type DrainState string

const (
	// DrainDraining: tasks of the agent are still running or being killed.
	DrainDraining DrainState = "DRAINING"
	// DrainDrained: no task of the agent is left.
	DrainDrained DrainState = "DRAINED"
)

// DrainInfo is an agent's maintenance mark (Agent.Drain).
type DrainInfo struct {
	State DrainState `json:"state"`
	// Since is when the drain was asked (seconds since the epoch).
	Since float64 `json:"since"`
	// DrainedTime is when the last task ended (0 while draining).
	DrainedTime float64 `json:"drained_time,omitempty"`
	Reason      string  `json:"reason,omitempty"`
	// GracePeriodSeconds, when set, replaces the tasks' own kill grace
	// periods for the drain's kills.
	GracePeriodSeconds *float64 `json:"grace_period_seconds,omitempty"`
}

// DrainAgent is the optional body of POST /v1/agents/<id>/drain.
type DrainAgent struct {
	// GracePeriodSeconds, when set, is the time each task gets between
	// SIGTERM and SIGKILL, instead of its own kill policy's.
	GracePeriodSeconds *float64 `json:"grace_period_seconds,omitempty"`
	// Reason is free text shown with the agent and in the kills' messages.
	Reason string `json:"reason,omitempty"`
}

// Bounds of a DrainAgent.
const (
	MaxDrainReasonBytes        = 1024
	MaxDrainGracePeriodSeconds = 7 * 24 * 3600
)

// Validate checks a drain request, naming the bad field.
func (d *DrainAgent) Validate() error {
	if g := d.GracePeriodSeconds; g != nil {
		if math.IsNaN(*g) || math.IsInf(*g, 0) || *g < 0 || *g > MaxDrainGracePeriodSeconds {
			return fmt.Errorf("grace_period_seconds: %v is not a number of seconds between 0 and %d (a week)", *g, MaxDrainGracePeriodSeconds)
		}
	}
	if len(d.Reason) > MaxDrainReasonBytes {
		return fmt.Errorf("reason: %d bytes is longer than the %d byte limit", len(d.Reason), MaxDrainReasonBytes)
	}
	if !utf8.ValidString(d.Reason) {
		return errors.New("reason: not valid UTF-8 text")
	}
	if strings.ContainsFunc(d.Reason, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return errors.New("reason: control characters (newlines, tabs ...) are not allowed: give one line of text")
	}
	return nil
}

// DecodeDrainAgent decodes and validates a drain request. An empty body
// (or only whitespace) is a drain with no reason and the tasks' own grace
// periods; unknown fields are refused, naming them.
func DecodeDrainAgent(data []byte) (DrainAgent, error) {
	var d DrainAgent
	if len(bytes.TrimSpace(data)) == 0 {
		return d, nil
	}
	if len(data) > MaxMessageBytes {
		return DrainAgent{}, fmt.Errorf("drain request: body of %d bytes exceeds the %d byte limit", len(data), MaxMessageBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field != "":
			want := "a string"
			if te.Field == "grace_period_seconds" {
				want = "a number of seconds"
			}
			return DrainAgent{}, fmt.Errorf("drain request: field %s: expected %s, got JSON %s", te.Field, want, te.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return DrainAgent{}, fmt.Errorf("drain request: unknown field %s: the fields are grace_period_seconds and reason",
				strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return DrainAgent{}, fmt.Errorf("drain request: invalid JSON: %w (send e.g. {\"grace_period_seconds\": 30, \"reason\": \"kernel upgrade\"})", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return DrainAgent{}, errors.New("drain request: more than one JSON value in the body: send one object")
	}
	if err := d.Validate(); err != nil {
		return DrainAgent{}, fmt.Errorf("drain request: %w", err)
	}
	return d, nil
}

// Maintenance is GET /v1/maintenance: the agents marked for maintenance
// (draining or drained), sorted by ID.
type Maintenance struct {
	Agents []Agent `json:"agents"`
}
