package apiclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// Kill is POST /v1/tasks/<id>/kill[?framework_id=]: an operator's kill.
// frameworkID may be empty unless the task ID is used by several
// frameworks. It returns the task as the master knew it when it took the
// kill; the task's KILLED state follows. Errors are *APIError: 404 for an
// unknown task, 409 for one that ended or an ambiguous ID.
func (c *Client) Kill(ctx context.Context, taskID protocol.TaskID, frameworkID protocol.FrameworkID) (protocol.Task, error) {
	var t protocol.Task
	if err := protocol.ValidateTaskID("task id", taskID); err != nil {
		return t, err
	}
	q := url.Values{}
	if frameworkID != "" {
		if err := protocol.ValidateToken("framework id", string(frameworkID)); err != nil {
			return t, err
		}
		q.Set("framework_id", string(frameworkID))
	}
	err := c.sendJSON(ctx, http.MethodPost, "/v1/tasks/"+string(taskID)+"/kill", q, nil, &t)
	return t, err
}

// agentPath is the master's proxy path to an agent's API.
func agentPath(agentID protocol.AgentID, rest string) (string, error) {
	if err := protocol.ValidateToken("agent id", string(agentID)); err != nil {
		return "", err
	}
	return "/agent/" + string(agentID) + rest, nil
}

// AgentState is GET /agent/<id>/v1/state: the agent's own view of itself
// and its tasks (sandboxes, pids, usage), through the master's proxy.
func (c *Client) AgentState(ctx context.Context, agentID protocol.AgentID) (protocol.AgentState, error) {
	var st protocol.AgentState
	p, err := agentPath(agentID, "/v1/state")
	if err != nil {
		return st, err
	}
	err = c.getJSON(ctx, p, nil, &st)
	return st, err
}

// Log streams of a task.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// TaskLog is GET /agent/<aid>/v1/tasks/<fid>/<tid>/logs/<stream>: a task's
// stdout or stderr, through the master's proxy. offset is where to start
// (bytes; negative: that many bytes before the end). With follow the body
// keeps streaming what the task writes until the task ends. Close the
// returned body; cancelling ctx ends a follow.
func (c *Client) TaskLog(ctx context.Context, agentID protocol.AgentID, frameworkID protocol.FrameworkID, taskID protocol.TaskID, stream string, offset int64, follow bool) (io.ReadCloser, error) {
	if stream != Stdout && stream != Stderr {
		return nil, fmt.Errorf("log stream %q: use %q or %q", stream, Stdout, Stderr)
	}
	if err := protocol.ValidateToken("framework id", string(frameworkID)); err != nil {
		return nil, err
	}
	if err := protocol.ValidateTaskID("task id", taskID); err != nil {
		return nil, err
	}
	p, err := agentPath(agentID, "/v1/tasks/"+string(frameworkID)+"/"+string(taskID)+"/logs/"+stream)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if offset != 0 {
		q.Set("offset", strconv.FormatInt(offset, 10))
	}
	if follow {
		q.Set("follow", "true")
	}
	resp, err := c.send(ctx, http.MethodGet, p, q, nil, "")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// FileChunk is an answer of an agent's GET /v1/files/read (Mesos'
// /files/read): Data read at Offset.
type FileChunk struct {
	Data   string `json:"data"`
	Offset int64  `json:"offset"`
}

// ReadFile is GET /agent/<id>/v1/files/read?path=&offset=&length=: up to
// length bytes (0: the agent's maximum, 1 MiB) of a sandbox file from
// offset. A negative offset reads nothing and returns the file's size as
// Offset.
func (c *Client) ReadFile(ctx context.Context, agentID protocol.AgentID, path string, offset, length int64) (FileChunk, error) {
	var fc FileChunk
	p, err := agentPath(agentID, "/v1/files/read")
	if err != nil {
		return fc, err
	}
	q := url.Values{"path": {path}, "offset": {strconv.FormatInt(offset, 10)}}
	if length > 0 {
		q.Set("length", strconv.FormatInt(length, 10))
	}
	err = c.getJSON(ctx, p, q, &fc)
	return fc, err
}
