package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

// The cron framework serves Metronome's jobs API (frameworks/cron/cronapi);
// the master proxies it at /service/cron/. Its error answers are
// cronapi.Error bodies, returned as *JobError.

// JobError is an error answer of the cron framework (400, 404, 409, 422):
// its message and, for invalid input, every failing field.
type JobError struct {
	Message string
	// Details name the failing fields (JSON pointers such as /run/cpus)
	// and what is wrong with each.
	Details []cronapi.ErrorDetail
	// Err is the HTTP answer (status, URL, body).
	Err *APIError
}

// Error is the framework's message, followed by the failing fields if any:
// "invalid job: /run/cpus: must be > 0; /id: ...".
func (e *JobError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Err.Error()
	}
	parts := make([]string, 0, len(e.Details))
	for _, d := range e.Details {
		parts = append(parts, d.Path+": "+strings.Join(d.Errors, ", "))
	}
	if len(parts) > 0 {
		msg += ": " + strings.Join(parts, "; ")
	}
	return msg
}

func (e *JobError) Unwrap() error { return e.Err }

// StatusCode is the HTTP status of the answer.
func (e *JobError) StatusCode() int { return e.Err.StatusCode }

// JobErrorStatus is the HTTP status of the *JobError in err's chain, or 0
// when there is none (a transport error, the master's own answer, or a
// cron framework that is not connected: *NoServiceError).
func JobErrorStatus(err error) int {
	var nse *NoServiceError
	if errors.As(err, &nse) {
		return 0
	}
	var je *JobError
	if errors.As(err, &je) {
		return je.StatusCode()
	}
	return 0
}

// jobError turns the cron framework's error answers into *JobError; other
// errors (the master's 401 and 403, a framework that is not connected,
// 5xx from the proxy) are returned as they are.
func jobError(err error) error {
	var nse *NoServiceError
	var ae *APIError
	if err == nil || errors.As(err, &nse) || !errors.As(err, &ae) {
		return err
	}
	switch ae.StatusCode {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity:
	default:
		return err
	}
	var body cronapi.Error
	if json.Unmarshal(ae.Body, &body) != nil || (body.Message == "" && len(body.Details) == 0) {
		return err
	}
	for i, d := range body.Details {
		body.Details[i].Path = oneLine(d.Path, 200)
		for j, s := range d.Errors {
			body.Details[i].Errors[j] = oneLine(s, 1000)
		}
	}
	return &JobError{Message: oneLine(body.Message, 2000), Details: body.Details, Err: ae}
}

// cronCall calls the cron framework's API.
func (c *Client) cronCall(ctx context.Context, method, path string, q url.Values, in, out any) error {
	return jobError(c.ServiceQuery(ctx, cronapi.DefaultName, method, path, q, in, out))
}

// ValidateJobID checks a job id (see cronapi.ValidateJobID).
func ValidateJobID(id string) error { return cronapi.ValidateJobID(id) }

// validateSegment checks an id that goes into a URL path as one segment
// (a schedule's or a run's).
func validateSegment(what, id string) error {
	if id == "" {
		return fmt.Errorf("the %s is empty", what)
	}
	if id == "." || id == ".." || strings.ContainsAny(id, "/\\") || strings.ContainsFunc(id, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return fmt.Errorf("%s %q is not valid: give it as cairn job shows it", what, id)
	}
	return nil
}

func jobPath(id string) (string, error) {
	if err := ValidateJobID(id); err != nil {
		return "", err
	}
	return "/v1/jobs/" + id, nil
}

// itemPath is the path of one schedule or run of a job:
// /v1/jobs/<jobID>/<kind>s/<id>, both ids checked.
func itemPath(jobID, kind, id string) (string, error) {
	p, err := jobPath(jobID)
	if err != nil {
		return "", err
	}
	if err := validateSegment(kind+" id", id); err != nil {
		return "", err
	}
	return p + "/" + kind + "s/" + id, nil
}

func embedQuery(embed []string) url.Values {
	var keep []string
	for _, e := range embed {
		if e = strings.TrimSpace(e); e != "" {
			keep = append(keep, e)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return url.Values{"embed": {strings.Join(keep, ",")}}
}

// Jobs is GET /v1/jobs, with the given embeds (cronapi.EmbedHistory ...).
// The result is never nil.
func (c *Client) Jobs(ctx context.Context, embed ...string) ([]cronapi.Job, error) {
	var jobs []cronapi.Job
	if err := c.cronCall(ctx, http.MethodGet, "/v1/jobs", embedQuery(embed), nil, &jobs); err != nil {
		return nil, err
	}
	if jobs == nil {
		jobs = []cronapi.Job{}
	}
	return jobs, nil
}

// Job is GET /v1/jobs/<id>, with the given embeds.
func (c *Client) Job(ctx context.Context, id string, embed ...string) (cronapi.Job, error) {
	var j cronapi.Job
	p, err := jobPath(id)
	if err != nil {
		return j, err
	}
	err = c.cronCall(ctx, http.MethodGet, p, embedQuery(embed), nil, &j)
	return j, err
}

// AddJob is POST /v1/jobs: the job, with its schedules if it has some.
func (c *Client) AddJob(ctx context.Context, job cronapi.Job) (cronapi.Job, error) {
	var out cronapi.Job
	if err := ValidateJobID(job.ID); err != nil {
		return out, err
	}
	err := c.cronCall(ctx, http.MethodPost, "/v1/jobs", nil, job, &out)
	return out, err
}

// UpdateJob is PUT /v1/jobs/<job.ID>: it replaces the job's definition
// (and its schedules, when the job has some).
func (c *Client) UpdateJob(ctx context.Context, job cronapi.Job) (cronapi.Job, error) {
	var out cronapi.Job
	p, err := jobPath(job.ID)
	if err != nil {
		return out, err
	}
	err = c.cronCall(ctx, http.MethodPut, p, nil, job, &out)
	return out, err
}

// RemoveJob is DELETE /v1/jobs/<id>. The framework refuses (409) while the
// job has active runs, unless stopRuns stops them first.
func (c *Client) RemoveJob(ctx context.Context, id string, stopRuns bool) (cronapi.Job, error) {
	var out cronapi.Job
	p, err := jobPath(id)
	if err != nil {
		return out, err
	}
	var q url.Values
	if stopRuns {
		q = url.Values{"stopCurrentJobRuns": {"true"}}
	}
	err = c.cronCall(ctx, http.MethodDelete, p, q, nil, &out)
	return out, err
}

// JobSchedules is GET /v1/jobs/<id>/schedules. The result is never nil.
func (c *Client) JobSchedules(ctx context.Context, id string) ([]cronapi.Schedule, error) {
	p, err := jobPath(id)
	if err != nil {
		return nil, err
	}
	var ss []cronapi.Schedule
	if err := c.cronCall(ctx, http.MethodGet, p+"/schedules", nil, nil, &ss); err != nil {
		return nil, err
	}
	if ss == nil {
		ss = []cronapi.Schedule{}
	}
	return ss, nil
}

// AddSchedule is POST /v1/jobs/<jobID>/schedules.
func (c *Client) AddSchedule(ctx context.Context, jobID string, s cronapi.Schedule) (cronapi.Schedule, error) {
	var out cronapi.Schedule
	if _, err := itemPath(jobID, "schedule", s.ID); err != nil {
		return out, err
	}
	err := c.cronCall(ctx, http.MethodPost, "/v1/jobs/"+jobID+"/schedules", nil, s, &out)
	return out, err
}

// JobSchedule is GET /v1/jobs/<jobID>/schedules/<scheduleID>.
func (c *Client) JobSchedule(ctx context.Context, jobID, scheduleID string) (cronapi.Schedule, error) {
	var out cronapi.Schedule
	p, err := itemPath(jobID, "schedule", scheduleID)
	if err != nil {
		return out, err
	}
	err = c.cronCall(ctx, http.MethodGet, p, nil, nil, &out)
	return out, err
}

// UpdateSchedule is PUT /v1/jobs/<jobID>/schedules/<s.ID>: the schedule
// replaced by s.
func (c *Client) UpdateSchedule(ctx context.Context, jobID string, s cronapi.Schedule) (cronapi.Schedule, error) {
	var out cronapi.Schedule
	p, err := itemPath(jobID, "schedule", s.ID)
	if err != nil {
		return out, err
	}
	err = c.cronCall(ctx, http.MethodPut, p, nil, s, &out)
	return out, err
}

// RemoveSchedule is DELETE /v1/jobs/<jobID>/schedules/<scheduleID>.
func (c *Client) RemoveSchedule(ctx context.Context, jobID, scheduleID string) error {
	p, err := itemPath(jobID, "schedule", scheduleID)
	if err != nil {
		return err
	}
	return c.cronCall(ctx, http.MethodDelete, p, nil, nil, nil)
}

// JobRuns is GET /v1/jobs/<id>/runs: the job's active runs. The result is
// never nil.
func (c *Client) JobRuns(ctx context.Context, id string) ([]cronapi.Run, error) {
	p, err := jobPath(id)
	if err != nil {
		return nil, err
	}
	var rs []cronapi.Run
	if err := c.cronCall(ctx, http.MethodGet, p+"/runs", nil, nil, &rs); err != nil {
		return nil, err
	}
	if rs == nil {
		rs = []cronapi.Run{}
	}
	return rs, nil
}

// StartRun is POST /v1/jobs/<id>/runs: run the job now.
func (c *Client) StartRun(ctx context.Context, id string) (cronapi.Run, error) {
	var r cronapi.Run
	p, err := jobPath(id)
	if err != nil {
		return r, err
	}
	err = c.cronCall(ctx, http.MethodPost, p+"/runs", nil, nil, &r)
	return r, err
}

// JobRun is GET /v1/jobs/<jobID>/runs/<runID>: an active run, or one in
// the job's history.
func (c *Client) JobRun(ctx context.Context, jobID, runID string) (cronapi.Run, error) {
	var r cronapi.Run
	p, err := itemPath(jobID, "run", runID)
	if err != nil {
		return r, err
	}
	err = c.cronCall(ctx, http.MethodGet, p, nil, nil, &r)
	return r, err
}

// StopRun is POST /v1/jobs/<jobID>/runs/<runID>/actions/stop.
func (c *Client) StopRun(ctx context.Context, jobID, runID string) (cronapi.Run, error) {
	var r cronapi.Run
	p, err := itemPath(jobID, "run", runID)
	if err != nil {
		return r, err
	}
	err = c.cronCall(ctx, http.MethodPost, p+"/actions/stop", nil, nil, &r)
	return r, err
}

// JobDependencies is GET /v1/jobs/<id>/dependencies: the job's parents and
// children.
func (c *Client) JobDependencies(ctx context.Context, id string) (cronapi.Dependencies, error) {
	var d cronapi.Dependencies
	p, err := jobPath(id)
	if err != nil {
		return d, err
	}
	err = c.cronCall(ctx, http.MethodGet, p+"/dependencies", nil, nil, &d)
	return d, err
}

// SetJobDependencies is PUT /v1/jobs/<id>/dependencies: it replaces the
// job's parents (deps.Children is read only, and not sent).
func (c *Client) SetJobDependencies(ctx context.Context, id string, deps cronapi.Dependencies) (cronapi.Dependencies, error) {
	var out cronapi.Dependencies
	p, err := jobPath(id)
	if err != nil {
		return out, err
	}
	for _, parent := range deps.Parents {
		if err := ValidateJobID(parent); err != nil {
			return out, fmt.Errorf("parent: %w", err)
		}
	}
	in := cronapi.Dependencies{Parents: deps.Parents}
	if in.Parents == nil {
		in.Parents = []string{}
	}
	err = c.cronCall(ctx, http.MethodPut, p+"/dependencies", nil, in, &out)
	return out, err
}

// maxGraphBytes bounds the DOT text of GET /v1/graph.
const maxGraphBytes = 16 << 20

// Graph is GET /v1/graph: the jobs' dependency graph as DOT text.
func (c *Client) Graph(ctx context.Context) (string, error) {
	data, err := c.serviceText(ctx, cronapi.DefaultName, "/v1/graph", "text/vnd.graphviz, text/plain;q=0.9", maxGraphBytes)
	return string(data), jobError(err)
}

// serviceText GETs path of the framework called name, through the
// master's proxy, and returns the body as it is (at most limit bytes).
// Errors are those of Service.
func (c *Client) serviceText(ctx context.Context, name, path, accept string, limit int64) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, "/?#") {
		return nil, fmt.Errorf("framework name %q: give a name without / ? #", name)
	}
	full := "/service/" + name + path
	resp, err := c.do(ctx, full, nil, accept)
	if err != nil {
		return nil, c.serviceError(ctx, name, err)
	}
	defer drainClose(resp.Body)
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("reading the answer to GET %s: %w", c.endpoint(full, nil).Redacted(), err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("the answer to GET %s is larger than %d MiB", c.endpoint(full, nil).Redacted(), limit>>20)
	}
	return data, nil
}
